#include "core/model/experts.hpp"

#include "core/model/error.hpp"

#include <bit>

namespace kvtier {

const char* toString(ExpertPolicy p)
{
    switch (p) {
    case ExpertPolicy::Static: return "static";
    case ExpertPolicy::Lru: return "lru";
    case ExpertPolicy::Lfu: return "lfu";
    case ExpertPolicy::FrequencyOracle: return "frequency-oracle";
    case ExpertPolicy::Belady: return "belady";
    case ExpertPolicy::Joint: return "joint";
    }
    return "?";
}

ExpertPolicy expertPolicyFromString(const std::string& s)
{
    for (ExpertPolicy p : allExpertPolicies())
        if (s == toString(p)) return p;
    throw InputError("experts.policy", "is \"" + s +
                                           "\"; must be static, lru, lfu, frequency-oracle or belady (tier 0 split by "
                                           "hbm_share), or joint (the split chosen by ranking experts and KV together)");
}

std::span<const ExpertPolicy> allExpertPolicies()
{
    static constexpr ExpertPolicy all[] = {ExpertPolicy::Static, ExpertPolicy::Lru, ExpertPolicy::Lfu,
                                           ExpertPolicy::FrequencyOracle, ExpertPolicy::Belady, ExpertPolicy::Joint};
    return all;
}

bool usesHbmShare(ExpertPolicy p)
{
    switch (p) {   // no default: a new policy must say whether it splits tier 0 by the share
    case ExpertPolicy::Static: return false;
    case ExpertPolicy::Lru:
    case ExpertPolicy::Lfu:
    case ExpertPolicy::FrequencyOracle:
    case ExpertPolicy::Belady: return true;
    case ExpertPolicy::Joint: return false;   // it chooses the split by its ranking
    }
    return false;
}

ExpertSets::ExpertSets(int32_t experts, int64_t steps, int32_t layers, const std::string& where)
{
    if (experts < 1 || experts > kMaxExperts)
        throw InputError(where, "experts per layer E = " + std::to_string(experts) + " outside 1.." +
                                    std::to_string(kMaxExperts));
    if (steps < 0 || layers < 1)
        throw InputError(where, "expert sets need steps >= 0 and layers >= 1 (got " + std::to_string(steps) + ", " +
                                    std::to_string(layers) + ")");
    const int64_t w = (experts + 63) / 64;
    if (steps > kMaxExpertWords / w / layers)
        throw InputError(where, "expert sets of " + std::to_string(steps) + " steps x " + std::to_string(layers) +
                                    " layers x " + std::to_string(experts) + " experts exceed the limit of " +
                                    std::to_string(kMaxExpertWords * 64) + " bits");
    experts_ = experts;
    steps_ = steps;
    layers_ = layers;
    bits_.assign(static_cast<size_t>(steps * layers * w), 0);
}

void ExpertSets::checkPlace(int64_t t, int32_t l) const
{
    if (t < 0 || t >= steps_ || l < 0 || l >= layers_)
        throw InputError("expert set (t=" + std::to_string(t) + ", l=" + std::to_string(l) + ")",
                         "outside " + std::to_string(steps_) + " steps x " + std::to_string(layers_) + " layers");
}

void ExpertSets::set(int64_t t, int32_t l, int32_t e)
{
    checkPlace(t, l);
    if (e < 0 || e >= experts_)
        throw InputError("expert set (t=" + std::to_string(t) + ", l=" + std::to_string(l) + ")",
                         "expert id " + std::to_string(e) + " >= E = " + std::to_string(experts_));
    bits_[wordIndex(t, l) + static_cast<size_t>(e) / 64] |= uint64_t{1} << (e % 64);
}

void ExpertSets::assign(int64_t t, int32_t l, std::span<const uint16_t> ids)
{
    checkPlace(t, l);
    for (size_t k = 0; k < words(); ++k) bits_[wordIndex(t, l) + k] = 0;
    for (uint16_t e : ids) set(t, l, e);
}

int32_t ExpertSets::count(int64_t t, int32_t l) const
{
    int32_t n = 0;
    const size_t base = wordIndex(t, l);
    for (size_t k = 0; k < words(); ++k) n += std::popcount(bits_[base + k]);
    return n;
}

std::vector<uint16_t> ExpertSets::ids(int64_t t, int32_t l) const
{
    std::vector<uint16_t> out;
    for (int32_t e = 0; e < experts_; ++e)
        if (active(t, l, e)) out.push_back(static_cast<uint16_t>(e));
    return out;
}

} // namespace kvtier
