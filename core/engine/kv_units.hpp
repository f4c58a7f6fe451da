#pragma once
// What the capacity plan and the joint expert policy know of one KV unit (MODEL.md §5):
// its bytes, and how often the run reads it (docs/POLICIES.md "Expert residency", joint).
#include "core/model/cancel.hpp"
#include "core/model/hardware.hpp"
#include "core/model/selection.hpp"

#include <vector>

namespace kvtier {

// Bytes of one unit of one sequence: g x kappa, x L for an aggregated trace (one unit
// stands for every layer). A tier holds batch x this per unit (planCapacity).
double kvUnitBytes(const Model& m, const UnitLayout& layout);

// Per unit that exists at the end of the run (0 .. totalUnits() - 1): the fraction of the
// steps it exists in that read it, reads(u) / (T - c(u)). reads(u) counts the steps whose
// read units (Selection::step_units, all layer slots) hold u; c(u) is the step that creates
// u (0 for the prefill's units), from which on it takes capacity, so T - c(u) >= 1.
std::vector<double> unitReadFractions(const Selection& sel, const JobControl& job = {});

} // namespace kvtier
