#include "core/engine/placement.hpp"

#include "core/model/error.hpp"
#include "core/model/fast_divider.hpp"
#include "core/policies/policy_per_sequence.hpp"
#include "core/support/parallel.hpp"

#include <tbb/blocked_range.h>

#include <algorithm>
#include <stdexcept>

namespace kvtier {

namespace {

// Tiers a hardware may have (hardware.tiers).
constexpr int32_t kMaxTiers = 16;



class Simulator {
public:
    Simulator(const UnitLayout& layout, const PlacementConfig& cfg, const std::string& policyName)
        : lay_(layout), cfg_(cfg), name_(policyName),
          M_(static_cast<int32_t>(cfg.capacity_units.size())), S_(layout.sequences()),
          lowerStored_(cfg.inclusive || M_ > 2)
    {
        const auto total = static_cast<size_t>(lay_.totalUnits());
        if (lowerStored_) lower_.assign(total, kNone);
        fast_.assign(total, 0);
        count_.assign(static_cast<size_t>(M_), 0);
        migRead_.assign(static_cast<size_t>(lay_.slot_count) * static_cast<size_t>(M_), 0);
        migWrite_.assign(migRead_.size(), 0);
        readKv_.assign(migRead_.size(), 0);
        readFlex_.assign(migRead_.size(), 0);
        movedIn_.assign(4 * migRead_.size(), 0);
        movedOut_.assign(4 * migRead_.size(), 0);
        slotDiv_ = FastDivider(static_cast<uint32_t>(lay_.slot_count));
        slotMask_ = (lay_.slot_count & (lay_.slot_count - 1)) == 0;
    }

    static constexpr uint8_t kNone = 255;

    // Where a unit is. fast_[u] is 1 while u is in tier 0 (2 while it leaves, within a
    // step's migrations). Its lower tier, lowerOf(u): inclusive, its home, which holds it
    // always; exclusive, the tier it is in whenever it is not in tier 0 (where it was created
    // or last evicted to). With two exclusive tiers that is tier 1 for every unit, so
    // nothing per unit is kept beside fast_ and a move touches one byte.
    uint8_t lowerOf(uint32_t u) const { return lowerStored_ ? lower_[u] : static_cast<uint8_t>(M_ - 1); }
    // The tier u is read from (exclusive), or whose copy it is (inclusive, not in tier 0).
    uint8_t tierOf(uint32_t u) const { return fast_[u] ? uint8_t{0} : lowerOf(u); }

    // Asks for unit u's bytes ahead of their use. Inlined early: GCC takes a function that
    // only prefetches for one without effects and drops its calls.
    [[gnu::always_inline]] void prefetchUnit(uint32_t u) const
    {
        __builtin_prefetch(&fast_[u]);
        if (lowerStored_) __builtin_prefetch(&lower_[u]);
    }
    // How far ahead in a list of moves prefetchUnit looks.
    static constexpr size_t kAhead = 16;

    void bug(int64_t t, const std::string& what) const
    {
        throw std::logic_error("policy '" + name_ + "' at step " + std::to_string(t) + ": " + what);
    }

    int64_t cap(int32_t m) const { return cfg_.capacity_units[static_cast<size_t>(m)]; }
    int64_t& cnt(int32_t m) { return count_[static_cast<size_t>(m)]; }

    // Fastest tier >= 1 with room for a whole unit. Inclusive: middle tiers hold copies,
    // the last tier holds every unit (its capacity was checked up front).
    uint8_t lowerTierWithRoom(int64_t t)
    {
        const int32_t last = M_ - 1;
        for (int32_t m = 1; m < (cfg_.inclusive ? last : M_); ++m)
            if (cnt(m) < cap(m)) return static_cast<uint8_t>(m);
        if (cfg_.inclusive) return static_cast<uint8_t>(last);
        throw InfeasibleError("step " + std::to_string(t) + ": no tier has room for another unit");
    }

