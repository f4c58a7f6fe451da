#pragma once
// What the timing stage and the bounds (engine/timing.hpp, engine/bounds.hpp) are
// configured with besides the traffic itself (MODEL.md §4).
#include "core/model/experts.hpp"
#include "core/model/hardware.hpp"

#include <cstdint>
#include <string>

namespace kvtier {

enum class Route { Home, Balanced };
const char* toString(Route r);
Route routeFromString(const std::string& s);   // throws InputError

// Everything timing and the bounds depend on besides the traffic itself.
struct TimingConfig {
    Model model;
    Hardware hardware;
    int64_t batch = 1;
    double weights_in_fast_tier = 1.0;   // omega
    Route route = Route::Home;
    double compute_floor_s = 0;          // per layer-step
    ExpertResidencyConfig experts;       // where experts live over the run (MODEL.md §9)
    // The expert budget of experts.policy = joint, chosen from the run's selection
    // (resolveExpertBudget, core/engine/expert_joint.hpp); -1 until chosen. Unused by the
    // other expert policies (their budget comes from experts.hbm_share).
    int64_t expert_budget = -1;
    bool operator==(const TimingConfig&) const = default;
};

} // namespace kvtier
