#include "ui/sweep_view.hpp"

#include "core/engine/sweep.hpp"
#include "core/engine/view_sweep.hpp"
#include "core/engine/view_sweep2d.hpp"
#include "core/model/hardware.hpp"
#include "core/model/error.hpp"
#include "ui/error_sink.hpp"
#include "ui/job_runner.hpp"
#include "ui/theme.hpp"
#include "ui/units.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QMouseEvent>
#include <QTextStream>
#include <QToolTip>
#include <qcustomplot.h>

#include <QElapsedTimer>

#include <cmath>
#include <mutex>
#include <optional>

namespace kvtier::ui {

namespace {

// The knobs' ids, the item data of both knob combo boxes. ExpertShare is listed only for a
// model with experts.
enum Knob { HbmCapacity, DramBandwidth, Sparsity, Batch, ExpertShare };

const char* const kKnobKeys[] = {"hardware.tiers.0.capacity_bytes", "hardware.tiers.1.bandwidth", "selection.value", "batch",
                                 "experts.hbm_share"};

// One point's scenario: the base with the knob's field set, checked against the same
// limits a scenario file is (docs/SCENARIO.md "Limits"); a value outside them makes that
// point invalid, with the reason, as the core's sweep keeps it.
Scenario scenarioAt(const Scenario& base, int knob, double x)
{
    Scenario s = base;
    const std::string where = std::string("sweep: ") + kKnobKeys[knob];
    switch (knob) {
    case HbmCapacity:
        if (!(x >= 0 && x <= kMaxBytes))
            throw InputError(where, "must be between 0 and 1e18 bytes");
        s.hardware.tiers[0].capacity_bytes = x;
        break;
    case DramBandwidth:
        if (!(x >= kMinBandwidth && x <= kMaxBandwidth))
            throw InputError(where, "must be between 1 and 1e18 bytes/s");
        s.hardware.tiers[1].bandwidth = x;
        break;
    case Sparsity:
        s.selection.value = x;
        validate(s.selection);
        break;
    case Batch:
        if (!(x >= 1 && x <= 1'000'000))
            throw InputError(where, "must be between 1 and 1000000");
        s.batch = static_cast<int64_t>(std::llround(x));
        break;
    case ExpertShare:
        if (!(x >= 0 && x <= 1))
            throw InputError(where, "must be between 0 and 1");
        s.experts.hbm_share = x;
        break;
    }
    return s;
}

// The unit a knob's range is typed in, and the factor to scenario units.
double knobScale(int knob, QString* unit)
{
    if (knob == HbmCapacity || knob == DramBandwidth) {
        *unit = knob == HbmCapacity ? QStringLiteral("GB") : QStringLiteral("GB/s");
        return 1e9;
    }
    *unit = QString();
    return 1;
}

// n values from a to b (scenario units): geometric for bandwidth and batch (their effect is
// multiplicative), whole numbers where the knob takes only those (the batch, a top-k
// budget), repeats dropped. The experts' share steps as the CLI's `--vary key=a:b:step`
// does (a + i * step, step = (b - a) / (n - 1)), so 0 to 1 in 11 points is the CLI's
// experts.hbm_share=0:1:0.1, value for value.
std::vector<double> knobValues(int knob, double a, double b, int n, bool whole)
{
    const bool geometric = (knob == DramBandwidth || knob == Batch) && a > 0 && b > 0;
    std::vector<double> xs;
    for (int i = 0; i < n; ++i) {
        const double f = static_cast<double>(i) / (n - 1);
        double x = knob == ExpertShare ? a + static_cast<double>(i) * ((b - a) / (n - 1))
                   : geometric         ? a * std::pow(b / a, f)
                                       : a + (b - a) * f;
        if (knob == Batch)
            x = std::max(1.0, std::round(x));
        else if (whole)
            x = std::round(x);
        if (xs.empty() || x != xs.back())
            xs.push_back(x);
    }
    return xs;
}

// A knob's default range around the base scenario, in its unit, and the suffix shown.
void defaultRange(const Scenario& base, int knob, double* from, double* to, QString* suffix)
{
    const auto& tiers = base.hardware.tiers;
    switch (knob) {
    case HbmCapacity:
        *suffix = QStringLiteral(" GB");
        // From just above the weights kept in HBM (below that nothing fits) to 1.5x today.
        *from = std::ceil(base.model.weight_bytes * base.weights_in_fast_tier / 1e9 + 0.5);
        *to = std::max(*from + 1, std::ceil(tiers[0].capacity_bytes / 1e9 * 1.5));
        break;
    case DramBandwidth:
        *suffix = QStringLiteral(" GB/s");
        *from = tiers.size() > 1 ? tiers[1].bandwidth / 1e9 * 0.25 : 50;
        *to = tiers.size() > 1 ? tiers[1].bandwidth / 1e9 * 4 : 2000;
        break;
    case Sparsity:
        *suffix = QString();
        if (base.selection.mode == SelectionMode::TopK) {
            *from = 64;
            *to = 8192;
        } else if (base.selection.mode == SelectionMode::Mass) {
            *from = 0.5;
            *to = 0.99;
        } else {
            *from = 0.02;
            *to = 1.0;
        }
        break;
    case ExpertShare:
        // Every split of tier 0, from no experts to all the room for experts.
        *suffix = QString();
        *from = 0;
        *to = 1;
        break;
    default:
        *suffix = QString();
        *from = 1;
        *to = 64;
        break;
    }
}

// A time in readable units for the heat map's scale: the factor from seconds and its name.
double timeScale(double maxSeconds, QString* unit)
{
    if (maxSeconds > 0 && maxSeconds < 1) {
        *unit = QStringLiteral("ms");
        return 1e3;
    }
    *unit = QStringLiteral("s");
    return 1;
}

// Curve i's pen: colour and dash both vary (15 colours x 4 dashes), so 14+ curves stay
// apart in colour, in print and for colour-blind readers.
QPen curvePen(int i)
{
    static const Qt::PenStyle dash[] = {Qt::SolidLine, Qt::DashLine, Qt::DashDotLine, Qt::DashDotDotLine};
    return QPen(seriesColor(i), 1.6, dash[static_cast<size_t>(i) % 4]);
}

QCPScatterStyle::ScatterShape curveShape(int i, bool online)
{
    static const QCPScatterStyle::ScatterShape shapes[] = {QCPScatterStyle::ssCircle, QCPScatterStyle::ssSquare,
                                                            QCPScatterStyle::ssTriangle, QCPScatterStyle::ssCross,
                                                            QCPScatterStyle::ssTriangleInverted, QCPScatterStyle::ssPlus};
    return online ? shapes[static_cast<size_t>(i) % 6] : QCPScatterStyle::ssDiamond;
}

// The finished points of a sweep, in x order, as the plot takes them.
std::shared_ptr<SweepResult> collectPoints(const SweepResult& proto, const std::vector<std::optional<kvtier::SweepPoint>>& got)
{
    auto out = std::make_shared<SweepResult>(proto);
    if (out->twoD) {
        for (const auto& cp : got)
            if (cp)
                out->sweep2d.points.push_back(*cp);
        out->grid = sweepGrid2d(out->sweep2d);
        return out;
    }
    for (const auto& cp : got) {
        if (!cp)
            continue;
        const SweepSeriesPoint c = sweepSeriesPoint(*cp, out->policies.size());
        SweepPoint pt;
        pt.x = c.x;
        pt.feasible = c.feasible;
        pt.balanced = c.balanced;
        pt.paper = c.paper;
        pt.migrationBound = c.migration_bound;
        pt.schedule = c.schedule;
        pt.annealed = c.annealed;
        pt.policyThroughput = c.policy;
        out->points.push_back(pt);
    }
    return out;
}

} // namespace

SweepView::SweepView(std::shared_ptr<Pipeline> pipeline, QWidget* parent)
    : PlotView(QStringLiteral("sweep"), tr("Sweep"), parent), pipeline_(std::move(pipeline)),
      runner_(new JobRunner(QStringLiteral("kvtier-sweep"), JobRunner::Mode::LatestWins, this))
{
    runner_->setDeliverCancelled(true);   // Cancel keeps the finished points
    auto* h = headerLayout();
    int at = 0;
    h->insertWidget(at++, new QLabel(tr("Knob:"), this));
    knob_ = new QComboBox(this);
    knob_->setObjectName(QStringLiteral("sweepKnob"));
    knob_->addItem(tr("HBM capacity"), HbmCapacity);
    knob_->addItem(tr("DRAM bandwidth"), DramBandwidth);
    knob_->addItem(tr("sparsity budget"), Sparsity);
    knob_->addItem(tr("batch"), Batch);
    h->insertWidget(at++, knob_);
    from_ = new QDoubleSpinBox(this);
    to_ = new QDoubleSpinBox(this);
    for (QDoubleSpinBox* s : {from_, to_}) {
        s->setRange(0, 1e9);
        s->setDecimals(3);
        s->setKeyboardTracking(false);
    }
    // The range sits on a row of its own so the view stays narrow enough to share a row.
    auto* rangeRow = new QHBoxLayout;
    rangeRow->addWidget(new QLabel(tr("from"), this));
    rangeRow->addWidget(from_);
    rangeRow->addWidget(new QLabel(tr("to"), this));
    rangeRow->addWidget(to_);
    points_ = new QSpinBox(this);
    points_->setRange(2, 64);
    points_->setValue(9);
    points_->setSuffix(tr(" points"));
    rangeRow->addWidget(points_);
    logX_ = new QCheckBox(tr("Log x"), this);
    logX_->setToolTip(tr("Logarithmic knob axis (the default for bandwidth and batch)"));
    rangeRow->addWidget(logX_);
    connect(logX_, &QCheckBox::toggled, this, [this] { plotResult(); });
    boundCurves_ = new QCheckBox(tr("Certified bound curves"), this);
    boundCurves_->setObjectName(QStringLiteral("sweepBoundCurves"));
    boundCurves_->setToolTip(tr("Also compute, at every point, the migration-aware bound B and its best schedule S "
                                "(and the annealed schedule when the comparison has it on): seconds per point, in the "
                                "background; exclusive placement only"));
    rangeRow->addWidget(boundCurves_);
    rangeRow->addStretch(1);
    bodyLayout()->insertLayout(0, rangeRow);
    // A second knob makes the sweep 2-D: a heat map of the best policy's time.
    auto* row2 = new QHBoxLayout;
    row2->addWidget(new QLabel(tr("Second knob:"), this));
    knob2_ = new QComboBox(this);
    knob2_->setObjectName(QStringLiteral("sweepKnob2"));
    knob2_->setToolTip(tr("A second knob makes a 2-D sweep: a heat map of the best policy's time over both knobs "
                          "(points per knob as set above)"));
    knob2_->addItem(tr("none (curves)"), -1);
    for (int k = 0; k < knob_->count(); ++k)
        knob2_->addItem(knob_->itemText(k), knob_->itemData(k));
    row2->addWidget(knob2_);
    from2_ = new QDoubleSpinBox(this);
    to2_ = new QDoubleSpinBox(this);
    for (QDoubleSpinBox* sb : {from2_, to2_}) {
        sb->setRange(0, 1e9);
        sb->setDecimals(3);
        sb->setKeyboardTracking(false);
        sb->setEnabled(false);
    }
    row2->addWidget(new QLabel(tr("from"), this));
    row2->addWidget(from2_);
    row2->addWidget(new QLabel(tr("to"), this));
    row2->addWidget(to2_);
    row2->addStretch(1);
    bodyLayout()->insertLayout(1, row2);
    connect(knob2_, &QComboBox::currentIndexChanged, this, [this] { configureKnob2(); });
    run_ = new QPushButton(tr("Run sweep"), this);
    run_->setIcon(QIcon(QStringLiteral(":/icons/run.svg")));
    cancel_ = new QPushButton(tr("Cancel"), this);
    cancel_->setEnabled(false);
    progress_ = new QProgressBar(this);
    progress_->setRange(0, 1000);
    progress_->setMaximumWidth(120);
    progress_->setTextVisible(false);
    h->insertWidget(at++, run_);
    h->insertWidget(at++, cancel_);
    h->insertWidget(at++, progress_);
    connect(run_, &QPushButton::clicked, this, &SweepView::run);
    connect(cancel_, &QPushButton::clicked, this, &SweepView::cancel);
    connect(knob_, &QComboBox::currentIndexChanged, this, [this] { configureKnob(); });
    connect(runner_, &JobRunner::progress, this, [this](double f) {
        progress_->setValue(static_cast<int>(f * 1000));
        emit progressChanged(f);
    });

    plot_->xAxis->setLabel(tr("knob"));
    plot_->yAxis->setLabel(tr("throughput (output tokens/s)"));
    plot_->legend->setVisible(true);
    // Legend to the right of the plot: many policies, and curves reach every corner.
    plot_->axisRect()->insetLayout()->take(plot_->legend);
    auto* side = new QCPLayoutGrid;
    legendSide_ = side;
    plot_->plotLayout()->addElement(0, 1, side);
    plot_->plotLayout()->setColumnStretchFactor(1, 0.001);
    side->addElement(0, 0, plot_->legend);
    side->addElement(1, 0, new QCPLayoutElement(plot_));   // takes the height the legend does not need
    side->setRowStretchFactor(0, 0.001);
    side->setRowStretchFactor(1, 1);
    side->setAutoMargins(QCP::msNone);
    side->setMargins(QMargins(4, 0, 10, 0));
    plot_->legend->setMargins(QMargins(6, 4, 6, 4));
    plot_->legend->setRowSpacing(0);
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot_->setMouseTracking(true);
    plot_->installEventFilter(this);
    setPlotTitle(tr("Sweep"), tr(" — press “Run sweep” to compute every policy and bound over a knob"));
    applyTheme();
}

SweepView::~SweepView()
{
    runner_->stop();
}

bool SweepView::running() const { return runner_->busy(); }

void SweepView::applyTheme()
{
    PlotView::applyTheme();
}

void SweepView::configureKnob()
{
    if (!haveBase_)
        return;
    const int knob = knob_->currentData().toInt();
    {
        // Capacity, bandwidth and batch act multiplicatively: log x by default for the latter two.
        const QSignalBlocker block(logX_);
        logX_->setChecked(knob == DramBandwidth || knob == Batch);
    }
    // The experts' share: every tenth, 0, 0.1, ..., 1.
    if (knob == ExpertShare)
        points_->setValue(11);
    double from = 0, to = 0;
    QString suffix;
    defaultRange(base_, knob, &from, &to, &suffix);
    from_->setSuffix(suffix);
    to_->setSuffix(suffix);
    from_->setValue(from);
    to_->setValue(to);
}

void SweepView::configureKnob2()
{
    const int k = knob2_->currentIndex() < 0 ? -1 : knob2_->currentData().toInt();
    from2_->setEnabled(k >= 0);
    to2_->setEnabled(k >= 0);
    if (!haveBase_ || k < 0)
        return;
    double from = 0, to = 0;
    QString suffix;
    defaultRange(base_, k, &from, &to, &suffix);
    from2_->setSuffix(suffix);
    to2_->setSuffix(suffix);
    from2_->setValue(from);
    to2_->setValue(to);
}

void SweepView::showResult(const AnalysisOutputPtr& out)
{
    const bool first = !haveBase_;
    base_ = out->scenario;
    haveBase_ = true;
    boundCurves_->setEnabled(!base_.inclusive);
    if (base_.inclusive)
        boundCurves_->setChecked(false);
    if (first) {
        configureKnob();
        configureKnob2();
    }
    offerExpertKnob(base_.model.experts > 0);
}

void SweepView::offerExpertKnob(bool on)
{
    // Last in both lists, so the other knobs keep their places; when it was chosen, the
    // first knob (or none) is chosen instead, which configures its range.
    for (QComboBox* c : {knob_, knob2_}) {
        const int at = c->findData(ExpertShare);
        if (on && at < 0) {
            c->addItem(tr("experts' HBM share"), ExpertShare);
            c->setItemData(c->count() - 1,
                           tr("The scenario's experts.hbm_share: the share of tier 0's room given to experts, 0 to 1 "
                              "(an expert policy that ignores it, such as static, gives flat curves)"),
                           Qt::ToolTipRole);
        } else if (!on && at >= 0) {
            if (c->currentIndex() == at)
                c->setCurrentIndex(0);
            c->removeItem(at);
        }
    }
}

void SweepView::run()
{
    if (!haveBase_ || runner_->busy())
        return;
    const int knob = knob_->currentData().toInt();
    const int knob2 = knob2_->currentData().toInt();   // -1: a 1-D sweep
    const int n = points_->value();
    QString unit, unit2;
    const double scale = knobScale(knob, &unit);
    const bool topK = base_.selection.mode == SelectionMode::TopK;
    const std::vector<double> xs = knobValues(knob, from_->value() * scale, to_->value() * scale, n, knob == Sparsity && topK);
    auto res = std::make_shared<SweepResult>();
    res->knob = knob_->currentText();
    res->unit = unit;
    res->unitScale = scale;
    res->requested = static_cast<int>(xs.size());
    std::vector<SweepAxis> axes{SweepAxis{kKnobKeys[knob], xs}};
    if (knob2 >= 0) {
        if (knob2 == knob) {
            setPlotTitle(tr("Sweep"), tr(" — choose two different knobs for a 2-D sweep"));
            return;
        }
        const double scale2 = knobScale(knob2, &unit2);
        const std::vector<double> ys =
            knobValues(knob2, from2_->value() * scale2, to2_->value() * scale2, n, knob2 == Sparsity && topK);
        res->twoD = true;
        res->knob2 = knob2_->currentText();
        res->unit2 = unit2;
        res->unitScale2 = scale2;
        axes.push_back(SweepAxis{kKnobKeys[knob2], ys});
        res->requested = static_cast<int>(xs.size() * ys.size());
    }
    for (const PolicySpec& p : base_.policies) {
        const PolicyInfo& info = findPolicy(p.name).info;
        res->policies.push_back(p.name);
        res->labels.push_back(info.label);
        res->online.push_back(info.online);
    }
    auto pipeline = pipeline_;
    // The heavy bounds only when asked for here (the comparison's setting turns on the
    // annealed schedule too); never for inclusive placement, which they do not cover.
    Scenario base = base_;
    const bool heavy = boundCurves_->isChecked() && !base.inclusive;
    base.bounds.annealed.enabled = heavy && base.bounds.annealed.enabled;
    base.bounds.migration_aware.enabled = heavy;
    res->migrationBound = heavy;
    res->annealed = base.bounds.annealed.enabled;
    if (res->twoD) {
        res->sweep2d.axes = axes;
        res->sweep2d.policies = res->policies;
        res->grid = sweepGrid2d(res->sweep2d);
    }
    // The core's typed sweep (core/engine/sweep.hpp) over the scenario as it is: points in
    // parallel, each through the shared, cached pipeline; infeasible points come back with
    // their reason.
    auto work = [=, this](const JobContext& context) {
        // Finished points arrive one by one and reach the plot as they come (at most every
        // 150 ms); a cancelled sweep keeps them (each is complete).
        std::shared_ptr<SweepResult> out;
        std::mutex gotMutex;
        std::vector<std::optional<kvtier::SweepPoint>> got(static_cast<size_t>(res->requested));
        QElapsedTimer sincePost;
        sincePost.start();
        std::string error;
        bool cancelled = false;
        try {
            Scenario sc = base;
            if ((knob == Sparsity || knob2 == Sparsity) && sc.selection.mode == SelectionMode::Dense)
                sc.selection.mode = SelectionMode::Ratio;
            if ((knob == DramBandwidth || knob2 == DramBandwidth) && sc.hardware.tiers.size() < 2)
                throw InputError("sweep", "the hardware has one tier: there is no DRAM bandwidth to vary");
            runSweep(*pipeline, sc, axes,
                     [&sc, knob, knob2](const std::vector<double>& x) {
                         const Scenario s1 = scenarioAt(sc, knob, x[0]);
                         return knob2 >= 0 ? scenarioAt(s1, knob2, x[1]) : s1;
                     },
                     "sweep",
                     context.control(), [&](size_t i, const kvtier::SweepPoint& p) {
                         std::lock_guard lock(gotMutex);
                         got[i] = p;
                         if (sincePost.elapsed() >= 150) {
                             sincePost.restart();
                             std::shared_ptr<SweepResult> now = collectPoints(*res, got);
                             context.post([this, now] {
                                 result_ = now;
                                 plotResult();
                             });
                         }
                     });
        } catch (const Cancelled&) {
            cancelled = true;
        } catch (const std::exception& e) {
            error = userMessage(e).toStdString();
        }
        std::lock_guard lock(gotMutex);
        out = collectPoints(*res, got);
        out->cancelled = cancelled;
        out->error = QString::fromStdString(error);
        return out;
    };
    result_ = res;   // axes and names now, points when done
    plotResult();
    progress_->setValue(0);
    run_->setEnabled(false);
    cancel_->setEnabled(true);
    runner_->run(std::move(work), [this](std::shared_ptr<SweepResult> r) { sweepDone(std::move(r)); });
}

void SweepView::sweepDone(std::shared_ptr<SweepResult> result)
{
    result_ = std::move(result);
    plotResult();
    run_->setEnabled(true);
    cancel_->setEnabled(false);
    emit finished();
}

void SweepView::cancel()
{
    runner_->cancel();
}

void SweepView::plotResult()
{
    QCustomPlot* p = plot_;
    p->clearPlottables();   // the curves, or the heat map
    map_ = nullptr;
    if (!result_)
        return;
    const SweepResult& r = *result_;
    if (r.twoD) {
        plotGrid();
        return;
    }
    if (colorScale_) {
        p->plotLayout()->remove(colorScale_);
        p->plotLayout()->simplify();
        colorScale_ = nullptr;
    }
    if (!legendSide_->hasElement(0, 0))
        legendSide_->addElement(0, 0, p->legend);
    p->legend->setVisible(true);
    p->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    p->yAxis->setLabel(tr("throughput (output tokens/s)"));
    QVector<double> x;
    for (const SweepPoint& pt : r.points)
        x.append(pt.x / r.unitScale);
    double ymax = 0;
    auto addCurve = [&](const QString& name, const QPen& pen, auto value, QCPScatterStyle::ScatterShape shape) {
        QCPGraph* g = p->addGraph();
        g->setName(name);
        g->setPen(pen);
        g->setScatterStyle(QCPScatterStyle(shape, pen.color(), pen.color(), 5));
        QVector<double> y;
        for (const SweepPoint& pt : r.points) {
            const double v = value(pt);
            y.append(v);
            if (std::isfinite(v))
                ymax = std::max(ymax, v);
        }
        g->setData(x, y, true);
    };
    const bool dark = Theme::current().dark;
    addCurve(tr("paper bound"), QPen(boundColor(true, dark), 1.5, Qt::DotLine), [](const SweepPoint& pt) { return pt.paper; },
             QCPScatterStyle::ssNone);
    addCurve(tr("balanced bound"), QPen(boundColor(false, dark), 1.8, Qt::DashLine),
             [](const SweepPoint& pt) { return pt.balanced; }, QCPScatterStyle::ssNone);
    if (r.migrationBound) {
        // B and S with the certified band between them (throughput: B is the upper end).
        // Green as in the comparison's certified band.
        QColor band = dark ? QColor(0x55, 0xBB, 0x66) : QColor(0x22, 0x88, 0x33);
        addCurve(tr("migration-aware bound B"), QPen(band.darker(dark ? 60 : 140), 2.2, Qt::SolidLine),
                 [](const SweepPoint& pt) { return pt.migrationBound; }, QCPScatterStyle::ssNone);
        QCPGraph* b = p->graph(p->graphCount() - 1);
        addCurve(tr("best schedule S ◆ (certified band B–S)"), QPen(band, 2.2, Qt::SolidLine),
                 [](const SweepPoint& pt) { return pt.schedule; }, QCPScatterStyle::ssDiamond);
        band.setAlpha(dark ? 70 : 55);
        p->graph(p->graphCount() - 1)->setBrush(band);
        p->graph(p->graphCount() - 1)->setChannelFillGraph(b);
        if (r.annealed)
            addCurve(tr("annealed schedule ◆"), QPen(seriesColor(5), 1.8, Qt::DashDotLine),
                     [](const SweepPoint& pt) { return pt.annealed; }, QCPScatterStyle::ssDiamond);
    }
    for (size_t i = 0; i < r.policies.size(); ++i) {
        const QPen pen = curvePen(static_cast<int>(i));
        addCurve(QString::fromStdString(r.labels[i]) + (r.online[i] ? QString() : tr(" ◆")), pen,
                 [i](const SweepPoint& pt) { return i < pt.policyThroughput.size() ? pt.policyThroughput[i] : qQNaN(); },
                 curveShape(static_cast<int>(i), r.online[i]));
    }
    bool logx = logX_->isChecked();
    for (double v : x)
        logx = logx && v > 0;
    p->xAxis->setScaleType(logx ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (logx)
        p->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    else
        p->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    p->xAxis->setLabel(r.unit.isEmpty() ? r.knob : QStringLiteral("%1 (%2)").arg(r.knob, r.unit));
    if (!x.isEmpty())
        p->xAxis->setRange(x.front() / (logx ? 1.1 : 1), x.back() * (logx ? 1.1 : 1));
    p->yAxis->setRange(0, ymax > 0 ? ymax * 1.1 : 1);
    // The point count is progress on screen, not part of a figure.
    QString title = tr("Sweep over %1").arg(r.knob);
    QString progress = tr(" (%1 of %2 points)").arg(r.points.size()).arg(r.requested);
    if (r.cancelled)
        progress += tr(" — cancelled; the finished points are kept");
    else if (!r.error.isEmpty())
        progress += tr(" — failed: %1").arg(r.error);
    setPlotTitle(title, progress);
    applyTheme();
    p->replot(QCustomPlot::rpQueuedReplot);
    emit pointsShown(static_cast<int>(r.points.size()));
}

namespace {

// Tick labels at the cells of a knob's values (the map's coordinates are cell indices, so
// geometric and linear knobs alike get square cells), at most about eight of them.
QSharedPointer<QCPAxisTickerText> cellTicker(const std::vector<double>& values, double scale)
{
    QSharedPointer<QCPAxisTickerText> t(new QCPAxisTickerText);
    const size_t step = std::max<size_t>(1, (values.size() + 7) / 8);
    for (size_t i = 0; i < values.size(); i += step)
        t->addTick(static_cast<double>(i), QString::number(values[i] / scale, 'g', 4));
    return t;
}

QString knobTitle(const QString& knob, const QString& unit)
{
    return unit.isEmpty() ? knob : QStringLiteral("%1 (%2)").arg(knob, unit);
}

} // namespace

void SweepView::plotGrid()
{
    QCustomPlot* p = plot_;
    const SweepResult& r = *result_;
    const SweepGrid2d& g = r.grid;
    // The legend leaves its column (a hidden element still takes its width there).
    p->legend->setVisible(false);
    if (legendSide_->hasElement(0, 0))
        legendSide_->take(p->legend);
    if (!colorScale_) {
        colorScale_ = new QCPColorScale(p);
        colorScale_->setType(QCPAxis::atRight);
        colorScale_->setBarWidth(12);
        // Beside the plot and the (hidden) legend column, in the axis rect's row (the title
        // has a row above).
        int row = 0;
        for (int k = 0; k < p->plotLayout()->rowCount(); ++k)
            if (p->plotLayout()->element(k, 0) == p->axisRect())
                row = k;
        p->plotLayout()->addElement(row, 2, colorScale_);
        p->plotLayout()->setColumnStretchFactor(2, 0.001);
    }
    QString tunit;
    const double tscale = timeScale(g.max_time_s, &tunit);
    colorScale_->axis()->setLabel(tr("best policy's time (%1)").arg(tunit));
    map_ = new QCPColorMap(p->xAxis, p->yAxis);
    map_->setName(tr("best policy's time"));
    const int nx = static_cast<int>(g.x.size()), ny = static_cast<int>(g.y.size());
    map_->data()->setSize(nx, ny);
    map_->data()->setRange(QCPRange(0, std::max(1, nx - 1)), QCPRange(0, std::max(1, ny - 1)));
    for (int i = 0; i < nx; ++i)
        for (int j = 0; j < ny; ++j) {
            const double t = g.best_time_s[g.cell(static_cast<size_t>(i), static_cast<size_t>(j))];
            map_->data()->setCell(i, j, std::isfinite(t) ? t * tscale : qQNaN());
        }
    // The scale hands its gradient to the map it is joined to: set it on both, after.
    map_->setInterpolate(false);
    map_->setColorScale(colorScale_);
    QCPColorGradient gradient = viridisGradient();
    gradient.setNanHandling(QCPColorGradient::nhTransparent);   // cells not computed stay blank
    colorScale_->setGradient(gradient);
    map_->setGradient(gradient);
    if (g.max_time_s > 0)
        map_->setDataRange(g.min_time_s < g.max_time_s ? QCPRange(g.min_time_s * tscale, g.max_time_s * tscale)
                                                        : QCPRange(g.min_time_s * tscale * 0.999, g.max_time_s * tscale * 1.001));
    p->xAxis->setScaleType(QCPAxis::stLinear);
    p->xAxis->setTicker(cellTicker(g.x, r.unitScale));
    p->yAxis->setTicker(cellTicker(g.y, r.unitScale2));
    p->xAxis->setLabel(knobTitle(r.knob, r.unit));
    p->yAxis->setLabel(knobTitle(r.knob2, r.unit2));
    p->xAxis->setRange(-0.5, nx - 0.5);
    p->yAxis->setRange(-0.5, ny - 0.5);
    QString progress = tr(" (%1 of %2 points)").arg(r.finished()).arg(r.requested);
    if (r.cancelled)
        progress += tr(" — cancelled; the finished points are kept");
    else if (!r.error.isEmpty())
        progress += tr(" — failed: %1").arg(r.error);
    setPlotTitle(tr("Best policy's time over %1 and %2").arg(r.knob, r.knob2), progress);
    applyTheme();
    p->replot(QCustomPlot::rpQueuedReplot);
    emit pointsShown(r.finished());
}

QString SweepView::pointToolTip(QPoint pixel) const
{
    if (!result_ || !plot_->axisRect()->rect().contains(pixel))
        return {};
    if (result_->twoD) {
        const SweepResult& r = *result_;
        const SweepGrid2d& g = r.grid;
        const long i = std::lround(plot_->xAxis->pixelToCoord(pixel.x()));
        const long j = std::lround(plot_->yAxis->pixelToCoord(pixel.y()));
        if (i < 0 || j < 0 || i >= static_cast<long>(g.x.size()) || j >= static_cast<long>(g.y.size()))
            return {};
        const size_t c = g.cell(static_cast<size_t>(i), static_cast<size_t>(j));
        const auto value = [](double v, double scale, const QString& unit) {
            return QString::number(v / scale, 'g', 6) + (unit.isEmpty() ? QString() : QStringLiteral(" ") + unit);
        };
        QString text = tr("%1 = %2\n%3 = %4")
                           .arg(r.knob, value(g.x[static_cast<size_t>(i)], r.unitScale, r.unit), r.knob2,
                                value(g.y[static_cast<size_t>(j)], r.unitScale2, r.unit2));
        if (!g.done[c])
            return text + tr("\nnot computed yet");
        if (g.best_policy[c] < 0)
            return text + tr("\ninfeasible: %1").arg(QString::fromStdString(g.error[c]));
        QString tunit;
        const double tscale = timeScale(g.best_time_s[c], &tunit);
        return text + tr("\nbest: %1, %2 %3")
                          .arg(QString::fromStdString(r.labels[static_cast<size_t>(g.best_policy[c])]))
                          .arg(g.best_time_s[c] * tscale, 0, 'g', 6)
                          .arg(tunit);
    }
    const QCPGraph* best = nullptr;
    double bestD = 10 * 10, bx = 0, by = 0;   // within 10 px
    for (int g = 0; g < plot_->graphCount(); ++g) {
        const QCPGraph* graph = plot_->graph(g);
        for (auto it = graph->data()->constBegin(); it != graph->data()->constEnd(); ++it) {
            if (!std::isfinite(it->value))
                continue;
            const double dx = graph->keyAxis()->coordToPixel(it->key) - pixel.x();
            const double dy = graph->valueAxis()->coordToPixel(it->value) - pixel.y();
            if (dx * dx + dy * dy < bestD) {
                bestD = dx * dx + dy * dy;
                best = graph;
                bx = it->key;
                by = it->value;
            }
        }
    }
    if (!best)
        return {};
    const SweepResult& r = *result_;
    return tr("%1\n%2 = %3%4\n%5 tokens/s")
        .arg(best->name(), r.knob)
        .arg(bx, 0, 'g', 6)
        .arg(r.unit.isEmpty() ? QString() : QStringLiteral(" ") + r.unit)
        .arg(by, 0, 'f', 1);
}

bool SweepView::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == plot_ && event->type() == QEvent::MouseMove) {
        const QPoint pos = static_cast<QMouseEvent*>(event)->position().toPoint();
        const QString text = pointToolTip(pos);
        if (text.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(plot_->mapToGlobal(pos), text, plot_);
    }
    return PlotView::eventFilter(watched, event);
}

void SweepView::setRange2(double from, double to)
{
    from2_->setValue(from);
    to2_->setValue(to);
}

void SweepView::setRange(double from, double to)
{
    from_->setValue(from);
    to_->setValue(to);
}

bool SweepView::writeCsv(QTextStream& s) const
{
    if (!result_ || result_->finished() == 0)
        return false;
    const SweepResult& r = *result_;
    if (r.twoD) {
        // The grid of best times, in seconds, axes in scenario units (the CLI's --grid-csv).
        s << QString::fromStdString(sweepGrid2dToCsv(r.sweep2d, r.grid));
        return true;
    }
    s << "knob_value" << (r.unit.isEmpty() ? QString() : QStringLiteral("_") + QString(r.unit).replace('/', "per"))
      << ",feasible,balanced_bound_tok_s,paper_bound_tok_s";
    if (r.migrationBound)
        s << ",migration_bound_tok_s,schedule_tok_s";
    if (r.annealed)
        s << ",annealed_tok_s";
    for (const std::string& p : r.policies)
        s << ',' << QString::fromStdString(p) << "_tok_s";
    s << '\n';
    auto num = [](double v) { return std::isfinite(v) ? QString::number(v, 'g', 10) : QString(); };
    for (const SweepPoint& pt : r.points) {
        s << num(pt.x / r.unitScale) << ',' << (pt.feasible ? 1 : 0) << ',' << num(pt.balanced) << ',' << num(pt.paper);
        if (r.migrationBound)
            s << ',' << num(pt.migrationBound) << ',' << num(pt.schedule);
        if (r.annealed)
            s << ',' << num(pt.annealed);
        for (double v : pt.policyThroughput)
            s << ',' << num(v);
        s << '\n';
    }
    return true;
}

} // namespace kvtier::ui
