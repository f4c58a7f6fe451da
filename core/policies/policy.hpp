#pragma once
// Placement policies (MODEL.md §5, REFERENCE.md). A policy manages which units live in
// the fast tier (tier 0); the simulator (placement.hpp) does the rest: it places units
// that are not in tier 0 into the fastest lower tier with room, keeps capacity, and
// charges every migration, read and write.
//
// Online policies see the past only: the simulator calls observe(t) after step t, and
// their PolicyContext has no future. Oracle policies get the future: the whole Selection
// up front, or (a streamed analysis) its reads fed ahead in windows (future_reads.hpp).
#include "core/model/placement_config.hpp"
#include "core/model/selection.hpp"

#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kvtier {

class FutureReads;

// A policy parameter described in data, so the GUI can build its controls and the
// scenario loader can check values.
struct ParamSpec {
    // Choice: one of the named `choices`; the value is its index (min 0, max choices - 1), and
    // scenario files and --help use the names.
    enum class Type { Int, Double, Bool, Choice };
    std::string key;          // JSON key, e.g. "window_tokens"
    std::string label;        // for the GUI, e.g. "Recent window (tokens)"
    Type type = Type::Double;
    double min = 0, max = 1, def = 0;
    std::string help;         // one sentence
    std::vector<std::string> choices = {};   // Choice only: the names, in index order
};

// Name of a Choice parameter's value, and the value of a name (throws InputError(where, ...)
// listing the names when there is no such choice).
const std::string& choiceName(const ParamSpec& spec, double value);
double choiceValue(const ParamSpec& spec, const std::string& name, const std::string& where);

struct PolicyInfo {
    std::string name;         // scenario name, e.g. "lru"
    std::string label;        // display name, e.g. "LRU"
    std::string description;  // one or two sentences: what it keeps in HBM and when it moves data
    bool online = true;       // false: oracle (looks at the future)
    std::vector<ParamSpec> params;
    // In a batch (MODEL.md §8) the policy runs once per sequence, each instance on its own
    // share of tier 0 (policy_per_sequence.hpp): for policies whose rule is about positions
    // in one sequence's context (a window of recent tokens, blocks of pages).
    bool per_sequence = false;
    // On a trace of one sequence this policy places exactly as the one named here, whatever
    // either's parameters (its rule only differs in how a batch shares tier 0), so an
    // analysis running both may run it once (tst_policy_properties checks the claim).
    std::string same_on_one_sequence = {};
};

// Fills defaults, checks keys and ranges; throws InputError("policies[<i>].<key>", ...).
PolicyParams resolveParams(const PolicyInfo& info, const PolicyParams& given, const std::string& where);

// What a policy may know when it is built.
struct PolicyContext {
    UnitLayout layout;
    int64_t fast_capacity_units = 0;    // tier 0 capacity for KV, in units
    bool inclusive = false;
    int32_t tiers = 2;                  // M: with one tier, nothing can live outside tier 0
    const Selection* future = nullptr;  // oracle policies only; null for online ones
    // Oracle policies in a streamed analysis: the future's reads (future_reads.hpp), used
    // instead of `future`. Null otherwise.
    FutureReads* future_reads = nullptr;
};

// Read-only view of tier 0 at the start of a step.
class FastTierView {
public:
    FastTierView(const std::vector<uint8_t>& fast, int64_t count, int64_t capacity,
                 std::span<const uint32_t> newUnits, int64_t unitsBefore)
        : fast_(fast), count_(count), capacity_(capacity), newUnits_(newUnits), unitsBefore_(unitsBefore) {}
    bool contains(uint32_t u) const { return u < fast_.size() && fast_[u] != 0; }
    int64_t count() const { return count_; }            // units in tier 0 now
    int64_t capacity() const { return capacity_; }      // units tier 0 can hold
    int64_t free() const { return capacity_ - count_; }
    std::span<const uint32_t> newUnits() const { return newUnits_; }   // created this step
    int64_t unitsBefore() const { return unitsBefore_; }  // units 0..unitsBefore-1 exist

private:
    const std::vector<uint8_t>& fast_;
    int64_t count_, capacity_;
    std::span<const uint32_t> newUnits_;
    int64_t unitsBefore_;
};

// A policy's decisions for one step, applied in this order: evictions, promotions, then
// the new units are created (in tier 0 for those listed in admit_new, if room remains).
struct StepPlan {
    std::vector<uint32_t> evict;       // units now in tier 0 that leave it
    std::vector<uint32_t> promote;     // units not in tier 0 that enter it
    std::vector<uint32_t> admit_new;   // subset of newUnits() to create in tier 0
    void clear() { evict.clear(); promote.clear(); admit_new.clear(); }
};

// What happened at step t, given to the policy after the step ran.
struct StepObservation {
    int64_t t = 0;
    std::span<const uint32_t> read_units;   // ascending
    std::span<const uint32_t> score_units;  // ascending, units with a non-zero score at t that the
                                            // policy may know (ObserveScores: read ones, or all)
    std::span<const float> score_sum;       // sum of token relevance in the unit at t
    std::span<const float> score_max;       // max token relevance in the unit at t
    std::span<const uint8_t> in_tier0;      // per unit: non-zero while in tier 0 after step t's
                                            // moves (the policy's own placement, as it stands)
};

class Policy {
public:
    virtual ~Policy() = default;
    // Prefill units to place in tier 0 before step 0 (at most capacity). Default: the
    // lowest unit ids first, which is first-fit order.
    virtual void initial(int64_t prefillUnits, int64_t capacity, std::vector<uint32_t>& fast);
    virtual void plan(int64_t t, const FastTierView& tier0, StepPlan& out) = 0;
    virtual void observe(const StepObservation&) {}
};

using PolicyFactory = std::unique_ptr<Policy> (*)(const PolicyContext&, const PolicyParams&);

struct PolicyEntry {
    PolicyInfo info;
    PolicyFactory make;
};

// Every policy kvtier offers, in display order.
const std::vector<PolicyEntry>& policyRegistry();
const PolicyEntry& findPolicy(const std::string& name);   // throws InputError listing names

// Each policy_*.cpp defines one entry function, listed in policy_registry.cpp (an
// explicit list: static registration objects would be dropped from a static library).

} // namespace kvtier
