#pragma once
// kvtier-cli subcommands register themselves here; main() dispatches by name.
// Each command lives in its own cmd_*.cpp with a static Registration.
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace kvtier::cli {

struct Command {
    std::string summary;   // one line for `kvtier-cli --help`
    std::string usage;     // full help for `kvtier-cli NAME --help`
    std::function<int(const std::vector<std::string>& args)> run;
};

std::map<std::string, Command>& commands();

struct Registration {
    Registration(const std::string& name, Command c) { commands().emplace(name, std::move(c)); }
};

} // namespace kvtier::cli
