#include "ui/bandwidth_view.hpp"
#include "ui/stream_notes.hpp"

#include "core/engine/view_steps.hpp"

#include "ui/theme.hpp"
#include "ui/units.hpp"

#include <QComboBox>
#include <QFontMetrics>
#include <QHBoxLayout>
#include <QLabel>
#include <QTextStream>
#include <QToolTip>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace kvtier::ui {

namespace {

void addToLegend(QCPLegend* legend, QCPAbstractPlottable* p)
{
    legend->addItem(new QCPPlottableLegendItem(legend, p));
}

} // namespace

BandwidthView::BandwidthView(StepLink* link, QWidget* parent)
    : PlotView(QStringLiteral("bandwidth"), tr("Bandwidth"), parent), link_(link)
{
    headerLayout()->insertWidget(0, new QLabel(tr("Traffic of:"), this));
    trafficTier_ = new QComboBox(this);
    trafficTier_->addItem(tr("all tiers"), -1);
    headerLayout()->insertWidget(1, trafficTier_);
    connect(trafficTier_, &QComboBox::currentIndexChanged, this, [this] { rebuild(); });

    QCustomPlot* p = plot_;
    timeRect_ = p->axisRect();
    useRect_ = new QCPAxisRect(p);
    trafficRect_ = new QCPAxisRect(p);
    p->plotLayout()->addElement(1, 0, useRect_);
    p->plotLayout()->addElement(2, 0, trafficRect_);
    auto* group = new QCPMarginGroup(p);
    for (QCPAxisRect* r : {timeRect_, useRect_, trafficRect_}) {
        r->setMarginGroup(QCP::msLeft | QCP::msRight, group);
        r->setRangeDrag(Qt::Horizontal);
        r->setRangeZoom(Qt::Horizontal);
        r->axis(QCPAxis::atBottom)->setLabel(tr("decode step t"));
        linkStepAxis(link_, r->axis(QCPAxis::atBottom));
        auto* c = new QCPItemStraightLine(p);
        c->setClipAxisRect(r);
        c->point1->setAxes(r->axis(QCPAxis::atBottom), r->axis(QCPAxis::atLeft));
        c->point2->setAxes(r->axis(QCPAxis::atBottom), r->axis(QCPAxis::atLeft));
        c->setPen(QPen(QColor(200, 30, 30), 1, Qt::DashLine));
        c->setVisible(false);   // until the user points at a step or presses Play
        cursors_.push_back(c);
    }
    timeRect_->axis(QCPAxis::atBottom)->setTickLabels(false);
    timeRect_->axis(QCPAxis::atBottom)->setLabel(QString());
    useRect_->axis(QCPAxis::atBottom)->setTickLabels(false);
    useRect_->axis(QCPAxis::atBottom)->setLabel(QString());
    timeRect_->axis(QCPAxis::atLeft)->setLabel(tr("step time (ms)"));
    useRect_->axis(QCPAxis::atLeft)->setLabel(tr("use | busy (%)"));
    trafficRect_->axis(QCPAxis::atLeft)->setLabel(tr("GB per step"));
    useRect_->axis(QCPAxis::atLeft)->setRange(0, 105);
    p->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    // Antialiased fills of thousands of steps dominate a replot and look no different.
    p->setNotAntialiasedElements(QCP::aeFills);

    // One legend for the three panels, in its own row under them: it never covers a curve.
    auto* legendRow = new QCPLayoutGrid;
    p->plotLayout()->addElement(3, 0, legendRow);
    p->plotLayout()->setRowStretchFactor(3, 0.001);
    p->axisRect()->insetLayout()->take(p->legend);
    legendRow->addElement(0, 0, p->legend);
    p->legend->setVisible(true);
    p->legend->setFillOrder(QCPLegend::foColumnsFirst);
    p->legend->setWrap(5);
    p->legend->setIconSize(16, 8);
    p->legend->setRowSpacing(0);
    p->legend->setColumnSpacing(10);
    p->legend->setMargins(QMargins(4, 1, 4, 1));
    timeLegend_ = useLegend_ = trafficLegend_ = p->legend;
    fitLegendToWidth(p->legend);

    QCPAxis* tx = timeRect_->axis(QCPAxis::atBottom);
    QCPAxis* ty = timeRect_->axis(QCPAxis::atLeft);
    stepTime_ = p->addGraph(tx, ty);
    stepTime_->setName(tr("policy"));
    stepTime_->setPen(QPen(QColor(0xCC, 0x33, 0x11), 1.3));   // not a tier colour: it is the policy's
    balanced_ = p->addGraph(tx, ty);
    balanced_->setName(tr("balanced bound"));
    balanced_->setPen(QPen(boundColor(false, false), 1.2, Qt::DashLine));
    paper_ = p->addGraph(tx, ty);
    paper_->setName(tr("paper bound"));
    paper_->setPen(QPen(boundColor(true, false), 1.2, Qt::DotLine));
    for (QCPGraph* g : {stepTime_, balanced_, paper_}) {
        g->removeFromLegend();
        addToLegend(timeLegend_, g);
    }

    baseline_ = p->addGraph(tx, ty);
    baseline_->setName(tr("baseline (pinned)"));
    baseline_->setPen(QPen(QColor(0xCC, 0x33, 0x11), 1.2, Qt::DashLine));
    baseline_->removeFromLegend();
    baseline_->setVisible(false);

    // Traffic: stacked areas, each graph filled down to the one below it; migrations are
    // a line on their own (right) axis, since they are often far smaller than KV reads.
    const QString kinds[] = {tr("weights read"), tr("KV read"), tr("KV write")};
    QCPGraph* below = nullptr;
    for (int k = 0; k < 3; ++k) {
        QCPGraph* g = p->addGraph(trafficRect_->axis(QCPAxis::atBottom), trafficRect_->axis(QCPAxis::atLeft));
        g->setName(kinds[k]);
        QColor c = trafficColor(k);
        g->setPen(QPen(c.darker(115), 1));
        c.setAlpha(200);
        g->setBrush(c);
        g->setChannelFillGraph(below);
        g->removeFromLegend();
        addToLegend(trafficLegend_, g);
        traffic_.push_back(g);
        below = g;
    }
    QCPAxis* my = trafficRect_->axis(QCPAxis::atRight);
    my->setVisible(true);
    my->setLabel(tr("migration MB/step"));
    migration_ = p->addGraph(trafficRect_->axis(QCPAxis::atBottom), my);
    migration_->setName(tr("migration (right axis)"));
    migration_->setPen(QPen(trafficColor(kMigration).darker(120), 1.4));
    migration_->removeFromLegend();
    // What line styles mean, as legend entries of their own (empty graphs).
    solidKey_ = p->addGraph(useRect_->axis(QCPAxis::atBottom), useRect_->axis(QCPAxis::atLeft));
    solidKey_->setName(tr("tiers: solid = bandwidth use"));
    dashedKey_ = p->addGraph(useRect_->axis(QCPAxis::atBottom), useRect_->axis(QCPAxis::atLeft));
    dashedKey_->setName(tr("dashed = busy time"));
    for (QCPGraph* g : {solidKey_, dashedKey_})
        g->removeFromLegend();
    connect(link_, &StepLink::cursorChanged, this, [this](qint64 t) {
        for (QCPItemStraightLine* c : cursors_) {
            c->setVisible(true);
            c->point1->setCoords(static_cast<double>(t), 0);
            c->point2->setCoords(static_cast<double>(t), 1);
        }
        plot_->replot(QCustomPlot::rpQueuedReplot);
    });
    connect(p, &QCustomPlot::mouseMove, this, [this](QMouseEvent* e) {
        if (e->buttons() != Qt::NoButton)
            return;
        for (QCPAxisRect* r : {timeRect_, useRect_, trafficRect_})
            if (r->rect().contains(e->pos())) {
                const int64_t t = std::lround(r->axis(QCPAxis::atBottom)->pixelToCoord(e->pos().x()));
                link_->setCursor(t);
                const QString text = valuesAt(t);
                if (!text.isEmpty())
                    QToolTip::showText(e->globalPosition().toPoint(), text, plot_);
                return;
            }
    });
    // A zoom or a resize draws the visible steps again at the new resolution.
    connect(link_, &StepLink::rangeChanged, this, [this] { redraw(); });
    connect(p, &QCustomPlot::afterLayout, this, [this] {
        fitAxesToPanels();
        if (timeRect_->width() != lastRedrawWidth_)
            QMetaObject::invokeMethod(this, [this] { redraw(); }, Qt::QueuedConnection);
    });
    setPlotTitle(tr("Bandwidth"));
    applyTheme();
}

