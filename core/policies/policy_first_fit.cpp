// MODEL.md §7, the paper's "static" baseline: units placed in order into the fastest
// tier with room, new pages likewise when created; nothing ever migrates.
#include "core/policies/policy.hpp"

namespace kvtier {

namespace {

class FirstFit final : public Policy {
public:
    void plan(int64_t, const FastTierView& tier0, StepPlan& out) override
    {
        out.admit_new.assign(tier0.newUnits().begin(), tier0.newUnits().end());
    }
};

} // namespace

PolicyEntry firstFitPolicy()
{
    return {{"first-fit", "First-fit (static)",
             "Units go, in order, to the fastest tier with room when they are created; nothing ever "
             "migrates. The paper's static baseline (MODEL.md §7).",
             true, {}},
            [](const PolicyContext&, const PolicyParams&) -> std::unique_ptr<Policy> {
                return std::make_unique<FirstFit>();
            }};
}

} // namespace kvtier
