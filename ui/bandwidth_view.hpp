#pragma once
// View 3: per step, for the chosen policy: the step time against the bounds (and a pinned
// baseline's, dashed), each tier's bandwidth use (solid) and busy fraction (dashed), and the
// traffic split into weight reads, KV reads and KV writes, with migrations on their own
// scale. Curves are decimated to the plot's pixel width (core's decimateMinMax: every
// extreme kept); hovering tells the exact values at the step.
#include "core/engine/view_steps.hpp"
#include "ui/plot_view.hpp"

#include <array>

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
    QCPGraph* baselineGraph() const { return baseline_; }
    QCPGraph* migrationGraph() const { return migration_; }
    AnalysisOutputPtr shownOutput() const { return last_; }
    // Overlays the step-time curve of the same policy in a pinned result (null: none).
    void setBaseline(const AnalysisOutputPtr& baseline);
    // The exact values at step t (what hovering shows).
    QString valuesAt(int64_t t) const;
    // Each panel's left axis label and tick count fitted to the panel's height: a short
    // label where the long one would run into the next panel's.
    void fitAxesToPanels();
    QStringList legendLabels() const;
    // Points drawn per curve after decimation (tests: bounded by the pixel width).
    int drawnPoints() const;

private:
    void rebuild();
    void redraw();   // decimates the stored curves to the visible steps and the pixel width
    QCPAxisRect *timeRect_, *useRect_, *trafficRect_;
    QCPLegend *timeLegend_, *useLegend_, *trafficLegend_;
    QCPGraph *stepTime_, *balanced_, *paper_, *baseline_, *migration_;
    QCPGraph *solidKey_, *dashedKey_;   // legend entries saying what solid and dashed mean
    std::vector<QCPGraph*> tierUse_, tierBusy_, traffic_;
    std::vector<QCPItemStraightLine*> cursors_;
    QComboBox* trafficTier_;
    StepLink* link_;
    AnalysisOutputPtr last_, baselineOut_;
    // The shown curves at full resolution (view data), decimated on every redraw.
    StepSeries series_;
    std::array<std::vector<double>, kTrafficKinds> traffic_series_;
    std::vector<double> baselineTime_;
    std::vector<std::vector<double>> stacked_;   // cumulative traffic, GB, kinds 0..2
    QString policy_;
    int lastRedrawWidth_ = 0;
    int trafficLayers_ = 0;   // the traffic axis label names the layers it sums
};

} // namespace kvtier::ui
