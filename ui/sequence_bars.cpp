#include "ui/sequence_bars.hpp"

#include "ui/theme.hpp"
#include "ui/units.hpp"

#include <QFontMetrics>
#include <QMouseEvent>
#include <QToolTip>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace kvtier::ui {

namespace {
// Beyond this many sequences the legend would crowd the panel: the hover names them.
constexpr int kLegendSequences = 12;
} // namespace

SequenceBars::SequenceBars(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this))
{
    setObjectName(QStringLiteral("sequenceBars"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    plot_->setObjectName(QStringLiteral("sequencePlot"));
    plot_->setMinimumHeight(100);
    QCPAxis* y = plot_->yAxis;
    QCPAxis* x = plot_->xAxis;
    y->setTicker(QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText));
    y->setRangeReversed(true);
    y->grid()->setVisible(false);
    y->setTickLength(0, 0);
    y->setSubTicks(false);
    x->setLabel(tr("share of the total time per sequence (each step's time split by the KV bytes each sequence moves)"));
    x->setRange(0, 1);
    QSharedPointer<QCPAxisTickerFixed> ticks(new QCPAxisTickerFixed);
    ticks->setTickStep(0.25);
    x->setTicker(ticks);
    x->setNumberFormat(QStringLiteral("f"));
    x->setNumberPrecision(2);
    plot_->plotLayout()->insertRow(0);
    plot_->plotLayout()->addElement(0, 0, new QCPTextElement(plot_, tr("Batch: each sequence's share of the time"),
                                                             QFont(font().family(), font().pointSize(), QFont::Bold)));
    auto* legendRow = new QCPLayoutGrid;
    plot_->plotLayout()->addElement(2, 0, legendRow);
    plot_->plotLayout()->setRowStretchFactor(2, 0.001);
    plot_->axisRect()->insetLayout()->take(plot_->legend);
    legendRow->addElement(0, 0, plot_->legend);
    plot_->legend->setFillOrder(QCPLegend::foColumnsFirst);
    plot_->legend->setWrap(6);
    plot_->legend->setColumnSpacing(12);
    plot_->legend->setMargins(QMargins(4, 1, 4, 1));
    plot_->legend->setIconSize(14, 10);
    plot_->setMouseTracking(true);
    plot_->installEventFilter(this);
    // Policy names thin out (every k-th) when a bar is lower than a line of text; hover
    // still names every bar.
    connect(plot_, &QCustomPlot::beforeReplot, this, [this] { thinLabels(); });
    hide();
    applyTheme();
}

void SequenceBars::applyTheme()
{
    Theme::current().apply(plot_);
    if (auto* title = qobject_cast<QCPTextElement*>(plot_->plotLayout()->element(0, 0)))
        title->setTextColor(Theme::current().foreground);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void SequenceBars::showRows(const std::vector<SequenceRow>& rows)
{
    rows_ = rows;
    setVisible(!rows_.empty());
    const size_t S = rows_.empty() ? 0 : rows_.front().sequences.size();
    while (bars_.size() > S) {
        plot_->removePlottable(bars_.back());
        bars_.pop_back();
    }
    while (bars_.size() < S) {
        const int s = static_cast<int>(bars_.size());
        auto* b = new QCPBars(plot_->yAxis, plot_->xAxis);
        b->setName(tr("sequence %1").arg(s));
        b->setWidth(0.62);
        b->setBrush(seriesColor(s));
        b->setPen(QPen(seriesColor(s).darker(130)));
        if (!bars_.empty())
            b->moveAbove(bars_.back());
        bars_.push_back(b);
    }
    for (size_t s = 0; s < S; ++s) {
        QVector<double> keys, values;
        for (size_t i = 0; i < rows_.size(); ++i) {
            keys.append(static_cast<double>(i));
            values.append(s < rows_[i].sequences.size() ? rows_[i].sequences[s].time_share : 0.0);
        }
        bars_[s]->setData(keys, values, true);
        if (s < static_cast<size_t>(kLegendSequences))
            bars_[s]->addToLegend();
        else
            bars_[s]->removeFromLegend();
    }
    shownEvery_ = 0;
    plot_->yAxis->setRange(-0.6, static_cast<double>(rows_.size()) - 0.4);
    plot_->legend->setVisible(S > 0);
    // Room for a thin bar per policy, within what a 768-pixel screen can spare.
    setMinimumHeight(std::clamp((fontMetrics().height() / 2 + 2) * static_cast<int>(rows_.size()) + 80, 110, 180));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void SequenceBars::thinLabels()
{
    const int rows = static_cast<int>(rows_.size());
    const int height = plot_->axisRect()->height();
    const int line = QFontMetrics(plot_->yAxis->tickLabelFont()).height();
    const int every = rows > 0 && height > 0 ? std::max(1, (line * rows + height - 1) / height) : 1;
    if (every == shownEvery_)
        return;
    shownEvery_ = every;
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (int i = 0; i < rows; i += every) {
        const SequenceRow& r = rows_[static_cast<size_t>(i)];
        ticker->addTick(static_cast<double>(i), QString::fromStdString(r.label) +
                                                    (r.kind == RowKind::Oracle ? tr(" (oracle)") : QString()));
    }
    plot_->yAxis->setTicker(ticker);
}

QString SequenceBars::cellText(int row, int sequence) const
{
    if (row < 0 || sequence < 0 || row >= static_cast<int>(rows_.size()) ||
        sequence >= static_cast<int>(rows_[static_cast<size_t>(row)].sequences.size()))
        return {};
    const SequenceRow& r = rows_[static_cast<size_t>(row)];
    const SequenceCell& c = r.sequences[static_cast<size_t>(sequence)];
    return tr("%1 · sequence %2\ntime share: %3\nHBM hit ratio: %4\nKV read: %5, migrated: %6")
        .arg(QString::fromStdString(r.label))
        .arg(sequence)
        .arg(formatPercent(c.time_share))
        .arg(formatPercent(c.hbm_hit_ratio))
        .arg(formatBytes(c.kv_read_bytes), formatBytes(c.migrated_bytes));
}

bool SequenceBars::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == plot_ && event->type() == QEvent::MouseMove) {
        const QPoint pos = static_cast<QMouseEvent*>(event)->position().toPoint();
        const int row = static_cast<int>(std::lround(plot_->yAxis->pixelToCoord(pos.y())));
        const double x = plot_->xAxis->pixelToCoord(pos.x());
        int sequence = -1;
        if (plot_->axisRect()->rect().contains(pos) && row >= 0 && row < static_cast<int>(rows_.size())) {
            // The segment under the pointer: the stack's running sum passes x.
            double end = 0;
            const auto& cells = rows_[static_cast<size_t>(row)].sequences;
            for (size_t s = 0; s < cells.size(); ++s) {
                end += cells[s].time_share;
                if (x <= end) {
                    sequence = static_cast<int>(s);
                    break;
                }
            }
        }
        const QString text = cellText(row, sequence);
        if (text.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(plot_->mapToGlobal(pos), text, plot_);
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace kvtier::ui
