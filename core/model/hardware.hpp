#pragma once
// Tiers, hardware and model sizes (MODEL.md §3, §4). Bytes and bytes/second.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace kvtier {

inline constexpr double kNoLink = std::numeric_limits<double>::infinity();

// Ranges of scenario numbers (docs/SCENARIO.md "Limits"). Far beyond any real machine,
// and tight enough that capacities counted in units fit int64 and every sum of step
// times over the largest trace stays finite.
inline constexpr double kMaxBytes = 1e18;                  // capacity, reserve, weights: 1 EB
inline constexpr double kMinBandwidth = 1;                 // B/s, tier and link
inline constexpr double kMaxBandwidth = 1e18;              // B/s
inline constexpr double kMaxKvBytesPerTokenLayer = 1e12;   // kappa
inline constexpr double kMaxComputeFloorS = 3600;          // one layer-step

struct Tier {
    std::string name;
    double capacity_bytes = 0;     // C_m
    double bandwidth = 0;          // B_m, shared by reads and writes
    double link_read = kNoLink;    // Lr_m, tier -> GPU; infinite when there is no link
    double link_write = kNoLink;   // Lw_m, GPU -> tier
    double reserve_bytes = 0;      // reserve_m, never used by KV
    bool operator==(const Tier&) const = default;
};

struct Hardware {
    std::string name;              // preset id or "custom"
    std::vector<Tier> tiers;       // fastest first; tier 0 is HBM
    bool operator==(const Hardware&) const = default;
};

struct Model {
    std::string name;              // preset id or "custom"
    int32_t layers = 1;            // L
    double kv_bytes_per_token_layer = 0;   // kappa
    double weight_bytes = 0;       // W, all weights: W_dense + L * E * expert_bytes (MODEL.md §9)
    int32_t experts = 0;           // E, experts per layer; 0: a dense model
    double expert_bytes = 0;       // bytes of one expert (all its matrices)
    // W_dense: everything but the experts (exactly W when E = 0).
    double denseWeightBytes() const { return experts > 0 ? weight_bytes - layers * experts * expert_bytes : weight_bytes; }
    bool operator==(const Model&) const = default;
};

// Time a tier is busy with R bytes read and W bytes written in one layer-step.
double tierTime(const Tier& tier, double readBytes, double writeBytes);

} // namespace kvtier
