#include "ui/placement_view.hpp"

#include "ui/theme.hpp"
#include "ui/units.hpp"

#include <QTextStream>
#include <qcustomplot.h>

#include <cmath>

namespace kvtier::ui {

PlacementView::PlacementView(StepLink* link, QWidget* parent)
    : PlotView(QStringLiteral("placement"), tr("Placement"), parent), link_(link)
{
    QCustomPlot* p = plot_;
    QCPAxisRect* rect = p->axisRect();
    QCPAxis* x = rect->axis(QCPAxis::atBottom);
    QCPAxis* y = rect->axis(QCPAxis::atLeft);
    x->setLabel(tr("decode step t"));
    y->setLabel(tr("page"));
    x->grid()->setVisible(false);
    y->grid()->setVisible(false);
    map_ = new QCPColorMap(x, y);
    map_->setInterpolate(false);
    map_->setTightBoundary(false);
    map_->setGradient(placementGradient(false));
    map_->setDataRange(QCPRange(-0.5, static_cast<double>(kCategoryCount) - 0.5));
    map_->setName(QStringLiteral("placement"));

    // Legend swatches: empty graphs whose scatter shows the category colour.
    p->legend->setVisible(true);
    p->legend->clearItems();
    for (int c = kLowerRead; c >= kNotCreated; --c) {
        QCPGraph* g = p->addGraph(x, y);
        g->setName(placementLabel(c));
        g->setLineStyle(QCPGraph::lsNone);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, QColor(90, 90, 90), placementColor(c, false), 9));
        legendSwatches_.push_back(g);
    }
    promotions_ = p->addGraph(x, y);
    promotions_->setName(tr("promotion to HBM"));
    promotions_->setLineStyle(QCPGraph::lsNone);
    promotions_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssTriangle, QColor(0x00, 0x9E, 0x73), QColor(0x00, 0x9E, 0x73), 5));
    evictions_ = p->addGraph(x, y);
    evictions_->setName(tr("eviction from HBM"));
    evictions_->setLineStyle(QCPGraph::lsNone);
    evictions_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssTriangleInverted, QColor(0xAA, 0x33, 0x77), QColor(0xAA, 0x33, 0x77), 5));
    map_->removeFromLegend();
    // The legend sits in its own row below the plot, so it never covers data.
    auto* legendRow = new QCPLayoutGrid;
    p->plotLayout()->addElement(1, 0, legendRow);
    p->plotLayout()->setRowStretchFactor(1, 0.001);
    legendRow->setMargins(QMargins(0, 0, 0, 0));
    p->axisRect()->insetLayout()->take(p->legend);
    legendRow->addElement(0, 0, p->legend);
    p->legend->setFillOrder(QCPLegend::foColumnsFirst);
    p->legend->setWrap(4);
    p->legend->setRowSpacing(0);
    p->legend->setColumnSpacing(10);
    p->legend->setIconSize(12, 10);
    p->legend->setMargins(QMargins(4, 2, 4, 2));
    p->legend->setSelectableParts(QCPLegend::spNone);
    fitLegendToWidth(p->legend);

    cursor_ = new QCPItemStraightLine(p);
    cursor_->setClipAxisRect(rect);
    cursor_->point1->setAxes(x, y);
    cursor_->point2->setAxes(x, y);
    cursor_->setPen(QPen(QColor(200, 30, 30), 1.2, Qt::DashLine));
    cursor_->setVisible(false);   // until the user points at a step or presses Play
    updateCursor();

    rect->setRangeDrag(Qt::Horizontal | Qt::Vertical);
    rect->setRangeZoom(Qt::Horizontal | Qt::Vertical);
    p->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    linkStepAxis(link_, x);
    connect(y, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, [this] { emit windowChanged(); });
    connect(link_, &StepLink::rangeChanged, this, [this] { emit windowChanged(); });
    connect(link_, &StepLink::cursorChanged, this, [this] {
        cursor_->setVisible(true);
        updateCursor();
        plot_->replot(QCustomPlot::rpQueuedReplot);
    });
    connect(p, &QCustomPlot::mouseMove, this, [this, rect](QMouseEvent* e) {
        if (e->buttons() != Qt::NoButton || !rect->rect().contains(e->pos()))
            return;
        const double t = rect->axis(QCPAxis::atBottom)->pixelToCoord(e->pos().x());
        link_->setCursor(static_cast<int64_t>(std::lround(t)));
    });
    setPlotTitle(tr("Placement"));
    applyTheme();
}

