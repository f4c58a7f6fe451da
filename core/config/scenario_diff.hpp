#pragma once
// What differs between two scenarios, key by key, in the scenario file's terms: the
// infeasible banner names the value the views still show, the baseline says what changed
// since it was pinned.
#include "core/model/scenario.hpp"

#include <string>
#include <vector>

namespace kvtier {

struct ScenarioChange {
    std::string path;            // a scenario key path, e.g. "batch", "hardware.tiers.0.capacity_bytes"
    std::string before, after;   // JSON text of the values ("" when the key is absent on that side)
    double before_number = 0, after_number = 0;   // the values when both are numbers
    bool numeric = false;
};

// The keys whose values differ between `before` and `after` (scenarioToJson of each), in
// key order. The trace database path is compared as given.
std::vector<ScenarioChange> scenarioChanges(const Scenario& before, const Scenario& after);

} // namespace kvtier
