#include "ui/expert_view.hpp"
#include "ui/stream_notes.hpp"

#include "ui/theme.hpp"
#include "ui/units.hpp"

#include <QComboBox>
#include <QLabel>
#include <QSignalBlocker>
#include <QTextStream>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace kvtier::ui {

ExpertView::ExpertView(StepLink* link, QWidget* parent)
    : PlotView(QStringLiteral("experts"), tr("Experts"), parent), link_(link)
{
    QCustomPlot* p = plot_;
    QCPAxisRect* rect = p->axisRect();
    QCPAxis* x = rect->axis(QCPAxis::atBottom);
    QCPAxis* y = rect->axis(QCPAxis::atLeft);
    x->setLabel(tr("decode step t"));
    y->setLabel(tr("expert"));
    x->grid()->setVisible(false);
    y->grid()->setVisible(false);
    map_ = new QCPColorMap(x, y);
    map_->setInterpolate(false);
    map_->setTightBoundary(false);
    map_->setName(QStringLiteral("experts"));
    map_->removeFromLegend();

    layer_ = new QComboBox(this);
    layer_->setObjectName(QStringLiteral("expertLayerSelector"));
    layer_->setToolTip(tr("The model layer whose experts the heatmap shows"));
    layer_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    headerLayout()->insertWidget(0, new QLabel(tr("Layer:"), this));
    headerLayout()->insertWidget(1, layer_);
    connect(layer_, &QComboBox::currentIndexChanged, this, [this] { emit windowChanged(); });

    // The legend in its own row below the plot, as in the placement view.
    p->legend->setVisible(true);
    p->legend->clearItems();
    placeLegendBelow(3);

    cursor_ = wireStepHeatmap(
        rect, link_, [this] { emit windowChanged(); }, [this](double t, double row) { return cellText(t, row); });
    setPlotTitle(tr("Experts"));
    setPlaceholder(tr("No result yet"));
    applyTheme();
}

void ExpertView::applyTheme()
{
    PlotView::applyTheme();
    updateLegend();
}

void ExpertView::updateLegend()
{
    const bool dark = Theme::current().dark;
    const int tiers = std::max(1, static_cast<int>(tierNames_.size()));
    map_->setGradient(expertClassGradient(tiers, dark));
    map_->setDataRange(QCPRange(-0.5, static_cast<double>(expertClassCount(tiers)) - 0.5));
    QCustomPlot* p = plot_;
    for (QCPGraph* g : legendSwatches_)
        p->removeGraph(g);
    legendSwatches_.clear();
    QCPAxis* x = p->axisRect()->axis(QCPAxis::atBottom);
    QCPAxis* y = p->axisRect()->axis(QCPAxis::atLeft);
    // In the pooling priority, highest first: moved, read (deepest tier first), idle.
    std::vector<int> order{expertClass(kExpertMigrated, 0, tiers)};
    for (int m = tiers - 1; m >= 0; --m)
        order.push_back(expertClass(m == 0 ? kExpertFastRead : kExpertLowerRead, m, tiers));
    for (int m = 0; m < tiers; ++m)
        order.push_back(expertClass(m == 0 ? kExpertFastIdle : kExpertLowerIdle, m, tiers));
    const QColor outline = Theme::current().foreground;
    p->legend->clearItems();
    for (int cls : order) {
        QCPGraph* g = p->addGraph(x, y);
        g->setName(expertClassLabel(cls, tierNames_));
        g->setLineStyle(QCPGraph::lsNone);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, outline, expertClassColor(cls, tiers, dark), 10));
        legendSwatches_.push_back(g);
    }
    p->legend->setWrap(tiers >= 3 ? 4 : 3);
}

QStringList ExpertView::legendLabels() const
{
    QStringList out;
    for (int i = 0; i < plot_->legend->itemCount(); ++i)
        if (auto* item = qobject_cast<QCPPlottableLegendItem*>(plot_->legend->item(i)))
            out << item->plottable()->name();
    return out;
}

