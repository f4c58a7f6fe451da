#include "ui/relevance_view.hpp"
#include "ui/stream_notes.hpp"

#include "ui/layer_link.hpp"
#include "ui/sequence_link.hpp"
#include "ui/theme.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QCursor>
#include <QIntValidator>
#include <QLabel>
#include <QLineEdit>
#include <QToolButton>
#include <QToolTip>
#include <QTextStream>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace kvtier::ui {

RelevanceView::RelevanceView(StepLink* link, QWidget* parent)
    : PlotView(QStringLiteral("relevance"), tr("Relevance"), parent), link_(link)
{
    // A compact header: the view shares its row with the bandwidth view.
    gradient_ = new QComboBox(this);
    gradient_->setToolTip(tr("Colour scale of the relevance heatmap"));
    gradient_->addItem(QStringLiteral("viridis"));
    gradient_->addItem(QStringLiteral("cividis"));
    headerLayout()->insertWidget(0, gradient_);
    dim_ = new QCheckBox(tr("Dim unread"), this);
    dim_->setChecked(true);
    dim_->setToolTip(tr("Darken every token the selection did not read, so the selected set stands out"));
    headerLayout()->insertWidget(1, dim_);
    headerLayout()->insertWidget(2, new QLabel(tr("Token:"), this));
    tokenEdit_ = new QLineEdit(this);
    tokenEdit_->setObjectName(QStringLiteral("followToken"));
    tokenEdit_->setPlaceholderText(tr("follow…"));
    tokenEdit_->setMaximumWidth(70);
    tokenEdit_->setValidator(new QIntValidator(0, std::numeric_limits<int>::max(), tokenEdit_));
    tokenEdit_->setToolTip(tr("Type a token index and press Enter to plot its relevance, selection and tier over time "
                              "(or click a token in the heatmap)"));
    headerLayout()->insertWidget(3, tokenEdit_);
    auto* reset = new QToolButton(this);
    reset->setObjectName(QStringLiteral("resetZoom"));
    reset->setText(tr("Reset zoom"));
    reset->setAutoRaise(true);
    reset->setToolTip(tr("Show every step and every token"));
    headerLayout()->insertWidget(4, reset);
    statsHelp_ = new QLabel(tr("<a href='#'>(?)</a>"), this);
    statsHelp_->setToolTip(statisticsHelp());
    statsHelp_->setTextInteractionFlags(Qt::LinksAccessibleByMouse);
    connect(statsHelp_, &QLabel::linkActivated, this, [this] { QToolTip::showText(QCursor::pos(), statisticsHelp(), statsHelp_); });
    headerLayout()->insertWidget(5, statsHelp_);

    QCustomPlot* p = plot_;
    mapRect_ = p->axisRect();
    scale_ = new QCPColorScale(p);
    p->plotLayout()->addElement(0, 1, scale_);
    scale_->setType(QCPAxis::atRight);
    scale_->setDataScaleType(QCPAxis::stLogarithmic);
    scale_->axis()->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    scale_->axis()->setNumberFormat(QStringLiteral("eb"));
    scale_->axis()->setNumberPrecision(0);
    scale_->axis()->setLabel(tr("relevance (log scale)"));
    scale_->setBarWidth(12);

    tokenRect_ = new QCPAxisRect(p);
    p->plotLayout()->addElement(1, 0, tokenRect_);
    p->plotLayout()->setRowStretchFactor(0, 3);
    p->plotLayout()->setRowStretchFactor(1, 1.2);
    auto* group = new QCPMarginGroup(p);
    mapRect_->setMarginGroup(QCP::msLeft | QCP::msRight, group);
    tokenRect_->setMarginGroup(QCP::msLeft | QCP::msRight, group);
    auto* vgroup = new QCPMarginGroup(p);
    mapRect_->setMarginGroup(QCP::msTop | QCP::msBottom, vgroup);
    scale_->setMarginGroup(QCP::msTop | QCP::msBottom, vgroup);
    for (auto* r : {mapRect_, tokenRect_})
        for (QCPAxis* a : r->axes())
            a->setLayer(QStringLiteral("axes"));

    map_ = new QCPColorMap(mapRect_->axis(QCPAxis::atBottom), mapRect_->axis(QCPAxis::atLeft));
    map_->setInterpolate(false);
    map_->setTightBoundary(false);
    map_->setColorScale(scale_);
    map_->setDataScaleType(QCPAxis::stLogarithmic);
    mask_ = new QCPColorMap(mapRect_->axis(QCPAxis::atBottom), mapRect_->axis(QCPAxis::atLeft));
    mask_->setInterpolate(false);
    QCPColorGradient maskGradient;
    maskGradient.clearColorStops();
    maskGradient.setColorStopAt(0, QColor(0, 0, 0, 165));
    maskGradient.setColorStopAt(0.499, QColor(0, 0, 0, 165));
    maskGradient.setColorStopAt(0.501, QColor(0, 0, 0, 0));
    maskGradient.setColorStopAt(1, QColor(0, 0, 0, 0));
    maskGradient.setNanHandling(QCPColorGradient::nhTransparent);
    mask_->setGradient(maskGradient);
    mask_->setDataRange(QCPRange(0, 1));
    mapRect_->axis(QCPAxis::atBottom)->setLabel(tr("decode step t"));
    mapRect_->axis(QCPAxis::atLeft)->setLabel(tr("token index i"));
    mapRect_->setRangeDrag(Qt::Horizontal | Qt::Vertical);
    mapRect_->setRangeZoom(Qt::Horizontal | Qt::Vertical);
    mapRect_->axis(QCPAxis::atLeft)->grid()->setVisible(false);
    mapRect_->axis(QCPAxis::atBottom)->grid()->setVisible(false);

    QCPAxis* tx = tokenRect_->axis(QCPAxis::atBottom);
    QCPAxis* ty = tokenRect_->axis(QCPAxis::atLeft);
    tx->setLabel(tr("decode step t"));
    ty->setLabel(tr("relevance"));
    ty->setScaleType(QCPAxis::stLogarithmic);
    QSharedPointer<QCPAxisTickerLog> logTicker(new QCPAxisTickerLog);
    logTicker->setTickCount(3);
    logTicker->setSubTickCount(0);
    ty->setTicker(logTicker);
    ty->setNumberFormat(QStringLiteral("eb"));
    ty->setNumberPrecision(0);
    ty->setRange(1e-6, 1);
    tokenRect_->setRangeDrag(Qt::Horizontal);
    tokenRect_->setRangeZoom(Qt::Horizontal);
    tokenGraph_ = p->addGraph(tx, ty);
    tokenGraph_->setName(tr("relevance"));
    tokenGraph_->setPen(QPen(QColor(0x44, 0x44, 0x44), 1.2));
    tokenSelected_ = p->addGraph(tx, ty);
    tokenSelected_->setName(tr("selected (read)"));
    tokenSelected_->setLineStyle(QCPGraph::lsNone);
    tokenSelected_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, QColor(0xD5, 0x5E, 0x00), 4));
    tokenHint_ = new QCPItemText(p);
    tokenHint_->setClipToAxisRect(false);
    tokenHint_->position->setAxisRect(tokenRect_);
    tokenHint_->position->setType(QCPItemPosition::ptAxisRectRatio);
    tokenHint_->position->setCoords(0.5, 0.45);
    tokenHint_->setText(tr("Click a token in the heatmap to plot its relevance over time"));
    tokenHint_->setColor(QColor(128, 128, 128));
    markScreenOnly(tokenHint_);

    followLine_ = new QCPItemStraightLine(p);
    followLine_->setClipAxisRect(mapRect_);
    followLine_->point1->setAxes(mapRect_->axis(QCPAxis::atBottom), mapRect_->axis(QCPAxis::atLeft));
    followLine_->point2->setAxes(mapRect_->axis(QCPAxis::atBottom), mapRect_->axis(QCPAxis::atLeft));
    followLine_->setPen(QPen(QColor(0xEE, 0x33, 0x77), 1.5, Qt::DashLine));
    followLine_->setVisible(false);

    p->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    linkStepAxis(link_, mapRect_->axis(QCPAxis::atBottom));
    linkStepAxis(link_, tx);
    connect(mapRect_->axis(QCPAxis::atLeft), qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this,
            [this] { emit windowChanged(); });
    connect(link_, &StepLink::rangeChanged, this, [this] { emit windowChanged(); });

    auto press = std::make_shared<QPoint>();
    connect(p, &QCustomPlot::mousePress, this, [press](QMouseEvent* e) { *press = e->pos(); });
    connect(p, &QCustomPlot::mouseRelease, this, [this, press](QMouseEvent* e) {
        if ((e->pos() - *press).manhattanLength() > 4 || !mapRect_->rect().contains(e->pos()))
            return;
        const double y = mapRect_->axis(QCPAxis::atLeft)->pixelToCoord(e->pos().y());
        if (y < -0.5 || tokens_ <= 0)
            return;
        followToken(std::lround(y));
    });
    connect(p, &QCustomPlot::mouseMove, this, [this](QMouseEvent* e) {
        if (e->buttons() != Qt::NoButton || !mapRect_->rect().contains(e->pos()))
            return;
        const QString text = cellText(mapRect_->axis(QCPAxis::atBottom)->pixelToCoord(e->pos().x()),
                                      mapRect_->axis(QCPAxis::atLeft)->pixelToCoord(e->pos().y()));
        if (!text.isEmpty())
            QToolTip::showText(e->globalPosition().toPoint(), text, plot_);
    });
    connect(tokenEdit_, &QLineEdit::returnPressed, this, [this] {
        bool ok = false;
        const qint64 t = tokenEdit_->text().toLongLong(&ok);
        if (!ok || !followToken(t))
            tokenEdit_->setStyleSheet(QStringLiteral("QLineEdit { border: 1px solid #D55E00; }"));
        else
            tokenEdit_->setStyleSheet(QString());
    });
    connect(reset, &QToolButton::clicked, this, &RelevanceView::resetZoom);
    connect(gradient_, &QComboBox::currentIndexChanged, this, [this] {
        updateGradient();
        plot_->replot(QCustomPlot::rpQueuedReplot);
    });
    connect(dim_, &QCheckBox::toggled, this, [this](bool on) {
        mask_->setVisible(on);
        plot_->replot(QCustomPlot::rpQueuedReplot);
    });
    updateGradient();
    setPlotTitle(tr("Relevance of each token at each step"));
    applyTheme();
}