    // Creates unit u: in tier 0 when `fast` (and room), else in the lower tiers.
    void create(uint32_t u, bool fast, int64_t t, PlacementResult& r)
    {
        const bool inFast = fast && cnt(0) < cap(0);
        uint8_t lower = kNone;
        if (cfg_.inclusive || !inFast) {
            lower = lowerTierWithRoom(t);
            cnt(lower)++;
            if (cfg_.inclusive && lower != M_ - 1) cnt(M_ - 1)++;   // the last tier holds all
            if (lowerStored_) lower_[u] = lower;
        }
        if (inFast) {
            fast_[u] = 1;
            cnt(0)++;
        }
        r.created_tier[u] = inFast ? 0 : lower;
        r.home_tier[u] = cfg_.inclusive ? lower : r.created_tier[u];
    }

    // Places the prefill: before step 0, once per run. Sizes r's per-unit arrays and totals.
    void start(Policy& policy, PlacementResult& r)
    {
        r.tiers = M_;
        r.created_tier.assign(fast_.size(), kNone);
        r.home_tier.assign(fast_.size(), kNone);
        r.sequences = S_;
        if (S_ > 1) {
            r.sequence_read.assign(static_cast<size_t>(S_ * M_), 0.0);
            r.sequence_migrated.assign(static_cast<size_t>(S_), 0.0);
        }

        // Prefill.
        const int64_t prefillUnits = lay_.unitsBefore(0);
        std::vector<uint32_t> initial;
        policy.initial(prefillUnits, cap(0), initial);
        if (static_cast<int64_t>(initial.size()) > cap(0)) bug(-1, "initial placement exceeds tier 0 capacity");
        std::vector<uint8_t> wantFast(static_cast<size_t>(prefillUnits), 0);
        for (uint32_t u : initial) {
            if (u >= prefillUnits) bug(-1, "initial placement names unit " + std::to_string(u) + " that does not exist");
            wantFast[u] = 1;
        }
        // Units that go to tier 0 first, then the rest in unit order (first-fit).
        for (uint32_t u = 0; u < prefillUnits; ++u)
            if (wantFast[u]) create(u, true, -1, r);
        for (uint32_t u = 0; u < prefillUnits; ++u)
            if (!wantFast[u]) create(u, false, -1, r);
    }

    // Whether each step's moves are listed in r.moves (a placement heatmap replays them).
    void recordMoves(bool on) { recordMoves_ = on; }