void ExpertView::setLayers(int layers, int shown)
{
    const QSignalBlocker block(layer_);
    if (layer_->count() != layers) {
        layer_->clear();
        for (int l = 0; l < layers; ++l)
            layer_->addItem(tr("layer %1").arg(l), l);
    }
    layer_->setCurrentIndex(std::clamp(shown, 0, std::max(0, layers - 1)));
}

QString ExpertView::cellText(double step, double expert) const
{
    QCPColorMapData* d = map_->data();
    const PooledGrid& g = shown_.grid;
    if (!last_ || !d || d->keySize() < 2 || g.nx < 2 || shown_.counts.empty())
        return {};
    int i = 0, j = 0;
    d->coordToCell(step, expert, &i, &j);
    if (i < 0 || j < 0 || i >= d->keySize() || j >= d->valueSize() || i >= g.nx || j >= g.ny)
        return {};
    const size_t c = g.index(i, j);
    if (shown_.tier[c] == 255)
        return {};
    const auto& n = shown_.counts[c];
    auto tierName = [&](int m) { return m >= 0 && m < tierNames_.size() ? tierNames_[m] : tr("tier %1").arg(m); };
    const int64_t s0 = g.firstStepOf(i), s1 = g.firstStepOf(i + 1) - 1;
    const int64_t e0 = g.firstRowOf(j), e1 = g.firstRowOf(j + 1) - 1;
    const QString steps = s0 >= s1 ? tr("step %1").arg(s0) : tr("steps %1–%2").arg(s0).arg(s1);
    const QString experts = e0 >= e1 ? tr("expert %1").arg(e0) : tr("experts %1–%2").arg(e0).arg(e1);
    QString text = tr("layer %1, %2, %3: ").arg(g.window.layer).arg(steps, experts);
    if (s0 >= s1 && e0 >= e1) {
        // One expert at one step: its state, where it lives, the move.
        const QString where = tierName(shown_.tier[c]);
        if (n[kExpertMigrated])
            text += tr("migrated %1 → %2 at this step; ").arg(tierName(shown_.moved_from[c]), where);
        if (n[kExpertFastRead] || n[kExpertLowerRead])
            text += tr("active, read from %1").arg(where) + (n[kExpertLowerRead] ? tr(" (a miss)") : tr(" (a hit)"));
        else
            text += tr("idle in %1").arg(where);
        return text;
    }
    // A pooled cell: how many (step, expert) pairs of each state it covers.
    QStringList parts;
    if (n[kExpertMigrated])
        parts << tr("%1 migrated").arg(n[kExpertMigrated]);
    if (n[kExpertLowerRead])
        parts << tr("%1 read from lower tiers (misses)").arg(n[kExpertLowerRead]);
    if (n[kExpertFastRead])
        parts << tr("%1 read from %2 (hits)").arg(n[kExpertFastRead]).arg(tierName(0));
    if (n[kExpertFastIdle])
        parts << tr("%1 idle in %2").arg(n[kExpertFastIdle]).arg(tierName(0));
    if (n[kExpertLowerIdle])
        parts << tr("%1 idle in lower tiers").arg(n[kExpertLowerIdle]);
    text += parts.join(QStringLiteral(", "));
    text += tr("\n(pooled cell: it shows the most important state of the steps and experts it covers)");
    return text;
}

HeatmapWindow ExpertView::wantedWindow() const
{
    HeatmapWindow w;
    w.t0 = static_cast<int64_t>(std::floor(link_->lower() + 0.5));
    w.t1 = static_cast<int64_t>(std::ceil(link_->upper() + 0.5));
    const QCPRange yr = plot_->axisRect()->axis(QCPAxis::atLeft)->range();
    w.y0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(yr.lower + 0.5)));
    w.y1 = static_cast<int64_t>(std::ceil(yr.upper + 0.5));
    if (experts_ > 0 && w.y0 == 0 && w.y1 >= experts_)
        w.y1 = 0;
    w.layer = layer_->count() > 0 ? layer_->currentData().toInt() : 0;
    w.width = std::max(200, plot_->axisRect()->width());
    w.height = std::max(150, plot_->axisRect()->height());
    return w;
}

