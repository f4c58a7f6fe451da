// The example of core/policies/README.md, a complete policy on the kit. "hot-reads": a
// unit's heat is its read count decayed by `decay` per step; a unit that step t-1 read
// from a lower tier enters tier 0 at step t if it is hotter than the coldest resident,
// which leaves. New units enter while there is room.
#include "example_policy.hpp"

#include "core/policies/policy_kit.hpp"

namespace kvtier::test {

namespace {

class HotReads final : public Policy {
public:
    HotReads(const PolicyContext& ctx, double decay)
        : cap_(ctx.fast_capacity_units), scale_(decay), heat_(static_cast<size_t>(ctx.layout.totalUnits()), 0.0)
    {
        in_.reset(heat_.size());
        cold_.reset(heat_.size());
    }

    void initial(int64_t prefillUnits, int64_t capacity, std::vector<uint32_t>& fast) override
    {
        Policy::initial(prefillUnits, capacity, fast);   // the lowest ids
        for (uint32_t u : fast) {
            in_.seed(u);
            cold_.push(u, 0.0);
        }
    }

    void plan(int64_t, const FastTierView& tier0, StepPlan& out) override
    {
        in_.check(tier0, "hot-reads");
        for (uint32_t u : missed_) {
            if (in_.count() >= cap_) {
                if (cold_.empty() || !(heat_[u] > heat_[coldest()])) continue;
                in_.evict(cold_.pop(), out);
            }
            in_.promote(u, out);   // evictions come first: not evictable until the next step
        }
        for (uint32_t u : out.promote) cold_.push(u, heat_[u]);
        missed_.clear();
        for (uint32_t u : tier0.newUnits())   // created after the moves: never evicted this step
            if (in_.count() < cap_) {
                in_.admit(u, out);
                cold_.push(u, heat_[u]);
            }
    }

    void observe(const StepObservation& obs) override
    {
        scale_.advance();
        for (uint32_t u : obs.read_units) {
            heat_[u] += scale_.weight();   // heat only grows, so heap keys may lag (topLazy)
            if (!in_.contains(u)) missed_.push_back(u);
        }
        if (const double k = scale_.renormalise(); k != 1.0) {
            for (double& h : heat_) h *= k;
            cold_.scaleKeys(k);
        }
    }

private:
    uint32_t coldest() { return kit::topLazy(cold_, [this](uint32_t u) { return heat_[u]; }); }

    int64_t cap_;
    kit::DecayScale scale_;
    std::vector<double> heat_;                  // decayed read count * scale_.weight()
    kit::ResidentSet in_;                       // tier 0
    kit::IndexedHeap<kit::LowKeyLowId> cold_;   // residents, coldest on top
    std::vector<uint32_t> missed_;              // read at the last step from a lower tier
};

} // namespace

PolicyEntry hotReadsPolicy()
{
    return {{"hot-reads", "Hot reads (example)",
             "Keeps the units read most (decayed per step) in HBM: a unit read from a slower tier comes in "
             "at the next step if it is hotter than the coldest resident, which leaves.",
             true,
             {{"decay", "Decay per step", ParamSpec::Type::Double, 0.01, 1, 0.9,
               "Heat is multiplied by this each step; 1 counts every read forever."}}},
            [](const PolicyContext& ctx, const PolicyParams& p) -> std::unique_ptr<Policy> {
                return std::make_unique<HotReads>(ctx, p.at("decay"));
            }};
}

} // namespace kvtier::test
