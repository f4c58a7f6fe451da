#include "core/model/error.hpp"
#include "core/policies/policy.hpp"

#include <cmath>

namespace kvtier {

// One function per policy_*.cpp file; order here is display order.
PolicyEntry firstFitPolicy();
PolicyEntry reactivePolicy();
PolicyEntry pagePolicy();
PolicyEntry lookAheadPolicy();
PolicyEntry windowedLookAheadPolicy();
PolicyEntry sinksWindowPolicy();
PolicyEntry h2oPolicy();
PolicyEntry tovaPolicy();
PolicyEntry questPolicy();
PolicyEntry arkvalePolicy();
PolicyEntry hisparsePolicy();
PolicyEntry lruPolicy();
PolicyEntry lruFairPolicy();
PolicyEntry lruDemandPolicy();
PolicyEntry lfuPolicy();
PolicyEntry arcPolicy();
PolicyEntry beladyPolicy();

const std::vector<PolicyEntry>& policyRegistry()
{
    static const std::vector<PolicyEntry> all = {
        firstFitPolicy(),
        reactivePolicy(),
        pagePolicy(),
        lookAheadPolicy(),
        windowedLookAheadPolicy(),
        sinksWindowPolicy(),
        h2oPolicy(),
        tovaPolicy(),
        questPolicy(),
        arkvalePolicy(),
        hisparsePolicy(),
        lruPolicy(),
        lruFairPolicy(),
        lruDemandPolicy(),
        lfuPolicy(),
        arcPolicy(),
        beladyPolicy(),
    };
    return all;
}

const PolicyEntry& findPolicy(const std::string& name)
{
    std::string known;
    for (const auto& e : policyRegistry()) {
        if (e.info.name == name) return e;
        known += (known.empty() ? "" : ", ") + e.info.name;
    }
    throw InputError("policies", "unknown policy '" + name + "' (known: " + known + ")");
}

const std::string& choiceName(const ParamSpec& spec, double value)
{
    static const std::string unknown = "?";
    const auto i = static_cast<size_t>(value);
    return value >= 0 && i < spec.choices.size() ? spec.choices[i] : unknown;
}

double choiceValue(const ParamSpec& spec, const std::string& name, const std::string& where)
{
    std::string known;
    for (size_t i = 0; i < spec.choices.size(); ++i) {
        if (spec.choices[i] == name) return static_cast<double>(i);
        known += (known.empty() ? "" : ", ") + spec.choices[i];
    }
    throw InputError(where, "unknown value '" + name + "' (expected " + known + ")");
}

PolicyParams resolveParams(const PolicyInfo& info, const PolicyParams& given, const std::string& where)
{
    PolicyParams out;
    for (const auto& spec : info.params) out[spec.key] = spec.def;
    for (const auto& [key, value] : given) {
        const ParamSpec* spec = nullptr;
        for (const auto& s : info.params)
            if (s.key == key) spec = &s;
        if (!spec) {
            std::string known;
            for (const auto& s : info.params) known += (known.empty() ? "" : ", ") + s.key;
            throw InputError(where + "." + key, "policy '" + info.name + "' has no parameter '" + key +
                                                    "'" + (known.empty() ? " (it takes none)" : " (known: " + known + ")"));
        }
        if (!std::isfinite(value) || value < spec->min || value > spec->max)
            throw InputError(where + "." + key, "must be between " + std::to_string(spec->min) + " and " +
                                                    std::to_string(spec->max) + ", got " + std::to_string(value));
        if (spec->type != ParamSpec::Type::Double && value != std::floor(value))
            throw InputError(where + "." + key, "must be a whole number, got " + std::to_string(value));
        out[key] = value;
    }
    return out;
}

void Policy::initial(int64_t prefillUnits, int64_t capacity, std::vector<uint32_t>& fast)
{
    const int64_t k = std::min(prefillUnits, capacity);
    for (int64_t u = 0; u < k; ++u) fast.push_back(static_cast<uint32_t>(u));
}

} // namespace kvtier