void BandwidthView::applyTheme()
{
    PlotView::applyTheme();
    for (QCPLegend* l : {timeLegend_, useLegend_, trafficLegend_}) {
        l->setBrush(QBrush(Theme::current().dark ? QColor(45, 46, 50, 220) : QColor(255, 255, 255, 220)));
        l->setBorderPen(QPen(Theme::current().grid));
        l->setTextColor(Theme::current().foreground);
    }
    balanced_->setPen(QPen(boundColor(false, Theme::current().dark), 1.2, Qt::DashLine));
    paper_->setPen(QPen(boundColor(true, Theme::current().dark), 1.2, Qt::DotLine));
    solidKey_->setPen(QPen(Theme::current().foreground, 1.3));
    dashedKey_->setPen(QPen(Theme::current().foreground, 1, Qt::DashLine));
}

void BandwidthView::setBaseline(const AnalysisOutputPtr& baseline)
{
    baselineOut_ = baseline;
    rebuild();
}

QStringList BandwidthView::legendLabels() const
{
    QStringList out;
    for (int i = 0; i < plot_->legend->itemCount(); ++i)
        if (auto* item = qobject_cast<QCPPlottableLegendItem*>(plot_->legend->item(i)))
            out << item->plottable()->name();
    return out;
}

int BandwidthView::drawnPoints() const { return stepTime_->dataCount(); }

