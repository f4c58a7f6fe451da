#include "core/support/json_text.hpp"

#include "core/model/error.hpp"

#include <cerrno>
#include <cstring>
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <string_view>

namespace kvtier {

namespace {

// "line L, column C" of byte `index` (0-based); columns count bytes, from 1.
std::string placeOf(std::string_view text, size_t index)
{
    if (index > text.size()) index = text.size();
    size_t line = 1, lineStart = 0;
    for (size_t i = 0; i < index; ++i)
        if (text[i] == '\n') {
            ++line;
            lineStart = i + 1;
        }
    return "line " + std::to_string(line) + ", column " + std::to_string(index - lineStart + 1);
}

[[noreturn]] void failAt(std::string_view text, size_t index, const std::string& where, const std::string& problem)
{
    throw InputError(where, placeOf(text, index) + ": " + problem);
}

bool isNumberChar(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

bool isWordChar(char c)
{
    return isNumberChar(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// The start of the string literal whose closing quote is at `close`.
size_t openingQuote(std::string_view text, size_t close)
{
    for (size_t i = close; i-- > 0;) {
        if (text[i] != '"') continue;
        size_t backslashes = 0;
        for (size_t k = i; k-- > 0 && text[k] == '\\';) ++backslashes;
        if (backslashes % 2 == 0) return i;
    }
    return close;
}

std::string shown(char c)
{
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%02X", u);
        return std::string("byte ") + buf;
    }
    return std::string("'") + c + "'";
}

} // namespace

void checkJsonText(const std::string& text, const std::string& where)
{
    int depth = 0;
    bool inString = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (inString) {
            if (c == '\\') ++i;   // the escaped character cannot end the string
            else if (c == '"') inString = false;
            continue;
        }
        switch (c) {
        case '"': inString = true; break;
        case '{':
        case '[':
            if (++depth > kMaxJsonDepth)
                failAt(text, i, where, "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
            break;
        case '}':
        case ']':
            if (depth > 0) --depth;
            break;
        default:
            // A number starts a value: at the start or after whitespace, ',', ':', '[' or '{'.
            // Inside a bare word (a --set value such as /tmp/run-9e4972x/db, taken as a
            // string) digits are no number.
            const bool startsValue = i == 0 || std::strchr(" \t\r\n,:[{", text[i - 1]) != nullptr;
            if (((c >= '0' && c <= '9') || c == '-') && startsValue) {
                size_t end = i;
                while (end < text.size() && isNumberChar(text[end])) ++end;
                const std::string token = text.substr(i, end - i);
                // nlohmann refuses these with its own text; say it in words, with the place.
                errno = 0;
                const double v = std::strtod(token.c_str(), nullptr);
                if (errno == ERANGE && std::isinf(v))
                    failAt(text, i, where, "number " + (token.size() > 24 ? token.substr(0, 20) + "..." : token) +
                                               " is out of range");
                i = end - 1;
            }
        }
    }
}

nlohmann::json parseJsonText(const std::string& text, const std::string& where)
{
    checkJsonText(text, where);
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        // nlohmann's byte is 1-based and points at the last character it read.
        const std::string_view t(text);
        size_t at = e.byte > 0 ? e.byte - 1 : 0;
        const std::string what = e.what();
        auto says = [&](const char* s) { return what.find(s) != std::string::npos; };
        if (says("empty input") || (says("unexpected end of input") &&
                                    text.find_first_not_of(" \t\r\n") == std::string::npos))
            failAt(t, 0, where, "the file is empty");
        if (says("unexpected end of input"))
            failAt(t, text.size(), where, "the file ends in the middle of a value");
        if (says("ill-formed UTF-8")) failAt(t, at, where, "invalid UTF-8 in a string");
        if (says("control character")) failAt(t, at, where, "control character in a string (write it as \\t, \\n, ...)");
        if (says("surrogate") || says("'\\u'")) failAt(t, at, where, "invalid \\u escape in a string");
        if (says("invalid string")) failAt(t, at, where, "invalid escape in a string");
        if (says("invalid number")) {
            while (at > 0 && isNumberChar(t[at - 1])) --at;
            failAt(t, at, where, "malformed number");
        }
        if (says("invalid literal")) {
            // The offending character ends the word; point at the word's start.
            while (at > 0 && isWordChar(t[at - 1])) --at;
            failAt(t, at, where, "not a JSON value (expected a number, a string, true, false, null, { or [)");
        }
        if (at < t.size() && t[at] == '"') {
            failAt(t, openingQuote(t, at), where, "unexpected string (is a comma or a colon missing before it?)");
        }
        if (at < t.size()) failAt(t, at, where, "unexpected " + shown(t[at]));
        failAt(t, at, where, "not valid JSON");
    } catch (const nlohmann::json::exception&) {
        // checkJsonText catches what the parser can refuse beyond syntax; keep the words plain anyway.
        throw InputError(where, "not valid JSON (a value is out of range)");
    }
}

} // namespace kvtier
