#pragma once
// Minimal, strict option parsing for kvtier-cli: `--name value`, `--name=value`,
// `--flag`, positionals. Unknown options are errors, never ignored.
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <set>
#include <string>
#include <vector>

namespace kvtier::cli {

class Args {
public:
    // `valued`: options that take a value; `flags`: options that do not;
    // `repeatable`: valued options that may appear more than once.
    Args(const std::vector<std::string>& argv, std::set<std::string> valued,
         std::set<std::string> flags, std::set<std::string> repeatable = {});

    bool has(const std::string& name) const;
    std::optional<std::string> get(const std::string& name) const;
    std::string require(const std::string& name) const;
    std::vector<std::string> all(const std::string& name) const;
    int64_t getInt(const std::string& name, int64_t fallback) const;
    double getDouble(const std::string& name, double fallback) const;
    const std::vector<std::string>& positional() const { return positional_; }
    bool helpRequested() const { return help_; }

private:
    std::map<std::string, std::vector<std::string>> values_;
    std::set<std::string> flagsSeen_;
    std::vector<std::string> positional_;
    bool help_ = false;
};

// Thrown for a bad command line; main() prints "kvtier-cli: <message>" and exits 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

} // namespace kvtier::cli
