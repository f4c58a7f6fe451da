#pragma once
// View data: does the whole KV cache fit in the fastest tier? Then every policy keeps
// everything in HBM and shows the same time; the explorer says so, with the batch above
// which placement starts to matter (from the capacity plan, planCapacity).
#include "core/engine/pipeline.hpp"

#include <cstdint>
#include <string>

namespace kvtier {

struct FastTierFit {
    bool fits = false;             // the KV of every sequence, at the end of the run, fits in tier 0
    std::string tier;              // tier 0's name
    double kv_bytes_needed = 0;    // all sequences, end of the run
    double fast_kv_bytes = 0;      // tier 0's room for KV (capacity - weights - reserve)
    // The largest batch whose KV still fits in tier 0 (0 when not even one sequence fits).
    // Placement decides the speed above it.
    int64_t max_fitting_batch = 0;
};

// From the scenario and its capacity plan (the plan is per scenario and batch).
FastTierFit fastTierFit(const Scenario& s, const CapacityPlan& plan);
// "The KV cache (12.3 GB) fits in HBM (80.0 GB free): every policy keeps it there; raise
// batch above 156 or lower HBM's capacity to see placement matter." Empty when it does not fit.
std::string fastTierFitNote(const FastTierFit& f, int64_t batch);

} // namespace kvtier
