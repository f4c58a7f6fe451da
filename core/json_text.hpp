#pragma once
// Reading JSON text that users write (scenarios, presets, --set values). nlohmann's parser
// is iterative, but copying or walking a value is recursive, so nesting is bounded before
// the text is parsed; and every problem becomes one line in plain words with its place,
// "FILE: line L, column C: number 1e999 is out of range" — never the library's text.
#include <nlohmann/json.hpp>

#include <string>

namespace kvtier {

// Deeper than any file kvtier writes (a scenario is 4 levels deep) and shallow enough
// that every recursive walk over a parsed value stays far from the stack's end.
inline constexpr int kMaxJsonDepth = 64;

// Parses `text`. Throws InputError(where, "line L, column C: problem") for nesting deeper
// than kMaxJsonDepth, a number beyond the double range, and any syntax error.
nlohmann::json parseJsonText(const std::string& text, const std::string& where);

// The checks of parseJsonText that do not need a parse: nesting depth and numbers
// beyond the double range. For text that may legitimately not be JSON at all (a --set
// value falls back to a string), run this before nlohmann::json::parse(..., false).
void checkJsonText(const std::string& text, const std::string& where);

} // namespace kvtier
