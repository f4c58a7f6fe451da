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
    // The stored entry count is all the estimate needs: no pass over the records.
    const TraceSummary sum = store->describe(s.trace_name);
    return analysisBytesEstimate(sum.meta, sum.entries, s);
}

bool holdsStepLists(const AnalysisResult& r)
{
    if (!r.trace || !r.selection) return false;
    return r.trace->complete() && r.selection->first_step == 0 &&
           r.selection->endStep() == r.selection->layout.steps;
}

} // namespace kvtier
