#include "ui/comparison_view.hpp"

#include "core/engine/view_compare.hpp"
#include "ui/theme.hpp"
#include "ui/units.hpp"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableWidget>
#include <QTextStream>
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

struct Row {
    QString name, label;
    bool online = true, bound = false;
    double time = 0, throughput = 0, hit = qQNaN(), migrated = qQNaN(), gap = qQNaN();
};

// The core's comparison rows (core/engine/view_compare.hpp) as Qt strings.
std::vector<Row> rowsOf(const AnalysisOutput& out)
{
    std::vector<Row> rows;
    for (const ComparisonRow& c : comparisonRows(*out.result)) {
        Row r;
        r.name = QString::fromStdString(c.name);
        r.bound = c.kind == RowKind::Bound;
        r.label = !r.bound ? QString::fromStdString(c.label)
                           : (c.name == "paper" ? QObject::tr("paper bound") : QObject::tr("balanced bound"));
        r.online = c.kind != RowKind::Oracle;
        r.time = c.time_per_token;
        r.throughput = c.throughput;
        r.hit = c.hbm_hit_ratio;
        r.migrated = c.migrated_bytes;
        r.gap = c.gap;
        rows.push_back(r);
    }
    return rows;
}

} // namespace

ComparisonView::ComparisonView(QWidget* parent) : PlotView(QStringLiteral("comparison"), tr("Policy comparison"), parent)
{
    headerLayout()->insertWidget(0, new QLabel(tr("Show:"), this));
    metric_ = new QComboBox(this);
    metric_->addItem(tr("time per output token"));
    metric_->addItem(tr("throughput (tokens/s)"));
    headerLayout()->insertWidget(1, metric_);
    connect(metric_, &QComboBox::currentIndexChanged, this, [this] { rebuild(); });

    // Plot above, table below, resizable.
    bodyLayout()->removeWidget(plot_);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(plot_);
    table_ = new QTableWidget(this);
    table_->setObjectName(QStringLiteral("comparisonTable"));
    table_->setColumnCount(7);
    table_->setHorizontalHeaderLabels({tr("Policy"), tr("Kind"), tr("Time/token"), tr("Throughput"), tr("× bound"),
                                       tr("HBM hits"), tr("Migrated")});
    table_->horizontalHeaderItem(4)->setToolTip(tr("Time of the policy / time of the balanced bound (≥ 1)"));
    table_->horizontalHeaderItem(5)->setToolTip(tr("KV bytes read from HBM / all KV bytes read"));
    // Interactive + one resize after each fill: ResizeToContents re-measures the whole
    // column on every cell change, which made a refill cost tens of milliseconds.
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    table_->horizontalHeader()->setMinimumSectionSize(40);
    table_->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    table_->setMinimumWidth(200);
    table_->verticalHeader()->setVisible(false);
    table_->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setAlternatingRowColors(true);
    table_->setSortingEnabled(true);
    split->addWidget(table_);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    split->setSizes({640, 220});
    table_->setMinimumHeight(90);
    bodyLayout()->addWidget(split, 1);
    connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
        if (QTableWidgetItem* it = table_->item(row, 0))
            if (!it->data(Qt::UserRole + 1).toBool())
                emit policyActivated(it->data(Qt::UserRole + 2).toString());
    });

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
    oracle_->setName(tr("oracle policy (knows the future)"));
    oracle_->setWidth(0.62);
    QColor oc = seriesColor(5);
    oracle_->setPen(QPen(oc.darker(120)));
    oracle_->setBrush(QBrush(oc, Qt::BDiagPattern));
    // Legend entries for the bound lines (empty graphs: only their pen shows).
    balancedEntry_ = p->addGraph(x, y);
    paperEntry_ = p->addGraph(x, y);
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
    setPlotTitle(tr("Policies against the bounds"));
    applyTheme();
}

void ComparisonView::applyTheme()
{
    PlotView::applyTheme();
    for (QCPItemText* t : labels_)
        t->setColor(Theme::current().foreground);
}

void ComparisonView::showResult(const AnalysisOutputPtr& out)
{
    last_ = out;
    rebuild();
}

