#include "ui/comparison_view.hpp"
#include "ui/stream_notes.hpp"

#include "core/engine/view_compare.hpp"
#include "ui/sequence_bars.hpp"
#include "ui/theme.hpp"
#include "ui/units.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMouseEvent>
#include <QSplitter>
#include <QTableWidget>
#include <QTextStream>
#include <QTimer>
#include <QToolTip>
#include <qcustomplot.h>

#include <cmath>

namespace kvtier::ui {

namespace {

// Sorts by the number in UserRole, shows formatted text.
class NumberItem : public QTableWidgetItem {
public:
    NumberItem(const QString& text, double value) : QTableWidgetItem(text)
    {
        setData(Qt::UserRole, value);
        setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
    bool operator<(const QTableWidgetItem& other) const override
    {
        return data(Qt::UserRole).toDouble() < other.data(Qt::UserRole).toDouble();
    }
};

enum Column { ColName, ColKind, ColTime, ColThroughput, ColGap, ColGapB, ColGapS, ColHit, ColMigrated, ColCount };

struct Row {
    QString name, label;
    bool online = true, bound = false;
    double time = 0, throughput = 0, hit = qQNaN(), migrated = qQNaN(), gap = qQNaN();
    double gapB = qQNaN(), gapS = qQNaN();   // to the certified band's ends (NaN without it)
};

QString boundLabel(const std::string& name)
{
    if (name == "paper")
        return QObject::tr("paper bound");
    if (name == "migration_aware")
        return QObject::tr("migration-aware bound B");
    return QObject::tr("balanced bound");
}

// The core's comparison rows (core/engine/view_compare.hpp) as Qt strings.
std::vector<Row> rowsOf(const AnalysisOutput& out)
{
    std::vector<Row> rows;
    for (const ComparisonRow& c : comparisonRows(*out.result)) {
        Row r;
        r.name = QString::fromStdString(c.name);
        r.bound = c.kind == RowKind::Bound;
        r.label = !r.bound ? QString::fromStdString(c.label) : boundLabel(c.name);
        if (c.name == "schedule")
            r.label = QObject::tr("best schedule S");
        r.online = c.kind != RowKind::Oracle;
        r.time = c.time_per_token;
        r.throughput = c.throughput;
        r.hit = c.hbm_hit_ratio;
        r.migrated = c.migrated_bytes;
        r.gap = c.gap;
        r.gapB = c.gap_to_migration_bound;
        r.gapS = c.gap_to_schedule;
        rows.push_back(r);
    }
    return rows;
}

QString times(double v, int decimals = 3)
{
    return std::isfinite(v) ? QStringLiteral("×%1").arg(v, 0, 'f', decimals) : QStringLiteral("–");
}

const Row* findRow(const std::vector<Row>& rows, const QString& name)
{
    for (const Row& r : rows)
        if (r.name == name)
            return &r;
    return nullptr;
}

} // namespace

ComparisonView::ComparisonView(QWidget* parent) : PlotView(QStringLiteral("comparison"), tr("Policy comparison"), parent)
{
    int at = 0;
    headerLayout()->insertWidget(at++, new QLabel(tr("Show:"), this));
    metric_ = new QComboBox(this);
    metric_->addItem(tr("time per output token"));
    metric_->addItem(tr("throughput (tokens/s)"));
    headerLayout()->insertWidget(at++, metric_);
    connect(metric_, &QComboBox::currentIndexChanged, this, [this] { rebuild(); });
    zoom_ = new QCheckBox(tr("Axis from bound"), this);
    zoom_->setObjectName(QStringLiteral("comparisonZoom"));
    zoom_->setToolTip(tr("Start the value axis just below the closest bar or bound instead of at 0, "
                         "so small differences (6.17 vs 6.19 ms) are visible"));
    headerLayout()->insertWidget(at++, zoom_);
    connect(zoom_, &QCheckBox::toggled, this, [this] { rebuild(); });
    boundCheck_ = new QCheckBox(tr("Certified bound"), this);
    boundCheck_->setObjectName(QStringLiteral("certifiedBound"));
    boundCheck_->setToolTip(tr("Compute the migration-aware bound B and its best schedule S in the background "
                               "(seconds; after the other results, cancelled by any change). No exclusive "
                               "placement is faster than B; S is achieved. Exclusive placement only."));
    annealCheck_ = new QCheckBox(tr("Annealed schedule"), this);
    annealCheck_->setObjectName(QStringLiteral("annealedSchedule"));
    annealCheck_->setToolTip(tr("Also search a schedule by simulated annealing from S (an oracle; seconds more)"));
    annealCheck_->setEnabled(false);
    headerLayout()->insertWidget(at++, boundCheck_);
    headerLayout()->insertWidget(at++, annealCheck_);
    auto request = [this] {
        annealCheck_->setEnabled(boundCheck_->isChecked() && boundCheck_->isEnabled());
        emit boundsRequested(boundCheck_->isChecked(), boundCheck_->isChecked() && annealCheck_->isChecked());
    };
    connect(boundCheck_, &QCheckBox::toggled, this, request);
    connect(annealCheck_, &QCheckBox::toggled, this, request);

    note_ = new QLabel(this);
    note_->setObjectName(QStringLiteral("comparisonNote"));
    note_->setWordWrap(true);
    note_->setTextFormat(Qt::RichText);
    note_->setContentsMargins(4, 0, 4, 0);
    note_->hide();
    bodyLayout()->insertWidget(0, note_);

    // Plot above, table below; the splitter handle grows either.
    bodyLayout()->removeWidget(plot_);
    auto* split = new QSplitter(Qt::Vertical, this);
    split_ = split;
    split->addWidget(plot_);
    // A batch's per-sequence shares between the bars and the table (hidden for S = 1).
    sequenceBars_ = new SequenceBars(this);
    split->addWidget(sequenceBars_);
    table_ = new QTableWidget(this);
    table_->setObjectName(QStringLiteral("comparisonTable"));
    table_->setColumnCount(ColCount);
    table_->setHorizontalHeaderLabels({tr("Policy"), tr("Kind"), tr("Time/token"), tr("Throughput"), tr("× balanced"),
                                       tr("× B"), tr("× S"), tr("HBM hits"), tr("Migrated")});
    table_->horizontalHeaderItem(ColGap)->setToolTip(tr("Time of the policy / time of the balanced bound (≥ 1)"));
    table_->horizontalHeaderItem(ColGapB)->setToolTip(
        tr("Time / the migration-aware bound B (≥ 1: no exclusive placement is faster than B)"));
    table_->horizontalHeaderItem(ColGapS)->setToolTip(
        tr("Time / the best schedule S found (below 1: faster than the schedule; the headroom left is at most this)"));
    table_->horizontalHeaderItem(ColHit)->setToolTip(tr("KV bytes read from HBM / all KV bytes read"));
    // Interactive + one resize after each fill: ResizeToContents re-measures the whole
    // column on every cell change, which made a refill cost tens of milliseconds.
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    table_->horizontalHeader()->setSectionResizeMode(ColName, QHeaderView::Stretch);
    table_->horizontalHeader()->setMinimumSectionSize(40);
    table_->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    table_->setMinimumWidth(200);
    table_->verticalHeader()->setVisible(false);
    table_->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setAlternatingRowColors(true);
    table_->setSortingEnabled(true);
    table_->sortByColumn(ColTime, Qt::AscendingOrder);   // fastest first, bars too
    table_->setColumnHidden(ColGapB, true);
    table_->setColumnHidden(ColGapS, true);
    split->addWidget(table_);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setStretchFactor(2, 1);
    split->setSizes({520, 300, 220});
    split->setChildrenCollapsible(false);
    table_->setMinimumHeight(90);
    plot_->setMinimumHeight(120);
    bodyLayout()->addWidget(split, 1);
    connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
        if (QTableWidgetItem* it = table_->item(row, ColName))
            if (!it->data(Qt::UserRole + 1).toBool())
                emit policyActivated(it->data(Qt::UserRole + 2).toString());
    });
    // The bars follow the table's order: re-plot after the table sorted itself.
    connect(table_->horizontalHeader(), &QHeaderView::sortIndicatorChanged, this, [this] { plotBars(); },
            Qt::QueuedConnection);

