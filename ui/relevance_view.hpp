#pragma once
// View 1: relevance heatmap (steps x tokens, log colour, viridis/cividis), the selected
// set shown by dimming what was not read, and under it the relevance over time of a
// clicked token with its selection and placement marked (the paper's Figure 1, live).
#include "ui/plot_view.hpp"

#include <vector>

class QCheckBox;
class QComboBox;
class QCPColorMap;
class QCPColorScale;
class QCPAxisRect;
class QCPGraph;
class QCPItemText;
class QCPItemRect;

namespace kvtier::ui {

struct TokenDetail {
    uint32_t token = 0;
    std::vector<double> relevance;     // per step, NaN before the token exists
    std::vector<uint8_t> selected;     // per step
    std::vector<uint8_t> tier;         // per step, 255 before it exists
    std::string policy;
};

class RelevanceView : public PlotView {
    Q_OBJECT
public:
    RelevanceView(StepLink* link, QWidget* parent = nullptr);
    bool writeCsv(QTextStream& out) const override;
    void showResult(const AnalysisOutputPtr& out) override;
    void setTokenDetail(const TokenDetail& d);
    void applyTheme() override;
    // The window (steps x tokens) and pixel size the heatmap should be built for.
    HeatmapWindow wantedWindow() const;
    QCPColorMap* colorMap() const { return map_; }
    uint64_t shownKey() const { return shownKey_; }

signals:
    void tokenClicked(quint32 token);
    void tokenDetailShown(quint32 token);
    void windowChanged();

private:
    void updateGradient();
    QCPAxisRect* mapRect_;
    QCPAxisRect* tokenRect_;
    QCPColorMap* map_;
    QCPColorMap* mask_;
    QCPColorScale* scale_;
    QCPGraph* tokenGraph_;
    QCPGraph* tokenSelected_;
    QCPItemText* tokenHint_;
    QComboBox* gradient_;
    QCheckBox* dim_;
    StepLink* link_;
    uint64_t shownKey_ = 0;
    int64_t tokens_ = 0;
    AnalysisOutputPtr last_;
    TokenDetail detail_;
    std::vector<QCPItemRect*> tierSpans_;
};

} // namespace kvtier::ui
