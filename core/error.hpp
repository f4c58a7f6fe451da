#pragma once
// Errors that reach the user. Every message names the file, the place in it and the
// problem, so "kvtier-cli import" and the GUI can show it as one clear line.
#include <cstdio>
#include <stdexcept>
#include <string>

namespace kvtier {

// Bad input: a file, a field, a value. `where` is the file, optionally with ":line" or
// " record (t=3, l=0)"; `what` is the problem in plain words.
class InputError : public std::runtime_error {
public:
    InputError(const std::string& where, const std::string& problem)
        : std::runtime_error(where.empty() ? problem : where + ": " + problem),
          where_(where), problem_(problem) {}
    const std::string& where() const noexcept { return where_; }
    const std::string& problem() const noexcept { return problem_; }

private:
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
class InfeasibleError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Thrown from inside long loops when the caller's cancellation flag was raised.
class Cancelled : public std::runtime_error {
public:
    Cancelled() : std::runtime_error("cancelled") {}
};

} // namespace kvtier