    QCustomPlot* p = plot_;
    QCPAxis* y = p->yAxis;
    QCPAxis* x = p->xAxis;
    y->setTicker(QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText));
    y->setRangeReversed(true);
    y->grid()->setVisible(false);
    y->setTickLength(0, 0);
    y->setSubTicks(false);
    online_ = new QCPBars(y, x);
    online_->setName(tr("online policy"));
    online_->setWidth(0.62);
    online_->setPen(QPen(seriesColor(0).darker(120)));
    online_->setBrush(seriesColor(0));
    oracle_ = new QCPBars(y, x);
    oracle_->setName(tr("oracle (knows the future)"));
    oracle_->setWidth(0.62);
    QColor oc = seriesColor(5);
    oracle_->setPen(QPen(oc.darker(120)));
    oracle_->setBrush(QBrush(oc, Qt::BDiagPattern));
    // The shown policy: an outline over its bar.
    shown_ = new QCPBars(y, x);
    shown_->setName(tr("shown policy (▸)"));
    shown_->setWidth(0.8);
    shown_->setBrush(Qt::NoBrush);
    // The certified band: a region from B to S behind the bars; its legend entry is an
    // empty bar series with the band's brush.
    band_ = new QCPItemRect(p);
    band_->setLayer(QStringLiteral("grid"));
    band_->setClipToAxisRect(true);
    band_->setVisible(false);
    bandEntry_ = new QCPBars(y, x);
    bandEntry_->setName(tr("certified band: no exclusive placement\nis faster than B; S is achieved"));
    bandEntry_->removeFromLegend();
    // Legend entries for the bound lines (empty graphs: only their pen shows).
    balancedEntry_ = p->addGraph(x, y);
    paperEntry_ = p->addGraph(x, y);
    // Named and shown once a result has bounds (showResult); never as "Graph 1".
    balancedEntry_->removeFromLegend();
    paperEntry_->removeFromLegend();
    p->legend->setVisible(true);
    // Legend on a row of its own under the axis: bars and their labels reach every corner.
    auto* legendRow = new QCPLayoutGrid;
    p->plotLayout()->addElement(1, 0, legendRow);
    p->plotLayout()->setRowStretchFactor(1, 0.001);
    p->axisRect()->insetLayout()->take(p->legend);
    legendRow->addElement(0, 0, p->legend);
    p->legend->setFillOrder(QCPLegend::foColumnsFirst);
    p->legend->setWrap(2);
    fitLegendToWidth(p->legend);
    p->legend->setColumnSpacing(16);
    p->legend->setMargins(QMargins(4, 1, 4, 1));
    p->legend->setIconSize(16, 10);
    p->setMouseTracking(true);
    p->installEventFilter(this);
    connect(p, &QCustomPlot::beforeReplot, this, [this] { fitValueLabels(); });
    setPlotTitle(tr("Policies against the bounds"));
    applyTheme();
}