    // Runs the steps `sel` holds (all, or a window that follows the last one run). r's
    // per-step arrays (traffic, fast_units, moves, sequence_step) are sized to those steps,
    // rows as sel.row() numbers them; its totals and per-unit arrays carry on.
    void steps(Policy& policy, const Selection& sel, const ObservedScores* observed, const JobControl& job,
               PlacementResult& r)
    {
        observed_ = cfg_.observe_scores == ObserveScores::Read ? observed : nullptr;
        if (observed_ && !observed_->all_scored && observed_->units.rows() != sel.step_units.rows())
            throw std::logic_error("placement of '" + name_ + "': observed scores of another selection");
        if (sel.first_step != next_)
            throw std::logic_error("placement of '" + name_ + "': window starts at step " +
                                   std::to_string(sel.first_step) + ", expected " + std::to_string(next_));
        sel_ = &sel;
        const int32_t slots = lay_.slot_count;
        const int64_t T = lay_.steps;
        const int64_t first = sel.first_step, end = sel.endStep();
        const auto held = static_cast<size_t>(end - first);
        r.traffic.assign(held * static_cast<size_t>(slots * M_), SlotTraffic{});
        r.fast_units.assign(held, 0);
        if (S_ > 1) r.sequence_step.assign(held * static_cast<size_t>(S_), 0.0);
        r.moves.items.clear();
        r.moves.offset.assign(1, 0);

        StepPlan& plan = plan_;
        std::vector<uint32_t>& newUnits = newUnits_;
        for (int64_t t = first; t < end; ++t) {
            if ((t & 63) == 0) job.check();
            const size_t ts = static_cast<size_t>(t - first);   // the step's place in r's per-step arrays
            const int64_t before = lay_.unitsBefore(t);
            newUnits.clear();
            for (int64_t u = before; u < lay_.unitsBefore(t + 1); ++u) newUnits.push_back(static_cast<uint32_t>(u));

            plan.clear();
            const int64_t fastCount = cnt(0);
            policy.plan(t, FastTierView(fast_, fastCount, cap(0), newUnits, before), plan);
            auto traffic = [&](uint32_t u, int32_t m) -> SlotTraffic& {
                return r.traffic[(sel.row(t, lay_.slotOf(u)) * static_cast<size_t>(M_)) + static_cast<size_t>(m)];
            };

            // 1. Migrations.
            migrate(plan, t, before, fastCount, r);
            r.moves.offset.push_back(r.moves.items.size());
            r.fast_units[ts] = cnt(0);

            // 2. Reads of the selected units, from where they live now.
            if (S_ == 1) {
                readOneSequence(sel.step_units.row(sel.stepRow(t)), t, r);
            } else {
                for (uint32_t u : sel.step_units.row(sel.stepRow(t))) {
                    const auto s = static_cast<double>(lay_.unitTokens(u, t));
                    SlotTraffic* base = &r.traffic[sel.row(t, lay_.slotOf(u)) * static_cast<size_t>(M_)];
                    if (fast_[u] && cfg_.inclusive) base[lower_[u]].flex_read += s;
                    else base[tierOf(u)].kv_read += s;
                    const auto q = static_cast<size_t>(lay_.sequenceOf(u));
                    r.sequence_read[q * static_cast<size_t>(M_) + tierOf(u)] += s;
                    r.sequence_step[ts * static_cast<size_t>(S_) + q] += s;
                }
            }

            // 3. New units, then the new token's write.
            for (uint32_t u : plan.admit_new)
                if (std::find(newUnits.begin(), newUnits.end(), u) == newUnits.end())
                    bug(t, "admits unit " + std::to_string(u) + " that is not created at this step");
            for (uint32_t u : newUnits) {
                const bool admit = std::find(plan.admit_new.begin(), plan.admit_new.end(), u) != plan.admit_new.end();
                create(u, admit, t, r);
            }
            for (int32_t q = 0; q < S_; ++q)
            for (int32_t l = 0; l < slots; ++l) {
                const uint32_t u = lay_.newTokenUnit(q, t, l);
                if (S_ > 1) r.sequence_step[ts * static_cast<size_t>(S_) + static_cast<size_t>(q)] += 1;
                if (cfg_.inclusive) {
                    if (fast_[u]) traffic(u, 0).write += 1;
                    traffic(u, lower_[u]).write += 1;
                    if (lower_[u] != M_ - 1) traffic(u, M_ - 1).write += 1;
                } else {
                    traffic(u, tierOf(u)).write += 1;
                }
            }

            // 4. The policy learns what step t read and how relevant each unit was.
            policy.observe(observation(t));
            if ((t & 255) == 0) job.report(static_cast<double>(t) / static_cast<double>(T));
        }
        next_ = end;
    }

private:
    // Step t's migrations. Evicted units leave tier 0 and promoted units leave their lower
    // tier before either lands, so a swap works even when every tier is full: evictions are
    // marked leaving; promotions are checked and land, their lower tiers freed; then
    // evictions land in the lower tiers (promotions are listed after evictions in r.moves).
    // The lists name units in any order, so each pass fetches per-unit bytes a few units
    // ahead of use. Migrated tokens are tallied per (slot, tier) in integers and added to
    // the step's rows once: the same doubles as adding each move's tokens (integers, exact
    // below 2^53). One sequence counts its moves of whole pages in four banks used in turn
    // (pages of one slot often move together, and one counter per slot would chain each
    // move to the last) and only the context's last page, which may hold fewer tokens,
    // move by move; with two exclusive tiers the lower tier's count changes once per step.
    void migrate(const StepPlan& plan, int64_t t, int64_t before, int64_t fastCount, PlacementResult& r)
    {
        const std::vector<uint32_t>& evict = plan.evict;
        const std::vector<uint32_t>& promote = plan.promote;
        for (size_t i = 0; i < evict.size(); ++i) {
            const uint32_t u = evict[i];
            if (i + kAhead < evict.size()) prefetchUnit(evict[i + kAhead]);
            if (u >= before || fast_[u] != 1) bug(t, "evicts unit " + std::to_string(u) + " that is not in tier 0");
            fast_[u] = 2;   // leaving
        }
        const int64_t after = fastCount - static_cast<int64_t>(evict.size()) + static_cast<int64_t>(promote.size());
        if (after > cap(0))
            bug(t, "tier 0 would hold " + std::to_string(after) + " units, capacity " + std::to_string(cap(0)));
        cnt(0) = after;
        const bool twoTiers = M_ == 2 && !cfg_.inclusive;   // every move is between tiers 0 and 1
        if (twoTiers) {
            cnt(1) -= static_cast<int64_t>(promote.size());
            if (cnt(1) + static_cast<int64_t>(evict.size()) > cap(1))
                throw InfeasibleError("step " + std::to_string(t) + ": no tier has room for another unit");
            cnt(1) += static_cast<int64_t>(evict.size());
        }

        const int64_t context = lay_.prefill + t;   // one sequence's context at step t
        const auto L = static_cast<uint32_t>(lay_.slot_count);
        const auto M = static_cast<size_t>(M_);
        // One sequence: the last page's units, moved one by one.
        const uint32_t lastFrom = static_cast<uint32_t>((context - 1) / lay_.page_tokens) * L;
        const bool banked = S_ == 1;
        int64_t movedTokens = 0;
        // A move of `s` tokens of unit u from tier `from` to tier `to`, added as it is.
        const auto exact = [&](uint32_t u, uint8_t from, uint8_t to) {
            int32_t slot = 0;
            int64_t s = 0;
            if (S_ > 1) {
                slot = lay_.slotOf(u);
                s = lay_.unitTokens(u, t);
            } else {
                const uint32_t page = slotDiv_.div(u);
                slot = static_cast<int32_t>(u - page * L);
                s = lay_.tokensIn(page, context);
            }
            const size_t row = static_cast<size_t>(slot) * M;
            migRead_[row + from] += s;
            migWrite_[row + to] += s;
            movedTokens += s;
            sequenceMoved(r, u, t, 2 * static_cast<double>(s));
        };
        const auto slotIndex = [&](uint32_t u) -> size_t {
            return slotMask_ ? (u & (L - 1)) : (u - slotDiv_.div(u) * L);
        };
        uint32_t* inBank = movedIn_.data();     // [bank][slot * M + tier]: promotions from tier
        uint32_t* outBank = movedOut_.data();   // [bank][slot * M + tier]: evictions to tier
        const size_t bankSize = static_cast<size_t>(L) * M;

        promoted_.clear();
        for (size_t i = 0; i < promote.size(); ++i) {
            const uint32_t u = promote[i];
            if (i + kAhead < promote.size()) prefetchUnit(promote[i + kAhead]);
            if (u >= before) bug(t, "promotes unit " + std::to_string(u) + " that does not exist yet");
            if (fast_[u] == 1) bug(t, "promotes unit " + std::to_string(u) + " twice or while in tier 0");
            if (fast_[u] == 2) bug(t, "evicts and promotes unit " + std::to_string(u) + " in one step");
            const uint8_t from = lowerOf(u);
            if (!cfg_.inclusive && !twoTiers) cnt(from)--;
            fast_[u] = 1;
            if (banked && u < lastFrom) ++inBank[(i & 3) * bankSize + slotIndex(u) * M + from];
            else exact(u, from, 0);
            if (recordMoves_) promoted_.push_back({u, from, 0});
        }
        for (size_t i = 0; i < evict.size(); ++i) {
            const uint32_t u = evict[i];
            if (i + kAhead < evict.size()) prefetchUnit(evict[i + kAhead]);
            fast_[u] = 0;
            uint8_t to;
            if (cfg_.inclusive) {
                to = lower_[u];   // its home: dropping a copy is free
            } else {
                if (twoTiers) {
                    to = 1;
                } else {
                    to = lowerTierWithRoom(t);
                    cnt(to)++;
                    if (lowerStored_) lower_[u] = to;
                }
                if (banked && u < lastFrom) ++outBank[(i & 3) * bankSize + slotIndex(u) * M + to];
                else exact(u, 0, to);
            }
            if (recordMoves_) r.moves.items.push_back({u, 0, to});
        }
        r.moves.items.insert(r.moves.items.end(), promoted_.begin(), promoted_.end());

        if (banked && (!promote.empty() || !evict.empty())) {
            const int64_t g = lay_.page_tokens;
            for (size_t at = 0; at < bankSize; ++at) {
                const size_t slotRow = at - at % M;
                const int64_t in = int64_t{inBank[at]} + inBank[bankSize + at] + inBank[2 * bankSize + at] +
                                   inBank[3 * bankSize + at];
                const int64_t out = int64_t{outBank[at]} + outBank[bankSize + at] + outBank[2 * bankSize + at] +
                                    outBank[3 * bankSize + at];
                if (in) {   // from tier at % M to tier 0
                    migRead_[at] += in * g;
                    migWrite_[slotRow] += in * g;
                    movedTokens += in * g;
                }
                if (out) {   // from tier 0 to tier at % M
                    migRead_[slotRow] += out * g;
                    migWrite_[at] += out * g;
                    movedTokens += out * g;
                }
                for (size_t b = 0; b < 4; ++b) inBank[b * bankSize + at] = outBank[b * bankSize + at] = 0;
            }
        }
        if (movedTokens != 0) {
            r.migrated_tokens += static_cast<double>(movedTokens);
            for (int32_t l = 0; l < lay_.slot_count; ++l) {
                SlotTraffic* base = &r.traffic[sel_->row(t, l) * M];
                const size_t at = static_cast<size_t>(l) * M;
                for (size_t m = 0; m < M; ++m) {
                    if (migRead_[at + m]) base[m].mig_read += static_cast<double>(migRead_[at + m]);
                    if (migWrite_[at + m]) base[m].mig_write += static_cast<double>(migWrite_[at + m]);
                    migRead_[at + m] = 0;
                    migWrite_[at + m] = 0;
                }
            }
        }
    }

