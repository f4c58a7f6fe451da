#pragma once
// Stage 3 (MODEL.md §4): bytes and time. Turns a placement's token traffic into bytes
// per tier (x kappa x batch, plus the weights) and each (step, layer) into
// tau = max over tiers of max((R+W)/B, R/Lr, W/Lw).
#include "core/engine/expert_residency.hpp"
#include "core/engine/placement.hpp"
#include "core/model/hardware.hpp"
#include "core/model/timing_config.hpp"

#include <memory>
#include <string>
#include <vector>

namespace kvtier {

// Per-step, per-tier figures, summed over the step's layers. Index t * tiers + m.
struct TierStep {
    double busy_s = 0;       // sum over layers of time_m
    double weight_read = 0;  // bytes of dense weights
    double expert_read = 0;  // bytes of the active experts living in this tier (MODEL.md §9)
    double kv_read = 0;      // bytes of selected KV served by this tier (after routing)
    double kv_write = 0;     // bytes of new-token KV
    double mig_read = 0;     // bytes read for migrations out of this tier
    double mig_write = 0;    // bytes written for migrations into this tier
    double expert_mig_write = 0;   // of mig_write: experts moved into this tier (expert policy)
    double readBytes() const { return weight_read + expert_read + kv_read + mig_read; }
    double writeBytes() const { return kv_write + mig_write; }
};

struct TierTotals {
    std::string name;
    double read_bytes = 0, write_bytes = 0;   // all traffic: weights, experts, KV, migrations
    double kv_read_bytes = 0, mig_bytes = 0;  // mig: read + written
    double expert_read_bytes = 0;             // active experts read from this tier
    double busy_s = 0;
    double busy_fraction = 0;     // busy_s / total time
    double bandwidth_use = 0;     // (read + write) / (B * total time)
};

// One sequence of a batch (MODEL.md §8; docs/MODEL.md "Batches").
struct SequenceTotals {
    double kv_read_bytes = 0;       // its selected KV, all tiers
    double kv_read_fast_bytes = 0;  // ... of it from units with a copy in tier 0
    double migrated_bytes = 0;      // its units' bytes moved (each move once)
    double time_share = 0;          // its share of the total time: each step's time split in
                                    // proportion to the KV bytes each sequence moves in it
    double hbmHitRatio() const { return kv_read_bytes > 0 ? kv_read_fast_bytes / kv_read_bytes : 0; }
};

struct TimingResult {
    int32_t tiers = 0;
    int64_t steps = 0;
    int64_t batch = 1;
    std::vector<double> step_time;     // tau[t], seconds
    std::vector<TierStep> tier_step;   // t * tiers + m
    std::vector<TierTotals> tier_totals;
    double total_time = 0;
    double kv_read_bytes = 0;          // all tiers
    double kv_read_fast_bytes = 0;     // served by tier 0
    double migrated_bytes = 0;         // KV bytes moved (each move once)
    double expert_read_bytes = 0;      // all tiers
    double expert_read_fast_bytes = 0; // ... from tier 0
    double expert_migrated_bytes = 0;  // experts moved by the expert policy (each move once; not in migrated_bytes)
    int64_t expert_budget = 0;         // experts tier 0 holds (ExpertPlacement::budget)
    ExpertPolicy expert_policy = ExpertPolicy::Static;
    bool experts = false;              // the model has experts (E > 0)
    bool expert_sets = false;          // ... and the trace says which are active (else: all, every step)
    // With experts: where every expert lives before step 0 (initial, l * E + e) and the
    // expert policy's moves, exactly those the timing used (the static policy: its placement,
    // no moves); the expert view (core/engine/view_experts.hpp) draws them. Only its tiers,
    // layers, steps, initial and moves are kept: the bytes are in tier_step and the totals
    // above. Null without experts.
    std::shared_ptr<const ExpertResidency> expert_residency;
    std::vector<SequenceTotals> sequences;   // a batch's sequences (S > 1); empty for one

    double timePerToken() const { return steps ? total_time / static_cast<double>(steps) : 0; }
    double throughput() const { return total_time > 0 ? static_cast<double>(batch * steps) / total_time : 0; }
    double hbmHitRatio() const { return kv_read_bytes > 0 ? kv_read_fast_bytes / kv_read_bytes : 0; }
    // Expert bytes read from tier 0 / all expert bytes read (0 without experts).
    double expertHitRatio() const { return expert_read_bytes > 0 ? expert_read_fast_bytes / expert_read_bytes : 0; }
    const TierStep& at(int64_t t, int32_t m) const { return tier_step[static_cast<size_t>(t * tiers + m)]; }
};

// Dense weight bytes per layer on each tier: omega * W_dense / L on tier 0, the rest on the
// last (W_dense = W for a model without experts).
std::vector<double> weightBytesPerLayer(const TimingConfig& c);

// One layer slot of one step (a per-layer trace's layer; slot 0 of an aggregated trace is
// every layer): each tier's bytes read and written for the whole batch, after routing,
// exactly what computeTiming gives tierTime. Throws InputError outside the run.
// With experts (MODEL.md §9) an aggregated trace's layers differ by their experts' tiers:
// `layer` says which model layer's experts to count (default: the slot itself, layer 0 of
// an aggregated trace), and the bytes are then that one layer's.
struct SlotBytes {
    std::vector<double> read, write;   // per tier
    std::vector<double> expert_read;   // per tier: the part of `read` that is experts
    std::vector<double> expert_mig_read, expert_mig_write;   // per tier: the experts' moves in it
};
SlotBytes slotBytes(const Selection& selection, const PlacementResult& placement, const TimingConfig& config,
                    int64_t t, int32_t slot, int32_t layer = -1);

TimingResult computeTiming(const Selection& selection, const PlacementResult& placement,
                           const TimingConfig& config, const JobControl& job = {});

// The timing of a streamed analysis (engine/stream_analysis.hpp): each window of steps is
// timed as computeTiming times it and added to the totals in step order, so the finished
// result equals computeTiming's on the whole run bit for bit. Per step it keeps T step
// times and T x M tier figures (no per-entry data).
class TimingStream {
public:
    // `placement` names the run's placement config and tiers; `sets` the trace's expert sets
    // (null when none), which must outlive the stream.
    TimingStream(const UnitLayout& layout, const ExpertSets* sets, const PlacementResult& placement,
                 const TimingConfig& config, const JobControl& job = {});
    ~TimingStream();
    TimingStream(const TimingStream&) = delete;
    TimingStream& operator=(const TimingStream&) = delete;
    // Times the window's steps from its placement (PlacementStream::run's result).
    void add(const Selection& window, const PlacementResult& placement, const JobControl& job = {});
    // The time of steps [first, end) timed so far, summed in step order.
    double time(int64_t first, int64_t end) const;
    // After the last window: the totals (placement: the stream's result, whose per-sequence
    // books cover the run).
    TimingResult finish(const PlacementResult& placement);

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace kvtier