void ComparisonView::applyTheme()
{
    PlotView::applyTheme();
    const Theme& t = Theme::current();
    for (QCPItemText* l : labels_)
        l->setColor(t.foreground);
    shown_->setPen(QPen(t.foreground, 2.2));
    // Green: "certified", apart from the grey bound lines and the blue/pink bars.
    QColor edge = t.dark ? QColor(0x55, 0xBB, 0x66) : QColor(0x22, 0x88, 0x33);
    QColor fill = edge;
    fill.setAlpha(t.dark ? 80 : 60);
    band_->setBrush(fill);
    band_->setPen(QPen(edge, 1.2, Qt::SolidLine));
    bandEntry_->setBrush(fill);
    bandEntry_->setPen(QPen(edge, 1.2));
    if (sequenceBars_)
        sequenceBars_->applyTheme();
}

void ComparisonView::showResult(const AnalysisOutputPtr& out)
{
    last_ = out;
    const Scenario& s = out->scenario;
    {
        const QSignalBlocker b1(boundCheck_), b2(annealCheck_);
        boundCheck_->setChecked(s.bounds.migration_aware.enabled);
        annealCheck_->setChecked(s.bounds.annealed.enabled);
        boundCheck_->setEnabled(!s.inclusive || s.bounds.migration_aware.enabled);
        annealCheck_->setEnabled(boundCheck_->isChecked() && !s.inclusive);
        boundCheck_->setToolTip(s.inclusive ? tr("The certified bound covers exclusive placement only; this scenario is "
                                                 "inclusive (Scenario: placement)")
                                            : tr("Compute the migration-aware bound B and its best schedule S in the "
                                                 "background (seconds; after the other results, cancelled by any "
                                                 "change). No exclusive placement is faster than B; S is achieved. "
                                                 "Exclusive placement only."));
    }
    boundsState_ = out->boundsPending ? QStringLiteral("pending") : QString();
    rebuild();
}

