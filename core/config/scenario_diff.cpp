#include "core/config/scenario_diff.hpp"

#include "core/config/scenario_json.hpp"

#include <nlohmann/json.hpp>

namespace kvtier {

namespace {

// "/hardware/tiers/0/capacity_bytes" -> "hardware.tiers.0.capacity_bytes" (the --set form).
std::string dotted(const std::string& pointer)
{
    std::string out;
    for (size_t i = 1; i < pointer.size(); ++i)
        out += pointer[i] == '/' ? '.' : pointer[i];
    return out;
}

} // namespace

std::vector<ScenarioChange> scenarioChanges(const Scenario& before, const Scenario& after)
{
    const nlohmann::json a = scenarioToJson(before).flatten(), b = scenarioToJson(after).flatten();
    std::vector<ScenarioChange> out;
    auto add = [&](const std::string& key, const nlohmann::json* x, const nlohmann::json* y) {
        ScenarioChange c;
        c.path = dotted(key);
        c.before = x ? x->dump() : std::string();
        c.after = y ? y->dump() : std::string();
        c.numeric = x && y && x->is_number() && y->is_number();
        if (c.numeric) {
            c.before_number = x->get<double>();
            c.after_number = y->get<double>();
        }
        out.push_back(std::move(c));
    };
    // Both flattened objects iterate in key order: merge them.
    auto i = a.begin(), j = b.begin();
    while (i != a.end() || j != b.end()) {
        if (j == b.end() || (i != a.end() && i.key() < j.key())) {
            add(i.key(), &i.value(), nullptr);
            ++i;
        } else if (i == a.end() || j.key() < i.key()) {
            add(j.key(), nullptr, &j.value());
            ++j;
        } else {
            if (i.value() != j.value())
                add(i.key(), &i.value(), &j.value());
            ++i;
            ++j;
        }
    }
    return out;
}

} // namespace kvtier
