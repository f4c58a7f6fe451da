#include "core/engine/view_explain.hpp"

#include "core/engine/timing.hpp"
#include "core/model/error.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kvtier {

const PolicyOutcome* findOutcome(const AnalysisResult& result, const std::string& policy)
{
    for (const PolicyOutcome& o : result.policies)
        if (o.info.name == policy)
            return &o;
    return result.policies.empty() ? nullptr : &result.policies.front();
}

std::vector<PolicyOutcome> scheduleOutcomes(const AnalysisResult& result)
{
    std::vector<PolicyOutcome> out;
    auto add = [&](const char* name, const char* label, const char* description, const ScheduleOutcome& s,
                   const std::string& key) {
        if (!s.placement || !s.timing)
            return;
        PolicyOutcome o;
        o.info.name = name;
        o.info.label = label;
        o.info.description = description;
        o.info.online = false;
        o.placement = s.placement;
        o.timing = s.timing;
        o.gapToBound = result.balanced && result.balanced->total_time > 0 ? s.total_time() / result.balanced->total_time : 1.0;
        o.placement_key = key + '|' + name;
        out.push_back(std::move(o));
    };
    if (result.migration_bound)
        add("schedule", "best schedule found",
            "The best exclusive schedule the migration-aware bound's run found (docs/BOUNDS.md): it knows the "
            "whole trace, so it is an oracle; it is the upper end S of the certified band.",
            result.migration_bound->schedule, result.migration_bound_key);
    if (result.annealed)
        add("annealed", "annealed schedule",
            "Simulated annealing over exclusive placements with the whole trace known, started from the best "
            "schedule (docs/BOUNDS.md): an oracle.",
            result.annealed->schedule, result.annealed_key);
    return out;
}

StepExplanation explainStep(const AnalysisResult& r, const PolicyOutcome& o, int64_t t, int32_t layer)
{
    if (!o.timing)
        throw InputError("policy " + o.info.name, "has no timing");
    const TimingResult& tm = *o.timing;
    if (t < 0 || t >= tm.steps)
        throw InputError("step " + std::to_string(t), "the run has steps 0.." + std::to_string(tm.steps - 1));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const Scenario& s = r.scenario;
    const auto& tiers = s.hardware.tiers;
    const TraceMeta& meta = r.trace->meta();
    StepExplanation e;
    e.step = t;
    e.policy = o.info.name;
    e.policy_label = o.info.label;
    e.online = o.info.online;
    e.context = meta.prefill + t;
    e.batch = s.batch;
    e.layers = std::max<int32_t>(1, s.model.layers);
    e.aggregated = meta.layer_mode == LayerMode::Aggregated;
    if (layer != -1 && (e.aggregated || layer < 0 || layer >= meta.layerSlots() || !o.placement || !r.selection))
        throw InputError("layer " + std::to_string(layer),
                         e.aggregated ? std::string("an aggregated trace has no separate layers (-1 shows the mean layer)")
                                      : "the trace has layers 0.." + std::to_string(meta.layerSlots() - 1));
    e.layer = layer;
    SlotBytes one;
    if (layer >= 0)
        one = slotBytes(*r.selection, *o.placement, r.timingConfig(), t, layer);
    e.compute_floor = s.compute_floor_s;
    const double perLayer = 1.0 / e.layers;
    for (size_t m = 0; m < tiers.size(); ++m) {
        const TierStep& st = tm.at(t, static_cast<int32_t>(m));
        const Tier& tier = tiers[m];
        TierTerms c;
        c.name = tier.name;
        c.read = layer >= 0 ? one.read[m] : st.readBytes() * perLayer;
        c.write = layer >= 0 ? one.write[m] : st.writeBytes() * perLayer;
        c.expert_read = layer >= 0 ? one.expert_read[m] : st.expert_read * perLayer;
        c.by_bandwidth = (c.read + c.write) / tier.bandwidth;
        c.has_read_link = std::isfinite(tier.link_read);
        c.has_write_link = std::isfinite(tier.link_write);
        c.by_read_link = c.has_read_link ? c.read / tier.link_read : 0;
        c.by_write_link = c.has_write_link ? c.write / tier.link_write : 0;
        c.time = tierTime(tier, c.read, c.write);
        const double terms[3] = {c.by_bandwidth, c.by_read_link, c.by_write_link};
        const bool finite[3] = {true, c.has_read_link, c.has_write_link};
        for (int k = 0; k < 3; ++k)
            c.binding[k] = finite[k] && c.time > 0 && std::abs(terms[k] - c.time) <= 1e-12 * std::max(1.0, c.time);
        if (c.time > e.layer_time) {
            e.layer_time = c.time;
            e.limiting_tier = static_cast<int32_t>(m);
        }
        e.tiers.push_back(c);
    }
    e.step_time = tm.step_time[static_cast<size_t>(t)];
    e.recomputed_step_time = e.aggregated && s.model.experts == 0 ? e.layers * std::max(e.layer_time, e.compute_floor) : nan;

    e.balanced_step_time = e.balanced_fast_share = e.ratio_to_bound = e.paper_step_time = nan;
    if (r.balanced && static_cast<size_t>(t) < r.balanced->step_time.size()) {
        e.balanced_step_time = r.balanced->step_time[static_cast<size_t>(t)];
        if (static_cast<size_t>(t) < r.balanced->fast_share.size())
            e.balanced_fast_share = r.balanced->fast_share[static_cast<size_t>(t)];
        e.ratio_to_bound = e.balanced_step_time > 0 ? e.step_time / e.balanced_step_time : nan;
    }
    if (r.paper && static_cast<size_t>(t) < r.paper->step_time.size())
        e.paper_step_time = r.paper->step_time[static_cast<size_t>(t)];
    for (const Tier& tier : tiers)
        e.paper_denominator += std::min(tier.bandwidth, tier.link_read);

    e.time_per_token = tm.timePerToken();
    e.bound_time_per_token = r.balanced ? r.balanced->timePerToken() : nan;
    e.throughput = tm.throughput();
    e.hbm_hit_ratio = tm.hbmHitRatio();
    e.migrated_bytes = tm.migrated_bytes;
    return e;
}

} // namespace kvtier
