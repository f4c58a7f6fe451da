// Quest-like page scoring (online). docs/POLICIES.md "quest".
//
// Blocks: a block is ceil(block_tokens / g) consecutive pages of one layer slot (block id =
// (page / pages_per_block) * slots + slot). Its score at step t-1 is the highest token score
// in it at t-1 (max of the units' score_max; 0 when nothing in it was scored). A block is
// resident when any of its units is in tier 0. Step t:
//  1. the units step t creates are admitted while there is room; otherwise the lowest-scoring
//     resident block is evicted whole first (ties: lower block id);
//  2. swaps: blocks with a positive score that have existing units outside tier 0, highest
//     score first (ties: lower id), at most max_swaps_per_step (0 = no limit): the block's
//     missing units are promoted if the room, after evicting whole resident blocks in
//     ascending score order whose score is strictly below the incoming block's, suffices;
//     the first block that cannot come in this way ends the step's swaps (nothing is
//     evicted for it).
// Blocks holding a unit created at step t-1 or t are not evicted at step t (a new unit is
// not evicted before it was observed once, and the block being filled stays). Blocks
// evicted at t do not come back at t and blocks brought in at t are not evicted at t.
// Scores are those of step t-1, so a block read from a slow tier at t-1 comes in at t
// (migration is charged in the step it happens, MODEL.md §5).
//
// Cost per step: O(scored units + moved units) plus a log factor for the blocks actually
// ranked: resident blocks with score 0 sit in a bitmap set (the lowest id in O(1)-ish), the
// scored ones in a heap built when needed; the candidates are taken in order from a
// kit::OrderedPicks (only those before a pivot sampled at twice the last step's takes are
// put in order, by radix passes).
#include "core/policies/ordered_picks.hpp"
#include "core/policies/policy.hpp"
#include "core/policies/policy_kit.hpp"

#include <algorithm>

namespace kvtier {

namespace {

constexpr double kBlockTokens = 16;
constexpr double kMaxSwaps = 32;

struct QuestParams {
    int64_t blockTokens, maxSwaps;
};

class Quest final : public Policy {
    struct HigherFirst {   // std heap order whose top is the lowest (score, id)
        const std::vector<float>* s;
        bool operator()(uint32_t a, uint32_t b) const
        {
            return (*s)[a] > (*s)[b] || ((*s)[a] == (*s)[b] && a > b);
        }
    };
    HigherFirst higherFirst() const { return {&score_}; }

public:
    Quest(const PolicyContext& ctx, const QuestParams& params)
        : lay_(ctx.layout), cap_(std::max<int64_t>(0, ctx.fast_capacity_units)), maxSwaps_(params.maxSwaps)
    {
        ppb_ = std::max<int64_t>(1, (params.blockTokens + lay_.page_tokens - 1) / lay_.page_tokens);
        const int64_t pages = lay_.pagesAt(lay_.prefill + lay_.steps);
        const auto blocks = static_cast<size_t>((pages + ppb_ - 1) / ppb_ * lay_.slot_count);
        in_.reset(static_cast<size_t>(lay_.totalUnits()));
        // Tables instead of divisions on the hot paths.
        blockOfUnit_.resize(static_cast<size_t>(lay_.totalUnits()));
        for (size_t u = 0; u < blockOfUnit_.size(); ++u) {
            const auto uu = static_cast<uint32_t>(u);
            blockOfUnit_[u] = static_cast<uint32_t>(lay_.pageOf(uu) / ppb_ * lay_.slot_count + lay_.slotOf(uu));
        }
        firstPage_.resize(blocks);
        for (size_t b = 0; b < blocks; ++b)
            firstPage_[b] = static_cast<int64_t>(b) / lay_.slot_count * ppb_;
        score_.assign(blocks, 0.0f);
        resident_.assign(blocks, 0);
        protectUntil_.assign(blocks, -1);
        evictedAt_.assign(blocks, -1);
        promotedAt_.assign(blocks, -1);
        scoredAt_.assign(blocks, -1);
        zero_.reset(blocks);
    }

    void initial(int64_t prefillUnits, int64_t capacity, std::vector<uint32_t>& fast) override
    {
        Policy::initial(prefillUnits, std::min(capacity, cap_), fast);
        for (uint32_t u : fast) {
            in_.seed(u);
            const uint32_t b = blockOf(u);
            ++resident_[b];
            sync(b);
        }
    }

