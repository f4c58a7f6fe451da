#include "core/engine/expert_placement.hpp"

#include "core/engine/timing.hpp"
#include "core/model/error.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace kvtier {

namespace {

// Each tier's capacity less its reserve and the dense weights in it.
std::vector<double> roomAfterDenseWeights(const TimingConfig& c)
{
    const auto& tiers = c.hardware.tiers;
    const size_t M = tiers.size();
    const double dense = c.model.denseWeightBytes();
    std::vector<double> room(M);
    for (size_t m = 0; m < M; ++m) room[m] = tiers[m].capacity_bytes - tiers[m].reserve_bytes;
    room[0] -= c.weights_in_fast_tier * dense;
    room[M - 1] -= (1 - c.weights_in_fast_tier) * dense;
    return room;
}

} // namespace

double fastTierRoom(const TimingConfig& c)
{
    if (c.hardware.tiers.empty()) return 0;
    return std::max(0.0, roomAfterDenseWeights(c)[0]);
}

ExpertPlacement placeExperts(const TimingConfig& c)
{
    const auto& tiers = c.hardware.tiers;
    const size_t M = tiers.size();
    ExpertPlacement p;
    p.bytes.assign(M, 0.0);
    if (c.model.experts <= 0 || M == 0) return p;
    // Scenario files check these (config/presets.cpp); a scenario built in code is checked here.
    if (c.model.experts > kMaxExperts || !(c.model.expert_bytes > 0) || c.model.denseWeightBytes() < 0)
        throw InputError("model.experts", "needs 1.." + std::to_string(kMaxExperts) +
                                              " experts of expert_bytes > 0 that weight_bytes includes (W = " +
                                              readableNumber(c.model.weight_bytes) + ", L x E x expert_bytes = " +
                                              readableNumber(c.model.weight_bytes - c.model.denseWeightBytes()) + ")");
    p.layers = c.model.layers;
    p.experts = c.model.experts;
    p.tier.assign(static_cast<size_t>(p.layers) * static_cast<size_t>(p.experts), -1);
    std::vector<double> room = roomAfterDenseWeights(c);
    const double eb = c.model.expert_bytes;
    // A dynamic expert policy: tier 0 holds exactly its budget, the first experts in
    // (layer, expert) order; the others start the first-fit at tier 1.
    int64_t inFast = -1;
    if (c.experts.dynamic()) {
        p.dynamic = true;
        const int64_t all = static_cast<int64_t>(p.layers) * p.experts;
        if (c.experts.policy == ExpertPolicy::Joint) {
            // Chosen from the selection (expert_joint.hpp); at most what tier 0's room holds.
            if (c.expert_budget < 0)
                throw InputError("experts.policy", "joint: the expert budget has not been chosen from the selection "
                                                   "(resolveExpertBudget)");
            inFast = std::min(c.expert_budget, all);
        } else {
            const double share = std::clamp(c.experts.hbm_share, 0.0, 1.0);
            const double fit = std::floor(share * std::max(0.0, room[0]) / eb);
            inFast = fit >= static_cast<double>(all) ? all : static_cast<int64_t>(fit);
        }
    }
    int64_t id = 0;
    for (int32_t l = 0; l < p.layers; ++l)
        for (int32_t e = 0; e < p.experts; ++e, ++id) {
            const size_t first = inFast < 0 ? 0 : (id < inFast ? 0 : 1);
            const size_t last = inFast < 0 ? M : (id < inFast ? 1 : M);
            for (size_t m = first; m < last; ++m)
                if (room[m] >= eb) {
                    room[m] -= eb;
                    p.bytes[m] += eb;
                    p.tier[static_cast<size_t>(l) * static_cast<size_t>(p.experts) + static_cast<size_t>(e)] =
                        static_cast<int32_t>(m);
                    break;
                }
            if (p.at(l, e) < 0) ++p.unplaced;
        }
    p.budget = std::count(p.tier.begin(), p.tier.end(), 0);
    return p;
}

void requireExpertsPlaced(const ExpertPlacement& p, const TimingConfig& c)
{
    if (p.unplaced == 0) return;
    const double missing = static_cast<double>(p.unplaced) * c.model.expert_bytes;
    throw InfeasibleError("infeasible: " + std::to_string(p.unplaced) + " of the " +
                              std::to_string(static_cast<int64_t>(p.layers) * p.experts) + " experts (" +
                              readableNumber(c.model.expert_bytes) + " B each) fit in no tier after the dense weights and reserves" +
                              (p.dynamic ? " (experts." + std::string(toString(c.experts.policy)) + " keeps " +
                                               std::to_string(p.budget) + " of them in tier 0, " +
                                               (c.experts.policy == ExpertPolicy::Joint
                                                    ? std::string("chosen by the joint ranking")
                                                    : "hbm_share = " + readableNumber(c.experts.hbm_share)) +
                                               "; the others need tiers 1 and below)"
                                         : std::string()),
                          "add at least " + readableNumber(missing) + " B of capacity");
}

std::vector<double> residentWeightBytes(const TimingConfig& c, const ExpertPlacement& p)
{
    const size_t M = c.hardware.tiers.size();
    if (M == 0) return {};
    // The dense weights per layer times L, exactly as the KV capacity always counted them.
    std::vector<double> w = weightBytesPerLayer(c);
    for (double& x : w) x *= c.model.layers;
    for (size_t m = 0; m < M && m < p.bytes.size(); ++m) w[m] += p.bytes[m];
    return w;
}

void addExpertReads(const ExpertPlacement& p, const ExpertSets* sets, double expertBytes, int64_t t, int32_t l,
                    double* perTier)
{
    if (p.experts == 0) return;
    const bool all = sets == nullptr || sets->empty();
    for (int32_t e = 0; e < p.experts; ++e)
        if (all || sets->active(t, l, e)) perTier[p.at(l, e)] += expertBytes;
}

double activeExpertBytes(const ExpertSets* sets, const Model& m, int64_t t, int32_t l)
{
    if (m.experts <= 0) return 0;
    const int32_t n = sets == nullptr || sets->empty() ? m.experts : sets->count(t, l);
    return n * m.expert_bytes;
}

void checkExpertsMatch(const ExpertSets& sets, const Model& m, const std::string& where)
{
    if (sets.empty()) return;
    if (m.experts != sets.experts())
        throw InputError(where, "the trace's expert sets have E = " + std::to_string(sets.experts()) +
                                    " experts per layer but the model has " + std::to_string(m.experts) +
                                    "; choose a model with as many experts (model.experts)");
    if (m.layers != sets.layers())
        throw InputError(where, "the trace's expert sets have " + std::to_string(sets.layers()) +
                                    " layers but the model has " + std::to_string(m.layers));
}

} // namespace kvtier
