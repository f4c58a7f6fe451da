#pragma once
// Common frame of every view: a header with the title and an export button, the plot,
// and the export interface (figure as PNG/PDF/SVG, the data behind it as CSV).
#include "ui/analysis_worker.hpp"

#include <QList>
#include <QPointer>
#include <QWidget>

#include <functional>

class QCustomPlot;
class QCPAxis;
class QCPTextElement;
class QCPLegend;
class QCPAxisRect;
class QCPItemStraightLine;
class QHBoxLayout;
class QLabel;
class QTextStream;
class QToolButton;
class QVBoxLayout;

namespace kvtier::ui {

// The step range all views share: zoom in one, the others follow.
class StepLink : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;
    double lower() const { return lo_; }
    double upper() const { return hi_; }
    int64_t cursor() const { return cursor_; }
    int64_t steps() const { return steps_; }
    void setSteps(int64_t steps);   // resets the range when the trace changes
    void setRange(double lo, double hi);
    void setCursor(int64_t step);
signals:
    void rangeChanged(double lo, double hi);
    void cursorChanged(qint64 step);

private:
    double lo_ = -0.5, hi_ = 0.5;
    int64_t steps_ = 0, cursor_ = 0;
};

class PlotView : public QWidget {
    Q_OBJECT
public:
    PlotView(const QString& id, const QString& title, QWidget* parent = nullptr);
    QString viewId() const { return id_; }
    QString title() const { return title_; }
    QCustomPlot* plot() const { return plot_; }
    // The data behind the figure. Returns false when there is nothing to write yet.
    virtual bool writeCsv(QTextStream& out) const = 0;
    // Updates from a new analysis (UI thread, cheap: data was prepared by the worker).
    virtual void showResult(const AnalysisOutputPtr& out) = 0;
    // Re-applies the current theme's colours.
    virtual void applyTheme();
    // Sets the plot's fixed title line (shown in exports too). `screenOnly` is appended on
    // screen and left out of figures (progress such as "9 of 9 points").
    void setPlotTitle(const QString& text, const QString& screenOnly = QString());
    QString plotTitle() const;   // as set, before wrapping
    // What the title shows (the plot title, or a figure's during an export): wrapped to the
    // plot's width before every replot, so a long title never runs off the plot.
    void showTitleText(const QString& text);
    // The title a figure shows: plotTitle() without the screen-only part.
    QString figureTitle() const { return figureTitle_; }
    QCPTextElement* titleElement() const { return titleElement_; }
    // A message over the whole plot in place of empty axes ("No result yet"); an empty text
    // removes it.
    void setPlaceholder(const QString& text);
    QString placeholder() const;
    // Parts of the plot that talk to the user ("Click a token…"): hidden in figures.
    void markScreenOnly(QObject* layerable);
    QList<QObject*> screenOnly() const;
    // Number of replots since creation; the latency benchmark and tests watch it.
    int replots() const { return replots_; }

signals:
    void exportRequested(kvtier::ui::PlotView* view);
    void replotted();

protected:
    // Keeps the placeholder over the plot; views that filter events call it.
    bool eventFilter(QObject* watched, QEvent* event) override;
    QHBoxLayout* headerLayout() const { return header_; }
    QVBoxLayout* bodyLayout() const { return body_; }
    // Keeps a legend that sits in a row of its own as wide as the plot: as many columns
    // as fit, recomputed before every replot.
    void fitLegendToWidth(QCPLegend* legend);
    // Moves the plot's legend out of the axis rect into a row of its own below the plot
    // (so it never covers data), in columns of at most `wrap` items, and keeps it fitted.
    void placeLegendBelow(int wrap);
    // A heatmap's step interaction on `rect` (the placement and expert views): both axes
    // drag and zoom, the step axis follows `link`'s range, `windowChanged` runs when the
    // window the view wants changes (steps or rows), and hovering a cell moves the link's
    // cursor and shows cellText(step, row). Returns the step cursor: a dashed red vertical
    // line, hidden until the user points at a step or presses Play.
    QCPItemStraightLine* wireStepHeatmap(QCPAxisRect* rect, StepLink* link, std::function<void()> windowChanged,
                                         std::function<QString(double, double)> cellText);
    // Puts a step cursor on the link's current step.
    static void placeStepCursor(QCPItemStraightLine* cursor, const StepLink* link);
    // Connect an axis to the shared step range.
    void linkStepAxis(StepLink* link, QCPAxis* axis);

    QCustomPlot* plot_;
    QCPTextElement* titleElement_ = nullptr;

private:
    QString id_, title_, figureTitle_, shownTitle_;
    void wrapTitle();
    class QLabel* placeholder_ = nullptr;
    QList<QPointer<QObject>> screenOnly_;
    QHBoxLayout* header_;
    QVBoxLayout* body_;
    int replots_ = 0;
};

} // namespace kvtier::ui
