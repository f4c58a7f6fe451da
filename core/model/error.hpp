#pragma once
// Errors that reach the user. Every message names the file, the place in it and the
// problem, so "kvtier-cli import" and the GUI can show it as one clear line.
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>

namespace kvtier {

namespace detail {
// `s` with control bytes shown as \xNN, as core/model/text.hpp's excerpt() does: a newline
// in a JSON key, a preset id or SQLite's quote of a damaged schema must not break the line.
inline std::string oneLine(const std::string& s)
{
    std::string out;
    out.reserve(s.size());
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7F) {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02X", c);
            out += hex;
        } else {
            out += ch;
        }
    }
    return out;
}
} // namespace detail

// Bad input: a file, a field, a value. `where` is the file, optionally with ":line" or
// " record (t=3, l=0)"; `what` is the problem in plain words. Both are kept to one line
// whatever they quote (control bytes become \xNN).
class InputError : public std::runtime_error {
public:
    InputError(const std::string& where, const std::string& problem)
        : InputError(0, detail::oneLine(where), detail::oneLine(problem)) {}
    const std::string& where() const noexcept { return where_; }
    const std::string& problem() const noexcept { return problem_; }

private:
    InputError(int, std::string where, std::string problem)
        : std::runtime_error(where.empty() ? problem : where + ": " + problem),
          where_(std::move(where)), problem_(std::move(problem)) {}
    std::string where_;
    std::string problem_;
};

// A number for a message: at most 10 significant digits, so 1e300 reads "1e+300" and
// not std::to_string's 301 digits.
inline std::string readableNumber(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
}

// A scenario that cannot be run on the chosen hardware (weights or KV do not fit).
// The message names the value that does not fit; when the caller knows what would fix it,
// `fix` says so ("lower batch to 3 or add 1.2 GB of capacity") and is appended to what().
class InfeasibleError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
    InfeasibleError(const std::string& problem, const std::string& fix)
        : std::runtime_error(fix.empty() ? problem : problem + "; to fix: " + fix), fix_(fix) {}
    const std::string& fix() const { return fix_; }

private:
    std::string fix_;
};

// Thrown from inside long loops when the caller's cancellation flag was raised.
class Cancelled : public std::runtime_error {
public:
    Cancelled() : std::runtime_error("cancelled") {}
};

} // namespace kvtier
