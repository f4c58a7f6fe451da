#pragma once
// MoE experts (MODEL.md §9): the per-step expert sets X[t][l] a trace may carry, and the
// limits every reader checks. A set is a bitset of E bits per (step, layer); layer l is a
// model layer (0 .. L-1) whether the trace's records are per layer or aggregated.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace kvtier {

// Experts per layer: real MoE models have at most a few hundred (DeepSeek-V3: 256).
inline constexpr int32_t kMaxExperts = 4096;
// Bitset words a trace's expert sets may hold (steps x layers x words of E bits): 2^28
// words = 2 GiB, refused before anything is allocated beyond it.
inline constexpr int64_t kMaxExpertWords = int64_t{1} << 28;

// Which experts live in tier 0 (docs/MODEL.md "Experts", docs/POLICIES.md "Expert
// residency"): `Static` is the initial placement kept for the whole run (every KV policy's
// experts until now); the others give tier 0 an expert budget and move experts in and out
// of it. Lru, Lfu, FrequencyOracle and Belady take the budget from hbm_share; Joint chooses
// it by ranking experts and KV units together (core/engine/expert_joint.hpp). Online: Lru,
// Lfu; oracles: FrequencyOracle, Belady, Joint.
enum class ExpertPolicy { Static, Lru, Lfu, FrequencyOracle, Belady, Joint };
const char* toString(ExpertPolicy p);
// "static" | "lru" | "lfu" | "frequency-oracle" | "belady" | "joint"; throws InputError
// naming them.
ExpertPolicy expertPolicyFromString(const std::string& s);
inline bool isOracle(ExpertPolicy p)
{
    return p == ExpertPolicy::FrequencyOracle || p == ExpertPolicy::Belady || p == ExpertPolicy::Joint;
}

// The scenario's "experts" section.
struct ExpertResidencyConfig {
    ExpertPolicy policy = ExpertPolicy::Static;
    // The share of tier 0's room (capacity - dense weights in it - reserve) given to experts
    // (whole experts, rounded down); the rest is KV capacity. Ignored by `Static` and by
    // `Joint` (which chooses the split itself).
    double hbm_share = 0.5;
    bool dynamic() const { return policy != ExpertPolicy::Static; }
    bool operator==(const ExpertResidencyConfig&) const = default;
};

// Every expert policy, in the order the GUI lists them (scenario_panel's Experts group);
// a new ExpertPolicy value is added here and in usesHbmShare.
std::span<const ExpertPolicy> allExpertPolicies();
// Whether the policy gives tier 0 an expert budget of hbm_share of its room (docs/MODEL.md
// "Experts"); one that ignores hbm_share (`static`) returns false.
bool usesHbmShare(ExpertPolicy p);

class ExpertSets {
public:
    ExpertSets() = default;
    // Throws InputError(where, ...) when experts is outside 1 .. kMaxExperts, or the sets
    // would exceed kMaxExpertWords.
    ExpertSets(int32_t experts, int64_t steps, int32_t layers, const std::string& where = "expert sets");

    bool empty() const { return experts_ == 0; }
    int32_t experts() const { return experts_; }   // E
    int64_t steps() const { return steps_; }
    int32_t layers() const { return layers_; }

    // Marks expert e active at (t, l); throws InputError naming (t, l) when e >= E or
    // (t, l) is outside the sets.
    void set(int64_t t, int32_t l, int32_t e);
    // Replaces the set at (t, l) with `ids` (any order, duplicates allowed).
    void assign(int64_t t, int32_t l, std::span<const uint16_t> ids);
    bool active(int64_t t, int32_t l, int32_t e) const
    {
        return (bits_[wordIndex(t, l) + static_cast<size_t>(e) / 64] >> (e % 64)) & 1u;
    }
    int32_t count(int64_t t, int32_t l) const;
    // The active experts at (t, l), ascending.
    std::vector<uint16_t> ids(int64_t t, int32_t l) const;

    bool operator==(const ExpertSets&) const = default;

private:
    size_t words() const { return static_cast<size_t>((experts_ + 63) / 64); }
    size_t wordIndex(int64_t t, int32_t l) const
    {
        return (static_cast<size_t>(t) * static_cast<size_t>(layers_) + static_cast<size_t>(l)) * words();
    }
    void checkPlace(int64_t t, int32_t l) const;
    int32_t experts_ = 0;
    int64_t steps_ = 0;
    int32_t layers_ = 0;
    std::vector<uint64_t> bits_;
};

} // namespace kvtier
