#pragma once
// The exclusive-placement problem of MODEL.md §5 in the form the migration-aware bound,
// its repair and the annealer share: per unit its creation step, size and read events,
// per layer-step (row) the fixed weight traffic, and the engine's time of a row from its
// per-tier token traffic. Built once per (selection, timing config, capacities): over the
// whole run, or over a window of steps [first_step, end_step) of a streamed analysis
// (makeWindowScheduleProblem), whose units' placement at the window's start is free.
#include "core/model/hardware.hpp"
#include "core/model/selection.hpp"
#include "core/model/timing_config.hpp"

#include <cstdint>
#include <vector>

namespace kvtier {

struct ReadEvent {
    int32_t t = 0;        // step
    int32_t tokens = 0;   // tokens of the page read (MODEL.md §2: a read page costs all its tokens)
};

struct ScheduleProblem {
    UnitLayout layout;
    int32_t tiers = 0;
    std::vector<Tier> tier;                 // the hardware's tiers
    std::vector<int64_t> capacity_units;    // per tier, units (planCapacity)
    std::vector<double> weights;            // weight bytes per layer on each tier
    double bytes_per_token = 0;             // kappa x batch
    double layer_factor = 1;                // L for aggregated traces, else 1
    double floor_s = 0;                     // compute floor per layer-step
    // The steps the problem holds: the whole run (0, layout.steps), or a window. Units are
    // those that exist by end_step; their checkpoints are the ends of steps first_step - 1
    // .. end_step - 1 (checkpoint k: the end of step first_step + k - 1).
    int64_t first_step = 0, end_step = 0;
    int64_t units = 0;
    // Per unit: creation step, first_step - 1 for a unit that exists before the problem's
    // first step (-1: the prefill units of a whole run); its place then is free.
    std::vector<int32_t> created;
    Csr<ReadEvent> reads;                   // row u: the unit's reads within the steps held, by step

    int64_t steps() const { return end_step - first_step; }
    int32_t slotCount() const { return layout.slot_count; }
    // The row of (step t of the run, slot), counted from first_step.
    size_t row(int64_t t, int32_t slot) const {
        return static_cast<size_t>(t - first_step) * static_cast<size_t>(layout.slot_count) + static_cast<size_t>(slot);
    }
    // Tokens a migration of unit u at step t moves (its tokens that exist at step t).
    int64_t sizeAt(uint32_t u, int64_t t) const { return layout.unitTokens(u, t); }
    // Does step t write its new token (its sequence's) into unit u?
    bool writesAt(uint32_t u, int64_t t) const
    {
        return (layout.prefillOf(layout.sequenceOf(u)) + t) / layout.page_tokens == layout.pageOf(u);
    }
    // Seconds one layer-step row adds to the total (x L for aggregated traces), given its
    // KV token traffic per tier: `read` = selected reads + migrations out, `write` = new
    // token + migrations in. The same operations as computeTiming (exclusive, home route).
    double rowTime(const int64_t* kvRead, const int64_t* migRead, const int64_t* write, const int64_t* migWrite) const;
};

// Throws the InputErrors of a configuration the problem cannot model: tiers (1 to 16,
// each with a capacity) and a model with experts.
void checkScheduleProblem(const TimingConfig& config, const std::vector<int64_t>& capacityUnits);

// Throws InputError when the problem is beyond the sizes the bound handles
// (units x checkpoints above kMaxScheduleCells).
ScheduleProblem makeScheduleProblem(const Selection& selection, const TimingConfig& config,
                                    const std::vector<int64_t>& capacityUnits);

// The problem of the steps a window selection holds (a streamed analysis's window, steps
// window.first_step .. window.endStep() - 1; or a whole selection), for the windowed
// migration-aware bound (docs/BOUNDS.md "Windows"). Its size is the window's, so it has no
// kMaxScheduleCells limit (only the relaxation uses it: no dense per-(unit, checkpoint)
// state). Throws InputError as makeScheduleProblem does for the tiers and experts.
ScheduleProblem makeWindowScheduleProblem(const Selection& window, const TimingConfig& config,
                                          const std::vector<int64_t>& capacityUnits);

// Dense per-(unit, checkpoint) state is kept by the repair and the annealer.
inline constexpr int64_t kMaxScheduleCells = int64_t{1} << 31;

} // namespace kvtier
