#pragma once
// The two small optimisation problems of MODEL.md: splitting a step's reads over tiers to
// minimise tau. Both are solved by bisection on tau with a water-filling feasibility test
// (the feasible set is monotone in tau), to within a few ulps.
#include "core/model/hardware.hpp"

#include <span>
#include <vector>

namespace kvtier {

// Fixed load of one tier in one layer-step.
struct TierLoad {
    double read = 0;
    double write = 0;
};

// Balanced route (inclusive placement): flex[m] (m >= 1) bytes may be read from tier m or
// from tier 0, which holds copies. Returns tau; `fromFast[m]` gets the share served by
// tier 0 for each m.
double routeBalanced(std::span<const Tier> tiers, std::span<const TierLoad> fixed,
                     std::span<const double> flex, std::vector<double>& fromFast);

// Balanced bound (MODEL.md §6): V bytes may be split over all tiers, tier m serving at most
// cap[m]; loads are fixed otherwise. Returns the optimal tau (infinity when the capacity
// cannot hold V) and the bytes each tier serves in `share`.
double splitReads(std::span<const Tier> tiers, std::span<const TierLoad> fixed,
                  std::span<const double> cap, double volume, std::vector<double>& share);

} // namespace kvtier