void ExpertView::showResult(const AnalysisOutputPtr& out)
{
    const PolicyOutcome* o = out->outcome(out->view.policy);
    if (const QString left = streamedLeftOut(*out, out->view.policy); !left.isEmpty()) {
        last_ = out;
        setPlaceholder(left);
        setPlotTitle(tr("Experts — %1: left out of the streamed run").arg(QString::fromStdString(out->view.policy)));
        map_->data()->clear();
        shown_ = {};
        shownKey_ = 0;
        plot_->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    if (!o || !o->timing || !o->timing->expert_residency || !out->experts || !out->experts->classes)
        return;
    last_ = out;
    const TimingResult& tm = *o->timing;
    const ExpertResidency& res = *tm.expert_residency;
    ExpertHeatmap& h = *out->experts;
    const int64_t experts = h.grid.experts;
    QCPAxis* y = plot_->axisRect()->axis(QCPAxis::atLeft);
    if (experts != experts_) {
        experts_ = experts;
        plot_->setProperty("applyingLink", true);
        y->setRange(-0.5, static_cast<double>(experts) - 0.5);
        plot_->setProperty("applyingLink", false);
    }
    setLayers(res.layers, h.grid.grid.window.layer);
    QStringList names;
    for (const Tier& t : out->scenario.hardware.tiers)
        names << QString::fromStdString(t.name);
    if (names != tierNames_) {
        tierNames_ = names;
        updateLegend();
    }
    const QString fast = names.isEmpty() ? tr("tier 0") : names.front();
    const QString kept = tm.expert_policy == ExpertPolicy::Static
                             ? tr("expert policy static (the initial placement, never moved)")
                             : tr("expert policy %1, %2 experts in %3")
                                   .arg(QString::fromLatin1(toString(tm.expert_policy)))
                                   .arg(tm.expert_budget)
                                   .arg(fast);
    QString note;
    if (!h.grid.expert_sets)
        note = tr("\nthe trace names no active experts: every expert is read every step");
    setPlotTitle(tr("Experts — layer %1 of %2 · %3\nwith %4 · expert hit ratio %5, %6 of experts migrated%7")
                     .arg(h.grid.grid.window.layer)
                     .arg(res.layers)
                     .arg(kept, QString::fromStdString(o->info.label), formatPercent(tm.expertHitRatio()),
                          formatBytes(tm.expert_migrated_bytes), note));
    if (h.key != shownKey_) {
        shown_ = h.grid;
        map_->setData(h.classes.release(), false);
        shownKey_ = h.key;
    }
    placeStepCursor(cursor_, link_);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

bool ExpertView::writeCsv(QTextStream& out) const
{
    QCPColorMapData* d = map_->data();
    if (!last_ || !d || d->keySize() < 2 || shown_.counts.empty())
        return false;
    const int tiers = std::max(1, static_cast<int>(tierNames_.size()));
    out << "# experts of layer " << shown_.grid.window.layer << " with policy " << QString::fromStdString(last_->view.policy)
        << " pooled to " << d->keySize() << " x " << d->valueSize()
        << " cells; category: lower_idle < fast_idle < fast_read < lower_read < migrated (a pooled cell shows the highest; "
        << "among equals the deepest tier); tier: where that expert lives after the step's moves\n";
    out << "step,expert,category,tier,label\n";
    for (int j = 0; j < d->valueSize(); ++j)
        for (int i = 0; i < d->keySize(); ++i) {
            double key = 0, value = 0;
            d->cellToCoord(i, j, &key, &value);
            const size_t c = shown_.grid.index(i, j);
            if (shown_.tier[c] == 255)
                continue;
            const int cls = expertClass(shown_.category[c], shown_.tier[c], tiers);
            out << QString::number(key, 'f', 2) << ',' << QString::number(value, 'f', 2) << ','
                << toString(static_cast<ExpertCategory>(shown_.category[c])) << ',' << int(shown_.tier[c]) << ','
                << expertClassLabel(cls, tierNames_) << '\n';
        }
    return true;
}

} // namespace kvtier::ui
