#pragma once
// View 2: where every page lives at every step for the chosen policy, and whether the
// step read it: read from each tier or resident there but idle (every tier in its own
// colour, theme.hpp's placementClass), not yet created; promotions and evictions marked.
// Legend always visible; hovering a cell tells its steps, pages, tier and whether read.
#include "ui/plot_view.hpp"

class QCPColorMap;
class QCPAxisRect;
class QCPGraph;
class QCPItemStraightLine;
class QLabel;

namespace kvtier::ui {

class LayerLink;
class SequenceLink;

class PlacementView : public PlotView {
    Q_OBJECT
public:
    PlacementView(StepLink* link, QWidget* parent = nullptr);
    bool writeCsv(QTextStream& out) const override;
    void showResult(const AnalysisOutputPtr& out) override;
    void applyTheme() override;
    HeatmapWindow wantedWindow() const;
    QCPColorMap* colorMap() const { return map_; }
    uint64_t shownKey() const { return shownKey_; }
    // The output the view shows (the last feasible one after an infeasible change).
    AnalysisOutputPtr shownOutput() const { return last_; }
    // Shows one layer of a per-layer trace or all (the maximum over layers).
    void setLayerLink(LayerLink* layers);
    // Shows one sequence of a batch (MODEL.md §8); the selector sits after the layer's.
    void setSequenceLink(SequenceLink* sequences);
    // What hovering (step, page) in plot coordinates tells: steps, pages, tier, read or not.
    QString cellText(double step, double page) const;
    // The legend's entries (one per tier and state shown), in order.
    QStringList legendLabels() const;

signals:
    void windowChanged();

private:
    void updateLegend();
    QCPColorMap* map_;
    QCPGraph* promotions_;
    QCPGraph* evictions_;
    QCPItemStraightLine* cursor_;
    std::vector<QCPGraph*> legendSwatches_;
    QStringList tierNames_;
    PooledGrid grid_;
    LayerLink* layers_ = nullptr;
    SequenceLink* sequences_ = nullptr;
    StepLink* link_;
    uint64_t shownKey_ = 0;
    int64_t pages_ = 0;
    int64_t pageTokens_ = 1;
    int32_t sequence_ = -1;   // the batch sequence shown, -1 for a lone sequence
    AnalysisOutputPtr last_;
};

} // namespace kvtier::ui
