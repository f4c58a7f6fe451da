#include "ui/explain_panel.hpp"

#include "ui/theme.hpp"
#include "ui/units.hpp"

#include <QScrollBar>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <cmath>

namespace kvtier::ui {

ExplainPanel::ExplainPanel(QWidget* parent) : QWidget(parent), text_(new QTextBrowser(this))
{
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(4, 4, 4, 4);
    v->addWidget(text_);
    text_->setOpenExternalLinks(false);
    text_->setHtml(tr("<p>Run an analysis, then move the mouse over the placement or bandwidth view "
                      "(or press <b>Play</b>) to see the model's formulas filled in for that step.</p>"));
}

QString ExplainPanel::html() const { return text_->toHtml(); }

void ExplainPanel::showResult(const AnalysisOutputPtr& out)
{
    last_ = out;
    render();
}

void ExplainPanel::setStep(int64_t step)
{
    step_ = step;
    render();
}

void ExplainPanel::render()
{
    if (!last_ || !last_->result)
        return;
    const AnalysisOutput& out = *last_;
    const PolicyOutcome* o = out.outcome(out.view.policy);
    if (!o || !o->timing)
        return;
    const TimingResult& tm = *o->timing;
    if (tm.steps <= 0)
        return;
    const int64_t t = std::clamp<int64_t>(step_, 0, tm.steps - 1);
    const auto& tiers = out.scenario.hardware.tiers;
    const TraceMeta& meta = out.result->trace->meta();
    const int32_t L = std::max<int32_t>(1, out.scenario.model.layers);
    const bool aggregated = meta.layer_mode == LayerMode::Aggregated;
    // Per-layer figures: an aggregated trace has identical layers, so the step's sums / L
    // are each layer's R and W exactly; a per-layer trace shows the mean layer.
    const double perLayer = 1.0 / L;

    QString h;
    h += QStringLiteral("<style>td,th{padding:1px 5px;} th{text-align:left;} .lim{font-weight:bold; color:#D55E00;}"
                        " .f{font-family:monospace;} h3{margin:6px 0 2px 0;}</style>");
    h += tr("<h3>Step t = %1 &nbsp;·&nbsp; %2%3</h3>")
             .arg(t)
             .arg(QString::fromStdString(o->info.label).toHtmlEscaped())
             .arg(o->info.online ? QString() : tr(" (oracle)"));
    h += tr("<p>Context n<sub>t</sub> = P + t = %1 tokens; batch b = %2; L = %3 layers%4.</p>")
             .arg(meta.prefill + t)
             .arg(out.scenario.batch)
             .arg(L)
             .arg(aggregated ? tr(" (aggregated trace: every layer the same)") : tr(" (per-layer trace: mean layer shown)"));
    h += tr("<p><b>§4 Time of tier m in one layer-step</b><br><span class='f'>time<sub>m</sub>(R, W) = max( (R+W)/B<sub>m</sub>, "
            "R/Lr<sub>m</sub>, W/Lw<sub>m</sub> )</span></p>");
    // One column per tier (a handful), one row per quantity: fits a narrow dock.
    struct Col { QString name; QColor colour; double R, W, a, b, c, time; bool hasLr, hasLw; };
    std::vector<Col> cols;
    double tauLayer = 0;
    int limiting = -1;
    for (size_t m = 0; m < tiers.size(); ++m) {
        const TierStep& s = tm.at(t, static_cast<int32_t>(m));
        const Tier& tier = tiers[m];
        Col c;
        c.name = QString::fromStdString(tier.name).toHtmlEscaped();
        c.colour = tierColor(static_cast<int>(m));
        c.R = s.readBytes() * perLayer;
        c.W = s.writeBytes() * perLayer;
        c.a = (c.R + c.W) / tier.bandwidth;
        c.hasLr = std::isfinite(tier.link_read);
        c.hasLw = std::isfinite(tier.link_write);
        c.b = c.hasLr ? c.R / tier.link_read : 0;
        c.c = c.hasLw ? c.W / tier.link_write : 0;
        c.time = tierTime(tier, c.R, c.W);
        if (c.time > tauLayer) {
            tauLayer = c.time;
            limiting = static_cast<int>(m);
        }
        cols.push_back(c);
    }
    h += QStringLiteral("<table cellspacing=0 border=0><tr><th></th>");
    for (const Col& c : cols)
        h += QStringLiteral("<th><span style='color:%1'>■</span> %2</th>").arg(c.colour.name(), c.name);
    h += QStringLiteral("</tr>");
    auto row = [&](const QString& label, auto value) {
        h += QStringLiteral("<tr><td>%1</td>").arg(label);
        for (const Col& c : cols)
            h += QStringLiteral("<td align=right>%1</td>").arg(value(c));
        h += QStringLiteral("</tr>");
    };
    auto term = [](double v, double time, bool finite) {
        if (!finite)
            return QStringLiteral("–");
        const bool lim = time > 0 && std::abs(v - time) <= 1e-12 * std::max(1.0, time);
        return lim ? QStringLiteral("<span class='lim'>%1</span>").arg(formatSeconds(v)) : formatSeconds(v);
    };
    row(tr("R (read)"), [](const Col& c) { return formatBytes(c.R); });
    row(tr("W (written)"), [](const Col& c) { return formatBytes(c.W); });
    row(tr("(R+W)/B"), [&](const Col& c) { return term(c.a, c.time, true); });
    row(tr("R/Lr"), [&](const Col& c) { return term(c.b, c.time, c.hasLr); });
    row(tr("W/Lw"), [&](const Col& c) { return term(c.c, c.time, c.hasLw); });
    row(tr("<b>time<sub>m</sub></b>"), [](const Col& c) { return QStringLiteral("<b>%1</b>").arg(formatSeconds(c.time)); });
    h += QStringLiteral("</table>");
    h += tr("<p style='color:gray'>R = weights + selected KV + migration reads, W = new-token KV + migration writes, "
            "per layer, for all %1 sequences. B, Lr, Lw from the hardware panel.</p>").arg(out.scenario.batch);
    const double tau = tm.step_time[static_cast<size_t>(t)];
    h += tr("<p><b>Step time</b><br><span class='f'>τ[t][l] = max<sub>m</sub> time<sub>m</sub> = %1</span>%2<br>"
            "<span class='f'>τ[t] = Σ<sub>l</sub> τ[t][l] = %3</span></p>")
             .arg(formatSeconds(tauLayer))
             .arg(limiting >= 0 ? tr(" (limited by %1)").arg(QString::fromStdString(tiers[static_cast<size_t>(limiting)].name).toHtmlEscaped()) : QString())
             .arg(formatSeconds(tau));
    if (!aggregated)
        h += tr("<p style='color:gray'>Per-layer trace: layers differ, so τ[t] sums each layer's own maximum.</p>");

    const auto& bal = out.result->balanced;
    const auto& pap = out.result->paper;
    h += tr("<p><b>§6 Balanced bound</b> (placement free and instantaneous)<br>");
    if (bal && static_cast<size_t>(t) < bal->step_time.size()) {
        const double bt = bal->step_time[static_cast<size_t>(t)];
        const double share = static_cast<size_t>(t) < bal->fast_share.size() ? bal->fast_share[static_cast<size_t>(t)] : qQNaN();
        h += tr("τ<sub>bound</sub>[t] = %1: HBM serves %2 of the KV read bytes, the other tiers the rest, "
                "each within its capacity left after weights.<br>The policy takes <b>×%3</b> the bound at this step.")
                 .arg(formatSeconds(bt))
                 .arg(formatPercent(share))
                 .arg(bt > 0 ? tau / bt : qQNaN(), 0, 'f', 3);
    }
    h += QStringLiteral("</p>");
    if (pap && static_cast<size_t>(t) < pap->step_time.size()) {
        double denom = 0;
        for (const Tier& tier : tiers)
            denom += std::min(tier.bandwidth, tier.link_read);
        h += tr("<p><b>Paper bound</b><br><span class='f'>τ[t][l] = (weights<sub>l</sub> + V) / Σ<sub>m</sub> min(B<sub>m</sub>, "
                "Lr<sub>m</sub>)</span><br>Σ min(B, Lr) = %1; τ[t] = %2 (capacity and writes ignored).</p>")
                 .arg(formatBandwidth(denom))
                 .arg(formatSeconds(pap->step_time[static_cast<size_t>(t)]));
    }
    h += tr("<p><b>Whole run</b>: time per token %1 (bound %2), throughput %3, HBM hit ratio %4, migrated %5.</p>")
             .arg(formatSeconds(tm.timePerToken()))
             .arg(bal ? formatSeconds(bal->timePerToken()) : QStringLiteral("–"))
             .arg(formatThroughput(tm.throughput()))
             .arg(formatPercent(tm.hbmHitRatio()))
             .arg(formatBytes(tm.migrated_bytes));
    const int scroll = text_->verticalScrollBar() ? text_->verticalScrollBar()->value() : 0;
    text_->setHtml(h);
    if (text_->verticalScrollBar())
        text_->verticalScrollBar()->setValue(scroll);
}

} // namespace kvtier::ui
