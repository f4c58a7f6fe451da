#include "ui/bandwidth_view.hpp"

#include "core/engine/view_steps.hpp"

#include "ui/theme.hpp"
#include "ui/units.hpp"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QTextStream>
#include <qcustomplot.h>

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

    // Traffic: stacked areas, each graph filled down to the one below it.
    const QString kinds[] = {tr("weights read"), tr("KV read"), tr("KV write"), tr("migration")};
    QCPGraph* below = nullptr;
    for (int k = 0; k < 4; ++k) {
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
                link_->setCursor(std::lround(r->axis(QCPAxis::atBottom)->pixelToCoord(e->pos().x())));
                return;
            }
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
    if (!o || !o->timing)
        return;
    const TimingResult& tm = *o->timing;
    const auto& tiers = out.scenario.hardware.tiers;
    const auto T = static_cast<int>(tm.steps);
    const StepSeries series = stepSeries(*out.result, *o);
    QVector<double> x(T), tau(T), bal(T), pap(T);
    for (int t = 0; t < T; ++t) {
        const auto i = static_cast<size_t>(t);
        x[t] = t;
        tau[t] = series.step_time[i] * 1e3;
        bal[t] = series.balanced[i] * 1e3;
        pap[t] = series.paper[i] * 1e3;
    }
    stepTime_->setName(tr("step time"));
    stepTime_->setData(x, tau, true);
    balanced_->setName(tr("balanced bound"));
    balanced_->setData(x, bal, true);
    paper_->setName(tr("paper bound"));
    paper_->setData(x, pap, true);
    double tmax = 0;
    for (int t = 0; t < T; ++t)
        tmax = std::max({tmax, tau[t], std::isfinite(bal[t]) ? bal[t] : 0.0, std::isfinite(pap[t]) ? pap[t] : 0.0});
    timeRect_->axis(QCPAxis::atLeft)->setRange(0, tmax > 0 ? tmax * 1.25 : 1);

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
            addToLegend(useLegend_, use);
            QCPGraph* busy = p->addGraph(useRect_->axis(QCPAxis::atBottom), useRect_->axis(QCPAxis::atLeft));
            busy->setPen(QPen(tierColor(static_cast<int>(m)).lighter(130), 1, Qt::DashLine));
            busy->removeFromLegend();   // dashed twin of the use curve, named in the axis label
            tierUse_.push_back(use);
            tierBusy_.push_back(busy);
        }
    }
    for (size_t m = 0; m < tiers.size(); ++m) {
        QVector<double> use(T), busy(T);
        for (int t = 0; t < T; ++t) {
            use[t] = 100.0 * series.tier_use[m][static_cast<size_t>(t)];
            busy[t] = 100.0 * series.tier_busy[m][static_cast<size_t>(t)];
        }
        const QString name = QString::fromStdString(tiers[m].name);
        tierUse_[m]->setName(name);
        tierBusy_[m]->setName(tr("%1 busy").arg(name));
        tierUse_[m]->setData(x, use, true);
        tierBusy_[m]->setData(x, busy, true);
    }

    // Legend in panel order: step time and bounds, tiers, traffic kinds.
    QCPLegend* legend = plot_->legend;
    legend->clearItems();
    for (QCPGraph* g : {stepTime_, balanced_, paper_})
        addToLegend(legend, g);
    for (QCPGraph* g : tierUse_)
        addToLegend(legend, g);
    for (QCPGraph* g : traffic_)
        addToLegend(legend, g);

    // Traffic of the chosen tier (or all), stacked.
    const auto traffic = trafficSeries(tm, trafficTier_->currentData().toInt());
    QVector<double> acc(T, 0.0);
    double peak = 0;
    for (int k = 0; k < kTrafficKinds; ++k) {
        QVector<double> y(T);
        for (int t = 0; t < T; ++t) {
            acc[t] += traffic[static_cast<size_t>(k)][static_cast<size_t>(t)] / 1e9;
            y[t] = acc[t];
            peak = std::max(peak, acc[t]);
        }
        traffic_[static_cast<size_t>(k)]->setData(x, y, true);
    }
    trafficRect_->axis(QCPAxis::atLeft)->setRange(0, peak > 0 ? peak * 1.35 : 1);
    QString use;
    for (size_t m = 0; m < tm.tier_totals.size(); ++m)
        use += tr("%1%2 %3 of bandwidth used").arg(m ? QStringLiteral(", ") : QString()).arg(QString::fromStdString(tm.tier_totals[m].name)).arg(formatPercent(tm.tier_totals[m].bandwidth_use, 0));
    setPlotTitle(tr("Bandwidth — %1: %2/token, bound %3 (×%4)\n%5")
                     .arg(QString::fromStdString(o->info.label))
                     .arg(formatSeconds(tm.timePerToken()))
                     .arg(out.result->balanced ? formatSeconds(out.result->balanced->timePerToken()) : QStringLiteral("–"))
                     .arg(o->gapToBound, 0, 'f', 2)
                     .arg(use));
    for (QCPItemStraightLine* c : cursors_) {
        c->point1->setCoords(static_cast<double>(link_->cursor()), 0);
        c->point2->setCoords(static_cast<double>(link_->cursor()), 1);
    }
    applyTheme();
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
