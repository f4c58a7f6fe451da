#pragma once
// View 5: one knob on the x axis (HBM capacity, DRAM bandwidth, sparsity, batch), every
// policy and bound as a curve. Runs on its own JobRunner with progress and cancel; it
// shares the analysis Pipeline (thread-safe), so cached stages are reused.
#include "ui/plot_view.hpp"

#include <memory>

class QComboBox;
class QDoubleSpinBox;
class QSpinBox;
class QProgressBar;
class QPushButton;

namespace kvtier::ui {

class JobRunner;

struct SweepPoint {
    double x = 0;
    bool feasible = true;
    std::vector<double> policyThroughput;   // per policy, same order as SweepResult::policies
    double balanced = qQNaN(), paper = qQNaN();
};

struct SweepResult {
    QString knob, unit;
    double unitScale = 1;
    std::vector<std::string> policies, labels;
    std::vector<bool> online;
    std::vector<SweepPoint> points;         // the finished points, in x order
    int requested = 0;                      // points asked for
    bool cancelled = false;                 // stopped by Cancel: `points` are the finished ones
    QString error;                          // the base scenario itself failed
};

class SweepView : public PlotView {
    Q_OBJECT
public:
    SweepView(std::shared_ptr<Pipeline> pipeline, QWidget* parent = nullptr);
    ~SweepView() override;
    bool writeCsv(QTextStream& out) const override;
    void showResult(const AnalysisOutputPtr& out) override;   // keeps the base scenario
    void applyTheme() override;
    bool running() const;
    // What the plot shows: the last sweep's finished points (null before the first run).
    std::shared_ptr<const SweepResult> result() const { return result_; }

public slots:
    void run();
    void cancel();

signals:
    void finished();
    void progressChanged(double f);

private:
    void configureKnob();
    void plotResult();
    void sweepDone(std::shared_ptr<SweepResult> result);
    std::shared_ptr<Pipeline> pipeline_;
    Scenario base_;
    bool haveBase_ = false;
    QComboBox* knob_;
    QDoubleSpinBox *from_, *to_;
    QSpinBox* points_;
    QPushButton *run_, *cancel_;
    QProgressBar* progress_;
    JobRunner* runner_;
    std::shared_ptr<SweepResult> result_;
};

} // namespace kvtier::ui
