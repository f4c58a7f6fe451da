#include "ui/explain_panel.hpp"
#include "ui/stream_notes.hpp"

#include "core/config/scenario_diff.hpp"
#include "core/engine/view_baseline.hpp"
#include "core/engine/stream_rule.hpp"
#include "core/engine/view_explain.hpp"
#include "ui/baseline.hpp"
#include "ui/layer_link.hpp"
#include "ui/theme.hpp"
#include "ui/units.hpp"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QScrollBar>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <algorithm>
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

void ExplainPanel::setLayerLink(LayerLink* layers)
{
    layers_ = layers;
    auto* row = new QHBoxLayout;
    row->addWidget(new QLabel(tr("Layer:"), this));
    row->addWidget(layers->makeSelector(this), 1);
    static_cast<QVBoxLayout*>(layout())->insertLayout(0, row);
    connect(layers, &LayerLink::layerChanged, this, [this] { render(); });
}

void ExplainPanel::setBaseline(const AnalysisOutputPtr& baseline)
{
    baseline_ = baseline;
    render();
}

QString ExplainPanel::baselineHtml() const
{
    if (!baseline_ || !baseline_->result || !last_ || !last_->result)
        return {};
    QString h = tr("<p><b>Against the pinned baseline</b> (total time of the run; − is faster now)</p>");
    const std::vector<ScenarioChange> changes = scenarioChanges(baseline_->scenario, last_->scenario);
    if (changes.empty())
        h += tr("<p style='color:gray'>Same scenario as the baseline.</p>");
    else {
        QStringList items;
        for (const ScenarioChange& c : changes)
            if (!isLabelKey(c.path))
                items << changeText(c, false).toHtmlEscaped();
        h += tr("<p>Changed: %1</p>").arg(items.join(QStringLiteral("; ")));
    }
    h += QStringLiteral("<table cellspacing=0 border=0><tr><th></th><th>%1</th><th>%2</th><th>Δ</th></tr>")
             .arg(tr("now"), tr("baseline"));
    for (const BaselineDelta& d : baselineDeltas(*last_->result, *baseline_->result)) {
        const QString delta = std::isfinite(d.delta)
                                  ? QStringLiteral("%1%2 (×%3)")
                                        .arg(d.delta > 0 ? QStringLiteral("+") : d.delta < 0 ? QStringLiteral("−") : QString())
                                        .arg(formatSeconds(std::abs(d.delta)))
                                        .arg(d.ratio, 0, 'f', 3)
                                  : QStringLiteral("–");
        h += QStringLiteral("<tr><td>%1</td><td align=right>%2</td><td align=right>%3</td><td align=right>%4</td></tr>")
                 .arg(QString::fromStdString(d.label).toHtmlEscaped(),
                      d.in_now ? formatSeconds(d.total_now) : QStringLiteral("–"),
                      d.in_baseline ? formatSeconds(d.total_baseline) : QStringLiteral("–"), delta);
    }
    h += QStringLiteral("</table>");
    return h;
}

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
    if (const QString left = streamedLeftOut(out, out.view.policy); !left.isEmpty()) {
        text_->setHtml(baselineHtml() + QStringLiteral("<p>%1</p>").arg(left.toHtmlEscaped()));
        return;
    }
    if (!o || !o->timing || o->timing->steps <= 0)
        return;
    int layer = layers_ && out.result->trace->meta().layer_mode == LayerMode::PerLayer ? layers_->layer() : -1;
    // One layer's bytes come from the step's selection lists, which a streamed run does not
    // keep: the mean layer (from the step's totals) is shown, and says so.
    QString layerNote;
    if (layer >= 0 && !holdsStepLists(*out.result)) {
        layerNote = notWhileStreamed(tr("Layer %1's own breakdown").arg(layer)) + QLatin1Char(' ') + tr("The mean layer is shown.");
        layer = -1;
    }
    const StepExplanation e = explainStep(*out.result, *o, std::clamp<int64_t>(step_, 0, o->timing->steps - 1), layer);
    auto esc = [](const std::string& s) { return QString::fromStdString(s).toHtmlEscaped(); };

    QString h;
    h += QStringLiteral("<style>td,th{padding:1px 5px;} th{text-align:left;} .lim{font-weight:bold; color:#D55E00;}"
                        " .f{font-family:monospace;} h3{margin:6px 0 2px 0;}</style>");
    // A pinned baseline answers "what changed?": first, above the step's formulas.
    h += baselineHtml();
    h += tr("<h3>Step t = %1 &nbsp;·&nbsp; %2%3</h3>")
             .arg(e.step)
             .arg(esc(e.policy_label))
             .arg(e.online ? QString() : tr(" (oracle)"));
    h += tr("<p>Context n<sub>t</sub> = P + t = %1 tokens; batch b = %2; L = %3 layers%4.</p>")
             .arg(e.context)
             .arg(e.batch)
             .arg(e.layers)
             .arg(e.aggregated ? tr(" (aggregated trace: every layer the same)")
                  : e.layer >= 0 ? tr(" (per-layer trace: <b>layer %1</b> shown)").arg(e.layer)
                                 : tr(" (per-layer trace: <b>mean layer</b> shown — choose a layer above)"));
    if (!layerNote.isEmpty())
        h += QStringLiteral("<p><i>%1</i></p>").arg(layerNote.toHtmlEscaped());
    h += tr("<p><b><a href='doc:MODEL.md#4'>MODEL.md §4</a> Time of tier m in one layer-step</b><br><span class='f'>time<sub>m</sub>(R, W) = max( (R+W)/B<sub>m</sub>, "
            "R/Lr<sub>m</sub>, W/Lw<sub>m</sub> )</span></p>");
    // One column per tier (a handful), one row per quantity: fits a narrow dock.
    h += QStringLiteral("<table cellspacing=0 border=0><tr><th></th>");
    for (size_t m = 0; m < e.tiers.size(); ++m)
        h += QStringLiteral("<th><span style='color:%1'>■</span> %2</th>").arg(tierColor(static_cast<int>(m)).name(), esc(e.tiers[m].name));
    h += QStringLiteral("</tr>");
    auto row = [&](const QString& label, auto value) {
        h += QStringLiteral("<tr><td>%1</td>").arg(label);
        for (const TierTerms& c : e.tiers)
            h += QStringLiteral("<td align=right>%1</td>").arg(value(c));
        h += QStringLiteral("</tr>");
    };
    auto term = [](const TierTerms& c, int k, double v, bool finite) {
        if (!finite)
            return QStringLiteral("–");
        return c.binding[k] ? QStringLiteral("<span class='lim'>%1</span>").arg(formatSeconds(v)) : formatSeconds(v);
    };
    row(tr("R (read)"), [](const TierTerms& c) { return formatBytes(c.read); });
    if (std::any_of(e.tiers.begin(), e.tiers.end(), [](const TierTerms& c) { return c.expert_read > 0; }))
        row(tr("of R: experts"), [](const TierTerms& c) { return formatBytes(c.expert_read); });
    row(tr("W (written)"), [](const TierTerms& c) { return formatBytes(c.write); });
    row(tr("(R+W)/B"), [&](const TierTerms& c) { return term(c, 0, c.by_bandwidth, true); });
    row(tr("R/Lr"), [&](const TierTerms& c) { return term(c, 1, c.by_read_link, c.has_read_link); });
    row(tr("W/Lw"), [&](const TierTerms& c) { return term(c, 2, c.by_write_link, c.has_write_link); });
    row(tr("<b>time<sub>m</sub></b>"), [](const TierTerms& c) { return QStringLiteral("<b>%1</b>").arg(formatSeconds(c.time)); });
    h += QStringLiteral("</table>");
    h += tr("<p style='color:gray'>R = weights + selected KV + migration reads, W = new-token KV + migration writes, "
            "per layer, for all %1 sequences. B, Lr, Lw from the hardware panel.</p>").arg(e.batch);
    h += tr("<p><b>Step time</b><br><span class='f'>τ[t][l] = max<sub>m</sub> time<sub>m</sub> = %1</span>%2<br>"
            "<span class='f'>τ[t] = Σ<sub>l</sub> τ[t][l] = %3</span></p>")
             .arg(formatSeconds(e.layer_time))
             .arg(e.limiting_tier >= 0 ? tr(" (limited by %1)").arg(esc(e.tiers[static_cast<size_t>(e.limiting_tier)].name)) : QString())
             .arg(formatSeconds(e.step_time));
    if (!e.aggregated)
        h += tr("<p style='color:gray'>Per-layer trace: layers differ, so τ[t] sums each layer's own maximum.</p>");

    h += tr("<p><b><a href='doc:MODEL.md#6'>MODEL.md §6</a> Balanced bound</b> (placement free and instantaneous)<br>");
    if (std::isfinite(e.balanced_step_time))
        h += tr("τ<sub>bound</sub>[t] = %1: HBM serves %2 of the KV read bytes, the other tiers the rest, "
                "each within its capacity left after weights.<br>The policy takes <b>×%3</b> the bound at this step.")
                 .arg(formatSeconds(e.balanced_step_time))
                 .arg(formatPercent(e.balanced_fast_share))
                 .arg(e.ratio_to_bound, 0, 'f', 3);
    h += QStringLiteral("</p>");
    if (std::isfinite(e.paper_step_time))
        h += tr("<p><b>Paper bound</b><br><span class='f'>τ[t][l] = (weights<sub>l</sub> + V) / Σ<sub>m</sub> min(B<sub>m</sub>, "
                "Lr<sub>m</sub>)</span><br>Σ min(B, Lr) = %1; τ[t] = %2 (capacity and writes ignored).</p>")
                 .arg(formatBandwidth(e.paper_denominator))
                 .arg(formatSeconds(e.paper_step_time));
    h += tr("<p><b>Whole run</b>: time per token %1 (bound %2), throughput %3, HBM hit ratio %4, migrated %5.</p>")
             .arg(formatSeconds(e.time_per_token))
             .arg(std::isfinite(e.bound_time_per_token) ? formatSeconds(e.bound_time_per_token) : QStringLiteral("–"))
             .arg(formatThroughput(e.throughput))
             .arg(formatPercent(e.hbm_hit_ratio))
             .arg(formatBytes(e.migrated_bytes));
    const int scroll = text_->verticalScrollBar() ? text_->verticalScrollBar()->value() : 0;
    text_->setHtml(h);
    if (text_->verticalScrollBar())
        text_->verticalScrollBar()->setValue(scroll);
}

} // namespace kvtier::ui
