#pragma once
// View 2: where every page lives at every step for the chosen policy, and whether the
// step read it: read from HBM, read from DRAM (lower tiers), resident but idle in
// either, not yet created; promotions and evictions marked. Legend always visible.
#include "ui/plot_view.hpp"

class QCPColorMap;
class QCPAxisRect;
class QCPGraph;
class QCPItemStraightLine;
class QLabel;

namespace kvtier::ui {

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

signals:
    void windowChanged();

private:
    void updateCursor();
    QCPColorMap* map_;
    QCPGraph* promotions_;
    QCPGraph* evictions_;
    QCPItemStraightLine* cursor_;
    std::vector<QCPGraph*> legendSwatches_;
    StepLink* link_;
    uint64_t shownKey_ = 0;
    int64_t pages_ = 0;
    int64_t pageTokens_ = 1;
    AnalysisOutputPtr last_;
};

} // namespace kvtier::ui
