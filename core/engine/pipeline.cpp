#include "core/engine/pipeline.hpp"

#include "core/engine/expert_joint.hpp"
#include "core/engine/expert_placement.hpp"
#include "core/engine/kv_units.hpp"
#include "core/model/error.hpp"
#include "core/store/trace_store.hpp"
#include "core/support/parallel.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <list>
#include <map>
#include <sstream>

namespace kvtier {

namespace {

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// Bytes in the unit that reads best (decimal, MODEL.md): "131 kB", not "0.0001311 GB".
std::string gb(double bytes)
{
    static const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    int u = 0;
    double v = bytes;
    while (u < 5 && std::abs(v) >= 1000) {
        v /= 1000;
        ++u;
    }
    std::ostringstream o;
    o.precision(4);
    o << v << ' ' << units[u];
    return o.str();
}

// A small thread-safe LRU cache of immutable stage results.
template <class T>
class Lru {
public:
    explicit Lru(size_t capacity) : capacity_(capacity) {}
    std::shared_ptr<const T> get(const std::string& key)
    {
        std::lock_guard lock(mutex_);
        auto it = map_.find(key);
        if (it == map_.end()) return nullptr;
        order_.splice(order_.begin(), order_, it->second.second);
        return it->second.first;
    }
    void put(const std::string& key, std::shared_ptr<const T> value)
    {
        std::lock_guard lock(mutex_);
        if (auto it = map_.find(key); it != map_.end()) {
            it->second.first = std::move(value);
            return;
        }
        order_.push_front(key);
        map_.emplace(key, std::make_pair(std::move(value), order_.begin()));
        while (map_.size() > capacity_) {
            map_.erase(order_.back());
            order_.pop_back();
        }
    }
    void clear()
    {
        std::lock_guard lock(mutex_);
        map_.clear();
        order_.clear();
    }

private:
    size_t capacity_;
    mutable std::mutex mutex_;
    std::list<std::string> order_;
    std::map<std::string, std::pair<std::shared_ptr<const T>, std::list<std::string>::iterator>> map_;
};

std::string traceKey(const std::string& db, const std::string& name)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path p = fs::weakly_canonical(fs::path(db), ec);
    const auto size = fs::file_size(p, ec);
    const auto mtime = fs::last_write_time(p, ec).time_since_epoch().count();
    std::ostringstream o;
    o << p.string() << '|' << name << '|' << (ec ? 0 : size) << '|' << mtime;
    return o.str();
}

std::string selectionKey(const std::string& trace, const SelectionConfig& c)
{
    std::ostringstream o;
    o.precision(17);
    o << trace << "|sel:" << toString(c.mode) << ',' << c.value << ',' << c.sinks << ',' << c.window << ','
      << c.page_tokens;
    return o.str();
}

std::string timingKey(const TimingConfig& c)
{
    nlohmann::json j = {{"model", {c.model.layers, c.model.kv_bytes_per_token_layer, c.model.weight_bytes, c.model.experts,
                                  c.model.expert_bytes}},
                        {"batch", c.batch},
                        {"omega", c.weights_in_fast_tier},
                        {"route", toString(c.route)},
                        {"floor", c.compute_floor_s}};
    // The expert policy: only when it is not static, so every other key keeps its bytes.
    // Joint ignores hbm_share: its key is the budget it chose.
    if (c.experts.policy == ExpertPolicy::Joint) j["experts"] = {toString(c.experts.policy), c.expert_budget};
    else if (c.experts.dynamic()) j["experts"] = {toString(c.experts.policy), c.experts.hbm_share};
    for (const Tier& t : c.hardware.tiers)
        j["tiers"].push_back({t.capacity_bytes, t.bandwidth, std::isinf(t.link_read) ? -1.0 : t.link_read,
                              std::isinf(t.link_write) ? -1.0 : t.link_write, t.reserve_bytes});
    return j.dump();
}

} // namespace

