#include "ui/placement_view.hpp"
#include "ui/stream_notes.hpp"

#include "ui/layer_link.hpp"
#include "ui/sequence_link.hpp"
#include "ui/theme.hpp"
#include "ui/units.hpp"

#include <QComboBox>
#include <QLabel>
#include <QTextStream>
#include <qcustomplot.h>

#include <algorithm>
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
    map_->setName(QStringLiteral("placement"));

    // Legend swatches (empty graphs whose scatter shows a class colour), rebuilt per tier count.
    p->legend->setVisible(true);
    p->legend->clearItems();
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
    placeLegendBelow(4);

    cursor_ = wireStepHeatmap(
        rect, link_, [this] { emit windowChanged(); }, [this](double t, double row) { return cellText(t, row); });
    setPlotTitle(tr("Placement"));
    applyTheme();
}

void PlacementView::applyTheme()
{
    PlotView::applyTheme();
    updateLegend();
}

void PlacementView::updateLegend()
{
    const bool dark = Theme::current().dark;
    const int tiers = std::max(1, static_cast<int>(tierNames_.size()));
    map_->setGradient(placementClassGradient(tiers, dark));
    map_->setDataRange(QCPRange(-0.5, static_cast<double>(placementClassCount(tiers)) - 0.5));
    QCustomPlot* p = plot_;
    for (QCPGraph* g : legendSwatches_)
        p->removeGraph(g);
    legendSwatches_.clear();
    QCPAxis* x = p->axisRect()->axis(QCPAxis::atBottom);
    QCPAxis* y = p->axisRect()->axis(QCPAxis::atLeft);
    // Reads first (deepest tier first: the expensive ones), then idle, then not created.
    std::vector<int> order;
    for (int m = tiers - 1; m >= 0; --m)
        order.push_back(placementClass(m == 0 ? kFastRead : kLowerRead, m));
    for (int m = tiers - 1; m >= 0; --m)
        order.push_back(placementClass(m == 0 ? kFastIdle : kLowerIdle, m));
    order.push_back(0);
    // A swatch outline in the text colour: light swatches stay visible on a light legend
    // and dark ones on a dark legend.
    const QColor outline = Theme::current().foreground;
    p->legend->clearItems();
    for (int cls : order) {
        QCPGraph* g = p->addGraph(x, y);
        g->setName(placementClassLabel(cls, tierNames_));
        g->setLineStyle(QCPGraph::lsNone);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, outline, placementClassColor(cls, dark), 10));
        g->setProperty("placementClass", cls);
        legendSwatches_.push_back(g);
    }
    // The marks go last.
    for (QCPGraph* g : {promotions_, evictions_}) {
        g->removeFromLegend();
        g->addToLegend();
    }
    p->legend->setWrap(tiers >= 3 ? 5 : 4);
}

QStringList PlacementView::legendLabels() const
{
    QStringList out;
    for (int i = 0; i < plot_->legend->itemCount(); ++i)
        if (auto* item = qobject_cast<QCPPlottableLegendItem*>(plot_->legend->item(i)))
            out << item->plottable()->name();
    return out;
}

void PlacementView::setLayerLink(LayerLink* layers)
{
    layers_ = layers;
    headerLayout()->insertWidget(0, new QLabel(tr("Layer:"), this));
    headerLayout()->insertWidget(1, layers->makeSelector(this));
}

void PlacementView::setSequenceLink(SequenceLink* sequences)
{
    sequences_ = sequences;
    auto* label = new QLabel(tr("Sequence:"), this);
    QComboBox* combo = sequences->makeSelector(this, label);
    headerLayout()->insertWidget(2, label);
    headerLayout()->insertWidget(3, combo);
}

QString PlacementView::cellText(double step, double page) const
{
    QCPColorMapData* d = map_->data();
    if (!last_ || !d || d->keySize() < 2 || grid_.nx < 2)
        return {};
    int i = 0, j = 0;
    d->coordToCell(step, page, &i, &j);
    if (i < 0 || j < 0 || i >= d->keySize() || j >= d->valueSize() || i >= grid_.nx || j >= grid_.ny)
        return {};
    const int cls = static_cast<int>(d->cell(i, j));
    const int64_t s0 = grid_.firstStepOf(i), s1 = grid_.firstStepOf(i + 1) - 1;
    const int64_t p0 = grid_.firstRowOf(j), p1 = grid_.firstRowOf(j + 1) - 1;
    const QString steps = s0 >= s1 ? tr("step %1").arg(s0) : tr("steps %1–%2").arg(s0).arg(s1);
    const QString pages = p0 >= p1 ? tr("page %1").arg(p0) : tr("pages %1–%2").arg(p0).arg(p1);
    QString tokens;
    if (pageTokens_ > 1)
        tokens = tr(" (tokens %1–%2)").arg(p0 * pageTokens_).arg((p1 + 1) * pageTokens_ - 1);
    QString text = QStringLiteral("%1, %2%3\n%4").arg(steps, pages, tokens, placementClassLabel(cls, tierNames_));
    if (sequence_ >= 0)
        text.prepend(tr("sequence %1: ").arg(sequence_));
    if (s0 < s1 || p0 < p1)
        text += tr("\n(pooled cell: the most important state of the steps and pages it covers)");
    return text;
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
    w.layer = layers_ ? layers_->layer() : -1;
    w.sequence = sequences_ ? sequences_->sequence() : 0;
    w.width = std::max(200, plot_->axisRect()->width());
    w.height = std::max(150, plot_->axisRect()->height());
    return w;
}

