#pragma once
// The experts of a MoE scenario in `analyze` output (MODEL.md §9): E, expert bytes, where
// the experts live at the start, whether the trace says which are active, and, with a
// dynamic expert policy, the policy with its tier-0 budget (experts; joint's is the one its
// ranking chose, AnalysisResult::expert_budget).
#include "core/engine/expert_placement.hpp"
#include "core/engine/pipeline.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace kvtier::cli {

inline bool hasExpertSets(const AnalysisResult& r) { return r.selection && r.selection->experts != nullptr; }

// One line for the table and for the JSON's "note".
inline std::string expertsNote(const AnalysisResult& r)
{
    const Model& m = r.scenario.model;
    std::string s = "experts: E = " + std::to_string(m.experts) + " per layer, " + readableNumber(m.expert_bytes) +
                    " B each; ";
    s += hasExpertSets(r) ? "active experts per step and layer from the trace's expert sets"
                          : "the trace has no expert sets, so every expert of a layer counts as read every step";
    // A dynamic expert policy (docs/POLICIES.md "Expert residency"); static says nothing new.
    const ExpertResidencyConfig& x = r.scenario.experts;
    if (x.dynamic())
        s += "; expert policy " + std::string(toString(x.policy)) + (isOracle(x.policy) ? " (oracle)" : " (online)") +
             " with " + std::to_string(placeExperts(r.timingConfig()).budget) + " experts in tier 0 " +
             (x.policy == ExpertPolicy::Joint ? std::string("(budget chosen by the joint ranking of experts and KV "
                                                            "units; hbm_share ignored)")
                                              : "(hbm_share " + readableNumber(x.hbm_share) + ")");
    return s;
}

inline nlohmann::json expertsJson(const AnalysisResult& r)
{
    const Model& m = r.scenario.model;
    const ExpertPlacement p = placeExperts(r.timingConfig());
    nlohmann::json perTier = nlohmann::json::array();
    for (size_t t = 0; t < r.scenario.hardware.tiers.size(); ++t) {
        int64_t n = 0;
        for (int32_t v : p.tier) n += v == static_cast<int32_t>(t);
        perTier.push_back({{"name", r.scenario.hardware.tiers[t].name}, {"experts", n}, {"bytes", p.bytes[t]}});
    }
    nlohmann::json j = {{"experts_per_layer", m.experts},
                        {"expert_bytes", m.expert_bytes},
                        {"dense_weight_bytes", m.denseWeightBytes()},
                        {"expert_sets", hasExpertSets(r)},
                        {"placement", perTier},
                        {"note", expertsNote(r)}};
    // Only with a dynamic expert policy: a static scenario's output keeps its bytes.
    if (r.scenario.experts.dynamic()) {
        j["policy"] = toString(r.scenario.experts.policy);
        j["online"] = !isOracle(r.scenario.experts.policy);
        j["hbm_share"] = r.scenario.experts.hbm_share;
        j["budget"] = p.budget;
    }
    return j;
}

} // namespace kvtier::cli