QString BandwidthView::valuesAt(int64_t t) const
{
    if (!last_ || !last_->result || t < 0 || t >= static_cast<int64_t>(series_.step_time.size()))
        return {};
    const auto i = static_cast<size_t>(t);
    const auto& tiers = last_->scenario.hardware.tiers;
    QString s = tr("step %1 · %2\nstep time %3").arg(t).arg(policy_, formatSeconds(series_.step_time[i]));
    if (std::isfinite(series_.balanced[i]))
        s += tr(" · balanced bound %1").arg(formatSeconds(series_.balanced[i]));
    if (std::isfinite(series_.paper[i]))
        s += tr(" · paper bound %1").arg(formatSeconds(series_.paper[i]));
    if (i < baselineTime_.size() && std::isfinite(baselineTime_[i]))
        s += tr("\nbaseline %1 (%2%3)")
                 .arg(formatSeconds(baselineTime_[i]))
                 .arg(series_.step_time[i] >= baselineTime_[i] ? QStringLiteral("+") : QStringLiteral("−"))
                 .arg(formatSeconds(std::abs(series_.step_time[i] - baselineTime_[i])));
    for (size_t m = 0; m < tiers.size() && m < series_.tier_use.size(); ++m)
        s += tr("\n%1: use %2, busy %3")
                 .arg(QString::fromStdString(tiers[m].name), formatPercent(series_.tier_use[m][i]), formatPercent(series_.tier_busy[m][i]));
    s += tr("\n%1: weights %2, KV read %3, KV write %4, migration %5")
             .arg(trafficTier_->currentText(), formatBytes(traffic_series_[kWeightRead][i]), formatBytes(traffic_series_[kKvRead][i]),
                  formatBytes(traffic_series_[kKvWrite][i]), formatBytes(traffic_series_[kMigration][i]));
    return s;
}

void BandwidthView::showResult(const AnalysisOutputPtr& out)
{
    last_ = out;
    const int tiers = static_cast<int>(out->scenario.hardware.tiers.size());
    if (trafficTier_->count() != tiers + 1 ||
        (tiers > 0 && trafficTier_->itemText(1) != QString::fromStdString(out->scenario.hardware.tiers[0].name))) {
        const QSignalBlocker block(trafficTier_);
        const int keep = trafficTier_->currentIndex();
        trafficTier_->clear();
        trafficTier_->addItem(tr("all tiers"), -1);
        for (int m = 0; m < tiers; ++m)
            trafficTier_->addItem(QString::fromStdString(out->scenario.hardware.tiers[static_cast<size_t>(m)].name), m);
        trafficTier_->setCurrentIndex(keep >= 0 && keep < trafficTier_->count() ? keep : 0);
    }
    rebuild();
}