void PlacementView::showResult(const AnalysisOutputPtr& out)
{
    last_ = out;
    const PolicyOutcome* o = out->outcome(out->view.policy);
    if (const QString left = streamedLeftOut(*out, out->view.policy); !left.isEmpty()) {
        // Nothing of another run stays drawn (a figure or CSV export would show it).
        setPlaceholder(left);
        setPlotTitle(tr("Placement — %1: left out of the streamed run").arg(QString::fromStdString(out->view.policy)));
        map_->data()->clear();
        promotions_->data()->clear();
        evictions_->data()->clear();
        shownKey_ = 0;
        plot_->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    if (!o || !o->placement)
        return;
    const UnitLayout& L = o->placement->layout;
    const int32_t seq = std::clamp(out->view.placement.sequence, 0, L.sequences() - 1);
    const int64_t pages = L.pagesAt(L.prefillOf(seq) + L.steps);
    QCPAxis* y = plot_->axisRect()->axis(QCPAxis::atLeft);
    if (pages != pages_ || L.page_tokens != pageTokens_) {
        pages_ = pages;
        pageTokens_ = L.page_tokens;
        plot_->setProperty("applyingLink", true);
        y->setRange(-0.5, static_cast<double>(pages) - 0.5);
        plot_->setProperty("applyingLink", false);
    }
    y->setLabel(L.page_tokens == 1 ? tr("token (pages of 1 token)") : tr("page (%1 tokens each)").arg(L.page_tokens));
    QStringList names;
    for (const Tier& t : out->scenario.hardware.tiers)
        names << QString::fromStdString(t.name);
    if (names != tierNames_) {
        tierNames_ = names;
        updateLegend();
    }
    const TimingResult* tm = o->timing.get();
    const int32_t layer = out->view.placement.layer;
    QString layers;
    if (L.slot_count > 1)
        layers = layer < 0 ? tr(" · all %1 layers (each cell: the most important state over layers)").arg(L.slot_count)
                           : tr(" · layer %1 of %2").arg(layer).arg(L.slot_count);
    sequence_ = L.sequences() > 1 ? seq : -1;
    if (L.sequences() > 1)
        layers += tr(" · sequence %1 of %2 (P = %3)").arg(seq).arg(L.sequences()).arg(L.prefillOf(seq));
    setPlotTitle(tr("Placement — %1%2%5\nHBM hit ratio %3, %4 migrated")
                     .arg(QString::fromStdString(o->info.label))
                     .arg(o->info.online ? QString() : tr(" (oracle)"))
                     .arg(tm ? formatPercent(tm->hbmHitRatio()) : QStringLiteral("–"))
                     .arg(tm ? formatBytes(tm->migrated_bytes) : QStringLiteral("–"))
                     .arg(layers));
    if (out->placement && out->placement->categories && out->placement->key != shownKey_) {
        PlacementHeatmap& h = *out->placement;
        grid_ = h.grid;
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
    placeStepCursor(cursor_, link_);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

bool PlacementView::writeCsv(QTextStream& out) const
{
    QCPColorMapData* d = map_->data();
    if (!last_ || !d || d->keySize() < 2)
        return false;
    out << "# placement of policy " << QString::fromStdString(last_->view.policy) << " pooled to " << d->keySize()
        << " x " << d->valueSize() << " cells; category: 0 not created, 1 in a lower tier not read, 2 in HBM not read, "
        << "3 read from HBM, 4 read from a lower tier (a pooled cell shows the highest; among equals the deepest tier); "
        << "tier: the tier's index in the hardware (empty when not created)\n";
    out << "step,page,category,tier,label\n";
    for (int j = 0; j < d->valueSize(); ++j)
        for (int i = 0; i < d->keySize(); ++i) {
            double key = 0, value = 0;
            d->cellToCoord(i, j, &key, &value);
            const int cls = static_cast<int>(d->cell(i, j));
            const int m = placementClassTier(cls);
            const bool read = placementClassIsRead(cls);
            const int category = m < 0 ? kNotCreated : m == 0 ? (read ? kFastRead : kFastIdle) : (read ? kLowerRead : kLowerIdle);
            out << QString::number(key, 'f', 2) << ',' << QString::number(value, 'f', 2) << ',' << category << ','
                << (m < 0 ? QString() : QString::number(m)) << ',' << placementClassLabel(cls, tierNames_) << '\n';
        }
    return true;
}

} // namespace kvtier::ui
