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
class QCPItemStraightLine;
class QLabel;
class QLineEdit;

namespace kvtier::ui {

class LayerLink;
class SequenceLink;

struct TokenDetail {
    uint32_t token = 0;
    int32_t sequence = 0;              // of a batch (MODEL.md §8): the token's sequence
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
    AnalysisOutputPtr shownOutput() const { return last_; }
    void setLayerLink(LayerLink* layers);
    // Shows one sequence of a batch (MODEL.md §8); the selector sits after the layer's.
    void setSequenceLink(SequenceLink* sequences);
    // Follows a token typed by index (as a click on it does); false when out of range.
    bool followToken(qint64 token);
    // The token the view follows and marks, -1 for none.
    qint64 followedToken() const { return followed_; }
    // The timeline shown under the heatmap (the last setTokenDetail).
    const TokenDetail& tokenDetail() const { return detail_; }
    // Empties the token panel and says why in its place (a streamed result has no
    // token timelines); the next setTokenDetail() shows a token again.
    void showTokenUnavailable(const QString& why);
    QString tokenPanelText() const;   // the panel's hint or reason while no token is shown
    // Shows every step and every token (both axes).
    void resetZoom();
    // What hovering (step, token) tells: the steps and tokens of the cell, its largest
    // relevance and whether the selection read it.
    QString cellText(double step, double token) const;
    // Selection traces (0/1 data) get a categorical read / not read legend, not a log scale.
    bool categorical() const { return categorical_; }
    QLineEdit* tokenEdit() const { return tokenEdit_; }
    QString statisticsHelp() const;

signals:
    void tokenClicked(quint32 token);
    void tokenDetailShown(quint32 token);
    void windowChanged();

private:
    void updateGradient();
    void setCategorical(bool on);
    void markFollowed();
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
    bool tokenUnavailable_ = false;
    std::vector<QCPItemRect*> tierSpans_;
    QLineEdit* tokenEdit_;
    QLabel* statsHelp_;
    QCPItemStraightLine* followLine_;
    LayerLink* layers_ = nullptr;
    SequenceLink* sequences_ = nullptr;
    PooledGrid grid_;
    qint64 followed_ = -1;
    int32_t sequence_ = -1;   // the batch sequence shown, -1 for a lone sequence
    int32_t followedSequence_ = 0;   // the sequence of the followed token
    bool categorical_ = false;
};

} // namespace kvtier::ui
