// The paper's "reuse" baseline (REFERENCE.md), read online: the units a step read from a
// lower tier are promoted at the start of the next step, evicting the oldest-admitted
// residents (FIFO by admission). Every move is charged in the step it happens (MODEL.md
// §5), so the paper's free "passive" migration (a token promoted as it is read) is not
// modelled: a promotion at step t re-reads the unit from its lower tier.
#include "core/policies/policy_reactive.hpp"

#include "core/model/fast_divider.hpp"
#include "core/policies/id_queue.hpp"

#include <algorithm>

namespace kvtier {

namespace {

class Reactive final : public Policy {
public:
    Reactive(const PolicyContext& ctx, int64_t blockTokens, int64_t maxPromotions)
        : lay_(ctx.layout), cap_(ctx.fast_capacity_units), block_(blockTokens), maxProm_(maxPromotions)
    {
        const auto total = static_cast<size_t>(lay_.totalUnits());
        if (block_ > lay_.page_tokens) mark_.assign(total, 0);   // page only
        byLayer_ = FastDivider(static_cast<uint32_t>(lay_.slot_count));
    }

    void initial(int64_t prefillUnits, int64_t capacity, std::vector<uint32_t>& fast) override
    {
        Policy::initial(prefillUnits, capacity, fast);
        for (uint32_t u : fast) fifo_.push(u);   // admitted in unit order
    }

    void plan(int64_t t, const FastTierView& tier0, StepPlan& out) override
    {
        // Tier 0 as the simulator has it (no mirror of its own): the FIFO holds exactly its
        // units, since every move the plan lists is applied or the run stops.
        const int64_t count = tier0.count();
        const auto stamp = static_cast<uint32_t>(t + 1);

        // Candidates: the missed units (ascending), then the rest of their blocks, listed
        // only as far as they can be promoted (so a step costs O(reads + promotions)).
        int64_t limit = cap_;
        if (maxProm_ > 0) limit = std::min(limit, maxProm_);
        const auto full = [&] { return static_cast<int64_t>(cand_.size()) >= limit; };
        const bool blocks = block_ > lay_.page_tokens;   // page: the rest of each missed unit's block too
        cand_.assign(missed_.begin(), missed_.end());
        if (blocks)   // marked, so that a block's other pages are listed once
            for (uint32_t u : missed_) mark_[u] = stamp;
        if (blocks && !full()) {
            const int64_t g = lay_.page_tokens;
            if (!lay_.seq && block_ % g == 0) {
                // One sequence, blocks of whole pages: unit = page * L + slot, block b holds
                // pages [b * bp, (b + 1) * bp), no division instruction per unit.
                const auto L = static_cast<uint32_t>(lay_.slot_count);
                const int64_t pagesNow = lay_.pagesAt(lay_.prefill + t);
                const auto bp = static_cast<uint32_t>(block_ / g);
                const FastDivider byBlock(bp);
                for (uint32_t u : missed_) {
                    if (full()) break;
                    const uint32_t page = byLayer_.div(u);
                    const uint32_t slot = u - page * L;
                    const uint32_t lo = byBlock.div(page) * bp;
                    const auto hi = static_cast<uint32_t>(std::min<int64_t>(pagesNow, int64_t{lo} + bp));
                    for (uint32_t p = lo; p < hi; ++p) {
                        const uint32_t v = p * L + slot;
                        if (mark_[v] == stamp || tier0.contains(v)) continue;
                        mark_[v] = stamp;
                        cand_.push_back(v);
                        if (full()) break;
                    }
                }
            } else {
                for (uint32_t u : missed_) {
                    if (full()) break;
                    const int32_t q = lay_.sequenceOf(u);   // a block's pages are its own sequence's
                    const int64_t pagesNow = lay_.pagesAt(lay_.prefillOf(q) + t);
                    const int64_t b = lay_.pageOf(u) * g / block_;
                    const int64_t lo = (b * block_ + g - 1) / g;
                    const int64_t hi = std::min(pagesNow, ((b + 1) * block_ + g - 1) / g);
                    for (int64_t p = lo; p < hi; ++p) {
                        const uint32_t v = lay_.unit(q, p, lay_.slotOf(u));
                        if (mark_[v] == stamp || tier0.contains(v)) continue;
                        mark_[v] = stamp;
                        cand_.push_back(v);
                        if (full()) break;
                    }
                }
            }
        }
        missed_.clear();

        const int64_t promote = std::min<int64_t>(static_cast<int64_t>(cand_.size()), limit);
        const auto nNew = static_cast<int64_t>(tier0.newUnits().size());
        const int64_t evict = std::clamp<int64_t>(count + promote + nNew - cap_, 0, count);

        for (int64_t i = 0; i < evict; ++i) out.evict.push_back(fifo_.pop());
        for (int64_t i = 0; i < promote; ++i) {
            const uint32_t u = cand_[static_cast<size_t>(i)];
            fifo_.push(u);
            out.promote.push_back(u);
        }
        const int64_t room = cap_ - (count - evict + promote);
        for (uint32_t u : tier0.newUnits()) {
            if (static_cast<int64_t>(out.admit_new.size()) >= room) break;
            fifo_.push(u);
            out.admit_new.push_back(u);
        }
    }

    void observe(const StepObservation& obs) override
    {
        // Appended without a branch (a hit or a miss is a coin toss to the predictor).
        missed_.resize(obs.read_units.size());
        size_t n = 0;
        for (uint32_t u : obs.read_units) {
            missed_[n] = u;
            n += obs.in_tier0[u] ? 0 : 1;
        }
        missed_.resize(n);
    }

private:
    UnitLayout lay_;
    int64_t cap_;
    int64_t block_;
    int64_t maxProm_;
    kit::IdQueue fifo_;              // tier 0 by admission, the oldest first
    std::vector<uint32_t> mark_;     // page: per unit, step + 1 when listed as a candidate
    FastDivider byLayer_;            // u / L
    std::vector<uint32_t> missed_;   // units the last step read from a lower tier
    std::vector<uint32_t> cand_;
};

const PolicyInfo& reactiveInfo()
{
    static const PolicyInfo info{
        "reactive", "Reactive (reuse)",
        "Promotes, at the start of the next step, every unit a step read from a lower tier (as many "
        "as fit), evicting the oldest-admitted units of HBM; new units go to HBM. The paper's reuse "
        "baseline; every promotion re-reads the unit from its lower tier.",
        true,
        {{"max_promotions_per_step", "Max promotions per step", ParamSpec::Type::Int, 0, 1e9, 0,
          "Caps the units promoted at one step; 0 promotes all that fit."}}};
    return info;
}

} // namespace

std::unique_ptr<Policy> makeReactivePolicy(const PolicyContext& ctx, int64_t blockTokens, int64_t maxPromotions)
{
    return std::make_unique<Reactive>(ctx, blockTokens, maxPromotions);
}

PolicyEntry reactivePolicy()
{
    return {reactiveInfo(), [](const PolicyContext& ctx, const PolicyParams& p) -> std::unique_ptr<Policy> {
                return makeReactivePolicy(ctx, 1, static_cast<int64_t>(p.at("max_promotions_per_step")));
            }};
}

} // namespace kvtier
