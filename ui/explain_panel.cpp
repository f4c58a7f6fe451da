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
    const QString fg = Theme::current().foreground.name();

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
    h += QStringLiteral("<table cellspacing=0 border=0><tr><th>tier</th><th>R</th><th>W</th><th>(R+W)/B</th><th>R/Lr</th><th>W/Lw</th><th>time<sub>m</sub></th></tr>");
    double tauLayer = 0;
    int limiting = -1;
    for (size_t m = 0; m < tiers.size(); ++m) {
        const TierStep& s = tm.at(t, static_cast<int32_t>(m));
        const double R = s.readBytes() * perLayer, W = s.writeBytes() * perLayer;
        const Tier& tier = tiers[m];
        const double a = (R + W) / tier.bandwidth;
        const double b = std::isfinite(tier.link_read) ? R / tier.link_read : 0;
        const double c = std::isfinite(tier.link_write) ? W / tier.link_write : 0;
        const double tmM = tierTime(tier, R, W);
        if (tmM > tauLayer) {
            tauLayer = tmM;
            limiting = static_cast<int>(m);
        }
        auto cell = [&](double v, bool finite) {
            if (!finite)
                return QStringLiteral("<td>–</td>");
            const bool lim = std::abs(v - tmM) <= 1e-12 * std::max(1.0, tmM) && tmM > 0;
            return QStringLiteral("<td%1>%2</td>").arg(lim ? QStringLiteral(" class='lim'") : QString(), formatSeconds(v));
        };
        h += QStringLiteral("<tr><td><span style='color:%1'>■</span> %2</td><td>%3</td><td>%4</td>%5%6%7<td><b>%8</b></td></tr>")
                 .arg(tierColor(static_cast<int>(m)).name(), QString::fromStdString(tier.name).toHtmlEscaped(), formatBytes(R),
                      formatBytes(W), cell(a, true), cell(b, std::isfinite(tier.link_read)), cell(c, std::isfinite(tier.link_write)),
                      formatSeconds(tmM));
    }
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
    Q_UNUSED(fg);
    const int scroll = text_->verticalScrollBar() ? text_->verticalScrollBar()->value() : 0;
    text_->setHtml(h);
    if (text_->verticalScrollBar())
        text_->verticalScrollBar()->setValue(scroll);
}

} // namespace kvtier::ui
