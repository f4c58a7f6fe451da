#include "args.hpp"

#include <charconv>
#include <stdexcept>

namespace kvtier::cli {

Args::Args(const std::vector<std::string>& argv, std::set<std::string> valued,
           std::set<std::string> flags, std::set<std::string> repeatable)
{
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "--help" || a == "-h") {
            help_ = true;
            continue;
        }
        if (a.size() > 2 && a.rfind("--", 0) == 0) {
            std::string name = a.substr(2);
            std::optional<std::string> inlineValue;
            if (auto eq = name.find('='); eq != std::string::npos) {
                inlineValue = name.substr(eq + 1);
                name = name.substr(0, eq);
            }
            if (flags.count(name)) {
                if (inlineValue) throw UsageError("option --" + name + " takes no value");
                flagsSeen_.insert(name);
            } else if (valued.count(name) || repeatable.count(name)) {
                std::string v;
                if (inlineValue) v = *inlineValue;
                else if (i + 1 < argv.size()) v = argv[++i];
                else throw UsageError("option --" + name + " needs a value");
                auto& slot = values_[name];
                if (!slot.empty() && !repeatable.count(name))
                    throw UsageError("option --" + name + " given twice");
                slot.push_back(v);
            } else {
                throw UsageError("unknown option --" + name);
            }
            continue;
        }
        positional_.push_back(a);
    }
}

bool Args::has(const std::string& name) const { return flagsSeen_.count(name) || values_.count(name); }

std::optional<std::string> Args::get(const std::string& name) const
{
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second.back();
}

std::string Args::require(const std::string& name) const
{
    auto v = get(name);
    if (!v) throw UsageError("missing required option --" + name);
    return *v;
}

std::vector<std::string> Args::all(const std::string& name) const
{
    auto it = values_.find(name);
    return it == values_.end() ? std::vector<std::string>{} : it->second;
}

int64_t Args::getInt(const std::string& name, int64_t fallback) const
{
    auto v = get(name);
    if (!v) return fallback;
    int64_t out = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
    if (ec != std::errc() || p != v->data() + v->size())
        throw UsageError("option --" + name + ": '" + *v + "' is not an integer");
    return out;
}

double Args::getDouble(const std::string& name, double fallback) const
{
    auto v = get(name);
    if (!v) return fallback;
    try {
        size_t used = 0;
        double d = std::stod(*v, &used);
        if (used != v->size()) throw std::invalid_argument("trailing");
        return d;
    } catch (const std::exception&) {
        throw UsageError("option --" + name + ": '" + *v + "' is not a number");
    }
}

} // namespace kvtier::cli