    // One sequence's reads at step t: `units` ascending (unit = page * L + slot), each page
    // holding page_tokens tokens but the context's last, which may hold fewer (its units
    // come last). Reads are counted per (slot, tier) in integers and each row gets count x
    // tokens: the same doubles as adding each read's tokens (integers, exact below 2^53),
    // without a chain of dependent additions to one memory cell per read. The walk visits
    // fast_ in unit order, where a slot at a time would stride L bytes through it.
    void readOneSequence(std::span<const uint32_t> units, int64_t t, PlacementResult& r)
    {
        const auto L = static_cast<uint32_t>(lay_.slot_count);
        const auto M = static_cast<size_t>(M_);
        const int64_t n = lay_.prefill + t;
        const auto lastPage = static_cast<uint32_t>((n - 1) / lay_.page_tokens);
        const uint32_t lastFrom = lastPage * L;   // the last page's units
        const size_t full = static_cast<size_t>(std::lower_bound(units.begin(), units.end(), lastFrom) - units.begin());
        uint32_t* kv = readKv_.data();
        uint32_t* flex = readFlex_.data();
        const auto count = [&](const auto& slotOf) {
            if (cfg_.inclusive) {
                for (size_t k = 0; k < full; ++k) {
                    const uint32_t u = units[k];
                    ++(fast_[u] ? flex : kv)[slotOf(u) * M + lower_[u]];
                }
            } else if (!lowerStored_) {   // two tiers: tier 1 unless in tier 0
                for (size_t k = 0; k < full; ++k) {
                    const uint32_t u = units[k];
                    ++kv[slotOf(u) * M + (fast_[u] ^ 1u)];
                }
            } else {
                for (size_t k = 0; k < full; ++k) {
                    const uint32_t u = units[k];
                    ++kv[slotOf(u) * M + tierOf(u)];
                }
            }
        };
        if (slotMask_) count([&](uint32_t u) -> size_t { return u & (L - 1); });   // the usual layer counts
        else count([&](uint32_t u) -> size_t { return u - slotDiv_.div(u) * L; });
        const auto tokens = static_cast<double>(lay_.page_tokens);
        for (uint32_t l = 0; l < L; ++l) {
            SlotTraffic* base = &r.traffic[sel_->row(t, static_cast<int32_t>(l)) * M];
            for (size_t m = 0; m < M; ++m) {
                const size_t at = l * M + m;
                if (kv[at]) base[m].kv_read += static_cast<double>(kv[at]) * tokens;
                if (flex[at]) base[m].flex_read += static_cast<double>(flex[at]) * tokens;
                kv[at] = flex[at] = 0;
            }
        }
        const auto lastTokens = static_cast<double>(lay_.tokensIn(lastPage, n));
        for (size_t k = full; k < units.size(); ++k) {
            const uint32_t u = units[k];
            SlotTraffic* base = &r.traffic[sel_->row(t, static_cast<int32_t>(u - lastFrom)) * M];
            if (fast_[u] && cfg_.inclusive) base[lower_[u]].flex_read += lastTokens;
            else base[tierOf(u)].kv_read += lastTokens;
        }
    }

