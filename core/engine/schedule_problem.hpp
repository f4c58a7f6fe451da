#pragma once
// The exclusive-placement problem of MODEL.md §5 in the form the migration-aware bound,
// its repair and the annealer share: per unit its creation step, size and read events,
// per layer-step (row) the fixed weight traffic, and the engine's time of a row from its
// per-tier token traffic. Built once per (selection, timing config, capacities).
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
    int64_t units = 0;
    std::vector<int32_t> created;           // per unit: creation step, -1 for prefill units
    Csr<ReadEvent> reads;                   // row u: the unit's reads, by step

    int64_t steps() const { return layout.steps; }
    int32_t slotCount() const { return layout.slot_count; }
    size_t row(int64_t t, int32_t slot) const {
        return static_cast<size_t>(t) * static_cast<size_t>(layout.slot_count) + static_cast<size_t>(slot);
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

// Throws InputError when the problem is beyond the sizes the bound handles
// (units x checkpoints above kMaxScheduleCells).
ScheduleProblem makeScheduleProblem(const Selection& selection, const TimingConfig& config,
                                    const std::vector<int64_t>& capacityUnits);

// Dense per-(unit, checkpoint) state is kept by the repair and the annealer.
inline constexpr int64_t kMaxScheduleCells = int64_t{1} << 31;

} // namespace kvtier