const char* toString(Stage s)
{
    switch (s) {
    case Stage::None: return "none";
    case Stage::Timing: return "timing";
    case Stage::Placement: return "placement";
    case Stage::Selection: return "selection";
    case Stage::Trace: return "trace";
    }
    return "?";
}

Stage firstStageToRerun(const Scenario& from, const Scenario& to)
{
    if (from == to) return Stage::None;
    // Take over, stage by stage from the last, the fields only that stage reads (its key
    // in run(): timingKey, the placement key with the capacity plan, selectionKey); when
    // `from` then equals `to`, the earlier stages' keys are unchanged.
    Scenario c = from;
    const bool sameTiers = c.hardware.tiers.size() == to.hardware.tiers.size();
    // Timing (and the bounds): bandwidths, links, route, compute floor; names are labels.
    c.model.name = to.model.name;
    c.model_preset = to.model_preset;
    c.hardware.name = to.hardware.name;
    c.hardware_preset = to.hardware_preset;
    c.route = to.route;
    c.compute_floor_s = to.compute_floor_s;
    if (sameTiers)
        for (size_t m = 0; m < c.hardware.tiers.size(); ++m) {
            Tier& t = c.hardware.tiers[m];
            const Tier& u = to.hardware.tiers[m];
            t.name = u.name;
            t.bandwidth = u.bandwidth;
            t.link_read = u.link_read;
            t.link_write = u.link_write;
        }
    if (c == to) return Stage::Timing;
    // Placement: what planCapacity reads (capacities, reserves, model, batch, omega), the
    // placement mode, what the policies observe, the policies with their parameters, and
    // the heavy bounds (the migration-aware bound and the annealed schedule), which are
    // computed beside the placements and cost as much.
    // The tiers' other fields are capacities and reserves, or their number changed.
    c.hardware.tiers = to.hardware.tiers;
    c.model = to.model;
    c.batch = to.batch;
    c.weights_in_fast_tier = to.weights_in_fast_tier;
    c.inclusive = to.inclusive;
    c.observe_scores = to.observe_scores;
    c.policies = to.policies;
    c.bounds = to.bounds;
    c.experts = to.experts;   // the split of tier 0 changes the KV capacity
    if (c == to) return Stage::Placement;
    c.selection = to.selection;
    if (c == to) return Stage::Selection;
    return Stage::Trace;
}

CapacityPlan planCapacity(const Scenario& s, const UnitLayout& layout)
{
    return planCapacity(s, layout, s.timingConfig());
}

