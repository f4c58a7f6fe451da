// ArkVale-like recall (online). docs/POLICIES.md "arkvale".
//
// Each unit has a recent score e_u = EMA of its score_sum: after step t,
// e_u <- ema * e_u + (1 - ema) * score_sum_u(t) (0 when unscored; ema = 0: the last step's
// score). The decay is lazy (stored e * weight, kit::DecayScale), so unscored units
// cost nothing. Step t, with the scores up to t-1:
//  1. the units step t creates are admitted; when tier 0 is full the resident with the lowest
//     e is evicted for each (ties: lower id);
//  2. recall: the slow-tier units whose score rose at t-1 (those step t-1 scored), by
//     descending e (ties: lower id), at most max_recalls_per_step (0 = no limit): promoted
//     while there is room; when full, promoted only if e_u > recall_margin * e_v for the
//     lowest resident v, which is evicted; the first unit that fails ends the step's recalls.
//     (Tier 0 only has room before it first fills up: evictions only ever make room for an
//     arrival.) A slow unit that was not scored at t-1 waits until it is scored again.
// A unit created at step t-1 has not been scored yet and is not evicted at step t (it is
// ranked from the step after its first observation on). Units evicted at t are not
// recalled at t and vice versa. Misses are not promoted as such: a unit read from a slow
// tier at t-1 gets a score at t-1 and is recalled at t if that score is high enough
// (migration is charged in the step it happens, MODEL.md §5).
//
// Cost per step: O(scored units + moves log units): the best max_recalls_per_step candidates
// are partially sorted out of the last step's scored slow units (one pass); the rankable
// residents are a kit::TopSlice, lowest first: only the lowest few ten thousand sit in a small
// heap, whose keys are lower bounds, raised (or dropped from the heap) only when they surface;
// one scan of the units refills it when it runs empty.
#include "core/policies/policy.hpp"
#include "core/policies/kit_top_slice.hpp"
#include "core/policies/policy_kit.hpp"

#include <algorithm>

namespace kvtier {

namespace {

constexpr double kEma = 0.5;
constexpr double kMargin = 1.2;
constexpr double kMaxRecalls = 32;
constexpr size_t kSortChunk = 64;   // candidates sorted at first when recalls are unlimited
constexpr size_t kSlice = 32768;    // rankable residents kept in the slice's heap by a refill

struct ArkValeParams {
    double ema, margin;
    int64_t maxRecalls;
};

class ArkVale final : public Policy {
public:
    ArkVale(const PolicyContext& ctx, const ArkValeParams& params)
        : cap_(std::max<int64_t>(0, ctx.fast_capacity_units)), ema_(params.ema), margin_(params.margin),
          maxRecalls_(params.maxRecalls), scale_(params.ema > 0 ? params.ema : 1.0)
    {
        const auto total = static_cast<size_t>(ctx.layout.totalUnits());
        s_.assign(total, 0.0);
        in_.reset(total);
        res_.reset(total);
        ranked_.assign(total, 0);
    }

    void initial(int64_t prefillUnits, int64_t capacity, std::vector<uint32_t>& fast) override
    {
        Policy::initial(prefillUnits, std::min(capacity, cap_), fast);
        for (uint32_t u : fast) {
            in_.seed(u);
            rank(u);
        }
    }

    void plan(int64_t, const FastTierView& tier0, StepPlan& out) override
    {
        int64_t room = cap_ - tier0.count();
        arrived_.clear();
        for (uint32_t u : tier0.newUnits()) {
            if (room == 0) {
                if (rankedCount_ == 0) continue;
                evict(popLowest(), out);
                ++room;
            }
            --room;
            in_.admit(u, out);
            freshNow_.push_back(u);
        }
        // Candidates: the slow units step t-1 scored (none of them was evicted just now), by
        // descending score, then ascending id: only the first max_recalls_per_step can be
        // recalled, so only those are sorted (a partial sort: one pass over the rest).
        // With no limit, the sorted part grows in doubling chunks as the recalls go on.
        const size_t take = maxRecalls_ == 0 ? rose_.size() : std::min(rose_.size(), static_cast<size_t>(maxRecalls_));
        size_t sorted = 0;
        for (size_t n = 0; n < take; ++n) {
            if (n == sorted) {
                sorted = std::min(take, std::max<size_t>(2 * sorted, kSortChunk));
                const auto first = rose_.begin() + static_cast<std::ptrdiff_t>(n);
                std::partial_sort(first, rose_.begin() + static_cast<std::ptrdiff_t>(sorted), rose_.end(), kit::HighKeyLowId{});
            }
            const uint32_t u = rose_[n].id;
            if (!(s_[u] > 0)) break;
            if (room == 0) {
                if (rankedCount_ == 0 || !(s_[u] > margin_ * s_[lowest()])) break;
                evict(popLowest(), out);
                ++room;
            }
            --room;
            in_.promote(u, out);
            arrived_.push_back(u);
        }
        rose_.clear();
        for (uint32_t u : arrived_) rank(u);
    }

