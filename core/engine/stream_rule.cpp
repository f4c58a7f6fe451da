#include "core/engine/stream_rule.hpp"

#include "core/policies/policy.hpp"
#include "core/store/trace_store.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>

#include <unistd.h>

namespace kvtier {

double physicalMemoryBytes()
{
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long size = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || size <= 0) return 0;
    return static_cast<double>(pages) * static_cast<double>(size);
}

double defaultWholeTraceBudget()
{
    const double memory = physicalMemoryBytes();
    return memory > 0 ? memory / 2 : 8e9;
}

double wholeTraceBytes(const Scenario& s)
{
    const auto store = TraceStore::open(s.trace_db, TraceStore::Mode::ReadOnly);
    const TraceSummary sum = store->get(s.trace_name);
    return analysisBytesEstimate(sum.meta, sum.entries, s);
}

bool holdsStepLists(const AnalysisResult& r)
{
    if (!r.trace || !r.selection) return false;
    return r.trace->complete() && r.selection->first_step == 0 &&
           r.selection->endStep() == r.selection->layout.steps;
}

StreamWindow streamWindowOf(const Scenario& s, const StreamOptions& options)
{
    const auto store = TraceStore::open(s.trace_db, TraceStore::Mode::ReadOnly);
    const TraceSummary sum = store->get(s.trace_name);
    const TraceMeta& meta = sum.meta;
    const int64_t T = meta.steps;
    size_t online = 0;
    for (const PolicySpec& p : s.policies)
        if (findPolicy(p.name).info.online) ++online;
    const int64_t rowsPerStep = int64_t{meta.layerSlots()} * meta.sequenceCount();
    const double entriesPerStep = T > 0 ? static_cast<double>(sum.entries) / static_cast<double>(T) : 0.0;
    const int64_t w = options.window_steps > 0
                          ? options.window_steps
                          : streamWindowSteps(entriesPerStep, rowsPerStep, online,
                                              static_cast<int32_t>(s.hardware.tiers.size()), options.window_bytes);
    return {std::min<int64_t>(w, std::max<int64_t>(T, 1)), T};
}

JobControl windowProgress(const JobControl& job, int64_t windowSteps, int64_t steps)
{
    JobControl out;
    out.cancel = job.cancel;
    if (!job.progress) return out;
    const int64_t W = std::max<int64_t>(windowSteps, 1), T = std::max<int64_t>(steps, 0);
    auto done = std::make_shared<std::atomic<int64_t>>(0);   // steps of the windows reported
    out.progress = [progress = job.progress, done, W, T](double f) {
        const double at = f * static_cast<double>(T);
        const auto k = static_cast<int64_t>(std::llround(at));
        if (std::abs(at - static_cast<double>(k)) > 1e-6) return;   // not a whole step: a stage's own fraction
        int64_t before = done->load();
        if (k != std::min(before + W, T) && !(k == T && before == T)) return;
        if (done->compare_exchange_strong(before, k)) progress(f);
    };
    return out;
}

} // namespace kvtier