    void plan(int64_t t, const FastTierView& tier0, StepPlan& out) override
    {
        t_ = t;
        pagesBefore_ = lay_.pagesAt(lay_.prefill + t);
        posBuilt_ = false;
        int64_t room = cap_ - tier0.count();
        const auto fresh = tier0.newUnits();
        for (uint32_t u : fresh) protectUntil_[blockOf(u)] = t + 1;

        // 1. New units.
        for (uint32_t u : fresh) {
            if (room == 0) {
                const uint32_t v = takeVictim(kNoBlock, 0, false);
                if (v == kNoBlock) continue;
                room += evictBlock(v, out);
            }
            --room;
            in_.admit(u, out);
        }

        // 2. Swaps, highest score first (ties: lower id), taken from the candidates in order.
        cand_.clear();
        for (uint32_t b : scored_)
            if (evictedAt_[b] != t && missing(b) > 0) cand_.push_back({score_[b], b});
        best_.fill(cand_, lastPicks_);
        int64_t swaps = 0;
        while (!best_.done() && (maxSwaps_ == 0 || swaps < maxSwaps_)) {
            const uint32_t b = best_.take();
            if (evictedAt_[b] == t) continue;   // a victim of a higher block at this step
            const int64_t need = missing(b);
            int64_t freed = room;
            victims_.clear();
            while (freed < need) {
                const uint32_t v = takeVictim(b, score_[b], true);
                if (v == kNoBlock) break;
                victims_.push_back(v);
                freed += resident_[v];
            }
            if (freed < need) {   // cannot come in: nothing is evicted for it, stop
                skipped_.insert(skipped_.end(), victims_.begin(), victims_.end());
                break;
            }
            for (uint32_t v : victims_) evictBlock(v, out);
            room = freed - need;
            promoteBlock(b, out);
            ++swaps;
        }
        lastPicks_ = best_.taken();
        for (uint32_t v : skipped_) sync(v);   // back into the zero-score set if they belong
        skipped_.clear();

        // New units count in their blocks from now on.
        for (uint32_t u : out.admit_new) {
            const uint32_t b = blockOf(u);
            ++resident_[b];
            sync(b);
        }
    }

    void observe(const StepObservation& obs) override
    {
        const auto t = obs.t;
        last_.swap(scored_);
        scored_.clear();
        for (size_t i = 0; i < obs.score_units.size(); ++i) {
            const uint32_t b = blockOfUnit_[obs.score_units[i]];
            const float s = obs.score_max[i];
            if (scoredAt_[b] != t) {
                const bool hadScore = scoredAt_[b] == lastObserved_;
                scoredAt_[b] = t;
                scored_.push_back(b);
                score_[b] = s;
                if (!hadScore && resident_[b] > 0) zero_.remove(b);   // no longer at score 0
            } else {
                score_[b] = std::max(score_[b], s);
            }
        }
        for (uint32_t b : last_)
            if (scoredAt_[b] != t) {   // scored at the previous step, not at this one
                score_[b] = 0.0f;
                if (resident_[b] > 0) zero_.insert(b);
            }
        lastObserved_ = t;
    }

private:
    static constexpr uint32_t kNoBlock = UINT32_MAX;

    uint32_t blockOf(uint32_t u) const { return blockOfUnit_[u]; }
    int64_t firstPage(uint32_t b) const { return firstPage_[b]; }
    int64_t existing(uint32_t b) const
    {
        return std::clamp<int64_t>(pagesBefore_ - firstPage(b), 0, ppb_);
    }
    int64_t missing(uint32_t b) const { return existing(b) - resident_[b]; }

    // zero_ holds exactly the resident blocks with score 0 (the lowest ones, taken by id).
    void sync(uint32_t b)
    {
        if (resident_[b] > 0 && score_[b] == 0.0f) zero_.insert(b);
        else zero_.remove(b);
    }

    // Resident blocks with a positive score, lowest first: a heap built on first need in
    // a step from the blocks scored at the last step (O(scored blocks)).
    void buildPositive()
    {
        if (posBuilt_) return;
        posBuilt_ = true;
        pos_.clear();
        for (uint32_t b : scored_)
            if (resident_[b] > 0 && promotedAt_[b] != t_) pos_.push_back(b);
        std::make_heap(pos_.begin(), pos_.end(), higherFirst());
    }