void ComparisonView::boundsCancelled()
{
    if (boundsState_ != QLatin1String("pending"))
        return;
    boundsState_ = QStringLiteral("cancelled");
    updateNote();
}

void ComparisonView::setShownPolicy(const QString& name)
{
    if (name == shownPolicy_)
        return;
    shownPolicy_ = name;
    if (last_ && last_->result)
        rebuild();
}

void ComparisonView::rebuild()
{
    if (!last_ || !last_->result)
        return;
    fillTable();
    plotBars();
    const bool wasHidden = sequenceBars_->isHidden();
    sequenceBars_->showRows(sequenceRows(*last_->result));
    if (wasHidden && !sequenceBars_->isHidden()) {
        // A batch appeared: the policy bars keep 45 % of the height, the shares get 35 %.
        const QList<int> sizes = split_->sizes();
        int total = 0;
        for (int h : sizes)
            total += h;
        if (total > 0)
            split_->setSizes({total * 45 / 100, total * 35 / 100, total - total * 45 / 100 - total * 35 / 100});
    }
    updateNote();
}

void ComparisonView::updateNote()
{
    if (!last_ || !last_->result)
        return;
    const Scenario& s = last_->scenario;
    const bool tput = metric_->currentIndex() == 1;
    QStringList parts, details;
    const BoundBand band = boundBand(*last_->result);
    const bool wanted = s.bounds.migration_aware.enabled || s.bounds.annealed.enabled;
    if (s.inclusive) {
        parts << tr("<b>Certified bound:</b> not available here. It covers exclusive placement only (each unit on "
                    "exactly one tier, docs/BOUNDS.md); this scenario is inclusive, where copies change what moves.");
    } else if (band.present) {
        const auto& mb = *last_->result->migration_bound;
        const double steps = static_cast<double>(last_->result->selection->layout.steps);
        auto show = [&](double perToken) {
            const double tokens = static_cast<double>(s.batch);
            return tput ? formatThroughput(perToken > 0 ? tokens / perToken : 0) : formatSeconds(perToken);
        };
        QString text = tr("<b>Certified</b> (exclusive placement only): no placement is faster than B = %1; "
                          "S = %2 is achieved; gap S/B ×%3")
                           .arg(show(band.bound_time_per_token), show(band.schedule_time_per_token))
                           .arg(band.gap, 0, 'f', 3);
        if (last_->result->annealed)
            text += tr(" · annealed %1").arg(show(last_->result->annealed->total_time() / steps));
        if (mb.budget_hit)
            text += tr(" · time budget hit after %1 iterations").arg(mb.iterations);
        parts << text;
        details << tr("B is a proven lower bound on the time of every exclusive placement of this trace on this "
                      "hardware (docs/BOUNDS.md); S is a real schedule (an oracle: it knows the future) that the "
                      "engine simulated exactly. Every policy's distance to both ends is in the table (× B, × S) "
                      "and in the bar's tooltip.");
        if (mb.windows > 0)
            details << tr("Streamed: B is the windowed bound (docs/BOUNDS.md \"Windows\"), the sum of %1 windows' "
                          "bounds, each with the placement at its start free, so it is looser than the whole-trace "
                          "bound; S is the fastest policy's time (%2).")
                           .arg(mb.windows)
                           .arg(QString::fromStdString(mb.schedule_source));
        if (mb.budget_hit)
            details << tr("The time budget stopped the search: B and S stay valid, the gap may close with a larger "
                          "budget (scenario bounds.migration_aware.time_budget_s).");
    } else if (!last_->boundsNote.isEmpty()) {
        parts << tr("<b>Certified bound:</b> ") + last_->boundsNote.toHtmlEscaped();
    } else if (wanted && boundsState_ == QLatin1String("pending")) {
        parts << tr("<b>Certified bound:</b> computing in the background (the status bar's Cancel stops it)…");
    } else if (wanted && boundsState_ == QLatin1String("cancelled")) {
        parts << tr("<b>Certified bound:</b> cancelled; it runs again on the next change or Recompute (F5).");
    }
    if (!last_->boundsNote.isEmpty() && band.present)
        parts << last_->boundsNote.toHtmlEscaped();
    if (last_->streamed() && !last_->stream->report.oracles_left_out.empty()) {
        QStringList names;
        for (const std::string& n : last_->stream->report.oracles_left_out)
            names << QString::fromStdString(n);
        parts << tr("<b>Streamed:</b> the oracle policies %1 are left out (they read the future).")
                     .arg(names.join(QStringLiteral(", ")).toHtmlEscaped());
    }
    const auto& r = *last_->result;
    if (r.balanced && r.paper && r.balanced->total_time > 0 &&
        std::abs(r.paper->total_time / r.balanced->total_time - 1.0) < 1e-9) {
        parts << tr("Balanced = paper bound: HBM capacity never binds here (hover for why).");
        details << tr("Balanced and paper bounds coincide: HBM has room for its bandwidth share of every step's "
                      "reads, and the weights and new tokens do not shift that split, so the capacity the balanced "
                      "bound keeps never binds.");
    }
    note_->setText(parts.join(QStringLiteral("<br>")));
    note_->setToolTip(details.join(QStringLiteral("\n\n")));
    note_->setVisible(!parts.isEmpty());
}

