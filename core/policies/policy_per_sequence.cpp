#include "core/policies/policy_per_sequence.hpp"

#include <stdexcept>

namespace kvtier {

std::vector<int64_t> equalShares(int64_t capacity, int32_t sequences)
{
    std::vector<int64_t> share(static_cast<size_t>(sequences), capacity / sequences);
    for (int64_t s = 0; s < capacity % sequences; ++s) ++share[static_cast<size_t>(s)];
    return share;
}

namespace {

// One sequence's instance and the adapter's mirror of its part of tier 0, in the
// instance's own unit ids (local id = page * slots + slot, as for a lone sequence).
struct Part {
    UnitLayout layout;
    std::unique_ptr<Policy> policy;
    std::vector<uint8_t> fast;
    int64_t count = 0, capacity = 0;
    StepPlan plan;
    std::vector<uint32_t> fresh, read, scored;
    std::vector<float> sum, max;
};

class PerSequence final : public Policy {
public:
    PerSequence(const PolicyEntry& policy, const PolicyContext& ctx, const PolicyParams& params) : lay_(ctx.layout)
    {
        const int32_t S = lay_.sequences();
        const std::vector<int64_t> share = equalShares(ctx.fast_capacity_units, S);
        parts_.resize(static_cast<size_t>(S));
        for (int32_t s = 0; s < S; ++s) {
            Part& p = parts_[static_cast<size_t>(s)];
            p.layout = UnitLayout{lay_.prefillOf(s), lay_.steps, lay_.slot_count, lay_.page_tokens};
            p.capacity = share[static_cast<size_t>(s)];
            p.fast.assign(static_cast<size_t>(p.layout.totalUnits()), 0);
            PolicyContext sub;
            sub.layout = p.layout;
            sub.fast_capacity_units = p.capacity;
            sub.inclusive = ctx.inclusive;
            sub.tiers = ctx.tiers;
            p.policy = policy.make(sub, params);
        }
    }

    void initial(int64_t, int64_t, std::vector<uint32_t>& fast) override
    {
        std::vector<uint32_t> local;
        for (size_t s = 0; s < parts_.size(); ++s) {
            Part& p = parts_[s];
            local.clear();
            p.policy->initial(p.layout.unitsBefore(0), p.capacity, local);
            for (uint32_t v : local) {
                if (v >= p.fast.size() || p.fast[v]) continue;   // the simulator reports such a bug
                p.fast[v] = 1;
                ++p.count;
                fast.push_back(global(static_cast<int32_t>(s), v));
            }
        }
    }

    void plan(int64_t t, const FastTierView& tier0, StepPlan& out) override
    {
        for (Part& p : parts_) p.fresh.clear();
        for (uint32_t u : tier0.newUnits()) parts_[static_cast<size_t>(lay_.sequenceOf(u))].fresh.push_back(local(u));
        for (size_t s = 0; s < parts_.size(); ++s) {
            Part& p = parts_[s];
            p.plan.clear();
            p.policy->plan(t, FastTierView(p.fast, p.count, p.capacity, p.fresh, p.layout.unitsBefore(t)), p.plan);
            const auto q = static_cast<int32_t>(s);
            // The mirror follows the plan as the simulator applies it (it checks the plan).
            for (uint32_t v : p.plan.evict) {
                p.count -= p.fast[v];
                p.fast[v] = 0;
                out.evict.push_back(global(q, v));
            }
            for (uint32_t v : p.plan.promote) {
                p.count += p.fast[v] ^ 1;
                p.fast[v] = 1;
                out.promote.push_back(global(q, v));
            }
            for (uint32_t v : p.plan.admit_new) {
                p.count += p.fast[v] ^ 1;
                p.fast[v] = 1;
                out.admit_new.push_back(global(q, v));
            }
        }
    }

    void observe(const StepObservation& obs) override
    {
        for (Part& p : parts_) {
            p.read.clear();
            p.scored.clear();
            p.sum.clear();
            p.max.clear();
        }
        // Within one sequence, global and local ids have the same order: both lists stay ascending.
        for (uint32_t u : obs.read_units) parts_[static_cast<size_t>(lay_.sequenceOf(u))].read.push_back(local(u));
        for (size_t i = 0; i < obs.score_units.size(); ++i) {
            Part& p = parts_[static_cast<size_t>(lay_.sequenceOf(obs.score_units[i]))];
            p.scored.push_back(local(obs.score_units[i]));
            p.sum.push_back(obs.score_sum[i]);
            p.max.push_back(obs.score_max[i]);
        }
        for (Part& p : parts_) {
            StepObservation o;
            o.t = obs.t;
            o.read_units = p.read;
            o.score_units = p.scored;
            o.score_sum = p.sum;
            o.score_max = p.max;
            o.in_tier0 = p.fast;   // its part of tier 0, in its own ids
            p.policy->observe(o);
        }
    }

private:
    uint32_t local(uint32_t u) const
    {
        return static_cast<uint32_t>(lay_.pageOf(u) * lay_.slot_count + lay_.slotOf(u));
    }
    uint32_t global(int32_t s, uint32_t v) const
    {
        const auto L = static_cast<uint32_t>(lay_.slot_count);
        return lay_.unit(s, v / L, static_cast<int32_t>(v % L));
    }

    UnitLayout lay_;
    std::vector<Part> parts_;
};

} // namespace

std::unique_ptr<Policy> makePerSequence(const PolicyEntry& policy, const PolicyContext& ctx, const PolicyParams& params)
{
    if (!policy.info.online)
        throw std::logic_error("policy '" + policy.info.name + "' is an oracle: it cannot run once per sequence");
    return std::make_unique<PerSequence>(policy, ctx, params);
}

} // namespace kvtier
