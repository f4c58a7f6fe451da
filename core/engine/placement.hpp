#pragma once
// Stage 2 of the pipeline (MODEL.md §5): run one policy over the steps and record, per
// (step, layer slot, tier), the KV traffic in *tokens* (per sequence, per layer). The
// timing stage turns tokens into bytes (x kappa x batch) and bytes into time, so a
// bandwidth change re-times without re-placing.
#include "core/model/cancel.hpp"
#include "core/model/placement_config.hpp"
#include "core/policies/policy.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace kvtier {

// Token traffic of one (step, slot, tier).
struct SlotTraffic {
    double kv_read = 0;    // selected KV read from this tier (route fixed)
    double flex_read = 0;  // inclusive only, tiers >= 1: reads of units with a copy here and in
                           // tier 0; route "home" serves them from tier 0, "balanced" splits
    double write = 0;      // the new token's KV
    double mig_read = 0;   // migrations out of this tier
    double mig_write = 0;  // migrations into this tier
};

struct Move {
    uint32_t unit;
    uint8_t from, to;      // inclusive mode: a promotion is (home -> 0), a dropped copy (0 -> home)
};

struct PlacementResult {
    std::string policy;
    bool online = true;
    PolicyParams params;
    PlacementConfig config;
    UnitLayout layout;
    int32_t tiers = 0;
    std::vector<SlotTraffic> traffic;     // index (row(t, slot) * tiers + m)
    std::vector<uint8_t> created_tier;    // per unit: fastest tier holding it when created
    std::vector<uint8_t> home_tier;       // per unit: inclusive: its lower copy; exclusive: = created tier
    Csr<Move> moves;                      // row t: moves applied at the start of step t
    std::vector<int64_t> fast_units;      // per step: units in tier 0 after the step's migrations
    double migrated_tokens = 0;           // per layer slot, summed
    // A batch's per-sequence books (MODEL.md §8), empty for one sequence; tokens per layer
    // slot, summed over slots. Reads count where the unit is (tier 0 when it has a copy
    // there, whatever the route).
    int32_t sequences = 1;
    std::vector<double> sequence_read;      // s * tiers + m: KV tokens sequence s read from tier m
    std::vector<double> sequence_migrated;  // per s: tokens of its units moved
    std::vector<double> sequence_step;      // t * S + s: KV tokens sequence s moved at step t
                                            // (reads, writes, migrations read and written)

    const SlotTraffic& at(size_t row, int32_t m) const { return traffic[row * static_cast<size_t>(tiers) + static_cast<size_t>(m)]; }
};

// The scores a policy observes under ObserveScores::Read (MODEL.md, docs/MODEL.md): per
// step of a selection, the scored units it read, with their sum and max. The same for
// every policy run on that selection, so it is computed once (in parallel over steps) and
// shared; a run given none computes each step's as it goes.
struct ObservedScores {
    Csr<uint32_t> units;     // row: the selection's step row; ascending
    std::vector<float> sum, max;
    // Every step read exactly the units it scored: the selection's own score lists are
    // what is observed (and the arrays above stay empty).
    bool all_scored = false;
};
ObservedScores observedScores(const Selection& selection, const JobControl& job = {});

// Runs one policy. Throws InfeasibleError when the units cannot fit at all, and
// std::logic_error when a policy breaks the rules (a bug, caught by the tests).
// `observed`: observedScores(selection), shared by the runs (used with ObserveScores::Read).
PlacementResult runPlacement(const Selection& selection, const PolicyEntry& policy,
                             const PolicyParams& params, const PlacementConfig& config,
                             const JobControl& job = {}, const ObservedScores* observed = nullptr);

// Runs a policy object the caller built (an oracle replaying a fixed schedule, for the
// migration-aware bound's schedules): the same simulator, checks and charges as above.
// `info` names the result; its params are taken as given.
PlacementResult runPlacementWith(const Selection& selection, Policy& policy, const PolicyInfo& info,
                                 const PolicyParams& params, const PlacementConfig& config,
                                 const JobControl& job = {});

// One online policy run a window of steps at a time (a streamed analysis,
// engine/stream_analysis.hpp): the simulator, checks and charges of runPlacement, whose
// result it reproduces window by window. Windows must follow each other from step 0.
// An oracle needs `future`, its feed of the reads to come (policies/future_reads.hpp, which
// must outlive the stream); without it an oracle is refused (InputError).
class PlacementStream {
public:
    PlacementStream(const UnitLayout& layout, const PolicyEntry& policy, const PolicyParams& params,
                    const PlacementConfig& config, FutureReads* future = nullptr);
    ~PlacementStream();
    PlacementStream(const PlacementStream&) = delete;
    PlacementStream& operator=(const PlacementStream&) = delete;
    // Runs the window's steps. The result's per-step arrays (traffic, fast_units, moves,
    // sequence_step) then hold that window's steps, rows as window.row() numbers them; its
    // totals (migrated_tokens, sequence_read, sequence_migrated) and per-unit arrays cover
    // every step run so far.
    const PlacementResult& run(const Selection& window, const ObservedScores* observed = nullptr,
                               const JobControl& job = {});
    const PlacementResult& result() const;
    // Whether run() lists the window's moves in result().moves (the default; a placement
    // heatmap replays them). Off, moves' rows stay empty and every other figure is the same.
    void recordMoves(bool on);

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

// Where every unit is (fastest copy) at the start of step t's reads, i.e. after step t's
// migrations. Units not yet created are 255. Replays moves: O(units + moves up to t).
std::vector<uint8_t> locationsAt(const PlacementResult& p, int64_t t);

} // namespace kvtier