void ComparisonView::fillTable()
{
    const std::vector<Row> rows = rowsOf(*last_);
    const bool banded = boundBand(*last_->result).present;
    const int sortColumn = table_->horizontalHeader()->sortIndicatorSection();
    const Qt::SortOrder order = table_->horizontalHeader()->sortIndicatorOrder();
    table_->setUpdatesEnabled(false);
    table_->setSortingEnabled(false);
    table_->setRowCount(static_cast<int>(rows.size()));
    for (size_t k = 0; k < rows.size(); ++k) {
        const Row& r = rows[k];
        const int row = static_cast<int>(k);
        auto* name = new QTableWidgetItem(r.label + (r.online || r.bound ? QString() : tr(" ◆")));
        name->setData(Qt::UserRole + 1, r.bound);
        name->setData(Qt::UserRole + 2, r.name);
        QFont f = name->font();
        f.setItalic(r.bound);
        f.setBold(r.name == shownPolicy_);
        name->setFont(f);
        table_->setItem(row, ColName, name);
        table_->setItem(row, ColKind, new QTableWidgetItem(r.bound ? tr("bound") : (r.online ? tr("online") : tr("oracle"))));
        table_->setItem(row, ColTime, new NumberItem(formatSeconds(r.time), r.time));
        table_->setItem(row, ColThroughput, new NumberItem(formatThroughput(r.throughput), r.throughput));
        table_->setItem(row, ColGap, new NumberItem(times(r.gap), r.gap));
        table_->setItem(row, ColGapB, new NumberItem(times(r.gapB), r.gapB));
        table_->setItem(row, ColGapS, new NumberItem(times(r.gapS), r.gapS));
        table_->setItem(row, ColHit, new NumberItem(std::isfinite(r.hit) ? formatPercent(r.hit) : QStringLiteral("–"), r.hit));
        table_->setItem(row, ColMigrated,
                        new NumberItem(std::isfinite(r.migrated) ? formatBytes(r.migrated) : QStringLiteral("–"), r.migrated));
        if (!r.online && !r.bound)
            for (int c = 0; c < ColCount; ++c)
                table_->item(row, c)->setToolTip(tr("Oracle: it looks at the future, so no real system can run it"));
    }
    table_->setColumnHidden(ColGapB, !banded);
    table_->setColumnHidden(ColGapS, !banded);
    table_->setSortingEnabled(true);
    if (sortColumn >= 0)
        table_->sortByColumn(sortColumn, order);
    for (int c = 1; c < table_->columnCount(); ++c)
        table_->resizeColumnToContents(c);
    table_->setUpdatesEnabled(true);
}

