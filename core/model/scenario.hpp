#pragma once
// A scenario (docs/SCENARIO.md): trace, model, hardware, selection, placement, batch and
// policies. Read from and written to `*.kvtier.json` by config/scenario_json.hpp.
#include "core/model/bound_config.hpp"
#include "core/model/hardware.hpp"
#include "core/model/placement_config.hpp"
#include "core/model/selection.hpp"
#include "core/model/timing_config.hpp"

#include <string>
#include <vector>

namespace kvtier {

struct PolicySpec {
    std::string name;
    PolicyParams params;     // resolved: every parameter present
    bool operator==(const PolicySpec&) const = default;
};

struct Scenario {
    std::string trace_db;    // as written in the file
    std::string trace_name;
    std::string model_preset;      // preset id it started from, or "" / "custom"
    Model model;
    std::string hardware_preset;   // preset id it started from, or "" / "custom"
    Hardware hardware;
    SelectionConfig selection;
    bool inclusive = false;
    Route route = Route::Home;
    ObserveScores observe_scores = ObserveScores::Read;   // placement.observe_scores
    double weights_in_fast_tier = 1.0;   // omega
    double compute_floor_s = 0;
    int64_t batch = 1;
    std::vector<PolicySpec> policies;
    ExpertResidencyConfig experts;   // "experts": the expert residency policy and tier 0's split
    BoundsConfig bounds;     // the heavy bounds, off unless enabled

    TimingConfig timingConfig() const;
    bool operator==(const Scenario&) const = default;
};

} // namespace kvtier
