// HiSparse-style per-request hot buffer (online). docs/POLICIES.md "hisparse".
//
// What SGLang's and vLLM's HiSparse do for sparse-attention models (DeepSeek-V3.2): the
// full KV cache lives in host memory, each request has a small hot buffer in HBM, and each
// step's top-k pages that are not in the buffer are loaded into it, evicting by LRU.
//
// Per sequence (per_sequence: the adapter runs one instance per sequence of a batch, each on
// an equal share of tier 0). The buffer holds B = min(ceil(buffer_tokens / g) * slots, share)
// units. Tier 0 starts empty and new units are never admitted (new KV is written to the
// slow tier). Step t: the buffer becomes the B units with the highest recency key among its
// residents and the units step t-1 read, the key being (last step read, unit id) as in lru;
// so the misses of t-1 are swapped in and the least recently read residents leave.
//
// Cost per step: O(reads of t-1 + moves) with one intrusive list of residents.
#include "core/policies/lru_step.hpp"
#include "core/policies/policy.hpp"
#include "core/policies/policy_kit.hpp"

#include <algorithm>

namespace kvtier {

namespace {

class HiSparse final : public Policy {
public:
    HiSparse(const PolicyContext& ctx, int64_t bufferTokens)
    {
        const UnitLayout& lay = ctx.layout;
        const int64_t pages = (bufferTokens + lay.page_tokens - 1) / lay.page_tokens;
        buffer_ = std::min(pages * lay.slot_count, std::max<int64_t>(0, ctx.fast_capacity_units));
        oneTier_ = ctx.tiers == 1;
        const auto total = static_cast<size_t>(lay.totalUnits());
        res_.reset(total);
        list_.reset(total);
    }

    // Prefill: nothing in HBM (the request's KV was written to host memory). With one tier
    // there is no host memory: every unit lives in tier 0 (the first-fit placement).
    void initial(int64_t prefillUnits, int64_t capacity, std::vector<uint32_t>& fast) override
    {
        if (!oneTier_) return;
        for (int64_t u = 0; u < std::min(prefillUnits, capacity); ++u) {
            fast.push_back(static_cast<uint32_t>(u));
            res_.seed(static_cast<uint32_t>(u));
        }
    }

    void plan(int64_t, const FastTierView& tier0, StepPlan& out) override
    {
        res_.check(tier0, "hisparse");
        if (oneTier_) {
            for (uint32_t u : tier0.newUnits()) res_.admit(u, out);
            return;
        }
        // lru's step with no new units: the misses of t-1 swap in, the least recently read leave.
        kit::lruStep<uint8_t>(res_, list_, 0, buffer_, {}, noNew_, reads_, kept_, out);
        reads_.clear();
        // New units stay in the slow tier: admit_new is left empty.
    }

    void observe(const StepObservation& obs) override { reads_.assign(obs.read_units.begin(), obs.read_units.end()); }

private:
    int64_t buffer_ = 0;              // B, in units
    bool oneTier_ = false;            // no slower tier: everything stays in tier 0
    kit::ResidentSet res_;            // the buffer (this sequence's part of tier 0)
    kit::RecencyLists<uint8_t> list_;   // residents, oldest first
    std::vector<uint32_t> reads_;     // read at the last observed step, ascending
    std::vector<uint32_t> kept_;
    std::vector<uint32_t> noNew_;     // stays empty: hisparse admits no new unit
};

} // namespace

PolicyEntry hisparsePolicy()
{
    return {{"hisparse", "HiSparse hot buffer",
             "Each sequence has a fixed HBM buffer of buffer_tokens tokens; the pages a step read from host memory "
             "are swapped in at the next step, evicting the least recently read. New KV and the prefill stay in host "
             "memory. Meant for inclusive placement (host keeps everything).",
             true,
             {{"buffer_tokens", "Hot buffer per sequence (tokens)", ParamSpec::Type::Int, 1, 1e9, 2048,
               "HBM buffer of each sequence, per layer slot, rounded up to whole pages (capped by the sequence's "
               "equal share of HBM)."}},
             true},
            [](const PolicyContext& ctx, const PolicyParams& p) -> std::unique_ptr<Policy> {
                return std::make_unique<HiSparse>(ctx, static_cast<int64_t>(p.at("buffer_tokens")));
            }};
}

} // namespace kvtier