    // A batch's per-sequence books (MODEL.md §8): tokens a migration of unit u moved
    // (read and written) at step t.
    void sequenceMoved(PlacementResult& r, uint32_t u, int64_t t, double tokens) const
    {
        if (S_ == 1) return;
        const auto q = static_cast<size_t>(lay_.sequenceOf(u));
        r.sequence_migrated[q] += tokens / 2;
        r.sequence_step[static_cast<size_t>(t - sel_->first_step) * static_cast<size_t>(S_) + q] += tokens;
    }

    // Step t's observation. ObserveScores::Read keeps the scores of the units step t read
    // (both lists ascending: one merge); the selection holds every scored unit.
    StepObservation observation(int64_t t)
    {
        const Selection& sel = *sel_;
        const size_t row = sel.stepRow(t);
        StepObservation obs;
        obs.t = t;
        obs.in_tier0 = fast_;
        obs.read_units = sel.step_units.row(row);
        const std::span<const uint32_t> scored = sel.score_units.row(row);
        const size_t off = sel.score_units.offset[row];
        if (cfg_.observe_scores == ObserveScores::All || (observed_ && observed_->all_scored)) {
            obs.score_units = scored;
            obs.score_sum = {sel.score_sum.data() + off, scored.size()};
            obs.score_max = {sel.score_max.data() + off, scored.size()};
            return obs;
        }
        if (observed_) {   // computed once for every policy run on this selection
            const size_t at = observed_->units.offset[row];
            obs.score_units = observed_->units.row(row);
            obs.score_sum = {observed_->sum.data() + at, obs.score_units.size()};
            obs.score_max = {observed_->max.data() + at, obs.score_units.size()};
            return obs;
        }
        seenUnits_.clear();
        seenSum_.clear();
        seenMax_.clear();
        size_t k = 0;
        for (uint32_t u : obs.read_units) {
            while (k < scored.size() && scored[k] < u) ++k;
            if (k < scored.size() && scored[k] == u) {
                seenUnits_.push_back(u);
                seenSum_.push_back(sel.score_sum[off + k]);
                seenMax_.push_back(sel.score_max[off + k]);
            }
        }
        obs.score_units = seenUnits_;
        obs.score_sum = seenSum_;
        obs.score_max = seenMax_;
        return obs;
    }