CapacityPlan planCapacity(const Scenario& s, const UnitLayout& layout, const TimingConfig& tc)
{
    const auto& tiers = s.hardware.tiers;
    if (tiers.empty()) throw InputError("hardware.tiers", "needs at least one tier");
    const size_t M = tiers.size();
    CapacityPlan plan;
    plan.unit_bytes = kvUnitBytes(s.model, layout);
    // Weights take capacity first: the dense weights, then the experts (MODEL.md §9).
    const ExpertPlacement experts = placeExperts(tc);
    const std::vector<double> w = residentWeightBytes(tc, experts);
    plan.kv_bytes.resize(M);
    plan.units.resize(M);
    for (size_t m = 0; m < M; ++m) {
        const double weights = w[m];
        plan.kv_bytes[m] = tiers[m].capacity_bytes - weights - tiers[m].reserve_bytes;
        if (plan.kv_bytes[m] < 0) {
            if (weights > 0)
                throw InfeasibleError("infeasible: " + gb(weights) + " of weights must live in " + tiers[m].name +
                                          " (weights_in_fast_tier = " + readableNumber(s.weights_in_fast_tier) +
                                          ") but it has " + gb(tiers[m].capacity_bytes) + " less " +
                                          gb(tiers[m].reserve_bytes) + " reserved",
                                      "raise " + tiers[m].name + " capacity to at least " +
                                          gb(weights + tiers[m].reserve_bytes) +
                                          (M > 1 ? std::string(m == 0 ? " or lower" : " or raise") + " weights_in_fast_tier" : std::string()));
            throw InfeasibleError("infeasible: " + tiers[m].name + " reserves " + gb(tiers[m].reserve_bytes) +
                                      " but has only " + gb(tiers[m].capacity_bytes),
                                  "lower " + tiers[m].name + "'s reserve to at most " + gb(tiers[m].capacity_bytes));
        }
        // Saturated, not cast: a double beyond int64 has no defined conversion. 2^53 units
        // exceed any trace's units, and 16 tiers of them still sum inside int64.
        const double units = std::floor(plan.kv_bytes[m] / (static_cast<double>(s.batch) * plan.unit_bytes));
        plan.units[m] = units < kMaxTierUnits ? static_cast<int64_t>(units) : kMaxTierUnits;
    }
    requireExpertsPlaced(experts, tc);
    plan.units_needed = layout.totalUnits();
    const double needBytes = static_cast<double>(plan.units_needed) * plan.unit_bytes * static_cast<double>(s.batch);
    // The largest batch that fits (0: not even one sequence), for the message's fix.
    const double perSequence = static_cast<double>(plan.units_needed) * plan.unit_bytes;
    auto fixText = [&](int64_t largestBatch, double missing, const std::string& where) {
        std::string f = largestBatch >= 1 ? "lower batch to " + std::to_string(largestBatch) + " or " : std::string();
        return f + "add " + gb(missing) + " of capacity" + where;
    };
    if (s.inclusive && M > 1) {
        if (plan.units.back() < plan.units_needed) {
            const double fits = perSequence > 0 ? std::floor(plan.kv_bytes.back() / perSequence) : 0;
            throw InfeasibleError("infeasible: inclusive placement keeps all KV in " + tiers.back().name + ", " +
                                      gb(needBytes) + " for batch " + std::to_string(s.batch) + ", but it has " +
                                      gb(plan.kv_bytes.back()) + " left after weights and reserve",
                                  fixText(static_cast<int64_t>(std::min<double>(fits, static_cast<double>(s.batch) - 1)),
                                          needBytes - plan.kv_bytes.back(), " to " + tiers.back().name));
        }
    } else {
        int64_t sum = 0;
        double bytes = 0;
        for (size_t m = 0; m < M; ++m) {
            sum += plan.units[m];
            bytes += plan.kv_bytes[m];
        }
        if (sum < plan.units_needed) {
            // Units are whole per tier: count down from the byte estimate to a batch that fits.
            int64_t largest = perSequence > 0 ? static_cast<int64_t>(std::min<double>(std::floor(bytes / perSequence),
                                                                                     static_cast<double>(s.batch) - 1))
                                              : 0;
            for (; largest >= 1; --largest) {
                double units = 0;
                for (size_t m = 0; m < M; ++m)
                    units += std::floor(plan.kv_bytes[m] / (static_cast<double>(largest) * plan.unit_bytes));
                if (units >= static_cast<double>(plan.units_needed))
                    break;
            }
            throw InfeasibleError("infeasible: the KV cache needs " + gb(needBytes) + " (" +
                                      std::to_string(plan.units_needed) + " units of " + gb(plan.unit_bytes) +
                                      " x batch " + std::to_string(s.batch) + ") but the tiers have " + gb(bytes) +
                                      " left after weights and reserve",
                                  fixText(largest, needBytes - bytes, ""));
        }
    }
    return plan;
}

struct Pipeline::Impl {
    Lru<Trace> traces{4};
    Lru<Selection> selections{8};
    Lru<RelevanceStats> relevance{8};
    Lru<PlacementResult> placements{256};
    Lru<TimingResult> timings{512};
    Lru<BoundResult> bounds{64};
    Lru<MigrationBoundResult> migrationBounds{8};
    Lru<AnnealResult> annealed{8};
};

Pipeline::Pipeline() : d(std::make_unique<Impl>()) {}
Pipeline::~Pipeline() = default;

