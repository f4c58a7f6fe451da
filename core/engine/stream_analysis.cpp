#include "core/engine/stream_analysis.hpp"

#include "core/engine/expert_placement.hpp"
#include "core/engine/future_spill.hpp"
#include "core/engine/migration_bound_windowed.hpp"
#include "core/engine/selection.hpp"
#include "core/model/error.hpp"
#include "core/store/trace_store.hpp"
#include "core/support/parallel.hpp"

#include <algorithm>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <chrono>
#include <cmath>
#include <ctime>
#include <functional>
#include <future>
#include <limits>
#include <memory>

namespace kvtier {

namespace {

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// CPU time of the calling thread, in ms: a policy's share of a parallel window, which its
// wall time would mix with the other tasks' and programs'.
double threadCpuMs()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// Bytes a window takes per stored entry (PERFORMANCE.md "Streamed analysis"). Counted: the
// record (index and value, 8 B), held twice while the next window is read beside the one
// being analysed; the scored units with their sum and max (12 B); the selected tokens,
// pages and read units (12 B), built in per-block parts and then copied (x 2): 52 B. The
// resident set measured on per-layer traces grows by about twice that per entry of the
// window (arrays grown by doubling, freed pages the allocator keeps between windows), so
// the model uses the measured figure: a budget of B bytes then costs about B.
constexpr double kBytesPerEntry = 112.0;
// Per (step, sequence, layer) row: offsets of the record and the selection's lists, read
// tokens; per (step, layer, tier) of each policy: its traffic (5 doubles).
constexpr double kBytesPerRow = 2 * 8.0 + 3 * 8.0 + 8.0;
constexpr double kBytesPerPolicyRowTier = 5 * 8.0;

// Reads the next `steps` steps (or what is left) of the trace into `window`.
void readWindow(TraceReader& reader, const std::string& path, Trace& window, int64_t first, int64_t steps, Record& rec,
                const JobControl& job)
{
    window.startWindow(first);
    const TraceMeta& m = window.meta();
    const int64_t records = std::min(steps, m.steps - first) * m.layerSlots() * m.sequenceCount();
    for (int64_t k = 0; k < records; ++k) {
        if ((k & 1023) == 0) job.check();
        if (!reader.next(rec))
            throw InputError("trace '" + m.name + "'", "ended after " + std::to_string(window.recordCount()) +
                                                          " records of the window from step " + std::to_string(first));
        try {
            window.append(rec);
        } catch (const InputError& e) {
            throw InputError(path + " " + e.where(), e.problem());   // as TraceStore::load names it
        }
    }
}

// Reads the trace a window of `windowSteps` steps at a time, the next window on its own
// thread while analyse(window) runs on the current one, then calls windowDone(steps read
// so far), in order. A reader's InputError is rethrown; whatever happens, the reader is
// joined before its window or record go away. Returns the reading's milliseconds.
template <class Analyse, class WindowDone>
double forEachWindow(const TraceStore& store, const std::string& name, const TraceMeta& meta, int64_t windowSteps,
                     const JobControl& job, const Analyse& analyse, const WindowDone& windowDone)
{
    const auto reader = store.reader(name);
    Trace windows[2] = {Trace(meta), Trace(meta)};
    Record rec;
    const int64_t T = meta.steps;
    const auto t = Clock::now();
    if (T > 0) readWindow(*reader, store.path(), windows[0], 0, windowSteps, rec, job);
    double readMs = msSince(t);
    for (int64_t first = 0, w = 0; first < T; first += windowSteps, ++w) {
        job.check();
        Trace& next = windows[(w + 1) & 1];
        const int64_t nextFirst = first + windowSteps;
        std::future<double> reading;
        if (nextFirst < T)
            reading = std::async(std::launch::async, [&, nextFirst] {
                const auto tr = Clock::now();
                readWindow(*reader, store.path(), next, nextFirst, windowSteps, rec, job);
                return msSince(tr);
            });
        struct Join {
            std::future<double>& f;
            ~Join() { if (f.valid()) f.wait(); }
        } join{reading};
        analyse(windows[w & 1]);
        if (reading.valid()) readMs += reading.get();
        windowDone(std::min(nextFirst, T));
    }
    return readMs;
}

void spillFuture(const TraceStore& store, const Scenario& s, const TraceMeta& meta, int64_t windowSteps,
                 FutureSpill& spill, const JobControl& cancel, const std::function<void(double)>& progress)
{
    const JobControl job{cancel.cancel, {}};   // the stages' own progress is not the pre-pass's
    SelectionBuffers selectionBuffers;
    const auto T = static_cast<double>(meta.steps);
    forEachWindow(
        store, s.trace_name, meta, windowSteps, job,
        [&](const Trace& window) {
            Selection sel = computeSelection(window, s.selection, selectionBuffers, job);
            job.check();
            spill.add(sel, job);
            selectionBuffers.recycle(std::move(sel));
        },
        [&](int64_t done) { progress(static_cast<double>(done) / T); });
    spill.finish(job);
    job.check();
}

} // namespace

namespace {

// What one step of a window takes, by the model above.
double windowBytesPerStep(double entriesPerStep, int64_t rowsPerStep, size_t policies, int32_t tiers)
{
    return kBytesPerEntry * std::max(0.0, entriesPerStep) +
           static_cast<double>(rowsPerStep) * (kBytesPerRow + kBytesPerPolicyRowTier * static_cast<double>(policies) * tiers);
}

} // namespace

int64_t streamWindowSteps(double entriesPerStep, int64_t rowsPerStep, size_t policies, int32_t tiers, int64_t bytes)
{
    const double perStep = windowBytesPerStep(entriesPerStep, rowsPerStep, policies, tiers);
    const double steps = std::floor(static_cast<double>(std::max<int64_t>(bytes, 0)) / std::max(perStep, 1.0));
    return std::max<int64_t>(1, static_cast<int64_t>(std::min(steps, 1e12)));
}

StreamedAnalysis analyzeStreamed(const Scenario& s, const StreamOptions& options, const JobControl& caller)
{
    // The stages get the caller's cancel flag but not its progress: each reports its own
    // fractions, which would run back and forth once per window. The caller hears of
    // whole windows only (below), in order.
    const JobControl job{caller.cancel, {}};
    const auto start = Clock::now();
#if defined(__GLIBC__)
    // A window's arrays are allocated and freed once per window, by several threads. glibc
    // raises its mmap threshold to the size of each freed block, after which such arrays
    // come from per-thread heaps that keep their freed pages: the resident set then grows
    // to about twice the windows' need (docs/PERFORMANCE.md "Streamed analysis"). A fixed
    // threshold keeps every large array in its own mapping, returned when freed.
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
#endif
    StreamedAnalysis out;
    AnalysisResult& r = out.result;
    StreamReport& rep = out.report;
    r.scenario = s;

    // Everything that can be refused is refused before a record is read.
    if (s.bounds.annealed.enabled)
        throw InputError("bounds.annealed", "anneals a schedule of the whole trace at once; a streamed analysis "
                                            "cannot run it (it runs the windowed migration-aware bound)");
    if (s.model.experts > 0 && s.experts.policy == ExpertPolicy::Joint)
        throw InputError("experts.policy", "joint chooses its budget from the whole selection; a streamed analysis "
                                           "cannot run it (choose another expert policy)");
    if (s.policies.empty()) throw InputError("policies", "no policy chosen");
    // Every policy runs: the oracles on their feed of the future (below).
    std::vector<size_t> chosen;
    bool oracles = false;
    for (size_t i = 0; i < s.policies.size(); ++i) {
        chosen.push_back(i);
        oracles = oracles || !findPolicy(s.policies[i].name).info.online;
    }

    const auto store = TraceStore::open(s.trace_db, TraceStore::Mode::ReadOnly);
    const TraceSummary summary = store->describe(s.trace_name);
    const TraceMeta& meta = summary.meta;
    checkLayersMatch(meta, s);
    auto header = std::make_shared<Trace>(meta);
    checkAnalysisSize(*header, s);
    std::shared_ptr<const ExpertSets> experts;
    if (store->experts(s.trace_name) > 0) experts = std::make_shared<const ExpertSets>(store->loadExperts(s.trace_name));
    if (s.model.experts > 0)
        checkExpertsMatch(experts ? *experts : ExpertSets{}, s.model, s.trace_db + " trace '" + meta.name + "'");
    if (experts) header->setExperts(*experts);
    r.trace = header;

    auto layoutOnly = std::make_shared<Selection>();
    layoutOnly->config = s.selection;
    validate(s.selection);
    layoutOnly->layout = unitLayoutOf(meta, s.selection.page_tokens);
    layoutOnly->experts = experts;
    const UnitLayout& layout = layoutOnly->layout;
    r.selection = layoutOnly;
    const TimingConfig tc = s.timingConfig();
    r.capacity = planCapacity(s, layout, tc);
    const PlacementConfig pc{s.inclusive, r.capacity.units, s.observe_scores};
    if (s.bounds.migration_aware.enabled) checkMigrationBound(tc, pc);

    // Steps per window, by the model of PERFORMANCE.md.
    const int64_t T = meta.steps;
    const int64_t rowsPerStep = int64_t{meta.layerSlots()} * meta.sequenceCount();
    const double entriesPerStep = T > 0 ? static_cast<double>(summary.entries) / static_cast<double>(T) : 0.0;
    const auto tiers = static_cast<int32_t>(s.hardware.tiers.size());
    rep.window_steps = options.window_steps > 0
                           ? options.window_steps
                           : streamWindowSteps(entriesPerStep, rowsPerStep, chosen.size(), tiers, options.window_bytes);
    rep.window_steps = std::min<int64_t>(rep.window_steps, std::max<int64_t>(T, 1));
    rep.window_bytes_estimate = static_cast<double>(rep.window_steps) *
                                windowBytesPerStep(entriesPerStep, rowsPerStep, chosen.size(), tiers);

    // The policies, their timings and the bounds, each carried from window to window. The
    // online policies are built first, so that what can be refused is refused before the
    // oracles' pre-pass reads the trace.
    std::unique_ptr<FutureSpill> spill;                 // the oracles' future, when there are oracles
    std::vector<std::unique_ptr<FutureReads>> feeds;   // one per oracle; outlive the placements
    std::vector<std::unique_ptr<PlacementStream>> placements(chosen.size());
    for (size_t k = 0; k < chosen.size(); ++k) {
        const size_t i = chosen[k];
        const PolicySpec& spec = s.policies[i];
        const PolicyEntry& entry = findPolicy(spec.name);
        PolicyOutcome o;
        o.info = entry.info;
        o.params = resolveParams(entry.info, spec.params, "policies[" + std::to_string(i) + "]");
        if (entry.info.online) placements[k] = std::make_unique<PlacementStream>(layout, entry, o.params, pc);
        r.policies.push_back(std::move(o));
    }
    // A policy that places exactly as another the scenario runs (on one sequence: lru-fair
    // and lru-demand are lru, PolicyInfo::same_on_one_sequence) is not run again: it takes
    // that one's placement and timing at the end.
    std::vector<size_t> runAs(chosen.size());
    for (size_t k = 0; k < chosen.size(); ++k) {
        runAs[k] = k;
        const std::string& same = r.policies[k].info.same_on_one_sequence;
        if (layout.sequences() != 1 || same.empty()) continue;
        for (size_t j = 0; j < k; ++j)
            if (runAs[j] == j && r.policies[j].info.name == same) {
                runAs[k] = j;
                placements[k].reset();
                break;
            }
    }
    std::vector<size_t> running;   // the placements that run
    for (size_t k = 0; k < chosen.size(); ++k)
        if (runAs[k] == k) running.push_back(k);
    std::unique_ptr<RelevanceGridStream> relevanceGrid;
    if (options.relevance_grid) relevanceGrid = std::make_unique<RelevanceGridStream>(meta, *options.relevance_grid);
    // Per policy, the placement heatmaps pooled from its windows.
    std::vector<std::vector<std::pair<size_t, std::unique_ptr<PlacementGridStream>>>> grids(chosen.size());
    for (size_t g = 0; g < options.placement_grids.size(); ++g) {
        const auto& want = options.placement_grids[g];
        size_t k = 0;
        while (k < chosen.size() && s.policies[chosen[k]].name != want.policy) ++k;
        if (k == chosen.size())
            throw InputError("policy '" + want.policy + "'",
                             "is not among the policies of the scenario, so a streamed analysis has no placement "
                             "of it to draw");
        grids[k].emplace_back(g, std::make_unique<PlacementGridStream>(layout, want.policy, want.window));
    }

    // Only a placement heatmap replays a window's moves: the other placements do not list them.
    const auto drawn = [&](size_t k) {
        for (size_t a = 0; a < grids.size(); ++a)
            if (runAs[a] == k && !grids[a].empty()) return true;
        return false;
    };
    // The oracles' future: a pre-pass writes every read's next read to a spill file, which
    // each oracle then reads ahead of its steps (future_spill.hpp). It takes the first half
    // of the progress.
    const auto progress = [&](double f) { caller.report(oracles ? 0.5 + 0.5 * f : f); };
    if (oracles) {
        const auto t0 = Clock::now();
        spill = std::make_unique<FutureSpill>(layout, options.spill_dir, options.spill_chunk_entries);
        rep.spill_path = spill->path();
        spillFuture(*store, s, meta, rep.window_steps, *spill, job, [&](double f) { caller.report(0.5 * f); });
        rep.spill_bytes = spill->bytes();
        rep.prepass_ms = msSince(t0);
        for (size_t k = 0; k < chosen.size(); ++k) {
            if (placements[k] || runAs[k] != k) continue;   // built already, or run as another
            const PolicyEntry& entry = findPolicy(s.policies[chosen[k]].name);
            feeds.push_back(spill->feed());
            placements[k] = std::make_unique<PlacementStream>(layout, entry, r.policies[k].params, pc, feeds.back().get());
        }
    }
    std::vector<std::unique_ptr<TimingStream>> timings(placements.size());
    for (size_t k : running) {
        placements[k]->recordMoves(drawn(k));
        timings[k] = std::make_unique<TimingStream>(layout, experts.get(), placements[k]->result(), tc, job);
    }
    BoundStream bounds(layout, tc);
    // The migration-aware bound, window by window (docs/BOUNDS.md "Windows").
    std::unique_ptr<MigrationBoundStream> migration;
    if (s.bounds.migration_aware.enabled)
        migration = std::make_unique<MigrationBoundStream>(T, T > 0 ? (T + rep.window_steps - 1) / rep.window_steps : 0,
                                                           tc, pc, s.bounds.migration_aware);

    rep.policy_cpu_ms.assign(chosen.size(), 0.0);
    // The next window is read on its own thread while this one is analysed.
    SelectionBuffers selectionBuffers;   // one window's selection after another, in the same arrays
    rep.read_ms += forEachWindow(
        *store, s.trace_name, meta, rep.window_steps, job,
        [&](const Trace& now) {
            auto t = Clock::now();
            Selection sel = computeSelection(now, s.selection, selectionBuffers, job);
            job.check();
            sel.experts = experts;
            // What the policies observe (ObserveScores::Read), once for all of them.
            ObservedScores observed;
            if (s.observe_scores == ObserveScores::Read) observed = observedScores(sel, job);
            job.check();
            rep.select_ms += msSince(t);

            t = Clock::now();
            // One task per policy (its placement, timing and heatmaps), one for the relevance
            // heatmap, one for the bounds (they need the selection only).
            double boundMs = 0;
            parallelFor(size_t(0), running.size() + 2, [&](size_t i) {
                if (i == running.size()) {
                    if (relevanceGrid) relevanceGrid->add(now, sel, job);
                    return;
                }
                if (i == running.size() + 1) {
                    const auto tb = Clock::now();
                    bounds.add(sel, job);
                    boundMs = msSince(tb);
                    return;
                }
                const size_t k = running[i];
                const double cpu = threadCpuMs();
                const PlacementResult& p = placements[k]->run(sel, &observed, job);
                timings[k]->add(sel, p, job);
                for (size_t a = k; a < grids.size(); ++a)   // its own heatmaps and those of policies run as it
                    if (runAs[a] == k)
                        for (auto& [g, grid] : grids[a]) grid->add(sel, p, job);
                rep.policy_cpu_ms[k] += threadCpuMs() - cpu;   // one task per policy and window
            }, job);
            job.check();
            rep.place_ms += msSince(t);   // the bounds' time is within it, and reported on its own too
            rep.bound_ms += boundMs;
            if (migration) {
                // After the window's placements and timings: its steps aim at the least time
                // a policy took over the window.
                t = Clock::now();
                double achievable = std::numeric_limits<double>::infinity();
                for (const auto& timing : timings)   // null for a policy run as another
                    if (timing) achievable = std::min(achievable, timing->time(sel.first_step, sel.endStep()));
                migration->add(sel, bounds.balancedTime(sel.first_step, sel.endStep()), achievable, job);
                job.check();
                rep.migration_bound_ms += msSince(t);
            }
            selectionBuffers.recycle(std::move(sel));
        },
        [&](int64_t done) {
            ++rep.windows;
            progress(static_cast<double>(done) / static_cast<double>(T));
        });

    r.balanced = std::make_shared<const BoundResult>(bounds.finishBalanced());
    r.paper = std::make_shared<const BoundResult>(bounds.finishPaper());
    for (size_t i : running) {
        PolicyOutcome& o = r.policies[i];
        const PlacementResult& p = placements[i]->result();
        o.timing = std::make_shared<const TimingResult>(timings[i]->finish(p));
        // The placement's totals and per-unit tiers; its per-step arrays held only the last window.
        auto kept = std::make_shared<PlacementResult>(p);
        kept->traffic.clear();
        kept->fast_units.clear();
        kept->sequence_step.clear();
        kept->moves = {};
        o.placement = kept;
        o.gapToBound = r.balanced->total_time > 0 ? o.timing->total_time / r.balanced->total_time : 1.0;
    }
    for (size_t i = 0; i < r.policies.size(); ++i) {
        if (runAs[i] == i) continue;
        PolicyOutcome& o = r.policies[i];
        const PolicyOutcome& same = r.policies[runAs[i]];
        auto kept = std::make_shared<PlacementResult>(*same.placement);
        kept->policy = o.info.name;
        kept->params = o.params;
        o.placement = kept;
        o.timing = same.timing;
        o.gapToBound = same.gapToBound;
    }
    if (migration) {
        // The certificate: the fastest of the policies the stream ran (each an achievable
        // exclusive placement, timed by the engine).
        const PolicyOutcome* best = nullptr;
        for (const PolicyOutcome& o : r.policies)
            if (!best || o.timing->total_time < best->timing->total_time) best = &o;
        ScheduleOutcome schedule{"migration-aware schedule", nullptr, best->placement, best->timing};
        r.migration_bound = std::make_shared<const MigrationBoundResult>(
            migration->finish(*r.balanced, std::move(schedule), "policy " + best->info.name));
        r.stats.migration_bound_ms = rep.migration_bound_ms;
        r.stats.heavy_bounds_computed = 1;
    }
    if (relevanceGrid) out.relevance_grid = relevanceGrid->finish();
    out.placement_grids.resize(options.placement_grids.size());
    for (auto& perPolicy : grids)
        for (auto& [g, grid] : perPolicy) out.placement_grids[g] = grid->finish();
    r.stats.load_ms = rep.read_ms;
    r.stats.select_ms = rep.select_ms;
    r.stats.place_ms = rep.place_ms;
    r.stats.bound_ms = rep.bound_ms;
    rep.total_ms = r.stats.total_ms = msSince(start);
    caller.report(1.0);
    return out;
}

} // namespace kvtier