QString RelevanceView::statisticsHelp() const
{
    return tr("<b>turnover</b>: the share of the selected set that is new at a step (tokens read now but not "
              "at the step before), averaged over steps.<br><b>reuse distance</b>: steps between two reads of "
              "the same token.<br><b>stay</b>: how many consecutive steps a token stays selected once it is.<br>"
              "High turnover and long reuse distances make placement hard; long stays make it easy.");
}

bool RelevanceView::followToken(qint64 token)
{
    if (tokens_ <= 0 || token < 0 || token >= tokens_)
        return false;
    followed_ = token;
    followedSequence_ = std::max(sequence_, 0);
    tokenEdit_->setText(QString::number(token));
    markFollowed();
    plot_->replot(QCustomPlot::rpQueuedReplot);
    emit tokenClicked(static_cast<quint32>(token));
    return true;
}

void RelevanceView::markFollowed()
{
    // The line marks the followed token only on its own sequence's heatmap.
    followLine_->setVisible(followed_ >= 0 && followedSequence_ == std::max(sequence_, 0));
    const double y = static_cast<double>(followed_);
    followLine_->point1->setCoords(0, y);
    followLine_->point2->setCoords(1, y);
}

void RelevanceView::resetZoom()
{
    link_->setRange(-0.5, static_cast<double>(link_->steps()) - 0.5);
    if (tokens_ > 0)
        mapRect_->axis(QCPAxis::atLeft)->setRange(-0.5, static_cast<double>(tokens_) - 0.5);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void RelevanceView::setLayerLink(LayerLink* layers)
{
    layers_ = layers;
    headerLayout()->insertWidget(0, new QLabel(tr("Layer:"), this));
    headerLayout()->insertWidget(1, layers->makeSelector(this));
}

void RelevanceView::setSequenceLink(SequenceLink* sequences)
{
    sequences_ = sequences;
    auto* label = new QLabel(tr("Sequence:"), this);
    QComboBox* combo = sequences->makeSelector(this, label);
    headerLayout()->insertWidget(2, label);
    headerLayout()->insertWidget(3, combo);
}

QString RelevanceView::cellText(double step, double token) const
{
    QCPColorMapData* v = map_->data();
    QCPColorMapData* sel = mask_->data();
    if (!last_ || !v || v->keySize() < 2 || grid_.nx < 2)
        return {};
    int i = 0, j = 0;
    v->coordToCell(step, token, &i, &j);
    if (i < 0 || j < 0 || i >= v->keySize() || j >= v->valueSize() || i >= grid_.nx || j >= grid_.ny)
        return {};
    const int64_t s0 = grid_.firstStepOf(i), s1 = grid_.firstStepOf(i + 1) - 1;
    const int64_t k0 = grid_.firstRowOf(j), k1 = grid_.firstRowOf(j + 1) - 1;
    QString text = (s0 >= s1 ? tr("step %1").arg(s0) : tr("steps %1–%2").arg(s0).arg(s1)) + QStringLiteral(", ") +
                   (k0 >= k1 ? tr("token %1").arg(k0) : tr("tokens %1–%2").arg(k0).arg(k1));
    if (sequence_ >= 0)
        text.prepend(tr("sequence %1: ").arg(sequence_));
    const double z = v->cell(i, j);
    if (std::isnan(z))
        return text + tr("\nnot yet generated");
    const bool read = sel && sel->cell(i, j) > 0.5;
    if (categorical_)
        text += read ? tr("\nread (selected)") : tr("\nnot read");
    else
        text += tr("\nrelevance %1%2\n%3")
                    .arg(z <= map_->dataRange().lower ? QStringLiteral("≤ ") : QString())
                    .arg(QString::number(z, 'g', 4))
                    .arg(read ? tr("read (selected)") : tr("not read"));
    if (s0 < s1 || k0 < k1)
        text += tr("\n(pooled cell: the largest relevance of the steps and tokens it covers)");
    return text;
}

void RelevanceView::setCategorical(bool on)
{
    categorical_ = on;
    QCPAxis* ty = tokenRect_->axis(QCPAxis::atLeft);
    if (on) {
        // 0/1 data: two colours and a two-entry legend on the colour bar, linear axes.
        QCPColorGradient g;
        g.clearColorStops();
        const QColor notRead = Theme::current().dark ? QColor(60, 62, 70) : QColor(225, 228, 235);
        g.setColorStopAt(0, notRead);
        g.setColorStopAt(0.4999, notRead);
        g.setColorStopAt(0.5001, QColor(0xE6, 0x9F, 0x00));
        g.setColorStopAt(1, QColor(0xE6, 0x9F, 0x00));
        g.setNanHandling(QCPColorGradient::nhTransparent);
        map_->setGradient(g);
        map_->setDataScaleType(QCPAxis::stLinear);
        scale_->setDataScaleType(QCPAxis::stLinear);
        QSharedPointer<QCPAxisTickerText> ticks(new QCPAxisTickerText);
        ticks->addTick(0.25, tr("not read"));
        ticks->addTick(0.75, tr("read"));
        scale_->axis()->setTicker(ticks);
        scale_->axis()->setLabel(tr("selection trace"));
        map_->setDataRange(QCPRange(0, 1));
        ty->setScaleType(QCPAxis::stLinear);
        QSharedPointer<QCPAxisTickerText> tt(new QCPAxisTickerText);
        tt->addTick(0, tr("not read"));
        tt->addTick(1, tr("read"));
        ty->setTicker(tt);
        ty->setRange(-0.2, 1.2);
    } else {
        updateGradient();
        map_->setDataScaleType(QCPAxis::stLogarithmic);
        scale_->setDataScaleType(QCPAxis::stLogarithmic);
        scale_->axis()->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
        scale_->axis()->setNumberFormat(QStringLiteral("eb"));
        scale_->axis()->setLabel(tr("relevance (log scale)"));
        ty->setScaleType(QCPAxis::stLogarithmic);
        QSharedPointer<QCPAxisTickerLog> logTicker(new QCPAxisTickerLog);
        logTicker->setTickCount(3);
        logTicker->setSubTickCount(0);
        ty->setTicker(logTicker);
    }
    gradient_->setEnabled(!on);
}

void RelevanceView::updateGradient()
{
    if (categorical_)
        return;
    map_->setGradient(gradient_->currentIndex() == 1 ? cividisGradient() : viridisGradient());
}

void RelevanceView::applyTheme()
{
    PlotView::applyTheme();
    tokenHint_->setColor(Theme::current().foreground);
    tokenGraph_->setPen(QPen(Theme::current().foreground, 1.2));
}

HeatmapWindow RelevanceView::wantedWindow() const
{
    HeatmapWindow w;
    w.t0 = static_cast<int64_t>(std::floor(link_->lower() + 0.5));
    w.t1 = static_cast<int64_t>(std::ceil(link_->upper() + 0.5));
    const QCPRange yr = mapRect_->axis(QCPAxis::atLeft)->range();
    w.y0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(yr.lower + 0.5)));
    w.y1 = static_cast<int64_t>(std::ceil(yr.upper + 0.5));
    if (tokens_ > 0 && w.y0 == 0 && w.y1 >= tokens_)
        w.y1 = 0;   // everything
    w.layer = layers_ ? layers_->layer() : -1;
    w.sequence = sequences_ ? sequences_->sequence() : 0;
    w.width = std::max(200, mapRect_->width());
    w.height = std::max(150, mapRect_->height());
    return w;
}

