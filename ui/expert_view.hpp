#pragma once
// The expert heatmap of a MoE model (MODEL.md §9, docs/GUI.md "Experts"): for one model layer
// (the layer selector in the header), steps x experts, whether each expert is read at the
// step and where it lives (each tier in the placement view's colours), and the experts the
// expert policy moved at that step. It shows the residency of the policy the window's
// policy picker shows, as timed (TimingResult::expert_residency); the window shows the view
// only for a model with experts. Hovering a cell tells its state; pooled cells their counts.
#include "ui/plot_view.hpp"

class QCPColorMap;
class QCPGraph;
class QCPItemStraightLine;
class QComboBox;

namespace kvtier::ui {

class ExpertView : public PlotView {
    Q_OBJECT
public:
    ExpertView(StepLink* link, QWidget* parent = nullptr);
    bool writeCsv(QTextStream& out) const override;
    void showResult(const AnalysisOutputPtr& out) override;
    void applyTheme() override;
    // The window to pool: the visible steps and experts, the chosen layer, the plot's size.
    HeatmapWindow wantedWindow() const;
    QCPColorMap* colorMap() const { return map_; }
    QComboBox* layerSelector() const { return layer_; }
    // The grid drawn (the core's, with its counts); empty before a MoE result.
    const ExpertGrid& shownGrid() const { return shown_; }
    // What hovering (step, expert) in plot coordinates tells.
    QString cellText(double step, double expert) const;
    QStringList legendLabels() const;

signals:
    void windowChanged();

private:
    void updateLegend();
    void setLayers(int layers, int shown);
    QCPColorMap* map_;
    QCPItemStraightLine* cursor_;
    QComboBox* layer_;
    std::vector<QCPGraph*> legendSwatches_;
    QStringList tierNames_;
    ExpertGrid shown_;
    StepLink* link_;
    uint64_t shownKey_ = 0;
    int64_t experts_ = 0;
    AnalysisOutputPtr last_;
};

} // namespace kvtier::ui