void PlacementView::applyTheme()
{
    PlotView::applyTheme();
    const bool dark = Theme::current().dark;
    map_->setGradient(placementGradient(dark));
    for (size_t i = 0; i < legendSwatches_.size(); ++i) {
        const int c = kLowerRead - static_cast<int>(i);
        legendSwatches_[i]->setScatterStyle(
            QCPScatterStyle(QCPScatterStyle::ssSquare, Theme::current().grid.darker(130), placementColor(c, dark), 9));
    }
}

void PlacementView::updateCursor()
{
    const double t = static_cast<double>(link_->cursor());
    cursor_->point1->setCoords(t, 0);
    cursor_->point2->setCoords(t, 1);
}

HeatmapWindow PlacementView::wantedWindow() const
{
    HeatmapWindow w;
    w.t0 = static_cast<int64_t>(std::floor(link_->lower() + 0.5));
    w.t1 = static_cast<int64_t>(std::ceil(link_->upper() + 0.5));
    const QCPRange yr = plot_->axisRect()->axis(QCPAxis::atLeft)->range();
    w.y0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(yr.lower + 0.5)));
    w.y1 = static_cast<int64_t>(std::ceil(yr.upper + 0.5));
    if (pages_ > 0 && w.y0 == 0 && w.y1 >= pages_)
        w.y1 = 0;
    w.width = std::max(200, plot_->axisRect()->width());
    w.height = std::max(150, plot_->axisRect()->height());
    return w;
}

void PlacementView::showResult(const AnalysisOutputPtr& out)
{
    last_ = out;
    const PolicyOutcome* o = out->outcome(out->view.policy);
    if (!o || !o->placement)
        return;
    const UnitLayout& L = o->placement->layout;
    const int64_t pages = L.pagesAt(L.prefill + L.steps);
    QCPAxis* y = plot_->axisRect()->axis(QCPAxis::atLeft);
    if (pages != pages_ || L.page_tokens != pageTokens_) {
        pages_ = pages;
        pageTokens_ = L.page_tokens;
        plot_->setProperty("applyingLink", true);
        y->setRange(-0.5, static_cast<double>(pages) - 0.5);
        plot_->setProperty("applyingLink", false);
    }
    y->setLabel(L.page_tokens == 1 ? tr("token (pages of 1 token)") : tr("page (%1 tokens each)").arg(L.page_tokens));
    const TimingResult* tm = o->timing.get();
    setPlotTitle(tr("Placement — %1%2\nHBM hit ratio %3, %4 migrated")
                     .arg(QString::fromStdString(o->info.label))
                     .arg(o->info.online ? QString() : tr(" (oracle)"))
                     .arg(tm ? formatPercent(tm->hbmHitRatio()) : QStringLiteral("–"))
                     .arg(tm ? formatBytes(tm->migrated_bytes) : QStringLiteral("–")));
    if (out->placement && out->placement->categories && out->placement->key != shownKey_) {
        PlacementHeatmap& h = *out->placement;
        map_->setData(h.categories.release(), false);
        promotions_->setData(QVector<double>(), QVector<double>());
        QVector<double> px, py, ex, ey;
        for (const QPointF& q : h.promotions) {
            px.append(q.x());
            py.append(q.y());
        }
        for (const QPointF& q : h.evictions) {
            ex.append(q.x());
            ey.append(q.y());
        }
        promotions_->setData(px, py, true);
        evictions_->setData(ex, ey, true);
        shownKey_ = h.key;
    }
    updateCursor();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

bool PlacementView::writeCsv(QTextStream& out) const
{
    QCPColorMapData* d = map_->data();
    if (!last_ || !d || d->keySize() < 2)
        return false;
    out << "# placement of policy " << QString::fromStdString(last_->view.policy) << " pooled to " << d->keySize()
        << " x " << d->valueSize() << " cells; category: 0 not created, 1 in DRAM not read, 2 in HBM not read, "
        << "3 read from HBM, 4 read from DRAM (a pooled cell shows the highest)\n";
    out << "step,page,category,label\n";
    for (int j = 0; j < d->valueSize(); ++j)
        for (int i = 0; i < d->keySize(); ++i) {
            double key = 0, value = 0;
            d->cellToCoord(i, j, &key, &value);
            const int c = static_cast<int>(d->cell(i, j));
            out << QString::number(key, 'f', 2) << ',' << QString::number(value, 'f', 2) << ',' << c << ','
                << placementLabel(c) << '\n';
        }
    return true;
}

} // namespace kvtier::ui