void ComparisonView::plotBars()
{
    if (!last_ || !last_->result)
        return;
    const bool tput = metric_->currentIndex() == 1;
    const std::vector<Row> rows = rowsOf(*last_);
    QCustomPlot* p = plot_;
    for (QCPItemStraightLine* l : boundLines_)
        p->removeItem(l);
    labelFit_.clear();
    for (QCPItemText* t : labels_)
        p->removeItem(t);
    boundLines_.clear();
    labels_.clear();
    barNames_.clear();
    auto value = [tput](const Row& r) { return tput ? r.throughput : r.time * 1e3; };
    // Bars in the table's order (its sort), bounds left out.
    std::vector<const Row*> bars;
    for (int k = 0; k < table_->rowCount(); ++k)
        if (const QTableWidgetItem* it = table_->item(k, ColName); it && !it->data(Qt::UserRole + 1).toBool())
            if (const Row* r = findRow(rows, it->data(Qt::UserRole + 2).toString()))
                bars.push_back(r);
    const bool banded = boundBand(*last_->result).present;
    tickTexts_.clear();
    QVector<double> ok, ov, xk, xv, sk, sv;
    double vmax = 0, vmin = qInf();
    for (size_t i = 0; i < bars.size(); ++i) {
        const Row& r = *bars[i];
        const double key = static_cast<double>(i);
        const double v = value(r);
        (r.online ? ok : xk).append(key);
        (r.online ? ov : xv).append(v);
        if (r.name == shownPolicy_) {
            sk.append(key);
            sv.append(v);
        }
        barNames_ << r.name;
        tickTexts_ << (r.name == shownPolicy_ ? QStringLiteral("▸ ") : QString()) + r.label + (r.online ? QString() : tr(" ◆"));
        vmax = std::max(vmax, v);
        vmin = std::min(vmin, v);
        auto* label = new QCPItemText(p);
        label->position->setAxes(p->xAxis, p->yAxis);
        label->position->setCoords(v, key);
        label->setPositionAlignment(Qt::AlignLeft | Qt::AlignVCenter);
        label->setPadding(QMargins(4, 0, 0, 0));
        const QString brief = tput ? formatThroughput(r.throughput) : formatSeconds(r.time);
        QString text = brief;
        if (!tput)
            text += banded ? tr("  (×%1 B)").arg(r.gapB, 0, 'f', 3) : tr("  (×%1)").arg(r.gap, 0, 'f', 2);
        label->setText(text);
        label->setClipToAxisRect(true);
        label->setLayer(QStringLiteral("axes"));   // above the bound lines drawn across the bars
        labels_.push_back(label);
        labelFit_.push_back({v, text, brief, true, r.online});
    }
    online_->setData(ok, ov);
    oracle_->setData(xk, xv);
    shown_->setData(sk, sv);
    shown_->setVisible(!sk.isEmpty());
    if (sk.isEmpty())
        shown_->removeFromLegend();
    else if (!p->legend->hasItemWithPlottable(shown_))
        shown_->addToLegend();
    const int nbars = static_cast<int>(bars.size());
    // Bounds: vertical reference lines with their value; B and S as the band.
    balancedEntry_->removeFromLegend();
    paperEntry_->removeFromLegend();
    double bandLo = qQNaN(), bandHi = qQNaN();
    // Coinciding balanced and paper bounds share one legend entry that says so.
    const auto& res = *last_->result;
    const bool coincide = res.balanced && res.paper && res.balanced->total_time > 0 &&
                          std::abs(res.paper->total_time / res.balanced->total_time - 1.0) < 1e-9;
    for (const Row& r : rows) {
        if (r.name == QLatin1String("migration_aware"))
            bandLo = value(r);
        if (r.name == QLatin1String("schedule"))
            bandHi = value(r);
        if (!r.bound || r.name == QLatin1String("migration_aware"))
            continue;
        const double v = value(r);
        vmax = std::max(vmax, v);
        const bool paper = r.name == QLatin1String("paper");
        auto* line = new QCPItemStraightLine(p);
        line->point1->setCoords(v, 0);
        line->point2->setCoords(v, 1);
        line->setPen(QPen(boundColor(paper, Theme::current().dark), 1.5, paper ? Qt::DotLine : Qt::DashLine));
        boundLines_.push_back(line);
        QCPGraph* entry = paper ? paperEntry_ : balancedEntry_;
        const QString shown = tput ? formatThroughput(r.throughput) : formatSeconds(r.time);
        entry->setName(coincide ? tr("balanced = paper bound: %1").arg(shown) : r.label + QStringLiteral(": ") + shown);
        entry->setPen(line->pen());
        if (!(coincide && paper))
            entry->addToLegend();
    }
    if (banded && std::isfinite(bandLo) && std::isfinite(bandHi)) {
        band_->topLeft->setCoords(std::min(bandLo, bandHi), -1e6);
        band_->bottomRight->setCoords(std::max(bandLo, bandHi), 1e6);
        band_->setVisible(true);
        if (!p->legend->hasItemWithPlottable(bandEntry_))
            bandEntry_->addToLegend();
        vmax = std::max({vmax, bandLo, bandHi});
        vmin = std::min({vmin, bandLo, bandHi});
    } else {
        band_->setVisible(false);
        bandEntry_->removeFromLegend();
    }
    p->yAxis->setRange(-0.7, std::max(nbars, 1) - 0.3);
    if (zoom_->isChecked() && std::isfinite(vmin) && vmax > vmin) {
        // Near the closest bar or bound: differences of a fraction of a percent show.
        const double span = vmax - vmin;
        p->xAxis->setRange(std::max(0.0, vmin - 0.15 * span), vmax + 0.45 * span);
    } else {
        p->xAxis->setRange(0, vmax > 0 ? vmax * (banded && !tput ? 1.45 : 1.3) : 1);   // room for the labels
    }
    p->xAxis->setLabel(tput ? tr("throughput (output tokens/s, batch %1)").arg(last_->scenario.batch)
                            : tr("time per output token (ms)"));
    const TraceMeta& meta = last_->result->trace->meta();
    setPlotTitle(tr("Policies against the bounds — %1 on %2, %3")
                     .arg(QString::fromStdString(meta.name))
                     .arg(QString::fromStdString(last_->scenario.hardware.name))
                     .arg(QString::fromStdString(last_->scenario.model.name)));
    oracle_->setVisible(!xk.isEmpty());
    if (xk.isEmpty())
        oracle_->removeFromLegend();
    else if (!p->legend->hasItemWithPlottable(oracle_))
        oracle_->addToLegend();
    applyTheme();
    thinLabels();
    p->replot(QCustomPlot::rpQueuedReplot);
}