    const Selection* sel_ = nullptr;   // the steps being run
    bool recordMoves_ = true;          // list each step's moves in r.moves
    int64_t next_ = 0;                 // the first step not run yet
    UnitLayout lay_;
    PlacementConfig cfg_;
    StepPlan plan_;
    std::vector<uint32_t> newUnits_;
    std::string name_;
    int32_t M_;
    int32_t S_;
    bool lowerStored_;                 // inclusive or more than two tiers: lower_ is kept
    std::vector<uint8_t> fast_;        // per unit: 1 in tier 0 (2 leaving)
    std::vector<uint8_t> lower_;       // per unit: lowerOf(u), when stored
    std::vector<Move> promoted_;       // a step's promotions, listed after its evictions
    std::vector<uint32_t> readKv_, readFlex_;   // a step's reads per (slot, tier)
    std::vector<uint32_t> movedIn_, movedOut_;  // a step's moves per (bank, slot, tier), migrate()
    bool slotMask_ = false;                     // slot_count is a power of two: slot = u & (L - 1)
    std::vector<int64_t> count_;
    std::vector<int64_t> migRead_, migWrite_;   // step's migrated tokens per (slot, tier)
    FastDivider slotDiv_;                       // u / slot_count (one sequence: unit = page * L + slot)
    const ObservedScores* observed_ = nullptr;   // the window's observed scores, when shared
    std::vector<uint32_t> seenUnits_;          // step t's scored units that it read
    std::vector<float> seenSum_, seenMax_;
};

} // namespace

namespace {

// Capacity checks of MODEL.md §4/§5 before a run; returns the config the simulator uses.
PlacementConfig checkedConfig(const UnitLayout& lay, const PlacementConfig& config)
{
    const auto M = config.capacity_units.size();
    if (M < 1 || M > static_cast<size_t>(kMaxTiers)) throw InputError("hardware.tiers", "needs between 1 and 16 tiers");
    const int64_t total = lay.totalUnits();
    if (config.inclusive && M >= 2 && config.capacity_units.back() < total)
        throw InfeasibleError("inclusive placement: the last tier holds " +
                              std::to_string(config.capacity_units.back()) + " units but the run needs " +
                              std::to_string(total));
    int64_t sum = 0;
    for (int64_t c : config.capacity_units) sum += std::max<int64_t>(0, c);
    if (!config.inclusive && sum < total)
        throw InfeasibleError("the tiers hold " + std::to_string(sum) + " units of KV in all but the run needs " +
                              std::to_string(total));
    PlacementConfig cfg = config;
    if (M == 1 && cfg.inclusive) cfg.inclusive = false;   // one tier: nothing to copy
    return cfg;
}

} // namespace

namespace {

// The policy object for a run: parameters resolved, one instance per sequence where the
// policy asks for it. `future` is the whole selection (oracles) or null; `futureReads` an
// oracle's streamed feed of the future, or null.
std::unique_ptr<Policy> makePolicy(const UnitLayout& layout, const PolicyEntry& policy, const PolicyParams& resolved,
                                   const PlacementConfig& cfg, const Selection* future,
                                   FutureReads* futureReads = nullptr)
{
    PolicyContext ctx;
    ctx.layout = layout;
    ctx.fast_capacity_units = cfg.capacity_units[0];
    ctx.inclusive = cfg.inclusive;
    ctx.tiers = static_cast<int32_t>(cfg.capacity_units.size());
    ctx.future = policy.info.online ? nullptr : future;
    ctx.future_reads = policy.info.online ? nullptr : futureReads;
    // In a batch, a policy about positions in one context runs once per sequence (MODEL.md §8).
    return layout.sequences() > 1 && policy.info.per_sequence ? makePerSequence(policy, ctx, resolved)
                                                              : policy.make(ctx, resolved);
}

PlacementResult namedResult(const PolicyInfo& info, const PolicyParams& params, const PlacementConfig& config,
                            const UnitLayout& layout)
{
    PlacementResult r;
    r.policy = info.name;
    r.online = info.online;
    r.params = params;
    r.config = config;
    r.layout = layout;
    return r;
}

} // namespace

PlacementResult runPlacement(const Selection& selection, const PolicyEntry& policy,
                             const PolicyParams& params, const PlacementConfig& config,
                             const JobControl& job, const ObservedScores* observed)
{
    const PlacementConfig cfg = checkedConfig(selection.layout, config);
    // Every caller gets the same defaults and range checks: those of the policy's ParamSpecs.
    const PolicyParams resolved = resolveParams(policy.info, params, "policy '" + policy.info.name + "'");
    auto instance = makePolicy(selection.layout, policy, resolved, cfg, &selection);
    PlacementResult r = namedResult(policy.info, resolved, config, selection.layout);
    Simulator sim(selection.layout, cfg, policy.info.name);
    sim.start(*instance, r);
    sim.steps(*instance, selection, observed, job, r);
    return r;
}

struct PlacementStream::Impl {
    PlacementConfig cfg;
    std::unique_ptr<Policy> policy;
    PlacementResult result;
    Simulator sim;
    Impl(const UnitLayout& layout, const PolicyEntry& entry, const PolicyParams& resolved, const PlacementConfig& config,
         FutureReads* future)
        : cfg(checkedConfig(layout, config)), policy(makePolicy(layout, entry, resolved, cfg, nullptr, future)),
          result(namedResult(entry.info, resolved, config, layout)), sim(layout, cfg, entry.info.name)
    {
        sim.start(*policy, result);
    }
};

PlacementStream::PlacementStream(const UnitLayout& layout, const PolicyEntry& policy, const PolicyParams& params,
                                 const PlacementConfig& config, FutureReads* future)
{
    if (!policy.info.online && !future)
        throw InputError("policy '" + policy.info.name + "'",
                         "is an oracle: it reads the future, which this stream was given no feed of");
    const PolicyParams resolved = resolveParams(policy.info, params, "policy '" + policy.info.name + "'");
    d = std::make_unique<Impl>(layout, policy, resolved, config, future);
}

PlacementStream::~PlacementStream() = default;

const PlacementResult& PlacementStream::run(const Selection& window, const ObservedScores* observed,
                                            const JobControl& job)
{
    d->sim.steps(*d->policy, window, observed, job, d->result);
    return d->result;
}

const PlacementResult& PlacementStream::result() const { return d->result; }

void PlacementStream::recordMoves(bool on) { d->sim.recordMoves(on); }

PlacementResult runPlacementWith(const Selection& selection, Policy& policy, const PolicyInfo& info,
                                 const PolicyParams& params, const PlacementConfig& config, const JobControl& job)
{
    const PlacementConfig cfg = checkedConfig(selection.layout, config);
    PlacementResult r = namedResult(info, params, config, selection.layout);
    Simulator sim(selection.layout, cfg, info.name);
    sim.start(policy, r);
    sim.steps(policy, selection, nullptr, job, r);
    return r;
}

ObservedScores observedScores(const Selection& sel, const JobControl& job)
{
    // Both lists of a step are ascending: one merge per step, in two passes (count, fill).
    const size_t T = sel.step_units.rows();
    ObservedScores o;
    // Every scored unit read (a selection trace at one token per page, a dense selection):
    // what policies observe is the selection's own scores, nothing to copy.
    if (sel.score_units.offset == sel.step_units.offset && sel.score_units.items == sel.step_units.items) {
        o.all_scored = true;
        return o;
    }
    o.units.offset.assign(T + 1, 0);
    auto forEachSeen = [&](size_t row, const auto& f) {
        const std::span<const uint32_t> read = sel.step_units.row(row), scored = sel.score_units.row(row);
        const size_t off = sel.score_units.offset[row];
        size_t k = 0;
        for (uint32_t u : read) {
            while (k < scored.size() && scored[k] < u) ++k;
            if (k < scored.size() && scored[k] == u) f(u, off + k);
        }
    };
    parallelFor(tbb::blocked_range<size_t>(0, T, T >= 64 ? 16 : 1), [&](const tbb::blocked_range<size_t>& r) {
        job.check();
        for (size_t t = r.begin(); t != r.end(); ++t) {
            size_t n = 0;
            forEachSeen(t, [&](uint32_t, size_t) { ++n; });
            o.units.offset[t + 1] = n;
        }
    }, job);
    for (size_t t = 0; t < T; ++t) o.units.offset[t + 1] += o.units.offset[t];
    o.units.items.resize(o.units.offset[T]);
    o.sum.resize(o.units.offset[T]);
    o.max.resize(o.units.offset[T]);
    parallelFor(tbb::blocked_range<size_t>(0, T, T >= 64 ? 16 : 1), [&](const tbb::blocked_range<size_t>& r) {
        job.check();
        for (size_t t = r.begin(); t != r.end(); ++t) {
            size_t at = o.units.offset[t];
            forEachSeen(t, [&](uint32_t u, size_t k) {
                o.units.items[at] = u;
                o.sum[at] = sel.score_sum[k];
                o.max[at] = sel.score_max[k];
                ++at;
            });
        }
    }, job);
    return o;
}

std::vector<uint8_t> locationsAt(const PlacementResult& p, int64_t t)
{
    std::vector<uint8_t> loc(p.created_tier.size(), 255);
    const int64_t prefillUnits = p.layout.unitsBefore(0);
    for (int64_t u = 0; u < prefillUnits; ++u) loc[static_cast<size_t>(u)] = p.created_tier[static_cast<size_t>(u)];
    for (int64_t s = 0; s <= t && s < p.layout.steps; ++s) {
        for (const Move& mv : p.moves.row(static_cast<size_t>(s))) loc[mv.unit] = mv.to;
        if (s < t)
            for (int64_t u = p.layout.unitsBefore(s); u < p.layout.unitsBefore(s + 1); ++u)
                loc[static_cast<size_t>(u)] = p.created_tier[static_cast<size_t>(u)];
    }
    return loc;
}

} // namespace kvtier
