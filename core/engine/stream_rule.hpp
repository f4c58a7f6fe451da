#pragma once
// When to stream (docs/GUI.md "Streamed analysis", docs/PERFORMANCE.md): the whole-trace
// pipeline's memory estimate (analysisBytesEstimate, the number its "too large for
// memory" message gives) against a budget, decided from the stored trace's summary
// before any record is read. And whether a result holds what only the whole-trace
// pipeline keeps (the per-step lists), so views can say plainly what a streamed run lacks.
#include "core/engine/pipeline.hpp"
#include "core/engine/stream_analysis.hpp"
#include "core/model/cancel.hpp"
#include "core/model/scenario.hpp"

#include <cstdint>

namespace kvtier {

// The machine's physical memory in bytes; 0 when the system does not say.
double physicalMemoryBytes();

// The default budget of a whole-trace analysis: half the physical memory (the estimate is
// rough and the machine runs other things), 8 GB when the memory is unknown.
double defaultWholeTraceBudget();

// analysisBytesEstimate of the scenario's stored trace, read from its summary (no record
// is loaded). Throws InputError when the database or the trace cannot be read.
double wholeTraceBytes(const Scenario& s);

// The rule: stream when the whole-trace estimate exceeds the budget.
inline bool needsStreaming(double wholeBytes, double budgetBytes) { return wholeBytes > budgetBytes; }

// True when the result holds every step's selection lists and trace records (what
// Pipeline::run keeps); false for a streamed analysis (layout, metadata and totals only),
// whose token timelines, per-layer step breakdowns and full-resolution heatmaps cannot be
// computed from it.
bool holdsStepLists(const AnalysisResult& r);

// The steps per window analyzeStreamed takes for this scenario and options (their
// window_steps, else streamWindowSteps of the stored trace's entries per step, its rows per
// step, the scenario's online policies and tiers within window_bytes), at most T, at least
// 1. Reads the summary only; throws InputError when the trace cannot be read.
struct StreamWindow {
    int64_t window_steps = 1;   // steps per window
    int64_t steps = 0;          // T, the trace's steps
};
StreamWindow streamWindowOf(const Scenario& s, const StreamOptions& options);

// A JobControl for analyzeStreamed with windows of `windowSteps` of `steps` steps: the same
// cancel flag, and progress that passes on the stream's own reports only, the end of each
// window (min(k x windowSteps, steps) / steps) in order. The stages inside a window report
// their own fractions through the control they are given (a window's selection 0.5 and 1);
// passed on, those would make the fraction jump back and forth.
JobControl windowProgress(const JobControl& job, int64_t windowSteps, int64_t steps);

} // namespace kvtier
