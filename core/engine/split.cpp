#include "core/engine/split.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kvtier {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Extra bytes tier m could read within tau on top of its fixed load; -1 if the fixed
// load alone does not fit.
// Bytes a link moves in tau seconds; no link (infinite bandwidth) moves anything, even at tau = 0.
double linkBytes(double tau, double link) { return std::isinf(link) ? kInf : tau * link; }

double headroom(const Tier& tier, const TierLoad& load, double tau)
{
    if (load.write > linkBytes(tau, tier.link_write)) return -1;
    const double byLink = linkBytes(tau, tier.link_read) - load.read;
    if (byLink < 0) return -1;
    const double byBandwidth = tau * tier.bandwidth - load.read - load.write;
    if (byBandwidth < 0) return -1;
    return std::min(byBandwidth, byLink);
}

template <class Feasible>
double bisect(double lo, double hi, Feasible feasible)
{
    if (feasible(lo)) return lo;
    for (int i = 0; i < 400 && hi - lo > hi * 1e-16; ++i) {
        const double mid = lo + (hi - lo) / 2;
        if (mid <= lo || mid >= hi) break;
        (feasible(mid) ? hi : lo) = mid;
    }
    return hi;
}

} // namespace

double routeBalanced(std::span<const Tier> tiers, std::span<const TierLoad> fixed,
                     std::span<const double> flex, std::vector<double>& fromFast)
{
    const size_t M = tiers.size();
    fromFast.assign(M, 0.0);
    double lo = 0, allFlex = 0;
    for (size_t m = 0; m < M; ++m) {
        lo = std::max(lo, tierTime(tiers[m], fixed[m].read, fixed[m].write));
        if (m > 0) allFlex += flex[m];
    }
    // Home route (everything from tier 0) is feasible: an upper end for the search.
    double hi = std::max(lo, tierTime(tiers[0], fixed[0].read + allFlex, fixed[0].write));
    if (allFlex <= 0) return lo;
    auto feasible = [&](double tau) {
        const double h0 = headroom(tiers[0], fixed[0], tau);
        if (h0 < 0) return false;
        double need = 0;
        for (size_t m = 1; m < M; ++m) {
            const double h = headroom(tiers[m], fixed[m], tau);
            if (h < 0) return false;
            need += std::max(0.0, flex[m] - h);
        }
        return need <= h0;
    };
    const double tau = bisect(lo, hi, feasible);
    for (size_t m = 1; m < M; ++m)
        fromFast[m] = std::max(0.0, flex[m] - std::max(0.0, headroom(tiers[m], fixed[m], tau)));
    return tau;
}

double splitReads(std::span<const Tier> tiers, std::span<const TierLoad> fixed,
                  std::span<const double> cap, double volume, std::vector<double>& share)
{
    const size_t M = tiers.size();
    share.assign(M, 0.0);
    double capacity = 0, lo = 0;
    for (size_t m = 0; m < M; ++m) {
        capacity += std::max(0.0, cap[m]);
        lo = std::max(lo, tierTime(tiers[m], fixed[m].read, fixed[m].write));
    }
    if (volume > capacity * (1 + 1e-12)) return kInf;
    auto served = [&](double tau) {
        double s = 0;
        for (size_t m = 0; m < M; ++m) {
            const double h = headroom(tiers[m], fixed[m], tau);
            if (h < 0) return -1.0;
            s += std::min(h, std::max(0.0, cap[m]));
        }
        return s;
    };
    auto feasible = [&](double tau) { return served(tau) >= volume * (1 - 1e-15); };
    double hi = std::max(lo, 1e-300);
    for (int i = 0; i < 2100 && !feasible(hi); ++i) hi *= 2;
    if (!feasible(hi)) return kInf;
    const double tau = bisect(lo, hi, feasible);
    double left = volume;
    for (size_t m = 0; m < M; ++m) {
        const double h = std::min(std::max(0.0, headroom(tiers[m], fixed[m], tau)), std::max(0.0, cap[m]));
        share[m] = std::min(left, h);
        left -= share[m];
    }
    return tau;
}

} // namespace kvtier