void ComparisonView::rebuild()
{
    if (!last_ || !last_->result)
        return;
    const bool tput = metric_->currentIndex() == 1;
    const std::vector<Row> rows = rowsOf(*last_);
    QCustomPlot* p = plot_;
    for (QCPItemStraightLine* l : boundLines_)
        p->removeItem(l);
    for (QCPItemText* t : labels_)
        p->removeItem(t);
    boundLines_.clear();
    labels_.clear();
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    QVector<double> ok, ov, xk, xv;
    double vmax = 0;
    int i = 0;
    auto value = [tput](const Row& r) { return tput ? r.throughput : r.time * 1e3; };
    for (const Row& r : rows) {
        if (r.bound)
            continue;
        const double v = value(r);
        (r.online ? ok : xk).append(i);
        (r.online ? ov : xv).append(v);
        ticker->addTick(i, r.label + (r.online ? QString() : tr(" ◆")));
        vmax = std::max(vmax, v);
        auto* label = new QCPItemText(p);
        label->position->setAxes(p->xAxis, p->yAxis);
        label->position->setCoords(v, i);
        label->setPositionAlignment(Qt::AlignLeft | Qt::AlignVCenter);
        label->setPadding(QMargins(4, 0, 0, 0));
        label->setText(tput ? formatThroughput(r.throughput) : formatSeconds(r.time) + tr("  (×%1)").arg(r.gap, 0, 'f', 2));
        label->setClipToAxisRect(true);
        labels_.push_back(label);
        ++i;
    }
    online_->setData(ok, ov);
    oracle_->setData(xk, xv);
    const int bars = i;
    // Bounds: vertical reference lines with their value.
    int b = 0;
    balancedEntry_->removeFromLegend();
    paperEntry_->removeFromLegend();
    for (const Row& r : rows) {
        if (!r.bound)
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
        entry->setName(r.label + QStringLiteral(": ") + (tput ? formatThroughput(r.throughput) : formatSeconds(r.time)));
        entry->setPen(line->pen());
        entry->addToLegend();
        ++b;
    }
    p->yAxis->setTicker(ticker);
    p->yAxis->setRange(-0.7, std::max(bars, 1) - 0.3);
    p->xAxis->setRange(0, vmax > 0 ? vmax * 1.3 : 1);
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
    p->replot(QCustomPlot::rpQueuedReplot);

    // Table
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
        name->setFont(f);
        table_->setItem(row, 0, name);
        table_->setItem(row, 1, new QTableWidgetItem(r.bound ? tr("bound") : (r.online ? tr("online") : tr("oracle"))));
        table_->setItem(row, 2, new NumberItem(formatSeconds(r.time), r.time));
        table_->setItem(row, 3, new NumberItem(formatThroughput(r.throughput), r.throughput));
        table_->setItem(row, 4, new NumberItem(std::isfinite(r.gap) ? QStringLiteral("×%1").arg(r.gap, 0, 'f', 3) : QStringLiteral("–"), r.gap));
        table_->setItem(row, 5, new NumberItem(std::isfinite(r.hit) ? formatPercent(r.hit) : QStringLiteral("–"), r.hit));
        table_->setItem(row, 6, new NumberItem(std::isfinite(r.migrated) ? formatBytes(r.migrated) : QStringLiteral("–"), r.migrated));
        if (!r.online && !r.bound)
            for (int c = 0; c < 7; ++c)
                table_->item(row, c)->setToolTip(tr("Oracle policy: it looks at the future, so no real system can run it"));
    }
    table_->setSortingEnabled(true);
    if (sortColumn >= 0)
        table_->sortByColumn(sortColumn, order);
    for (int c = 1; c < table_->columnCount(); ++c)
        table_->resizeColumnToContents(c);
    table_->setUpdatesEnabled(true);
}

bool ComparisonView::writeCsv(QTextStream& s) const
{
    if (!last_ || !last_->result)
        return false;
    s << "policy,label,kind,time_per_token_s,throughput_tok_s,gap_to_balanced_bound,hbm_hit_ratio,migrated_bytes\n";
    for (const Row& r : rowsOf(*last_)) {
        auto num = [](double v) { return std::isfinite(v) ? QString::number(v, 'g', 10) : QString(); };
        s << r.name << ",\"" << r.label << "\"," << (r.bound ? "bound" : (r.online ? "online" : "oracle")) << ','
          << num(r.time) << ',' << num(r.throughput) << ',' << num(r.gap) << ',' << num(r.hit) << ',' << num(r.migrated)
          << '\n';
    }
    return true;
}

} // namespace kvtier::ui