void RelevanceView::showResult(const AnalysisOutputPtr& out)
{
    last_ = out;
    const TraceMeta& meta = out->result->trace->meta();
    const int32_t q = std::clamp(out->view.relevance.sequence, 0, meta.sequenceCount() - 1);
    sequence_ = meta.sequenceCount() > 1 ? q : -1;
    const int64_t tokens = meta.prefillOf(q) + meta.steps;
    QCPAxis* y = mapRect_->axis(QCPAxis::atLeft);
    if (tokens != tokens_) {
        tokens_ = tokens;
        plot_->setProperty("applyingLink", true);
        y->setRange(-0.5, static_cast<double>(tokens) - 0.5);
        plot_->setProperty("applyingLink", false);
    }
    const int32_t layer = out->view.relevance.layer;
    QString layers;
    if (meta.layer_mode == LayerMode::PerLayer)
        layers = layer < 0 ? tr(", max over %1 layers").arg(meta.layers) : tr(", layer %1 of %2").arg(layer).arg(meta.layers);
    const QString prefill = meta.sequenceCount() > 1
                                ? tr("sequence %1 of %2: P = %3").arg(q).arg(meta.sequenceCount()).arg(meta.prefillOf(q))
                                : tr("P = %1").arg(meta.prefill);
    QString title = tr("Relevance — %1 (%2, T = %3%4)")
                        .arg(QString::fromStdString(meta.name))
                        .arg(prefill)
                        .arg(meta.steps)
                        .arg(layers);
    if (const auto& st = out->result->relevance)
        title += tr("\nturnover %1 %/step · reuse distance %2 · stay %3 steps (means)")
                     .arg(100 * st->mean_turnover, 0, 'f', 1)
                     .arg(st->mean_reuse_distance, 0, 'f', 1)
                     .arg(st->mean_stay_length, 0, 'f', 1);
    else if (out->streamed())
        title += tr("\nstatistics: whole trace only, not while streamed");
    if (out->streamed())
        showTokenUnavailable(tr("Token timelines: not available while streamed"));
    else if (tokenUnavailable_) {
        tokenUnavailable_ = false;
        tokenHint_->setText(tr("Click a token in the heatmap to plot its relevance over time"));
    }
    setPlotTitle(title);
    const bool selectionTrace = meta.kind == RecordKind::Selection;
    if (selectionTrace != categorical_)
        setCategorical(selectionTrace);
    if (out->relevance && out->relevance->values && out->relevance->key != shownKey_) {
        RelevanceHeatmap& h = *out->relevance;
        grid_ = h.grid;
        map_->setData(h.values.release(), false);
        mask_->setData(h.selected.release(), false);
        map_->setDataRange(categorical_ ? QCPRange(0, 1) : QCPRange(h.vmin, h.vmax));
        shownKey_ = h.key;
    }
    markFollowed();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void RelevanceView::showTokenUnavailable(const QString& why)
{
    tokenUnavailable_ = true;
    detail_ = {};
    tokenGraph_->data()->clear();
    tokenSelected_->data()->clear();
    for (QCPItemRect* r : tierSpans_)
        plot_->removeItem(r);
    tierSpans_.clear();
    tokenRect_->axis(QCPAxis::atTop)->setLabel(QString());
    tokenHint_->setText(why);
    tokenHint_->setVisible(true);
}

QString RelevanceView::tokenPanelText() const { return tokenHint_->visible() ? tokenHint_->text() : QString(); }

void RelevanceView::setTokenDetail(const TokenDetail& d)
{
    detail_ = d;
    QVector<double> x, y, sx, sy;
    double lo = 1, hi = 0;
    for (size_t t = 0; t < d.relevance.size(); ++t) {
        const double v = d.relevance[t];
        if (!std::isfinite(v))
            continue;
        const double shown = categorical_ ? v : std::max(v, 1e-9);
        x.append(static_cast<double>(t));
        y.append(shown);
        if (v > 0) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
        if (t < d.selected.size() && d.selected[t]) {
            sx.append(static_cast<double>(t));
            sy.append(shown);
        }
    }
    tokenGraph_->setData(x, y, true);
    tokenSelected_->setData(sx, sy, true);
    QCPAxis* ty = tokenRect_->axis(QCPAxis::atLeft);
    if (categorical_)
        ty->setRange(-0.2, 1.2);
    else if (hi > 0)
        ty->setRange(lo / 2, hi * 2);
    if (followed_ != static_cast<qint64>(d.token) || followedSequence_ != d.sequence) {
        followed_ = d.token;
        followedSequence_ = d.sequence;
        tokenEdit_->setText(QString::number(d.token));
        markFollowed();
    }
    ty->setLabel(tr("relevance"));   // the strip's top label names the token; the axis is short
    for (QCPItemRect* r : tierSpans_)
        plot_->removeItem(r);
    tierSpans_.clear();
    // Placement as a strip along the bottom: one rectangle per run of steps in one tier.
    QCPAxis* tx = tokenRect_->axis(QCPAxis::atBottom);
    size_t t = 0;
    while (t < d.tier.size()) {
        size_t e = t;
        while (e < d.tier.size() && d.tier[e] == d.tier[t])
            ++e;
        if (d.tier[t] != 255) {
            auto* r = new QCPItemRect(plot_);
            r->setClipAxisRect(tokenRect_);
            for (QCPItemPosition* pos : {r->topLeft, r->bottomRight}) {
                pos->setAxes(tx, ty);
                pos->setAxisRect(tokenRect_);
                pos->setTypeX(QCPItemPosition::ptPlotCoords);
                pos->setTypeY(QCPItemPosition::ptAxisRectRatio);
            }
            r->topLeft->setCoords(static_cast<double>(t) - 0.5, 0.93);
            r->bottomRight->setCoords(static_cast<double>(e) - 0.5, 1.0);
            const QColor c = tierColor(d.tier[t]);
            r->setPen(Qt::NoPen);
            r->setBrush(c);
            tierSpans_.push_back(r);
        }
        t = e;
    }
    // The caption goes above the panel (a label on its top axis), never over the curve.
    QCPAxis* top = tokenRect_->axis(QCPAxis::atTop);
    top->setVisible(true);
    top->setTicks(false);
    top->setTickLabels(false);
    top->setBasePen(Qt::NoPen);
    top->setLabelPadding(2);
    const QString token = sequence_ >= 0 ? tr("token %1 of sequence %2").arg(d.token).arg(d.sequence) : tr("token %1").arg(d.token);
    top->setLabel(hi > 0 ? tr("%1: line = relevance, dots = steps that read it, strip = tier it lives in (%2)")
                               .arg(token)
                               .arg(QString::fromStdString(d.policy))
                         : tr("%1 has no stored relevance (below the scores the trace kept)").arg(token));
    top->setLabelColor(Theme::current().foreground);
    tokenHint_->setVisible(false);
    plot_->replot(QCustomPlot::rpQueuedReplot);
    emit tokenDetailShown(d.token);
}

bool RelevanceView::writeCsv(QTextStream& out) const
{
    QCPColorMapData* v = map_->data();
    QCPColorMapData* s = mask_->data();
    if (!last_ || !v || v->keySize() < 2)
        return false;
    out << "# relevance heatmap pooled to " << v->keySize() << " x " << v->valueSize()
        << " cells (max over each cell); step and token are cell centres\n";
    out << "step,token,max_relevance,selected\n";
    for (int j = 0; j < v->valueSize(); ++j)
        for (int i = 0; i < v->keySize(); ++i) {
            const double z = v->cell(i, j);
            if (std::isnan(z))
                continue;
            double key = 0, value = 0;
            v->cellToCoord(i, j, &key, &value);
            out << QString::number(key, 'f', 2) << ',' << QString::number(value, 'f', 2) << ','
                << QString::number(z, 'g', 6) << ',' << (s && s->cell(i, j) > 0.5 ? 1 : 0) << '\n';
        }
    return true;
}

} // namespace kvtier::ui
