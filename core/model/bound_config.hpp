#pragma once
// What the heavy bounds (MODEL.md §6: migration-aware bound, annealed schedule) are
// configured with: scenario key "bounds" (docs/SCENARIO.md). Off by default.
#include <cstdint>

namespace kvtier {

struct MigrationBoundConfig {
    bool enabled = false;
    double time_budget_s = 10;      // wall-clock cap; the run stops early and says so
    int64_t iterations = 300;       // subgradient iterations (deterministic when the budget is not hit)
    double target_gap = 0.002;      // stop once schedule / bound - 1 is below this
    bool operator==(const MigrationBoundConfig&) const = default;
};

struct AnnealConfig {
    bool enabled = false;
    double time_budget_s = 10;      // wall-clock cap for the schedule search
    int64_t moves = 200000;         // moves per chain (deterministic when the budget is not hit)
    int32_t chains = 2;             // independent seeded chains, run in parallel
    int64_t seed = 1;
    int64_t tune_evaluations = 0;   // >0: also anneal windowed-look-ahead's window and ratio (engine runs)
    bool operator==(const AnnealConfig&) const = default;
};

struct BoundsConfig {
    MigrationBoundConfig migration_aware;
    AnnealConfig annealed;
    bool operator==(const BoundsConfig&) const = default;
};

} // namespace kvtier