void BandwidthView::rebuild()
{
    if (!last_ || !last_->result)
        return;
    const AnalysisOutput& out = *last_;
    const PolicyOutcome* o = out.outcome(out.view.policy);
    if (const QString left = streamedLeftOut(out, out.view.policy); !left.isEmpty()) {
        setPlaceholder(left);
        setPlotTitle(tr("Bandwidth — %1: left out of the streamed run").arg(QString::fromStdString(out.view.policy)));
        series_ = {};
        for (int i = 0; i < plot_->graphCount(); ++i)
            plot_->graph(i)->data()->clear();
        plot_->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    if (!o || !o->timing)
        return;
    const TimingResult& tm = *o->timing;
    const auto& tiers = out.scenario.hardware.tiers;
    policy_ = QString::fromStdString(o->info.label);
    series_ = stepSeries(*out.result, *o);
    traffic_series_ = trafficSeries(tm, trafficTier_->currentData().toInt());
    stacked_.assign(3, std::vector<double>(series_.step_time.size(), 0.0));
    for (size_t t = 0; t < series_.step_time.size(); ++t) {
        double acc = 0;
        for (size_t k = 0; k < 3; ++k) {
            acc += traffic_series_[k][t] / 1e9;
            stacked_[k][t] = acc;
        }
    }
    baselineTime_.clear();
    if (baselineOut_ && baselineOut_->result)
        if (const PolicyOutcome* b = baselineOut_->outcome(o->info.name); b && b->timing && b->info.name == o->info.name)
            baselineTime_ = b->timing->step_time;
    baseline_->setVisible(!baselineTime_.empty());
    baseline_->setName(tr("baseline %1 (pinned, dashed)").arg(policy_));
    stepTime_->setName(tr("step time (solid)"));
    balanced_->setName(tr("balanced bound"));
    paper_->setName(tr("paper bound"));

    // Per-tier use: solid = bandwidth use (R+W)/(B tau), dashed = busy fraction time_m / tau.
    QCustomPlot* p = plot_;
    if (tierUse_.size() != tiers.size()) {
        for (QCPGraph* g : tierUse_)
            p->removeGraph(g);
        for (QCPGraph* g : tierBusy_)
            p->removeGraph(g);
        tierUse_.clear();
        tierBusy_.clear();
        for (size_t m = 0; m < tiers.size(); ++m) {
            QCPGraph* use = p->addGraph(useRect_->axis(QCPAxis::atBottom), useRect_->axis(QCPAxis::atLeft));
            use->setPen(QPen(tierColor(static_cast<int>(m)), 1.3));
            use->removeFromLegend();
            QCPGraph* busy = p->addGraph(useRect_->axis(QCPAxis::atBottom), useRect_->axis(QCPAxis::atLeft));
            busy->setPen(QPen(tierColor(static_cast<int>(m)).lighter(130), 1, Qt::DashLine));
            busy->removeFromLegend();   // dashed twin of the use curve: the legend's "dashed" entry says so
            tierUse_.push_back(use);
            tierBusy_.push_back(busy);
        }
    }
    for (size_t m = 0; m < tiers.size(); ++m) {
        const QString name = QString::fromStdString(tiers[m].name);
        tierUse_[m]->setName(name);
        tierBusy_[m]->setName(tr("%1 busy").arg(name));
    }

    // Legend in panel order: step time, baseline and bounds; tiers and what solid and
    // dashed mean; traffic kinds and migrations.
    QCPLegend* legend = plot_->legend;
    legend->clearItems();
    addToLegend(legend, stepTime_);
    if (baseline_->visible())
        addToLegend(legend, baseline_);
    for (QCPGraph* g : {balanced_, paper_})
        addToLegend(legend, g);
    for (QCPGraph* g : tierUse_)
        addToLegend(legend, g);
    addToLegend(legend, solidKey_);
    addToLegend(legend, dashedKey_);
    for (QCPGraph* g : traffic_)
        addToLegend(legend, g);
    addToLegend(legend, migration_);

    QString use = tr("bandwidth used:");
    for (size_t m = 0; m < tm.tier_totals.size(); ++m)
        use += tr("%1 %2 %3").arg(m ? QStringLiteral(",") : QString()).arg(QString::fromStdString(tm.tier_totals[m].name)).arg(formatPercent(tm.tier_totals[m].bandwidth_use, 0));
    // Every curve sums the step's layers; the axis says so (and how many).
    trafficLayers_ = out.scenario.model.layers;
    fitAxesToPanels();
    setPlotTitle(tr("Bandwidth — %1: %2/token, bound %3 (×%4)\n%5")
                     .arg(policy_)
                     .arg(formatSeconds(tm.timePerToken()))
                     .arg(out.result->balanced ? formatSeconds(out.result->balanced->timePerToken()) : QStringLiteral("–"))
                     .arg(o->gapToBound, 0, 'f', 2)
                     .arg(use));
    for (QCPItemStraightLine* c : cursors_) {
        c->point1->setCoords(static_cast<double>(link_->cursor()), 0);
        c->point2->setCoords(static_cast<double>(link_->cursor()), 1);
    }
    applyTheme();
    redraw();
}

void BandwidthView::fitAxesToPanels()
{
    // Candidates from the most to the least explicit; the last, a unit, is shown when none fits.
    struct Label { QCPAxis* axis; QStringList candidates; };
    const Label labels[] = {
        {timeRect_->axis(QCPAxis::atLeft), {tr("step time (ms)"), tr("time (ms)"), tr("ms")}},
        {useRect_->axis(QCPAxis::atLeft), {tr("use | busy (%)"), tr("%")}},
        {trafficRect_->axis(QCPAxis::atLeft),
         {trafficLayers_ > 0 ? tr("GB/step, %1 layers").arg(trafficLayers_) : tr("GB per step"), tr("GB/step"), tr("GB")}},
        {trafficRect_->axis(QCPAxis::atRight), {tr("migration MB/step"), tr("MB/step"), tr("MB")}},
    };
    for (const Label& l : labels) {
        const int height = l.axis->axisRect()->height();
        if (height <= 0)
            continue;
        const QFontMetrics fm(l.axis->labelFont());
        // The label is drawn along the axis: it fits when its width is within the panel's height.
        QString want = l.candidates.back();
        for (const QString& c : l.candidates)
            if (fm.horizontalAdvance(c) + 8 <= height) {
                want = c;
                break;
            }
        if (l.axis->label() != want)
            l.axis->setLabel(want);
        // About one tick label per 2.5 lines of text, at least two.
        const int ticks = std::clamp(height / (fm.height() * 5 / 2), 2, 6);
        if (l.axis->ticker()->tickCount() != ticks)
            l.axis->ticker()->setTickCount(ticks);
    }
}

void BandwidthView::redraw()
{
    if (series_.step_time.empty())
        return;
    const auto T = static_cast<int64_t>(series_.step_time.size());
    // The visible steps (with one step of margin) at about two points per pixel column.
    const int64_t t0 = std::clamp<int64_t>(static_cast<int64_t>(std::floor(link_->lower())) - 1, 0, T);
    const int64_t t1 = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(link_->upper())) + 2, t0, T);
    lastRedrawWidth_ = timeRect_->width();
    const int buckets = std::max(50, lastRedrawWidth_);
    auto draw = [&](QCPGraph* g, const std::vector<double>& y, double scale) {
        const DecimatedCurve d = decimateMinMax(y, t0, t1, buckets);
        QVector<double> x(static_cast<qsizetype>(d.x.size())), v(static_cast<qsizetype>(d.y.size()));
        for (size_t i = 0; i < d.x.size(); ++i) {
            x[static_cast<qsizetype>(i)] = d.x[i];
            v[static_cast<qsizetype>(i)] = d.y[i] * scale;
        }
        g->setData(x, v, true);
    };
    draw(stepTime_, series_.step_time, 1e3);
    draw(balanced_, series_.balanced, 1e3);
    draw(paper_, series_.paper, 1e3);
    if (!baselineTime_.empty())
        draw(baseline_, baselineTime_, 1e3);
    for (size_t m = 0; m < tierUse_.size() && m < series_.tier_use.size(); ++m) {
        draw(tierUse_[m], series_.tier_use[m], 100);
        draw(tierBusy_[m], series_.tier_busy[m], 100);
    }
    draw(migration_, traffic_series_[kMigration], 1e-6);
    // Stacked areas share their steps (each keeps its extremes), so fills line up.
    const std::vector<int64_t> steps = decimatedSteps({&stacked_[0], &stacked_[1], &stacked_[2]}, t0, t1, buckets);
    QVector<double> x(static_cast<qsizetype>(steps.size()));
    for (size_t i = 0; i < steps.size(); ++i)
        x[static_cast<qsizetype>(i)] = static_cast<double>(steps[i]);
    for (size_t k = 0; k < 3; ++k) {
        QVector<double> y(static_cast<qsizetype>(steps.size()));
        for (size_t i = 0; i < steps.size(); ++i)
            y[static_cast<qsizetype>(i)] = stacked_[k][static_cast<size_t>(steps[i])];
        traffic_[k]->setData(x, y, true);
    }

    // Value axes fit what is visible: a policy change or a zoom rescales them.
    double tmax = 0, peak = 0, mig = 0;
    for (int64_t t = t0; t < t1; ++t) {
        const auto i = static_cast<size_t>(t);
        for (double v : {series_.step_time[i], series_.balanced[i], series_.paper[i],
                         i < baselineTime_.size() ? baselineTime_[i] : 0.0})
            if (std::isfinite(v))
                tmax = std::max(tmax, v * 1e3);
        peak = std::max(peak, stacked_[2][i]);
        mig = std::max(mig, traffic_series_[kMigration][i] / 1e6);
    }
    timeRect_->axis(QCPAxis::atLeft)->setRange(0, tmax > 0 ? tmax * 1.15 : 1);
    trafficRect_->axis(QCPAxis::atLeft)->setRange(0, peak > 0 ? peak * 1.15 : 1);
    trafficRect_->axis(QCPAxis::atRight)->setRange(0, mig > 0 ? mig * 1.15 : 1);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