// Labels of neighbouring bars overlap when a bar is lower than a line of text: keep
// every k-th one (the shown policy's always); hovering a bar still gives its values.
void ComparisonView::thinLabels()
{
    if (labels_.empty()) {
        plot_->yAxis->setTicker(QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText));
        return;
    }
    const double perBar = plot_->axisRect()->height() / std::max<double>(1, static_cast<double>(labels_.size()));
    const double line = QFontMetricsF(labels_.front()->font()).height();
    const int every = perBar >= line ? 1 : static_cast<int>(std::ceil(line / std::max(perBar, 1.0)));
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    // The shown policy's label always; the others every k-th, none within k of it.
    const int shown = static_cast<int>(barNames_.indexOf(shownPolicy_));
    for (int i = 0; i < static_cast<int>(labels_.size()); ++i) {
        const bool keep = i == shown || (i % every == 0 && (shown < 0 || std::abs(i - shown) >= every));
        labels_[static_cast<size_t>(i)]->setVisible(keep);
        if (static_cast<size_t>(i) < labelFit_.size())
            labelFit_[static_cast<size_t>(i)].kept = keep;
        ticker->addTick(i, keep && i < tickTexts_.size() ? tickTexts_[i] : QString());
    }
    plot_->yAxis->setTicker(ticker);
}

