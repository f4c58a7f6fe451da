#include "ui/plot_view.hpp"

#include "ui/text_fit.hpp"
#include "ui/theme.hpp"

#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <QElapsedTimer>

#include <cmath>
#include <cstdio>
#include <memory>

namespace kvtier::ui {

void StepLink::setSteps(int64_t steps)
{
    if (steps == steps_)
        return;
    steps_ = steps;
    cursor_ = std::clamp<int64_t>(cursor_, 0, std::max<int64_t>(0, steps - 1));
    setRange(-0.5, static_cast<double>(steps) - 0.5);
}

void StepLink::setRange(double lo, double hi)
{
    const double full = static_cast<double>(steps_) - 0.5;
    lo = std::max(lo, -0.5);
    hi = std::min(hi, std::max(full, lo + 1));
    if (hi - lo < 1) {
        hi = lo + 1;
    }
    if (std::abs(lo - lo_) < 1e-9 && std::abs(hi - hi_) < 1e-9)
        return;
    lo_ = lo;
    hi_ = hi;
    emit rangeChanged(lo_, hi_);
}

void StepLink::setCursor(int64_t step)
{
    step = std::clamp<int64_t>(step, 0, std::max<int64_t>(0, steps_ - 1));
    if (step == cursor_)
        return;
    cursor_ = step;
    emit cursorChanged(step);
}

PlotView::PlotView(const QString& id, const QString& title, QWidget* parent)
    : QWidget(parent), plot_(new QCustomPlot(this)), id_(id), title_(title)
{
    setObjectName(id);
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(2, 2, 2, 2);
    v->setSpacing(2);
    header_ = new QHBoxLayout;
    header_->setSpacing(6);
    auto* exportButton = new QToolButton(this);
    exportButton->setText(tr("Export…"));
    exportButton->setIcon(QIcon(QStringLiteral(":/icons/export.svg")));
    exportButton->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    exportButton->setAutoRaise(true);
    exportButton->setToolTip(tr("Export this view as PNG, PDF or SVG, and its data as CSV"));
    connect(exportButton, &QToolButton::clicked, this, [this] { emit exportRequested(this); });
    header_->addStretch(1);
    header_->addWidget(exportButton);
    v->addLayout(header_);
    body_ = new QVBoxLayout;
    body_->setContentsMargins(0, 0, 0, 0);
    body_->addWidget(plot_, 1);
    v->addLayout(body_, 1);
    plot_->setMinimumSize(240, 180);
    plot_->setNoAntialiasingOnDrag(true);
    static const bool debugTiming = qEnvironmentVariableIsSet("KVTIER_DEBUG_TIMING");
    auto started = std::make_shared<QElapsedTimer>();
    connect(plot_, &QCustomPlot::beforeReplot, this, [started] { started->start(); });
    connect(plot_, &QCustomPlot::afterReplot, this, [this, started] {
        ++replots_;
        if (debugTiming)
            std::fprintf(stderr, "  replot %-10s %6.1f ms\n", qPrintable(id_), static_cast<double>(started->nsecsElapsed()) / 1e6);
        emit replotted();
    });
}

QString PlotView::plotTitle() const { return shownTitle_; }

void PlotView::markScreenOnly(QObject* layerable) { screenOnly_ << QPointer<QObject>(layerable); }

QList<QObject*> PlotView::screenOnly() const
{
    QList<QObject*> out;
    for (const QPointer<QObject>& o : screenOnly_)
        if (o)
            out << o.data();
    return out;
}

void PlotView::setPlotTitle(const QString& text, const QString& screenOnly)
{
    figureTitle_ = text;
    if (!titleElement_) {
        plot_->plotLayout()->insertRow(0);
        titleElement_ = new QCPTextElement(plot_, text, QFont(font().family(), font().pointSize() + 1, QFont::Bold));
        plot_->plotLayout()->addElement(0, 0, titleElement_);
        plot_->plotLayout()->setRowSpacing(0);
        connect(plot_, &QCustomPlot::beforeReplot, this, [this] { wrapTitle(); });
    }
    showTitleText(text + screenOnly);
    titleElement_->setTextColor(Theme::current().foreground);
}

void PlotView::setPlaceholder(const QString& text)
{
    if (!placeholder_) {
        if (text.isEmpty())
            return;
        placeholder_ = new QLabel(plot_);
        placeholder_->setAlignment(Qt::AlignCenter);
        placeholder_->setWordWrap(true);
        placeholder_->setAutoFillBackground(true);
        placeholder_->setMargin(24);
        useSecondaryText(placeholder_);
        plot_->installEventFilter(this);
    }
    placeholder_->setText(text);
    placeholder_->setGeometry(plot_->rect());
    placeholder_->setVisible(!text.isEmpty());
    if (!text.isEmpty())
        placeholder_->raise();
}

QString PlotView::placeholder() const { return placeholder_ && placeholder_->isVisible() ? placeholder_->text() : QString(); }

bool PlotView::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == plot_ && event->type() == QEvent::Resize && placeholder_)
        placeholder_->setGeometry(plot_->rect());
    return QWidget::eventFilter(watched, event);
}

void PlotView::showTitleText(const QString& text)
{
    shownTitle_ = text;
    wrapTitle();
}

