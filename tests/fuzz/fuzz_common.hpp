#pragma once
// Shared by the libFuzzer harnesses (docs/FUZZING.md). Each harness writes the input to a
// per-process temporary file (the same path every run), calls the real entry point and
// accepts exactly two outcomes besides success: kvtier::InputError and InfeasibleError.
// Anything else that escapes — std::bad_alloc, std::length_error, a nlohmann exception,
// std::out_of_range, std::invalid_argument from stoul, ... — is a bug, because no raw
// library exception may reach a user; so is an InputError that is not one clear line.
// Both abort the process, which libFuzzer reports as a crash with a reproducer file.
#include "core/model/error.hpp"

#include <cxxabi.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <typeinfo>

namespace kvtier::fuzz {

// A path in the temporary folder unique to this process: kvtier-fuzz-<pid>/<name>.
inline std::string tempPath(const std::string& name)
{
    static const std::filesystem::path dir = [] {
        std::filesystem::path d = std::filesystem::temp_directory_path() /
                                  ("kvtier-fuzz-" + std::to_string(static_cast<long>(::getpid())));
        std::filesystem::create_directories(d);
        // Best effort clean-up when libFuzzer exits normally (-max_total_time, -runs).
        static const std::string keep = d.string();
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(keep, ec);
        });
        return d;
    }();
    return (dir / name).string();
}

// Removes a SQLite database and the files SQLite keeps beside it, so nothing of a
// previous run (a -wal file above all) leaks into the next.
inline void removeDatabase(const std::string& path)
{
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::remove((path + suffix).c_str());
}

[[noreturn]] inline void finding(const char* what, const std::string& detail)
{
    std::fprintf(stderr, "\n==kvtier-fuzz== BUG: %s: %s\n", what, detail.c_str());
    std::fflush(stderr);
    std::abort();
}

// The current input, set by setInput: a message may quote the input, so text the input
// itself contains is not held against the message.
inline std::string_view& currentInput()
{
    static std::string_view input;
    return input;
}
inline void setInput(const uint8_t* data, size_t size)
{
    currentInput() = std::string_view(reinterpret_cast<const char*>(data), size);
}

inline void writeFile(const std::string& path, const uint8_t* data, size_t size)
{
    setInput(data, size);
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) {
        std::fprintf(stderr, "kvtier fuzz: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
        std::abort();
    }
    if (size && std::fwrite(data, 1, size, f) != size) std::abort();
    std::fclose(f);
}

// The message rules of core/error.hpp: one line, naming the file, with a problem.
inline void checkMessage(const InputError& e)
{
    const std::string_view m = e.what();
    if (m.find_first_of("\n\r") != std::string_view::npos)
        finding("InputError message spans several lines", e.what());
    if (e.where().empty()) finding("InputError without a place (file)", e.what());
    if (e.problem().empty()) finding("InputError without a problem", e.what());
    if (m.find("[json.exception.") != std::string_view::npos &&
        currentInput().find("json.exception") == std::string_view::npos)
        finding("nlohmann exception text in an InputError", e.what());
}

// Runs `f`; returns normally on success and on the expected errors, aborts on anything else.
inline void expectOnlyInputErrors(const std::function<void()>& f)
{
    try {
        f();
    } catch (const InputError& e) {
        checkMessage(e);
    } catch (const InfeasibleError&) {
    } catch (const Cancelled&) {
        finding("Cancelled thrown without a cancellation", "");
    } catch (const std::exception& e) {
        int status = 0;
        char* name = abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status);
        const std::string type = status == 0 && name ? name : typeid(e).name();
        std::free(name);
        finding(("unexpected " + type).c_str(), e.what());
    } catch (...) {
        finding("unexpected exception of unknown type", "");
    }
}

} // namespace kvtier::fuzz