void ComparisonView::fitValueLabels()
{
    if (labels_.empty() || labelFit_.size() != labels_.size())
        return;
    QCustomPlot* p = plot_;
    // The layout at the size about to be drawn (what QCustomPlot does before drawing).
    p->plotLayout()->setOuterRect(p->viewport());
    p->plotLayout()->update(QCPLayoutElement::upPreparation);
    p->plotLayout()->update(QCPLayoutElement::upMargins);
    p->plotLayout()->update(QCPLayoutElement::upLayout);
    const QRect rect = p->axisRect()->rect();
    const double pad = 4;
    const double base = std::max(static_cast<double>(rect.left()), p->xAxis->coordToPixel(0));
    const QColor outside = Theme::current().foreground;
    for (size_t i = 0; i < labels_.size(); ++i) {
        QCPItemText* l = labels_[i];
        const LabelFit& f = labelFit_[i];
        if (!f.kept) {
            l->setVisible(false);
            continue;
        }
        const QFontMetricsF fm(l->font());
        const double end = p->xAxis->coordToPixel(f.value);
        bool placed = false;
        // After the bar (whole, then the value alone), else inside its end.
        const std::pair<const QString*, bool> tries[] = {{&f.full, false}, {&f.brief, false}, {&f.full, true}, {&f.brief, true}};
        for (const auto& [text, inside] : tries) {
            const double w = fm.horizontalAdvance(*text);
            if (!inside && end + pad + w <= rect.right()) {
                l->setText(*text);
                l->setPositionAlignment(Qt::AlignLeft | Qt::AlignVCenter);
                l->setPadding(QMargins(4, 0, 0, 0));
                l->setColor(outside);
                placed = true;
            } else if (inside && end - base >= w + 2 * pad) {
                // In the colour that reads on the bar.
                const QColor bar = (f.online ? online_ : oracle_)->brush().color();
                l->setText(*text);
                l->setPositionAlignment(Qt::AlignRight | Qt::AlignVCenter);
                l->setPadding(QMargins(0, 0, 4, 0));
                l->setColor(bar.lightness() > 150 ? QColor(Qt::black) : QColor(Qt::white));
                placed = true;
            }
            if (placed)
                break;
        }
        l->setVisible(placed);
    }
}

QString ComparisonView::barToolTip(const QString& name) const
{
    if (!last_ || !last_->result)
        return {};
    const std::vector<Row> rows = rowsOf(*last_);
    const Row* r = findRow(rows, name);
    if (!r || r->bound)
        return {};
    QString text = r->label + (r->online ? tr(" (online)") : tr(" (oracle: knows the future)"));
    text += tr("\ntime per token: %1\nthroughput: %2").arg(formatSeconds(r->time), formatThroughput(r->throughput));
    text += tr("\n× balanced bound: %1").arg(times(r->gap));
    if (std::isfinite(r->gapB))
        text += tr("\n× B (migration-aware bound): %1\n× S (best schedule): %2").arg(times(r->gapB), times(r->gapS));
    if (std::isfinite(r->hit))
        text += tr("\nHBM hits: %1, migrated: %2").arg(formatPercent(r->hit), formatBytes(r->migrated));
    return text;
}

void ComparisonView::hover(QPoint pos)
{
    QCPAxisRect* rect = plot_->axisRect();
    if (!rect->rect().contains(pos) || barNames_.isEmpty()) {
        QToolTip::hideText();
        return;
    }
    const int key = static_cast<int>(std::lround(plot_->yAxis->pixelToCoord(pos.y())));
    if (key < 0 || key >= barNames_.size()) {
        QToolTip::hideText();
        return;
    }
    QToolTip::showText(plot_->mapToGlobal(pos), barToolTip(barNames_[key]), plot_);
}

bool ComparisonView::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == plot_) {
        if (event->type() == QEvent::MouseMove)
            hover(static_cast<QMouseEvent*>(event)->position().toPoint());
        else if (event->type() == QEvent::Resize && !labels_.empty()) {
            // After the layout has the new size.
            QTimer::singleShot(0, this, [this] {
                thinLabels();
                plot_->replot(QCustomPlot::rpQueuedReplot);
            });
        }
    }
    return PlotView::eventFilter(watched, event);
}

bool ComparisonView::writeCsv(QTextStream& s) const
{
    if (!last_ || !last_->result)
        return false;
    s << "policy,label,kind,time_per_token_s,throughput_tok_s,gap_to_balanced_bound,gap_to_migration_bound,"
         "gap_to_schedule,hbm_hit_ratio,migrated_bytes\n";
    for (const Row& r : rowsOf(*last_)) {
        auto num = [](double v) { return std::isfinite(v) ? QString::number(v, 'g', 10) : QString(); };
        s << r.name << ",\"" << r.label << "\"," << (r.bound ? "bound" : (r.online ? "online" : "oracle")) << ','
          << num(r.time) << ',' << num(r.throughput) << ',' << num(r.gap) << ',' << num(r.gapB) << ',' << num(r.gapS)
          << ',' << num(r.hit) << ',' << num(r.migrated) << '\n';
    }
    return true;
}

} // namespace kvtier::ui