    // Takes out the lowest resident block (score, then id) that may be evicted now: not
    // `except`, not protected, not promoted at this step; when `bounded`, only if its score
    // is strictly below `below`. Blocks passed over are kept in skipped_ until the step ends.
    uint32_t takeVictim(uint32_t except, float below, bool bounded)
    {
        for (;;) {
            uint32_t v = zero_.first();
            if (v != kit::IdBitset::kNone) {
                if (bounded && !(0.0f < below)) return kNoBlock;
                zero_.remove(v);
            } else {
                buildPositive();
                if (pos_.empty()) return kNoBlock;
                v = pos_.front();
                if (bounded && !(score_[v] < below)) return kNoBlock;
                std::pop_heap(pos_.begin(), pos_.end(), higherFirst());
                pos_.pop_back();
            }
            if (resident_[v] == 0) continue;
            if (v == except || protectUntil_[v] >= t_ || promotedAt_[v] == t_) {
                skipped_.push_back(v);
                continue;
            }
            return v;
        }
    }

    // Evicts every resident unit of b.
    int64_t evictBlock(uint32_t b, StepPlan& out)
    {
        const auto slot = lay_.slotOf(b);
        const int64_t p0 = firstPage(b);
        const int64_t n = existing(b);
        for (int64_t p = p0; p < p0 + n; ++p) {
            const uint32_t u = lay_.unit(0, p, slot);
            if (in_.contains(u)) in_.evict(u, out);
        }
        const int64_t freed = resident_[b];
        resident_[b] = 0;
        evictedAt_[b] = t_;
        sync(b);
        return freed;
    }

    void promoteBlock(uint32_t b, StepPlan& out)
    {
        const auto slot = lay_.slotOf(b);
        const int64_t p0 = firstPage(b);
        const int64_t n = existing(b);
        for (int64_t p = p0; p < p0 + n; ++p) {
            const uint32_t u = lay_.unit(0, p, slot);
            if (!in_.contains(u)) in_.promote(u, out);
        }
        resident_[b] = static_cast<int32_t>(n);
        promotedAt_[b] = t_;
        sync(b);
    }

    UnitLayout lay_;
    int64_t cap_;
    int64_t maxSwaps_;
    int64_t ppb_ = 1;            // pages per block
    int64_t t_ = 0, pagesBefore_ = 0;
    bool posBuilt_ = false;
    kit::ResidentSet in_;            // tier 0, by unit
    std::vector<uint32_t> blockOfUnit_;
    std::vector<int64_t> firstPage_;  // per block
    int64_t lastObserved_ = -2;      // scoredAt_ starts at -1: never scored
    std::vector<float> score_;        // per block: best token score at the last observed step
    std::vector<int32_t> resident_;   // per block: units in tier 0
    std::vector<int64_t> protectUntil_, evictedAt_, promotedAt_, scoredAt_;
    kit::IdBitset zero_;           // resident blocks with score 0
    std::vector<uint32_t> pos_;       // heap of resident blocks with a positive score
    std::vector<uint32_t> scored_;    // blocks with a score at the last observed step
    std::vector<uint32_t> last_;      // ... at the one before
    std::vector<kit::KeyedNode> cand_;   // this step's candidate blocks (score, id)
    kit::OrderedPicks<kit::HighKeyLowId> best_;   // ... highest score first
    size_t lastPicks_ = 0;               // candidates taken at the last step
    std::vector<uint32_t> victims_, skipped_;
};

} // namespace

PolicyEntry questPolicy()
{
    return {{"quest", "Quest-like page scoring",
             "Keeps the blocks whose best token scored highest at the last step in HBM: each step whole "
             "blocks are swapped in while an incoming block outscores the lowest resident one, up to a "
             "limit per step.",
             true,
             {{"block_tokens", "Block size (tokens)", ParamSpec::Type::Int, 1, 65536, kBlockTokens,
               "Tokens per scored block, rounded up to whole pages."},
              {"max_swaps_per_step", "Block swaps per step", ParamSpec::Type::Int, 0, 1000000, kMaxSwaps,
               "At most this many blocks come into HBM per step (0 = no limit)."}},
             true},
            [](const PolicyContext& ctx, const PolicyParams& p) -> std::unique_ptr<Policy> {
                return std::make_unique<Quest>(ctx, QuestParams{static_cast<int64_t>(p.at("block_tokens")),
                                                                static_cast<int64_t>(p.at("max_swaps_per_step"))});
            }};
}

} // namespace kvtier
