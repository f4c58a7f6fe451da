#include "core/io/trace_comment.hpp"

#include "core/io/csv_reader.hpp"
#include "core/io/input_text.hpp"
#include "core/model/error.hpp"
#include "core/model/text.hpp"
#include "core/support/json_text.hpp"

#include <nlohmann/json.hpp>

#include <limits>

namespace kvtier {

namespace {

constexpr std::string_view kCommentPrefix = "# kvtier trace";

bool needsEscape(unsigned char c) { return c <= 0x20 || c == '%' || c == '=' || c == 0x7F; }

int hexDigit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

template <typename T>
T parseCount(std::string_view key, std::string_view v, int64_t min, const std::string& where)
{
    int64_t x = 0;
    const std::string quoted = "'" + std::string(key) + "=" + excerpt(v, 40) + "'";
    if (!parseInt(v, x) || x < min)
        throw InputError(where, quoted + " in the kvtier comment: expected an integer >= " + std::to_string(min));
    if constexpr (sizeof(T) < sizeof(int64_t))
        if (x > static_cast<int64_t>(std::numeric_limits<T>::max()))
            throw InputError(where, quoted + " in the kvtier comment is too large");
    return static_cast<T>(x);
}

} // namespace

std::string percentEncode(std::string_view s)
{
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (needsEscape(c)) {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xF]);
        } else {
            out.push_back(ch);
        }
    }
    return out;
}

std::string percentDecode(std::string_view s, const std::string& where)
{
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        const int hi = i + 2 < s.size() ? hexDigit(s[i + 1]) : -1;
        const int lo = i + 2 < s.size() ? hexDigit(s[i + 2]) : -1;
        if (hi < 0 || lo < 0) throw InputError(where, "bad percent escape in '" + excerpt(s) + "'");
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

bool isTraceComment(std::string_view line)
{
    if (line.substr(0, kCommentPrefix.size()) != kCommentPrefix) return false;
    return line.size() == kCommentPrefix.size() || line[kCommentPrefix.size()] == ' ' ||
           line[kCommentPrefix.size()] == '\t';
}

namespace {

TraceComment parseLegacyTraceComment(std::string_view rest, const std::string& where)
{
    TraceComment c;
    bool first = true;
    while (true) {
        rest = trim(rest);
        if (rest.empty()) break;
        const size_t end = rest.find_first_of(" \t");
        const std::string_view tok = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
        const size_t eq = tok.find('=');
        if (eq == std::string_view::npos) {
            if (!first) throw InputError(where, "unexpected word '" + excerpt(tok, 40) + "' in the kvtier comment (expected key=value)");
            c.name = percentDecode(tok, where);
            first = false;
            continue;
        }
        first = false;
        const std::string_view key = tok.substr(0, eq);
        const std::string value = percentDecode(tok.substr(eq + 1), where);
        try {
            if (key == "prefill") c.prefill = parseCount<int64_t>(key, value, 0, where);
            else if (key == "steps") c.steps = parseCount<int64_t>(key, value, 0, where);
            else if (key == "layers") c.layers = parseCount<int32_t>(key, value, 1, where);
            else if (key == "rows") c.rows = parseCount<int64_t>(key, value, 0, where);
            else if (key == "mode") c.mode = layerModeFromString(value);
            else if (key == "kind") c.kind = recordKindFromString(value);
            else if (key == "encoding") c.encoding = encodingFromString(value);
            else if (key == "model") c.model_name = value;
            else if (key == "head_reduction") c.head_reduction = value;
            else if (key == "description") c.description = value;
            else if (key == "source") c.source = value;
            else if (key == "notes") c.notes = value;
            // Other keys: written by a newer kvtier; nothing this build needs.
        } catch (const InputError& e) {
            if (!e.where().empty()) throw;
            throw InputError(where, e.problem() + " in the kvtier comment");
        }
    }
    return c;
}

} // namespace

namespace {

// ---- the JSON form -----------------------------------------------------------------------

[[noreturn]] void badValue(const std::string& where, const std::string& key, const std::string& expected)
{
    throw InputError(where, "'" + key + "' in the kvtier comment: expected " + expected);
}

template <typename T>
std::optional<T> countOf(const nlohmann::json& o, const std::string& key, int64_t min, const std::string& where)
{
    const auto it = o.find(key);
    if (it == o.end()) return std::nullopt;
    const std::string expected = "an integer >= " + std::to_string(min);
    if (!it->is_number_integer()) badValue(where, key, expected);
    if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<T>::max()))
        throw InputError(where, "'" + key + "' in the kvtier comment is too large");
    const auto v = it->get<int64_t>();
    if (v < min) badValue(where, key, expected);
    if (v > static_cast<int64_t>(std::numeric_limits<T>::max()))
        throw InputError(where, "'" + key + "' in the kvtier comment is too large");
    return static_cast<T>(v);
}

