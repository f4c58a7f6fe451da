#include "core/engine/migration_bound.hpp"

#include "core/engine/schedule_repair.hpp"
#include "core/engine/split.hpp"
#include "core/model/error.hpp"
#include "core/support/parallel.hpp"

#include <tbb/blocked_range.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>

namespace kvtier {

std::vector<LagrangianTerm> lagrangianTerms(const ScheduleProblem& p)
{
    std::vector<LagrangianTerm> k;
    for (int32_t m = 0; m < p.tiers; ++m) {
        const Tier& tier = p.tier[static_cast<size_t>(m)];
        k.push_back({m, LagrangianTerm::Bandwidth});
        if (!std::isinf(tier.link_read)) k.push_back({m, LagrangianTerm::LinkRead});
        if (!std::isinf(tier.link_write)) k.push_back({m, LagrangianTerm::LinkWrite});
    }
    if (p.floor_s > 0) k.push_back({0, LagrangianTerm::Floor});
    return k;
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The Lagrangian relaxation at given multipliers: prices per token per (row, tier), one
// shortest path per unit, and the traffic and occupancy of the paths (the subgradient).
class Relaxation {
public:
    explicit Relaxation(const ScheduleProblem& p)
        : p_(p), terms_(lagrangianTerms(p)), K_(terms_.size()), M_(static_cast<size_t>(p.tiers)),
          rows_(static_cast<size_t>(p.steps()) * static_cast<size_t>(p.slotCount())),
          checkpoints_(static_cast<size_t>(p.steps()) + 1)
    {
        rc_.assign(rows_ * M_, 0);
        wc_.assign(rows_ * M_, 0);
        rowConst_.assign(rows_, 0);
        kvR_ = std::vector<std::atomic<int64_t>>(rows_ * M_);
        migR_ = std::vector<std::atomic<int64_t>>(rows_ * M_);
        wr_ = std::vector<std::atomic<int64_t>>(rows_ * M_);
        migW_ = std::vector<std::atomic<int64_t>>(rows_ * M_);
        occDiff_ = std::vector<std::atomic<int64_t>>((checkpoints_ + 1) * M_);
        unitCost_.assign(static_cast<size_t>(p.units), 0);
        for (size_t m = 0; m < M_; ++m)
            dualised_.push_back(p.capacity_units[m] < p.units ? 1 : 0);
    }

    const std::vector<LagrangianTerm>& terms() const { return terms_; }
    size_t K() const { return K_; }
    size_t rows() const { return rows_; }
    size_t M() const { return M_; }
    size_t checkpoints() const { return checkpoints_; }
    bool dualised(size_t m) const { return dualised_[m] != 0; }

    // The dual value at (lambda, mu); fills the traffic, occupancy and, when `path` is
    // given, the relaxed tier-0 membership (schedule layout).
    double evaluate(const std::vector<double>& lambda, const std::vector<double>& mu, std::vector<uint8_t>* path,
                    const JobControl& job)
    {
        prices(lambda);
        for (auto* v : {&kvR_, &migR_, &wr_, &migW_, &occDiff_})
            for (auto& x : *v) x.store(0, std::memory_order_relaxed);
        const int64_t T = p_.end_step;
        parallelFor(tbb::blocked_range<int64_t>(0, p_.units, 64), [&](const tbb::blocked_range<int64_t>& range) {
            job.check();
            std::vector<uint8_t> pred(checkpoints_ * M_);
            std::vector<uint8_t> tierAt(checkpoints_);
            for (int64_t u = range.begin(); u != range.end(); ++u)
                unitCost_[static_cast<size_t>(u)] = shortestPath(static_cast<uint32_t>(u), T, mu, pred, tierAt, path);
        }, job);
        double value = 0;
        for (double c : rowConst_) value += c;
        for (double c : unitCost_) value += c;
        for (size_t k = 0; k < checkpoints_; ++k)
            for (size_t m = 0; m < M_; ++m)
                if (dualised(m)) value -= mu[k * M_ + m] * static_cast<double>(p_.capacity_units[m]);
        return value;
    }

    // Term k of row r under the traffic of the last evaluation, x L for aggregated traces.
    double term(size_t r, size_t k) const
    {
        const LagrangianTerm& tk = terms_[k];
        if (tk.kind == LagrangianTerm::Floor) return p_.layer_factor * p_.floor_s;
        const auto m = static_cast<size_t>(tk.tier);
        const size_t i = r * M_ + m;
        const double R = p_.weights[m] + p_.bytes_per_token * static_cast<double>(kvR_[i] + migR_[i]);
        const double W = p_.bytes_per_token * static_cast<double>(wr_[i] + migW_[i]);
        const Tier& tier = p_.tier[m];
        switch (tk.kind) {
        case LagrangianTerm::Bandwidth: return p_.layer_factor * (R + W) / tier.bandwidth;
        case LagrangianTerm::LinkRead: return p_.layer_factor * R / tier.link_read;
        case LagrangianTerm::LinkWrite: return p_.layer_factor * W / tier.link_write;
        case LagrangianTerm::Floor: break;
        }
        return 0;
    }

    // Units in tier m at the end of step k - 1 under the last evaluation's paths.
    std::vector<int64_t> occupancy() const
    {
        std::vector<int64_t> occ(checkpoints_ * M_, 0);
        for (size_t m = 0; m < M_; ++m) {
            int64_t run = 0;
            for (size_t k = 0; k < checkpoints_; ++k) {
                run += occDiff_[k * M_ + m];
                occ[k * M_ + m] = run;
            }
        }
        return occ;
    }

    // The dual value's share of every step: row constants, priced traffic, priced occupancy.
    std::vector<double> stepShares(const std::vector<double>& mu) const
    {
        const int64_t T = p_.steps();   // the problem's steps: t here counts from first_step
        std::vector<double> share(static_cast<size_t>(T), 0);
        const std::vector<int64_t> occ = occupancy();
        for (int64_t t = 0; t < T; ++t) {
            double s = 0;
            for (int32_t l = 0; l < p_.slotCount(); ++l) {
                const size_t r = p_.row(p_.first_step + t, l);
                s += rowConst_[r];
                for (size_t m = 0; m < M_; ++m) {
                    const size_t i = r * M_ + m;
                    s += rc_[i] * static_cast<double>(kvR_[i] + migR_[i]) + wc_[i] * static_cast<double>(wr_[i] + migW_[i]);
                }
            }
            for (size_t k : {static_cast<size_t>(t) + 1, size_t{0}}) {
                if (k == 0 && t != 0) continue;   // the initial placement's prices count in step 0
                for (size_t m = 0; m < M_; ++m)
                    if (dualised(m))
                        s += mu[k * M_ + m] * static_cast<double>(occ[k * M_ + m] - p_.capacity_units[m]);
            }
            share[static_cast<size_t>(t)] = s;
        }
        return share;
    }

private:
    // Per-token prices of reads and writes on each (row, tier) and each row's constant.
    void prices(const std::vector<double>& lambda)
    {
        const double f = p_.layer_factor, bpt = p_.bytes_per_token;
        for (size_t r = 0; r < rows_; ++r) {
            double c = 0;
            for (size_t m = 0; m < M_; ++m) rc_[r * M_ + m] = wc_[r * M_ + m] = 0;
            for (size_t k = 0; k < K_; ++k) {
                const double lam = lambda[r * K_ + k];
                if (lam == 0) continue;
                const LagrangianTerm& tk = terms_[k];
                const auto m = static_cast<size_t>(tk.tier);
                const Tier& tier = p_.tier[m];
                switch (tk.kind) {
                case LagrangianTerm::Bandwidth:
                    rc_[r * M_ + m] += f * bpt * lam / tier.bandwidth;
                    wc_[r * M_ + m] += f * bpt * lam / tier.bandwidth;
                    c += f * lam * p_.weights[m] / tier.bandwidth;
                    break;
                case LagrangianTerm::LinkRead:
                    rc_[r * M_ + m] += f * bpt * lam / tier.link_read;
                    c += f * lam * p_.weights[m] / tier.link_read;
                    break;
                case LagrangianTerm::LinkWrite: wc_[r * M_ + m] += f * bpt * lam / tier.link_write; break;
                case LagrangianTerm::Floor: c += f * lam * p_.floor_s; break;
                }
            }
            rowConst_[r] = c;
        }
    }

    // The cheapest lifetime of unit u (its tier at every step) under the current prices.
    double shortestPath(uint32_t u, int64_t T, const std::vector<double>& mu, std::vector<uint8_t>& pred,
                        std::vector<uint8_t>& tierAt, std::vector<uint8_t>* path)
    {
        const size_t M = M_;
        const int64_t c = p_.created[u];   // first_step - 1: the unit's place at the start is free
        const int64_t F = p_.first_step;    // checkpoint k is the end of step F + k - 1
        const int32_t l = p_.layout.slotOf(u);
        const auto reads = p_.reads.row(u);
        const UnitLayout& lay = p_.layout;
        // The unit's size at step t is min(g, P + t - first token); its new-token writes
        // are the steps [wBegin, wEnd) (no divisions in the loop).
        const int64_t first = lay.pageOf(u) * lay.page_tokens;
        const int64_t g = lay.page_tokens;
        const int64_t P = lay.prefillOf(lay.sequenceOf(u));   // the unit's sequence's prefill
        const int64_t wBegin = first - P, wEnd = wBegin + g;
        const size_t S = static_cast<size_t>(lay.slot_count);
        double V[16] = {}, NV[16] = {};
        for (size_t m = 0; m < M; ++m) {
            V[m] = mu[static_cast<size_t>(c + 1 - F) * M + m];
            if (c >= F && p_.writesAt(u, c)) V[m] += wc_[p_.row(c, l) * M + m];
        }
        size_t ri = 0;
        while (ri < reads.size() && reads[ri].t <= c) ++ri;
        size_t r = p_.row(c + 1, l);
        if (M == 2) {
            // Two tiers: the common case, unrolled.
            double v0 = V[0], v1 = V[1];
            for (int64_t t = c + 1; t < T; ++t, r += S) {
                const double* rc = &rc_[r * 2];
                const double* wc = &wc_[r * 2];
                const auto s = static_cast<double>(std::min(g, P + t - first));
                const double a0 = v1 + s * (rc[1] + wc[0]);   // arrive in tier 0 from tier 1
                const double a1 = v0 + s * (rc[0] + wc[1]);
                const bool p0 = a0 < v0, p1 = a1 < v1;
                double n0 = (p0 ? a0 : v0) + mu[static_cast<size_t>(t + 1 - F) * 2];
                double n1 = (p1 ? a1 : v1) + mu[static_cast<size_t>(t + 1 - F) * 2 + 1];
                if (ri < reads.size() && reads[ri].t == t) {
                    const double tok = reads[ri++].tokens;
                    n0 += tok * rc[0];
                    n1 += tok * rc[1];
                }
                if (t >= wBegin && t < wEnd) {
                    n0 += wc[0];
                    n1 += wc[1];
                }
                uint8_t* pr = &pred[static_cast<size_t>(t - c - 1) * 2];
                pr[0] = p0 ? 1 : 0;
                pr[1] = p1 ? 0 : 1;
                v0 = n0;
                v1 = n1;
            }
            V[0] = v0;
            V[1] = v1;
        } else {
            for (int64_t t = c + 1; t < T; ++t, r += S) {
                const double* rc = &rc_[r * M];
                const double* wc = &wc_[r * M];
                const auto s = static_cast<double>(std::min(g, P + t - first));
                double readTok = 0;
                if (ri < reads.size() && reads[ri].t == t) readTok = reads[ri++].tokens;
                const double w = t >= wBegin && t < wEnd ? 1.0 : 0.0;
                const double* muT = &mu[static_cast<size_t>(t + 1 - F) * M];
                uint8_t* pr = &pred[static_cast<size_t>(t - c - 1) * M];
                for (size_t b = 0; b < M; ++b) {
                    double best = V[b];
                    uint8_t arg = static_cast<uint8_t>(b);
                    for (size_t a = 0; a < M; ++a) {
                        if (a == b) continue;
                        const double v = V[a] + s * (rc[a] + wc[b]);
                        if (v < best) {
                            best = v;
                            arg = static_cast<uint8_t>(a);
                        }
                    }
                    NV[b] = best + muT[b] + readTok * rc[b] + w * wc[b];
                    pr[b] = arg;
                }
                std::copy(NV, NV + M, V);
            }
        }
        size_t b = 0;
        for (size_t m = 1; m < M; ++m)
            if (V[m] < V[b]) b = m;
        const double cost = V[b];
        // Backtrack: tierAt[t - c] is the tier at the end of step t.
        const auto len = static_cast<size_t>(T - c);
        tierAt[len - 1] = static_cast<uint8_t>(b);
        for (int64_t t = T - 1; t > c; --t) {
            b = pred[static_cast<size_t>(t - c - 1) * M + b];
            tierAt[static_cast<size_t>(t - c - 1)] = static_cast<uint8_t>(b);
        }
        // Record the path's traffic and occupancy.
        ri = 0;
        for (int64_t t = c; t < T; ++t) {
            const size_t z = tierAt[static_cast<size_t>(t - c)];
            const size_t k = static_cast<size_t>(t + 1 - F);
            if (path) (*path)[static_cast<size_t>(u) * checkpoints_ + k] = z == 0 ? 1 : 0;
            if (t == c) {
                occDiff_[k * M + z].fetch_add(1, std::memory_order_relaxed);
                if (c >= F && p_.writesAt(u, t)) wr_[p_.row(t, l) * M + z].fetch_add(1, std::memory_order_relaxed);
                while (ri < reads.size() && reads[ri].t <= c) ++ri;
                continue;
            }
            r = p_.row(t, l);
            const size_t prev = tierAt[static_cast<size_t>(t - c - 1)];
            if (prev != z) {
                const int64_t s = p_.sizeAt(u, t);
                migR_[r * M + prev].fetch_add(s, std::memory_order_relaxed);
                migW_[r * M + z].fetch_add(s, std::memory_order_relaxed);
                occDiff_[k * M + prev].fetch_sub(1, std::memory_order_relaxed);
                occDiff_[k * M + z].fetch_add(1, std::memory_order_relaxed);
            }
            if (ri < reads.size() && reads[ri].t == t) kvR_[r * M + z].fetch_add(reads[ri++].tokens, std::memory_order_relaxed);
            if (t >= wBegin && t < wEnd) wr_[r * M + z].fetch_add(1, std::memory_order_relaxed);
        }
        return cost;
    }

    const ScheduleProblem& p_;
    std::vector<LagrangianTerm> terms_;
    size_t K_, M_, rows_, checkpoints_;
    std::vector<double> rc_, wc_, rowConst_, unitCost_;
    std::vector<std::atomic<int64_t>> kvR_, migR_, wr_, migW_, occDiff_;
    std::vector<uint8_t> dualised_;
};

// Euclidean projection of x (n entries) onto the simplex {x >= 0, sum x = 1}.
void projectSimplex(double* x, size_t n, std::vector<double>& tmp)
{
    tmp.assign(x, x + n);
    std::sort(tmp.begin(), tmp.end(), std::greater<>());
    double sum = 0, theta = 0;
    for (size_t i = 0; i < n; ++i) {
        sum += tmp[i];
        const double th = (sum - 1) / static_cast<double>(i + 1);
        if (tmp[i] - th > 0) theta = th;
    }
    for (size_t i = 0; i < n; ++i) x[i] = std::max(0.0, x[i] - theta);
}

// Weights lambda per row from the balanced bound's optimum of that row (MODEL.md §6): the
// tiers whose time equals the row's tau share the weight in proportion to the bandwidth of
// their binding term, so reading a byte costs the same on each of them. Rows the compute
// floor decides put it all on the floor; rows without such a tier fall back to weights in
// proportion to bandwidth. Any weights are valid; these only start the search well.
std::vector<double> balancedDual(const Selection& sel, const TimingConfig& c, const ScheduleProblem& p,
                                 const std::vector<LagrangianTerm>& terms)
{
    const size_t M = static_cast<size_t>(p.tiers), K = terms.size();
    const size_t rows = static_cast<size_t>(p.steps()) * static_cast<size_t>(p.slotCount());
    std::vector<double> lambda(rows * K, 0.0);
    std::vector<double> cap = kvCapacityBytes(c);
    if (p.slotCount() == 1)
        for (double& x : cap) x /= c.model.layers;
    const double wb = p.bytes_per_token;
    double sumB = 0;
    for (const Tier& t : p.tier) sumB += t.bandwidth;
    std::vector<TierLoad> load(M);
    std::vector<double> share, best;
    for (size_t r = 0; r < rows; ++r) {
        double* lam = &lambda[r * K];
        const double volume = wb * static_cast<double>(sel.read_tokens[r]);
        double tau = std::numeric_limits<double>::infinity();
        size_t bestWt = 0;
        for (size_t wt = 0; wt < M; ++wt) {
            for (size_t m = 0; m < M; ++m) load[m] = {p.weights[m], m == wt ? wb : 0.0};
            const double x = splitReads(p.tier, load, cap, volume, share);
            if (x < tau) {
                tau = x;
                best = share;
                bestWt = wt;
            }
        }
        bool done = false;
        if (std::isfinite(tau) && p.floor_s >= tau) {
            for (size_t k = 0; k < K; ++k) lam[k] = terms[k].kind == LagrangianTerm::Floor ? 1.0 : 0.0;
            done = true;
        } else if (std::isfinite(tau) && tau > 0) {
            double sum = 0;
            for (size_t m = 0; m < M; ++m) {
                const double R = p.weights[m] + (best.empty() ? 0.0 : best[m]);
                const double W = m == bestWt ? wb : 0.0;
                // The binding term of tier m and the bandwidth a read byte sees in it.
                size_t pick = K;
                double pickValue = 0, perByte = 0;
                for (size_t k = 0; k < K; ++k) {
                    if (static_cast<size_t>(terms[k].tier) != m || terms[k].kind == LagrangianTerm::Floor) continue;
                    const Tier& tier = p.tier[m];
                    double v = 0, bw = 0;
                    if (terms[k].kind == LagrangianTerm::Bandwidth) { v = (R + W) / tier.bandwidth; bw = tier.bandwidth; }
                    else if (terms[k].kind == LagrangianTerm::LinkRead) { v = R / tier.link_read; bw = tier.link_read; }
                    else continue;   // a write link prices no read
                    if (v > pickValue) { pickValue = v; pick = k; perByte = bw; }
                }
                if (pick < K && pickValue >= tau * (1 - 1e-9)) {
                    lam[pick] = perByte;
                    sum += perByte;
                }
            }
            if (sum > 0) {
                for (size_t k = 0; k < K; ++k) lam[k] /= sum;
                done = true;
            }
        }
        if (!done)
            for (size_t k = 0; k < K; ++k)
                lam[k] = terms[k].kind == LagrangianTerm::Bandwidth ? p.tier[static_cast<size_t>(terms[k].tier)].bandwidth / sumB : 0.0;
    }
    return lambda;
}

using Clock = std::chrono::steady_clock;

// What the subgradient search found: the best dual value and its multipliers.
struct Search {
    double best = -kInf;
    std::vector<double> bestLambda, bestMu;
    int64_t iterations = 0;
    bool budget_hit = false;
};

// Projected subgradient ascent on the Lagrangian dual of `p`, from the balanced bound's
// dual (balancedDual). `upperTime()`: the time of the best achievable schedule known so far,
// which the Polyak steps aim at and which stops the search once within target_gap of the
// bound. `repairFrom`, when set, gets the relaxed tier-0 membership at iterations 0, 5, 10,
// 20, ... and the last (to offer a repaired schedule). Stops after params.iterations, once
// elapsed() passes params.time_budget_s, or when no ascent direction is left.
Search ascend(const Selection& selection, const TimingConfig& timing, const ScheduleProblem& p, Relaxation& rel,
              const MigrationBoundParams& params, double balancedTime, const std::function<double()>& elapsed,
              const std::function<double()>& upperTime,
              const std::function<void(const std::vector<uint8_t>&)>& repairFrom, const JobControl& job)
{
    const size_t K = rel.K(), M = rel.M(), rows = rel.rows(), C = rel.checkpoints();
    // Start from the balanced bound's own dual (balancedDual): with those weights a read
    // costs the same on every tier the balanced split keeps busy, so the first value is
    // already close to the balanced bound and the steps start from there.
    std::vector<double> lambda = balancedDual(selection, timing, p, rel.terms()), mu(C * M, 0.0), nu(C * M, 0.0);
    // mu = sigma * nu: sigma (seconds per unit-step) puts the capacity gradient (units) on
    // the scale of the time terms (seconds).
    const double meanStep = balancedTime / static_cast<double>(std::max<int64_t>(1, p.steps()));
    const double sigma = meanStep / static_cast<double>(std::max<int64_t>(1, p.capacity_units[0]));

    Search out;
    out.bestLambda = lambda;
    out.bestMu = mu;
    std::vector<uint8_t> relaxed(repairFrom ? static_cast<size_t>(p.units) * C : 0, 0);
    std::vector<double> gLam(rows * K), gMu(C * M), tmp, dLam, dMu;
    constexpr double kDeflect = 0.5;
    double theta = 1.0;
    int sinceImproved = 0;
    int64_t nextRepair = 0;
    for (int64_t it = 0; it < params.iterations; ++it) {
        const bool repair = repairFrom && (it == nextRepair || it + 1 == params.iterations);
        const double value = rel.evaluate(lambda, mu, repair ? &relaxed : nullptr, job);
        out.iterations = it + 1;
        if (value > out.best) {
            out.best = value;
            out.bestLambda = lambda;
            out.bestMu = mu;
            sinceImproved = 0;
        } else if (++sinceImproved >= 10) {
            theta = std::max(theta / 2, 1e-4);
            sinceImproved = 0;
        }
        if (repair) {
            nextRepair = std::max<int64_t>(it + 5, it * 2);
            repairFrom(relaxed);
        }
        job.report(static_cast<double>(it + 1) / static_cast<double>(params.iterations));
        const double upper = upperTime();
        const double lower = std::max(out.best, balancedTime);
        if (upper <= lower * (1 + params.target_gap)) break;
        if (elapsed() > params.time_budget_s) {
            out.budget_hit = it + 1 < params.iterations;
            break;
        }
        // Projected subgradient (Polyak step towards the best schedule's time).
        const std::vector<int64_t> occ = rel.occupancy();
        double norm = 0;
        for (size_t r = 0; r < rows; ++r) {
            double mean = 0;
            for (size_t k = 0; k < K; ++k) mean += (gLam[r * K + k] = rel.term(r, k));
            mean /= static_cast<double>(K);
            for (size_t k = 0; k < K; ++k) {
                gLam[r * K + k] -= mean;   // along the simplex
                norm += gLam[r * K + k] * gLam[r * K + k];
            }
        }
        for (size_t k = 0; k < C; ++k)
            for (size_t m = 0; m < M; ++m) {
                const size_t i = k * M + m;
                gMu[i] = rel.dualised(m) ? sigma * static_cast<double>(occ[i] - p.capacity_units[m]) : 0.0;
                if (nu[i] <= 0 && gMu[i] < 0) gMu[i] = 0;
                norm += gMu[i] * gMu[i];
            }
        if (norm <= 0) break;   // the relaxed solution is optimal for it: no ascent direction
        // Deflected direction (half the previous one added): damps the zig-zag between
        // "every unit in tier 0" and "none" that ties in the prices cause.
        if (it > 0) {
            norm = 0;
            for (size_t i = 0; i < gLam.size(); ++i) {
                gLam[i] += kDeflect * dLam[i];
                norm += gLam[i] * gLam[i];
            }
            for (size_t i = 0; i < gMu.size(); ++i) {
                gMu[i] += kDeflect * dMu[i];
                if (nu[i] <= 0 && gMu[i] < 0) gMu[i] = 0;
                norm += gMu[i] * gMu[i];
            }
            if (norm <= 0) break;
        }
        dLam = gLam;
        dMu = gMu;
        const double step = theta * std::max(upper - value, 1e-9 * upper) / norm;
        for (size_t i = 0; i < lambda.size(); ++i) lambda[i] += step * gLam[i];
        for (size_t r = 0; r < rows; ++r) projectSimplex(&lambda[r * K], K, tmp);
        for (size_t i = 0; i < nu.size(); ++i) {
            nu[i] = std::max(0.0, nu[i] + step * gMu[i]);
            mu[i] = sigma * nu[i];
        }
    }
    return out;
}

} // namespace

double lagrangianValue(const ScheduleProblem& problem, const std::vector<double>& lambda,
                       const std::vector<double>& mu, const JobControl& job)
{
    Relaxation rel(problem);
    return rel.evaluate(lambda, mu, nullptr, job);
}

MigrationBoundResult migrationAwareBound(const Selection& selection, const TimingConfig& timing,
                                         const PlacementConfig& placement, const MigrationBoundParams& params,
                                         const BoundResult& balanced, const std::vector<ScheduleCandidate>& candidates,
                                         const JobControl& job)
{
    checkMigrationBound(timing, placement);
    const auto t0 = Clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
    const ScheduleProblem p = makeScheduleProblem(selection, timing, placement.capacity_units);
    Relaxation rel(p);

    MigrationBoundResult out;
    out.balanced_time = balanced.total_time;

    // The best schedule so far: the callers' placements, then repaired relaxations.
    auto consider = [&](ScheduleOutcome s, const std::string& source) {
        if (!out.schedule.timing || s.total_time() < out.schedule.total_time()) {
            out.schedule = std::move(s);
            out.schedule_source = source;
        }
    };
    const std::string name = "migration-aware schedule";
    for (const ScheduleCandidate& c : candidates) {
        if (!c.placement || c.placement->config.inclusive) continue;
        auto s = std::make_shared<const TierZeroSchedule>(scheduleFromPlacement(*c.placement));
        consider(simulateSchedule(selection, s, placement, timing, name, job), "policy " + c.name);
    }

    const Search found = ascend(
        selection, timing, p, rel, params, balanced.total_time, elapsed, [&] { return out.schedule.total_time(); },
        [&](const std::vector<uint8_t>& relaxed) {
            auto s = std::make_shared<const TierZeroSchedule>(repairToCapacity(p, relaxed));
            consider(simulateSchedule(selection, s, placement, timing, name, job), "repaired relaxation");
        },
        job);
    out.iterations = found.iterations;
    out.budget_hit = found.budget_hit;
    // The share of every step, from one more evaluation at the best multipliers.
    const double again = rel.evaluate(found.bestLambda, found.bestMu, nullptr, job);
    out.lagrangian_time = std::min(found.best, again);
    // Rounding: a few ulps per term; give them back so the bound never exceeds the truth.
    out.lagrangian_time *= 1 - 1e-12;
    if (out.lagrangian_time >= balanced.total_time) {
        out.total_time = out.lagrangian_time;
        out.step_time = rel.stepShares(found.bestMu);
    } else {
        out.total_time = balanced.total_time;
        out.step_time = balanced.step_time;
    }
    out.elapsed_s = elapsed();
    return out;
}

void checkMigrationBound(const TimingConfig& timing, const PlacementConfig& placement)
{
    if (placement.inclusive && placement.capacity_units.size() > 1)
        throw InputError("bounds.migration_aware",
                         "covers exclusive placement only; this scenario's placement is inclusive");
    checkScheduleProblem(timing, placement.capacity_units);
}

LagrangianBound lagrangianBound(const Selection& selection, const TimingConfig& timing, const ScheduleProblem& problem,
                                const MigrationBoundParams& params, double balancedTime, double achievableTime,
                                const JobControl& job)
{
    const auto t0 = Clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
    Relaxation rel(problem);
    const Search found = ascend(selection, timing, problem, rel, params, balancedTime, elapsed,
                                [achievableTime] { return achievableTime; }, {}, job);
    LagrangianBound out;
    out.iterations = found.iterations;
    out.budget_hit = found.budget_hit;
    const double again = rel.evaluate(found.bestLambda, found.bestMu, nullptr, job);
    out.value = std::min(found.best, again) * (1 - 1e-12);   // as migrationAwareBound's
    out.step_share = rel.stepShares(found.bestMu);
    out.elapsed_s = elapsed();
    return out;
}

} // namespace kvtier