void Pipeline::clear()
{
    d->traces.clear();
    d->selections.clear();
    d->relevance.clear();
    d->placements.clear();
    d->timings.clear();
    d->bounds.clear();
    d->migrationBounds.clear();
    d->annealed.clear();
}

std::shared_ptr<const Trace> Pipeline::trace(const std::string& db, const std::string& name, const JobControl& job)
{
    const std::string key = traceKey(db, name);
    if (auto hit = d->traces.get(key)) return hit;
    job.check();
    auto store = TraceStore::open(db, TraceStore::Mode::ReadOnly);
    auto t = std::make_shared<const Trace>(store->load(name));
    d->traces.put(key, t);
    return t;
}

namespace {

std::string boundParamsKey(const MigrationBoundConfig& m)
{
    std::ostringstream o;
    o.precision(17);
    o << "|ma:" << m.time_budget_s << ',' << m.iterations << ',' << m.target_gap;
    return o.str();
}

std::string annealParamsKey(const AnnealConfig& a)
{
    std::ostringstream o;
    o.precision(17);
    o << "|sa:" << a.time_budget_s << ',' << a.moves << ',' << a.chains << ',' << a.seed << ',' << a.tune_evaluations;
    return o.str();
}

} // namespace

// The migration-aware bound and the annealed schedule (opt-in, cached like the other
// stages). The policies' placements are starting schedules, so they are part of the key.
void Pipeline::heavyBounds(const Scenario& s, AnalysisResult& r, const PlacementConfig& pc, const TimingConfig& tc,
                           const std::string& baseKey, const JobControl& job)
{
    std::ostringstream pols;
    pols.precision(17);
    for (const PolicyOutcome& o : r.policies) {
        pols << '|' << o.info.name;
        for (const auto& [k, v] : o.params) pols << ',' << k << '=' << v;
    }
    const std::string key = baseKey + pols.str() + boundParamsKey(s.bounds.migration_aware);
    auto sub = [&](double a, double b) {
        JobControl j;
        j.cancel = job.cancel;
        if (job.progress) j.progress = [&job, a, b](double f) { job.report(a + (b - a) * f); };
        return j;
    };
    auto t = Clock::now();
    r.migration_bound = d->migrationBounds.get(key);
    if (!r.migration_bound) {
        std::vector<ScheduleCandidate> candidates;
        for (const PolicyOutcome& o : r.policies) candidates.push_back({o.info.name, o.placement.get()});
        r.migration_bound = std::make_shared<const MigrationBoundResult>(migrationAwareBound(
            *r.selection, tc, pc, s.bounds.migration_aware, *r.balanced, candidates, sub(0.3, 0.7)));
        d->migrationBounds.put(key, r.migration_bound);
        r.stats.heavy_bounds_computed++;
    }
    r.migration_bound_key = key;
    r.stats.migration_bound_ms = msSince(t);
    if (!s.bounds.annealed.enabled) return;
    t = Clock::now();
    const std::string aKey = key + annealParamsKey(s.bounds.annealed);
    r.annealed = d->annealed.get(aKey);
    if (!r.annealed) {
        r.annealed = std::make_shared<const AnnealResult>(
            annealSchedule(*r.selection, tc, pc, s.bounds.annealed, r.migration_bound->schedule, sub(0.7, 1.0)));
        d->annealed.put(aKey, r.annealed);
        r.stats.heavy_bounds_computed++;
    }
    r.annealed_key = aKey;
    r.stats.anneal_ms = msSince(t);
}

