#pragma once
// Upper bounds on throughput (MODEL.md §6) as lower bounds on time.
#include "core/engine/selection.hpp"
#include "core/engine/timing.hpp"

#include <string>
#include <vector>

namespace kvtier {

struct BoundResult {
    std::string name;                 // "balanced" or "paper"
    std::vector<double> step_time;    // per step, seconds (all layers)
    std::vector<double> fast_share;   // per step: share of the movable read bytes (KV, experts) tier 0 serves
    double total_time = 0;
    int64_t steps = 0;
    int64_t batch = 1;
    double timePerToken() const { return steps ? total_time / static_cast<double>(steps) : 0; }
    double throughput() const { return total_time > 0 ? static_cast<double>(batch * steps) / total_time : 0; }
};

// KV capacity per tier in bytes (all sequences together): C_m - weights on m - reserve_m.
// Weights take capacity first: dense weights and, with experts, the experts where the
// initial placement puts them (engine/expert_placement.hpp).
std::vector<double> kvCapacityBytes(const TimingConfig& c);
// The capacity the balanced bound may fill with movable data (KV and experts, MODEL.md §9):
// C_m - dense weights on m - reserve_m. Equals kvCapacityBytes for a model without experts.
std::vector<double> movableCapacityBytes(const TimingConfig& c);

// Balanced bound: placement free and instantaneous; each layer-step's read volume split
// over the tiers within their capacity, the new token's write on the best single tier.
BoundResult balancedBound(const Selection& selection, const TimingConfig& config, const JobControl& job = {});

// The paper's bound: capacity and writes ignored; (weights + V) / sum_m min(B_m, Lr_m).
BoundResult paperBound(const Selection& selection, const TimingConfig& config, const JobControl& job = {});

// Both bounds of a streamed analysis (engine/stream_analysis.hpp), window by window: the
// per-step bounds need only their own step, so the finished results equal balancedBound's
// and paperBound's on the whole run bit for bit.
class BoundStream {
public:
    BoundStream(const UnitLayout& layout, const TimingConfig& config);
    void add(const Selection& window, const JobControl& job = {});
    // The balanced bound of steps [first, end) added so far, summed in step order.
    double balancedTime(int64_t first, int64_t end) const;
    BoundResult finishBalanced();   // once, after the last window
    BoundResult finishPaper();

private:
    TimingConfig config_;
    BoundResult balanced_, paper_;
};

} // namespace kvtier
