#pragma once
// View 5: one knob on the x axis (HBM capacity, DRAM bandwidth, sparsity, batch and, for a
// model with experts, the experts' HBM share, the scenario's experts.hbm_share), every
// policy and bound as a curve; or, with a second knob, a heat map of the best policy's
// time over both knobs (core/engine/view_sweep2d.hpp); optionally the certified bound B and its schedule S (and
// the annealed schedule) too, which cost seconds per point. Runs on its own JobRunner with
// progress and cancel; points appear as they finish and Cancel keeps them. It shares the
// analysis Pipeline (thread-safe), so cached stages are reused.
#include "core/engine/view_sweep2d.hpp"
#include "ui/plot_view.hpp"

#include <memory>

class QCheckBox;
class QCPColorMap;
class QCPColorScale;
class QCPLayoutGrid;
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
    // The heavy bounds as throughput, NaN when the sweep did not compute them.
    double migrationBound = qQNaN(), schedule = qQNaN(), annealed = qQNaN();
};

struct SweepResult {
    QString knob, unit;
    double unitScale = 1;
    std::vector<std::string> policies, labels;
    std::vector<bool> online;
    std::vector<SweepPoint> points;         // the finished points, in x order
    int requested = 0;                      // points asked for
    bool migrationBound = false, annealed = false;   // the heavy bounds are curves
    bool cancelled = false;                 // stopped by Cancel: `points` are the finished ones
    QString error;                          // the base scenario itself failed
    // A 2-D sweep (a second knob): `points` stays empty; the finished points are in
    // `sweep2d` (its axes in scenario units) and their grid in `grid`.
    bool twoD = false;
    QString knob2, unit2;
    double unitScale2 = 1;
    kvtier::SweepResult sweep2d;
    kvtier::SweepGrid2d grid;
    int finished() const { return twoD ? static_cast<int>(grid.finished) : static_cast<int>(points.size()); }
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
    QCheckBox* boundCurves() const { return boundCurves_; }
    QCheckBox* logX() const { return logX_; }
    QComboBox* knob() const { return knob_; }
    // The second knob: index 0 is none (a 1-D sweep), then the knobs in knob()'s order.
    // Both lists end with "experts' HBM share" when the model has experts.
    QComboBox* knob2() const { return knob2_; }
    void setRange2(double from, double to);   // the second knob's range, in its unit
    // The heat map of a 2-D sweep (null when the plot shows curves).
    QCPColorMap* colorMap() const { return map_; }
    QCPColorScale* colorScale() const { return colorScale_; }
    QSpinBox* pointCount() const { return points_; }
    void setRange(double from, double to);   // in the knob's unit (GB, GB/s, ...)
    // What hovering at `pixel` (plot coordinates) shows: the nearest curve's name and
    // point, empty when no point is within a few pixels.
    QString pointToolTip(QPoint pixel) const;

public slots:
    void run();
    void cancel();

signals:
    void finished();
    void progressChanged(double f);
    void pointsShown(int points);   // finished points reached the plot (during the run too)

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void configureKnob();
    void configureKnob2();
    // Lists (or removes) the experts' HBM share as a knob: a model with experts only.
    void offerExpertKnob(bool on);
    void plotGrid();
    void plotResult();
    void sweepDone(std::shared_ptr<SweepResult> result);
    std::shared_ptr<Pipeline> pipeline_;
    Scenario base_;
    bool haveBase_ = false;
    QComboBox* knob_;
    QComboBox* knob2_;
    QDoubleSpinBox *from_, *to_, *from2_, *to2_;
    QCPColorMap* map_ = nullptr;
    QCPColorScale* colorScale_ = nullptr;
    QCPLayoutGrid* legendSide_ = nullptr;   // the legend's column (the curves' legend; out of it for a heat map)
    QSpinBox* points_;
    QCheckBox *boundCurves_, *logX_;
    QPushButton *run_, *cancel_;
    QProgressBar* progress_;
    JobRunner* runner_;
    std::shared_ptr<SweepResult> result_;
};

} // namespace kvtier::ui