bool BandwidthView::writeCsv(QTextStream& s) const
{
    if (!last_ || !last_->result)
        return false;
    const PolicyOutcome* o = last_->outcome(last_->view.policy);
    if (!o || !o->timing)
        return false;
    const TimingResult& tm = *o->timing;
    const auto& tiers = last_->scenario.hardware.tiers;
    s << "# policy " << QString::fromStdString(o->info.name) << "; bytes per step summed over layers and the batch\n";
    s << "step,step_time_s,balanced_bound_s,paper_bound_s";
    for (const Tier& tier : tiers) {
        const QString n = QString::fromStdString(tier.name);
        for (const char* k : {"busy_s", "weight_read_B", "kv_read_B", "kv_write_B", "mig_read_B", "mig_write_B"})
            s << ',' << n << ':' << k;
    }
    s << '\n';
    for (int64_t t = 0; t < tm.steps; ++t) {
        const auto i = static_cast<size_t>(t);
        s << t << ',' << QString::number(tm.step_time[i], 'g', 10) << ','
          << (last_->result->balanced ? QString::number(last_->result->balanced->step_time[i], 'g', 10) : QString()) << ','
          << (last_->result->paper ? QString::number(last_->result->paper->step_time[i], 'g', 10) : QString());
        for (size_t m = 0; m < tiers.size(); ++m) {
            const TierStep& x = tm.at(t, static_cast<int32_t>(m));
            for (double v : {x.busy_s, x.weight_read, x.kv_read, x.kv_write, x.mig_read, x.mig_write})
                s << ',' << QString::number(v, 'g', 10);
        }
        s << '\n';
    }
    return true;
}

} // namespace kvtier::ui
