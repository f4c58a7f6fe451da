#pragma once
// View 3: per step, for the chosen policy: the step time against the bounds, each tier's
// bandwidth use and busy fraction, and the traffic split into weight reads, KV reads,
// KV writes and migrations.
#include "ui/plot_view.hpp"

class QComboBox;
class QCPAxisRect;
class QCPGraph;
class QCPLegend;
class QCPItemStraightLine;

namespace kvtier::ui {

class BandwidthView : public PlotView {
    Q_OBJECT
public:
    BandwidthView(StepLink* link, QWidget* parent = nullptr);
    bool writeCsv(QTextStream& out) const override;
    void showResult(const AnalysisOutputPtr& out) override;
    void applyTheme() override;
    // Graph data of the step-time curve (tests check that it changes).
    QCPGraph* stepTimeGraph() const { return stepTime_; }

private:
    void rebuild();
    QCPAxisRect *timeRect_, *useRect_, *trafficRect_;
    QCPLegend *timeLegend_, *useLegend_, *trafficLegend_;
    QCPGraph *stepTime_, *balanced_, *paper_;
    std::vector<QCPGraph*> tierUse_, tierBusy_, traffic_;
    std::vector<QCPItemStraightLine*> cursors_;
    QComboBox* trafficTier_;
    StepLink* link_;
    AnalysisOutputPtr last_;
};

} // namespace kvtier::ui
