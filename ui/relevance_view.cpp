#include "ui/relevance_view.hpp"

#include "ui/theme.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QTextStream>
#include <qcustomplot.h>

#include <cmath>

namespace kvtier::ui {

RelevanceView::RelevanceView(StepLink* link, QWidget* parent)
    : PlotView(QStringLiteral("relevance"), tr("Relevance"), parent), link_(link)
{
    headerLayout()->insertWidget(0, new QLabel(tr("Colours:"), this));
    gradient_ = new QComboBox(this);
    gradient_->addItem(QStringLiteral("viridis"));
    gradient_->addItem(QStringLiteral("cividis"));
    headerLayout()->insertWidget(1, gradient_);
    dim_ = new QCheckBox(tr("Dim tokens not read"), this);
    dim_->setChecked(true);
    dim_->setToolTip(tr("Darken every token the selection did not read, so the selected set stands out"));
    headerLayout()->insertWidget(2, dim_);
    auto* hint = new QLabel(tr("Click a token to follow it"), this);
    hint->setStyleSheet(QStringLiteral("color: palette(mid);"));
    headerLayout()->insertWidget(3, hint);

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
        const auto token = static_cast<int64_t>(std::lround(y));
        if (token >= 0 && token < tokens_)
            emit tokenClicked(static_cast<quint32>(token));
    });
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

void RelevanceView::updateGradient()
{
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
    w.width = std::max(200, mapRect_->width());
    w.height = std::max(150, mapRect_->height());
    return w;
}

void RelevanceView::showResult(const AnalysisOutputPtr& out)
{
    last_ = out;
    const TraceMeta& meta = out->result->trace->meta();
    const int64_t tokens = meta.prefill + meta.steps;
    QCPAxis* y = mapRect_->axis(QCPAxis::atLeft);
    if (tokens != tokens_) {
        tokens_ = tokens;
        plot_->setProperty("applyingLink", true);
        y->setRange(-0.5, static_cast<double>(tokens) - 0.5);
        plot_->setProperty("applyingLink", false);
    }
    QString title = tr("Relevance — %1 (P = %2, T = %3%4)")
                        .arg(QString::fromStdString(meta.name))
                        .arg(meta.prefill)
                        .arg(meta.steps)
                        .arg(meta.layer_mode == LayerMode::PerLayer ? tr(", max over layers") : QString());
    if (const auto& st = out->result->relevance)
        title += tr("\nturnover %1 %/step · reuse distance %2 · stay %3 steps (means)")
                     .arg(100 * st->mean_turnover, 0, 'f', 1)
                     .arg(st->mean_reuse_distance, 0, 'f', 1)
                     .arg(st->mean_stay_length, 0, 'f', 1);
    setPlotTitle(title);
    scale_->axis()->setLabel(meta.kind == RecordKind::Selection ? tr("selected (selection trace: 1 = read)")
                                                                : tr("relevance (log scale)"));
    if (out->relevance && out->relevance->values && out->relevance->key != shownKey_) {
        RelevanceHeatmap& h = *out->relevance;
        map_->setData(h.values.release(), false);
        mask_->setData(h.selected.release(), false);
        map_->setDataRange(QCPRange(h.vmin, h.vmax));
        shownKey_ = h.key;
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void RelevanceView::setTokenDetail(const TokenDetail& d)
{
    detail_ = d;
    QVector<double> x, y, sx, sy;
    double lo = 1, hi = 0;
    for (size_t t = 0; t < d.relevance.size(); ++t) {
        const double v = d.relevance[t];
        if (!std::isfinite(v))
            continue;
        const double shown = std::max(v, 1e-9);
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
    if (hi > 0)
        ty->setRange(lo / 2, hi * 2);
    ty->setLabel(tr("relevance of token %1").arg(d.token));
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
    top->setLabel(hi > 0 ? tr("token %1: line = relevance, dots = steps that read it, strip = tier it lives in (%2)")
                               .arg(d.token)
                               .arg(QString::fromStdString(d.policy))
                         : tr("token %1 has no stored relevance (below the scores the trace kept)").arg(d.token));
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