AnalysisResult Pipeline::run(const Scenario& s, const JobControl& job)
{
    const auto t0 = Clock::now();
    AnalysisResult r;
    r.scenario = s;
    auto t = Clock::now();
    r.trace = trace(s.trace_db, s.trace_name, job);
    r.stats.load_ms = msSince(t);
    const TraceMeta& meta = r.trace->meta();
    checkLayersMatch(meta, s);
    if (s.policies.empty()) throw InputError("policies", "no policy chosen");
    checkAnalysisSize(*r.trace, s);
    if (s.model.experts > 0)
        checkExpertsMatch(r.trace->experts(), s.model, s.trace_db + " trace '" + meta.name + "'");


    t = Clock::now();
    const std::string tKey = traceKey(s.trace_db, s.trace_name);
    const std::string sKey = selectionKey(tKey, s.selection);
    r.selection_key = sKey;
    r.selection = d->selections.get(sKey);
    if (!r.selection) {
        r.selection = std::make_shared<const Selection>(computeSelection(*r.trace, s.selection, job));
        d->selections.put(sKey, r.selection);
        r.stats.selections_computed = 1;
    }
    r.relevance = d->relevance.get(sKey);
    r.stats.select_ms = msSince(t);
    job.report(0.2);

    // The joint expert policy chooses its budget from the selection (expert_joint.hpp).
    const TimingConfig tc = resolveExpertBudget(*r.selection, s.timingConfig(), job);
    r.expert_budget = tc.expert_budget;
    r.capacity = planCapacity(s, r.selection->layout, tc);
    const std::string tcKey = timingKey(tc);

    // Bounds.
    t = Clock::now();
    for (int which = 0; which < 2; ++which) {
        const std::string key = sKey + (which ? "|paper|" : "|balanced|") + tcKey;
        auto b = d->bounds.get(key);
        if (!b) {
            b = std::make_shared<const BoundResult>(which ? paperBound(*r.selection, tc, job)
                                                          : balancedBound(*r.selection, tc, job));
            d->bounds.put(key, b);
            r.stats.bounds_computed++;
        }
        (which ? r.paper : r.balanced) = b;
    }
    r.stats.bound_ms = msSince(t);
    job.report(0.3);

    // Placements, then timings, one policy per task.
    PlacementConfig pc{s.inclusive, r.capacity.units, s.observe_scores};
    std::ostringstream pcKey;
    pcKey << (s.inclusive ? "inc" : "exc") << ",scores=" << toString(s.observe_scores);
    for (int64_t u : pc.capacity_units) pcKey << ',' << u;
    const size_t P = s.policies.size();
    r.policies.resize(P);
    std::vector<double> placeMs(P, 0), timeMs(P, 0);
    std::vector<int> placed(P, 0), timed(P, 0);
    // What score-based policies observe (ObserveScores::Read) is the same for all of them:
    // computed once when some placement is not cached.
    std::vector<std::string> placementKeys(P);
    bool placing = false;
    for (size_t i = 0; i < P; ++i) {
        const PolicySpec& spec = s.policies[i];
        const PolicyEntry& entry = findPolicy(spec.name);
        r.policies[i].info = entry.info;
        r.policies[i].params = resolveParams(entry.info, spec.params, "policies[" + std::to_string(i) + "]");
        std::ostringstream key;
        key.precision(17);
        key << sKey << '|' << pcKey.str() << '|' << spec.name;
        for (const auto& [k, v] : r.policies[i].params) key << ',' << k << '=' << v;
        placementKeys[i] = key.str();
        placing = placing || !d->placements.get(placementKeys[i]);
    }
    ObservedScores observed;
    if (placing && s.observe_scores == ObserveScores::Read) {
        auto tp = Clock::now();
        observed = observedScores(*r.selection, job);
        job.check();
        r.stats.place_ms += msSince(tp);
    }
    // One task per policy, plus one for the trace's relevance statistics when they are
    // not cached: they depend on the selection only and run beside the placements.
    parallelFor(size_t(0), P + 1, [&](size_t i) {
        if (i == P) {
            if (!r.relevance) {
                r.relevance = std::make_shared<const RelevanceStats>(relevanceStats(*r.selection, 256, job));
                d->relevance.put(sKey, r.relevance);
            }
            return;
        }
        const PolicyEntry& entry = findPolicy(s.policies[i].name);
        PolicyOutcome& out = r.policies[i];
        const std::string& key = placementKeys[i];
        out.placement_key = key;
        auto tp = Clock::now();
        out.placement = d->placements.get(key);
        if (!out.placement) {
            out.placement = std::make_shared<const PlacementResult>(
                runPlacement(*r.selection, entry, out.params, pc, job, placing ? &observed : nullptr));
            d->placements.put(key, out.placement);
            placed[i] = 1;
        }
        placeMs[i] = msSince(tp);
        tp = Clock::now();
        const std::string tk = key + '|' + tcKey;
        out.timing = d->timings.get(tk);
        if (!out.timing) {
            out.timing = std::make_shared<const TimingResult>(computeTiming(*r.selection, *out.placement, tc, job));
            d->timings.put(tk, out.timing);
            timed[i] = 1;
        }
        timeMs[i] = msSince(tp);
        out.gapToBound = r.balanced->total_time > 0 ? out.timing->total_time / r.balanced->total_time : 1.0;
    }, job);
    for (size_t i = 0; i < P; ++i) {
        r.stats.place_ms += placeMs[i];
        r.stats.time_ms += timeMs[i];
        r.stats.placements_computed += placed[i];
        r.stats.timings_computed += timed[i];
    }
    if (s.bounds.migration_aware.enabled) heavyBounds(s, r, pc, tc, sKey + '|' + pcKey.str() + '|' + tcKey, job);
    job.report(1.0);
    r.stats.total_ms = msSince(t0);
    return r;
}

