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

} // namespace kvtier
