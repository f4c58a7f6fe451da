// kvtier-cli: the headless front end. Each subcommand is a cmd_*.cpp file.
#include "args.hpp"
#include "command.hpp"

#include "core/config/data_dir.hpp"
#include "core/model/error.hpp"

#include <filesystem>
#include <iostream>
#include <new>
#include <stdexcept>

namespace kvtier::cli {
std::map<std::string, Command>& commands()
{
    static std::map<std::string, Command> all;
    return all;
}
} // namespace kvtier::cli

// The folder of the running binary (/proc/self/exe: the real file, whatever the working
// directory or a symlink on PATH); its ../share/kvtier holds the presets and samples.
static std::string executableDir(const char* argv0)
{
    std::error_code ec;
    std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) exe = std::filesystem::absolute(argv0, ec);
    return exe.parent_path().string();
}

static void printHelp()
{
    std::cout << "kvtier-cli — KV-cache placement over tiered memory, headless\n\n"
                 "usage: kvtier-cli COMMAND [ARGS...]   (kvtier-cli COMMAND --help for details)\n"
                 "       kvtier-cli --version\n\n"
                 "commands:\n";
    for (const auto& [name, c] : kvtier::cli::commands())
        std::cout << "  " << name << std::string(name.size() < 10 ? 10 - name.size() : 1, ' ') << c.summary << "\n";
}

int main(int argc, char** argv)
{
    using namespace kvtier::cli;
    kvtier::setDataDir(kvtier::dataDirBesideExecutable(executableDir(argv[0])));
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
        std::string(argv[1]) == "help") {
        printHelp();
        return argc < 2 ? 2 : 0;
    }
    if (std::string(argv[1]) == "--version") {
        std::cout << "kvtier-cli " << KVTIER_VERSION << "\n";
        return 0;
    }
    const std::string name = argv[1];
    auto it = commands().find(name);
    if (it == commands().end()) {
        std::cerr << "kvtier-cli: unknown command '" << name << "' (try kvtier-cli --help)\n";
        return 2;
    }
    std::vector<std::string> args(argv + 2, argv + argc);
    for (const auto& a : args)
        if (a == "--help" || a == "-h") {
            std::cout << it->second.usage;
            return 0;
        }
    try {
        return it->second.run(args);
    } catch (const UsageError& e) {
        std::cerr << "kvtier-cli " << name << ": " << e.what() << " (see kvtier-cli " << name << " --help)\n";
        return 2;
    } catch (const kvtier::Cancelled&) {
        std::cerr << "kvtier-cli " << name << ": cancelled\n";
        return 130;
    } catch (const std::bad_alloc&) {
        // Commands name the file where they can (analyze, sweep, load); this is the rest.
        std::cerr << "kvtier-cli " << name << ": an input is too large for memory\n";
        return 1;
    } catch (const std::length_error&) {
        std::cerr << "kvtier-cli " << name << ": an input is too large for memory\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "kvtier-cli " << name << ": " << e.what() << "\n";
        return 1;
    }
}