void PlotView::wrapTitle()
{
    if (!titleElement_)
        return;
    const QMargins m = titleElement_->margins();
    const int width = plot_->viewport().width() - m.left() - m.right() - 8;
    // Before the first layout the viewport is empty: nothing to fit yet.
    const QString wrapped = width > 40 ? wrapText(shownTitle_, titleElement_->font(), width) : shownTitle_;
    if (titleElement_->text() != wrapped)
        titleElement_->setText(wrapped);
}

void PlotView::applyTheme()
{
    Theme::current().apply(plot_);
}

void PlotView::placeLegendBelow(int wrap)
{
    QCustomPlot* p = plot_;
    auto* legendRow = new QCPLayoutGrid;
    p->plotLayout()->addElement(1, 0, legendRow);
    p->plotLayout()->setRowStretchFactor(1, 0.001);
    legendRow->setMargins(QMargins(0, 0, 0, 0));
    p->axisRect()->insetLayout()->take(p->legend);
    legendRow->addElement(0, 0, p->legend);
    p->legend->setFillOrder(QCPLegend::foColumnsFirst);
    p->legend->setWrap(wrap);
    p->legend->setRowSpacing(0);
    p->legend->setColumnSpacing(10);
    p->legend->setIconSize(12, 10);
    p->legend->setMargins(QMargins(4, 2, 4, 2));
    p->legend->setSelectableParts(QCPLegend::spNone);
    fitLegendToWidth(p->legend);
}

QCPItemStraightLine* PlotView::wireStepHeatmap(QCPAxisRect* rect, StepLink* link, std::function<void()> windowChanged,
                                               std::function<QString(double, double)> cellText)
{
    QCPAxis* x = rect->axis(QCPAxis::atBottom);
    QCPAxis* y = rect->axis(QCPAxis::atLeft);
    auto* cursor = new QCPItemStraightLine(plot_);
    cursor->setClipAxisRect(rect);
    cursor->point1->setAxes(x, y);
    cursor->point2->setAxes(x, y);
    cursor->setPen(QPen(QColor(200, 30, 30), 1.2, Qt::DashLine));
    cursor->setVisible(false);
    placeStepCursor(cursor, link);

    rect->setRangeDrag(Qt::Horizontal | Qt::Vertical);
    rect->setRangeZoom(Qt::Horizontal | Qt::Vertical);
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    linkStepAxis(link, x);
    connect(y, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, [windowChanged] { windowChanged(); });
    connect(link, &StepLink::rangeChanged, this, [windowChanged] { windowChanged(); });
    connect(link, &StepLink::cursorChanged, this, [this, cursor, link] {
        cursor->setVisible(true);
        placeStepCursor(cursor, link);
        plot_->replot(QCustomPlot::rpQueuedReplot);
    });
    connect(plot_, &QCustomPlot::mouseMove, this, [this, rect, link, cellText = std::move(cellText)](QMouseEvent* e) {
        if (e->buttons() != Qt::NoButton || !rect->rect().contains(e->pos()))
            return;
        const double t = rect->axis(QCPAxis::atBottom)->pixelToCoord(e->pos().x());
        link->setCursor(static_cast<int64_t>(std::lround(t)));
        const QString text = cellText(t, rect->axis(QCPAxis::atLeft)->pixelToCoord(e->pos().y()));
        if (!text.isEmpty())
            QToolTip::showText(e->globalPosition().toPoint(), text, plot_);
    });
    return cursor;
}

void PlotView::placeStepCursor(QCPItemStraightLine* cursor, const StepLink* link)
{
    const double t = static_cast<double>(link->cursor());
    cursor->point1->setCoords(t, 0);
    cursor->point2->setCoords(t, 1);
}

void PlotView::fitLegendToWidth(QCPLegend* legend)
{
    connect(plot_, &QCustomPlot::beforeReplot, legend, [this, legend] {
        int widest = 0;
        for (int i = 0; i < legend->itemCount(); ++i)
            if (QCPAbstractLegendItem* item = legend->item(i); item && item->visible())
                widest = std::max(widest, item->minimumOuterSizeHint().width());
        if (widest <= 0)
            return;
        const int available = plot_->viewport().width() - legend->margins().left() - legend->margins().right() - 8;
        const int columns = std::max(1, (available + legend->columnSpacing()) / (widest + legend->columnSpacing()));
        if (legend->wrap() != columns) {
            legend->setWrap(columns);
            legend->setFillOrder(QCPLegend::foColumnsFirst, true);
        }
    });
}

void PlotView::linkStepAxis(StepLink* link, QCPAxis* axis)
{
    connect(axis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), link, [link, axis](const QCPRange& r) {
        if (axis->parentPlot()->property("applyingLink").toBool())
            return;
        link->setRange(r.lower, r.upper);
    });
    connect(link, &StepLink::rangeChanged, axis, [axis](double lo, double hi) {
        QCustomPlot* p = axis->parentPlot();
        p->setProperty("applyingLink", true);
        axis->setRange(lo, hi);
        p->setProperty("applyingLink", false);
        p->replot(QCustomPlot::rpQueuedReplot);
    });
}

} // namespace kvtier::ui