    void observe(const StepObservation& obs) override
    {
        if (ema_ > 0) {
            scale_.advance();
        } else {
            for (uint32_t u : lastScored_) setScore(u, 0.0);
            lastScored_.assign(obs.score_units.begin(), obs.score_units.end());
        }
        const double w = (1.0 - ema_) * scale_.weight();
        for (size_t i = 0; i < obs.score_units.size(); ++i) {
            const uint32_t u = obs.score_units[i];
            setScore(u, ema_ > 0 ? s_[u] + w * static_cast<double>(obs.score_sum[i])
                                 : static_cast<double>(obs.score_sum[i]));
            if (!in_.contains(u)) rose_.push_back({s_[u], u});
        }
        if (const double k = scale_.renormalise(); k != 1.0) {
            for (double& v : s_) v *= k;
            res_.invalidate();   // refilled from the scaled scores when next used
            for (auto& nd : rose_) nd.key = s_[nd.id];
        }
        // Units created at the previous step have now been observed once: rankable.
        for (uint32_t u : freshPrev_)
            if (in_.contains(u)) rank(u);
        freshPrev_.swap(freshNow_);
        freshNow_.clear();
    }

private:
    // Residents' heap keys are lower bounds (raised when they surface), so a rise costs
    // nothing; a fall (ema = 0 only) is applied at once.
    void setScore(uint32_t u, double v)
    {
        const bool fall = v < s_[u];
        s_[u] = v;
        if (in_.contains(u) && fall && ranked_[u]) res_.raise(u, v);
    }
    // A resident becomes rankable, with its score now.
    void rank(uint32_t u)
    {
        ranked_[u] = 1;
        ++rankedCount_;
        res_.raise(u, s_[u]);
    }
    // The rankable resident with the lowest score (ties: lower id); there must be one.
    uint32_t lowest()
    {
        const auto score = [this](uint32_t u) { return s_[u]; };
        if (res_.complete() && res_.size() > 2 * kSlice) res_.trim(kSlice);
        uint32_t u = res_.complete() ? res_.topLazy(score) : kit::TopSlice<kit::LowKeyLowId>::kNone;
        if (u == kit::TopSlice<kit::LowKeyLowId>::kNone) {
            res_.refill(kSlice, [this](auto&& add) {
                for (uint32_t v = 0; v < ranked_.size(); ++v)
                    if (ranked_[v]) add(v, s_[v]);
            });
            u = res_.topLazy(score);
        }
        return u;
    }
    uint32_t popLowest()
    {
        const uint32_t u = lowest();
        res_.leave(u);
        ranked_[u] = 0;
        --rankedCount_;
        return u;
    }
    void evict(uint32_t u, StepPlan& out) { in_.evict(u, out); }

    int64_t cap_;
    double ema_, margin_;
    int64_t maxRecalls_;
    kit::DecayScale scale_;        // ema > 0: weight proportional to 1 / ema^t
    std::vector<double> s_;        // e_u * scale_.weight()
    kit::ResidentSet in_;
    kit::TopSlice<kit::LowKeyLowId> res_;   // rankable residents (observed since created), lowest first
    std::vector<uint8_t> ranked_;           // the rankable residents
    size_t rankedCount_ = 0;
    std::vector<uint32_t> freshNow_, freshPrev_;   // admitted at this / the previous step
    std::vector<uint32_t> lastScored_;             // ema = 0 only
    std::vector<kit::KeyedNode> rose_;   // slow units scored at the last observed step
    std::vector<uint32_t> arrived_;
};

} // namespace

PolicyEntry arkvalePolicy()
{
    return {{"arkvale", "ArkVale-like recall",
             "Keeps the units with the highest recent attention score (a moving average) in HBM: when room "
             "is needed the lowest-scoring resident is evicted, and a unit in a slower tier whose score "
             "rises above the lowest resident's by a margin is recalled at the next step.",
             true,
             {{"ema", "History weight", ParamSpec::Type::Double, 0, 0.999, kEma,
               "Moving average: score = ema * previous + (1 - ema) * this step's score; 0 uses the last step only."},
              {"recall_margin", "Recall margin", ParamSpec::Type::Double, 1, 100, kMargin,
               "A slow-tier unit is recalled when its score exceeds the lowest resident's times this factor."},
              {"max_recalls_per_step", "Recalls per step", ParamSpec::Type::Int, 0, 1000000, kMaxRecalls,
               "At most this many units are recalled per step (0 = no limit)."}}},
            [](const PolicyContext& ctx, const PolicyParams& p) -> std::unique_ptr<Policy> {
                return std::make_unique<ArkVale>(
                    ctx, ArkValeParams{p.at("ema"), p.at("recall_margin"), static_cast<int64_t>(p.at("max_recalls_per_step"))});
            }};
}

} // namespace kvtier