// ---- size limits -----------------------------------------------------------------------

namespace {

int64_t unitsOf(const TraceMeta& meta, int64_t pageTokens)
{
    // P + T <= 2^32 and g >= 1 (TraceStore and validate(SelectionConfig) check both), so
    // neither the sum nor the product with L <= kMaxLayers can overflow.
    const int64_t pages = (meta.prefill + meta.steps + pageTokens - 1) / pageTokens;
    return pages * meta.layerSlots();
}

} // namespace

double analysisBytesEstimate(const TraceMeta& meta, int64_t entries, const Scenario& s)
{
    // Rough, for messages: the trace and its selection (index + value per entry, offsets
    // per record), per-record traffic per tier, and per-unit state of the placement and
    // of the policies running at once (about 40 bytes each) plus two bytes per unit of
    // every kept result.
    const auto units = static_cast<double>(unitsOf(meta, std::max<int64_t>(s.selection.page_tokens, 1)));
    const auto records = static_cast<double>(meta.recordCount());
    const auto policies = static_cast<double>(s.policies.size());
    const auto tiers = static_cast<double>(s.hardware.tiers.size());
    return 16.0 * static_cast<double>(entries) + records * (32.0 + 48.0 * tiers * policies) +
           units * (24.0 + 40.0 * std::min(policies, 4.0) + 2.0 * policies);
}

void checkLayersMatch(const TraceMeta& meta, const Scenario& s)
{
    if (meta.layer_mode == LayerMode::PerLayer && meta.layers != s.model.layers)
        throw InputError("model.layers", "the per-layer trace '" + meta.name + "' has " + std::to_string(meta.layers) +
                                             " layers but the model has " + std::to_string(s.model.layers) +
                                             "; choose a model with as many layers");
}

void checkAnalysisSize(const Trace& trace, const Scenario& s)
{
    const TraceMeta& meta = trace.meta();
    const int64_t units = unitsOf(meta, std::max<int64_t>(s.selection.page_tokens, 1));
    if (units > kMaxAnalysisUnits)
        throw InputError(s.trace_db + " trace '" + meta.name + "'",
                         "the analysis needs " + std::to_string(units) + " KV units (pages x layer slots, P = " +
                             std::to_string(meta.prefill) + ", T = " + std::to_string(meta.steps) + ", page_tokens = " +
                             std::to_string(s.selection.page_tokens) + "); the limit is " +
                             std::to_string(kMaxAnalysisUnits) + " (use larger pages: selection.page_tokens)");
}

} // namespace kvtier
