#pragma once
// The "Explain" panel for teaching: MODEL.md §4 and §6 written out with the current
// scenario's numbers for the step under the cursor: each tier's R and W, its time_m and
// which term limits it, tau, and the bounds' split. Every number is the core's
// StepExplanation (core/engine/view_explain.hpp); this panel only formats it.
#include "ui/analysis_worker.hpp"

#include <QWidget>

class QTextBrowser;
class QLabel;

namespace kvtier::ui {

class LayerLink;

class ExplainPanel : public QWidget {
    Q_OBJECT
public:
    explicit ExplainPanel(QWidget* parent = nullptr);
    void showResult(const AnalysisOutputPtr& out);
    void setStep(int64_t step);
    QString html() const;
    AnalysisOutputPtr shownOutput() const { return last_; }
    // A per-layer trace's layer (or the mean layer), chosen with the heatmaps.
    void setLayerLink(LayerLink* layers);
    // A pinned result: the panel adds each policy's total time then and now, and the
    // scenario keys that changed. Null removes it.
    void setBaseline(const AnalysisOutputPtr& baseline);

private:
    void render();
    QString baselineHtml() const;
    QTextBrowser* text_;
    LayerLink* layers_ = nullptr;
    AnalysisOutputPtr last_, baseline_;
    int64_t step_ = 0;
};

} // namespace kvtier::ui
