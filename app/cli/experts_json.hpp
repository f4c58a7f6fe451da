#pragma once
// The experts of a MoE scenario in `analyze` output (MODEL.md §9): E, expert bytes, where
// the experts live at the start, whether the trace says which are active, and the expert
// policy with its tier-0 budget (experts; `static`: the experts the placement put there).
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
    return s;
}

inline nlohmann::json expertsJson(const AnalysisResult& r)
{
    const Model& m = r.scenario.model;
    const ExpertPlacement p = placeExperts(r.scenario.timingConfig());
    nlohmann::json perTier = nlohmann::json::array();
    for (size_t t = 0; t < r.scenario.hardware.tiers.size(); ++t) {
        int64_t n = 0;
        for (int32_t v : p.tier) n += v == static_cast<int32_t>(t);
        perTier.push_back({{"name", r.scenario.hardware.tiers[t].name}, {"experts", n}, {"bytes", p.bytes[t]}});
    }
    return {{"experts_per_layer", m.experts},
            {"expert_bytes", m.expert_bytes},
            {"dense_weight_bytes", m.denseWeightBytes()},
            {"expert_sets", hasExpertSets(r)},
            {"placement", perTier},
            {"policy", toString(r.scenario.experts.policy)},
            {"online", !isOracle(r.scenario.experts.policy)},
            {"hbm_share", r.scenario.experts.hbm_share},
            {"budget", p.budget},
            {"note", expertsNote(r)}};
}

} // namespace kvtier::cli