std::optional<std::string> textOf(const nlohmann::json& o, const std::string& key, const std::string& where)
{
    const auto it = o.find(key);
    if (it == o.end()) return std::nullopt;
    if (!it->is_string()) badValue(where, key, "a string");
    return it->get<std::string>();
}

TraceComment parseJsonTraceComment(std::string_view text, const std::string& where)
{
    const nlohmann::json o = parseJsonText(std::string(text), where + ": the kvtier comment");
    if (!o.is_object()) throw InputError(where, "the kvtier comment must be a JSON object");
    TraceComment c;
    try {
        c.name = textOf(o, "name", where).value_or("");
        c.prefill = countOf<int64_t>(o, "prefill", 0, where);
        c.steps = countOf<int64_t>(o, "steps", 0, where);
        c.layers = countOf<int32_t>(o, "layers", 1, where);
        c.rows = countOf<int64_t>(o, "rows", 0, where);
        if (const auto it = o.find("sequence_prefill"); it != o.end()) {
            const std::string expected = "a list of 1 to " + std::to_string(kMaxSequences) + " integers >= 0 (P_s)";
            if (!it->is_array() || it->empty() || static_cast<int64_t>(it->size()) > kMaxSequences)
                badValue(where, "sequence_prefill", expected);
            std::vector<int64_t> list;
            list.reserve(it->size());
            for (const nlohmann::json& v : *it) {
                if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(kMaxContextTokens)))
                    badValue(where, "sequence_prefill", expected);
                const auto p = v.get<int64_t>();
                if (p < 0 || p > kMaxContextTokens) badValue(where, "sequence_prefill", expected);
                list.push_back(p);
            }
            c.sequence_prefill = std::move(list);
        }
        if (auto v = textOf(o, "mode", where)) c.mode = layerModeFromString(*v);
        if (auto v = textOf(o, "kind", where)) c.kind = recordKindFromString(*v);
        if (auto v = textOf(o, "encoding", where)) c.encoding = encodingFromString(*v);
        c.model_name = textOf(o, "model", where);
        c.head_reduction = textOf(o, "head_reduction", where);
        c.description = textOf(o, "description", where);
        c.source = textOf(o, "source", where);
        c.notes = textOf(o, "notes", where);
        // Other keys: written by a newer kvtier; nothing this build needs.
    } catch (const InputError& e) {
        if (!e.where().empty()) throw;
        throw InputError(where, e.problem() + " in the kvtier comment");
    }
    return c;
}

} // namespace

std::string formatTraceComment(const TraceSummary& s)
{
    const TraceMeta& m = s.meta;
    nlohmann::ordered_json o;   // keys in this order, the counts first
    o["name"] = m.name;
    o["prefill"] = m.prefill;
    o["steps"] = m.steps;
    o["layers"] = m.layers;
    o["mode"] = toString(m.layer_mode);
    o["kind"] = toString(m.kind);
    o["encoding"] = toString(s.encoding);
    o["rows"] = s.entries;   // what follows, so a cut file is noticed
    if (m.sequenceCount() > 1) o["sequence_prefill"] = m.sequence_prefill;
    o["head_reduction"] = m.head_reduction;
    o["model"] = m.model_name;
    o["description"] = m.description;
    o["source"] = m.source;
    o["notes"] = m.notes;
    // One line: control characters are escaped (\n), nothing is indented.
    return std::string(kCommentPrefix) + " " + o.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

TraceComment parseTraceComment(std::string_view line, const std::string& where)
{
    const std::string_view rest = trim(line.substr(kCommentPrefix.size()));
    if (!rest.empty() && rest.front() == '{') return parseJsonTraceComment(rest, where);
    return parseLegacyTraceComment(rest, where);
}

} // namespace kvtier
