#include "core/import_long_csv.hpp"

#include "core/csv_reader.hpp"
#include "core/error.hpp"
#include "core/import_limits.hpp"
#include "core/input_text.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kvtier {

// ---- the metadata comment --------------------------------------------------------------

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

std::string formatTraceComment(const TraceSummary& s)
{
    const TraceMeta& m = s.meta;
    std::string out(kCommentPrefix);
    out += " " + percentEncode(m.name);
    out += " prefill=" + std::to_string(m.prefill);
    out += " steps=" + std::to_string(m.steps);
    out += " layers=" + std::to_string(m.layers);
    out += std::string(" mode=") + toString(m.layer_mode);
    out += std::string(" kind=") + toString(m.kind);
    out += std::string(" encoding=") + toString(s.encoding);
    out += " rows=" + std::to_string(s.entries);   // what follows, so a cut file is noticed
    out += " head_reduction=" + percentEncode(m.head_reduction);
    out += " model=" + percentEncode(m.model_name);
    out += " description=" + percentEncode(m.description);
    out += " source=" + percentEncode(m.source);
    out += " notes=" + percentEncode(m.notes);
    return out;
}

bool isTraceComment(std::string_view line)
{
    if (line.substr(0, kCommentPrefix.size()) != kCommentPrefix) return false;
    return line.size() == kCommentPrefix.size() || line[kCommentPrefix.size()] == ' ' ||
           line[kCommentPrefix.size()] == '\t';
}

TraceComment parseTraceComment(std::string_view line, const std::string& where)
{
    TraceComment c;
    std::string_view rest = line.substr(kCommentPrefix.size());
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

// ---- the importer ----------------------------------------------------------------------

namespace {

struct Fields {
    int64_t step = 0;
    int64_t layer = 0;
    int64_t token = 0;
    float score = 0;
};

void parseStepLayer(CsvReader& in, Fields& f)
{
    const auto& v = in.fields();
    if (v.size() != 4)
        throw InputError(in.where(), "expected 4 fields step,layer,token,score, found " + std::to_string(v.size()));
    if (!parseInt(v[0], f.step)) throw InputError(in.where(), "step" + notAnInteger(v[0]));
    if (!parseInt(v[1], f.layer)) throw InputError(in.where(), "layer" + notAnInteger(v[1]));
    if (f.step < 0) throw InputError(in.where(), "step " + std::to_string(f.step) + " is negative");
    if (f.layer < -1) throw InputError(in.where(), "layer " + std::to_string(f.layer) + " is invalid (-1 = aggregated, else 0..L-1)");
}

void parseRow(CsvReader& in, Fields& f)
{
    parseStepLayer(in, f);
    const auto& v = in.fields();
    if (!parseInt(v[2], f.token)) throw InputError(in.where(), "token" + notAnInteger(v[2]));
    if (!parseFloat(v[3], f.score)) throw InputError(in.where(), "score is not a number: '" + excerpt(trim(v[3]), 40) + "'");
    if (f.token < 0) throw InputError(in.where(), "token " + std::to_string(f.token) + " is negative");
    if (std::isnan(f.score)) throw InputError(in.where(), "score of token " + std::to_string(f.token) + " is NaN");
    if (std::isinf(f.score)) throw InputError(in.where(), "score of token " + std::to_string(f.token) + " is infinite or beyond float32");
    if (f.score < 0)
        throw InputError(in.where(), "score of token " + std::to_string(f.token) + " is negative (" +
                                         excerpt(trim(v[3]), 40) + ")");
}

struct Shape {
    int64_t steps = 0;
    LayerMode mode = LayerMode::Aggregated;
    int64_t maxLayer = -1;
};

// First pass when the file does not state T, L and the mode: streams the rows once.
Shape scanShape(const std::string& path, const std::string& shown, int64_t headerLine)
{
    CsvReader in(path, shown);
    Shape s;
    Fields f;
    int64_t modeLine = 0;
    while (in.next()) {
        if (in.lineNumber() <= headerLine || in.isComment()) continue;
        parseStepLayer(in, f);
        const LayerMode m = f.layer < 0 ? LayerMode::Aggregated : LayerMode::PerLayer;
        if (modeLine == 0) {
            s.mode = m;
            modeLine = in.lineNumber();
        } else if (m != s.mode) {
            throw InputError(in.where(), std::string("layer ") + std::to_string(f.layer) + " mixes " +
                                             (m == LayerMode::Aggregated ? "aggregated (-1)" : "per-layer") +
                                             " rows into " + (s.mode == LayerMode::Aggregated ? "an " : "a ") +
                                             toString(s.mode) + " trace (line " +
                                             std::to_string(modeLine) + ")");
        }
        s.steps = std::max(s.steps, f.step + 1);
        s.maxLayer = std::max(s.maxLayer, f.layer);
    }
    return s;
}

struct Entry {
    uint32_t token;
    float score;
    int64_t line;
};

} // namespace

TraceSummary importLongCsv(TraceStore& store, const std::string& path, const ImportOptions& opt)
{
    const std::string& shown = opt.shown_name.empty() ? path : opt.shown_name;
    CsvReader in(path, shown);
    TraceComment c;
    bool haveComment = false;
    bool haveHeader = false;
    while (in.next()) {
        if (!in.isComment()) {
            haveHeader = true;
            break;
        }
        if (isTraceComment(in.line())) {
            if (haveComment) throw InputError(in.where(), "second '# kvtier trace' line");
            c = parseTraceComment(in.line(), in.where());
            haveComment = true;
        }
    }
    if (!haveHeader) throw InputError(shown, "no header (expected 'step,layer,token,score')");
    {
        const auto& h = in.fields();
        if (h.size() != 4 || trim(h[0]) != "step" || trim(h[1]) != "layer" || trim(h[2]) != "token" ||
            trim(h[3]) != "score")
            throw InputError(in.where(), "expected the header 'step,layer,token,score', found '" +
                                             excerpt(in.line()) + "'");
    }
    const int64_t headerLine = in.lineNumber();

    TraceMeta meta;
    if (c.prefill && opt.prefill && *c.prefill != *opt.prefill)
        throw InputError(shown, "the file says prefill=" + std::to_string(*c.prefill) + " but P = " +
                                    std::to_string(*opt.prefill) + " was given");
    if (!c.prefill && !opt.prefill)
        throw InputError(shown, "prefill length unknown: give P (--prefill) or start the file with "
                                "'# kvtier trace NAME prefill=P'");
    meta.prefill = c.prefill ? *c.prefill : *opt.prefill;
    meta.kind = c.kind.value_or(RecordKind::Scores);

    if (c.steps && c.layers && c.mode) {
        meta.steps = *c.steps;
        meta.layers = *c.layers;
        meta.layer_mode = *c.mode;
    } else {
        // T, L or the mode come from the rows: a first pass, which needs a file that can be
        // opened twice. (kvtier-cli import copies a pipe to a temporary file first.)
        if (!in.isRegularFile())
            throw InputError(shown, "is a pipe, which can be read only once, and without a '# kvtier trace' line "
                                    "stating steps, layers and mode the long CSV needs two passes; save it to a file");
        const Shape s = scanShape(path, shown, headerLine);
        meta.layer_mode = c.mode.value_or(s.mode);
        meta.steps = c.steps.value_or(s.steps);
        if (!c.layers && meta.layer_mode == LayerMode::PerLayer && s.maxLayer + 1 > kMaxLayers)
            throw InputError(shown, "layer " + std::to_string(s.maxLayer) + " implies L = " +
                                        std::to_string(s.maxLayer + 1) + " layers, beyond the limit of " +
                                        std::to_string(kMaxLayers));
        if (c.layers) meta.layers = *c.layers;
        else if (meta.layer_mode == LayerMode::PerLayer) meta.layers = static_cast<int32_t>(std::max<int64_t>(s.maxLayer + 1, 1));
        else meta.layers = 1;
    }
    if (opt.layer_mode && *opt.layer_mode != meta.layer_mode)
        throw InputError(shown, std::string("the file holds a ") + toString(meta.layer_mode) + " trace, not " +
                                    toString(*opt.layer_mode));
    // --layers only fills in what the file cannot say: L of an aggregated trace.
    if (opt.layers && meta.layer_mode == LayerMode::Aggregated && !c.layers) meta.layers = *opt.layers;

    // Dimensions against the limits and against the rows the file can hold, before a
    // single record is written: empty records cost the file nothing to claim.
    const int64_t slotCount = meta.layer_mode == LayerMode::PerLayer ? meta.layers : 1;
    if (slotCount > kMaxLayers)
        throw InputError(shown, "L = " + std::to_string(meta.layers) + " layers exceeds the limit of " +
                                    std::to_string(kMaxLayers));
    if (meta.prefill > kMaxContextTokens || meta.steps > kMaxContextTokens - meta.prefill + 1)
        throw InputError(shown, "P = " + std::to_string(meta.prefill) + " and T = " + std::to_string(meta.steps) +
                                    " make a context beyond the limit of 2^32 tokens");
    if (meta.steps > limits::kMaxRecords / slotCount)
        throw InputError(shown, "T = " + std::to_string(meta.steps) +
                                    (slotCount > 1 ? " x L = " + std::to_string(slotCount) : std::string()) +
                                    " records exceeds the limit of " + std::to_string(limits::kMaxRecords));
    const int64_t total = meta.steps * slotCount;
    if (c.rows && total - *c.rows > limits::kMaxEmptyRecordsAllowance)
        throw InputError(shown, "the kvtier comment declares " + std::to_string(total) + " records but rows=" +
                                    std::to_string(*c.rows) + "; at most " +
                                    std::to_string(limits::kMaxEmptyRecordsAllowance) +
                                    " records more than rows may be empty (limit)");

    const Encoding enc = opt.encoding.value_or(
        c.encoding.value_or(meta.kind == RecordKind::Selection ? Encoding::IndexU32 : Encoding::SparseF32));
    meta.name = !opt.name.empty() ? opt.name : !c.name.empty() ? c.name : traceNameFromPath(shown);
    meta.description = opt.description.value_or(c.description.value_or(""));
    meta.source = c.source.value_or("long-csv " + shown);
    meta.model_name = opt.model_name.value_or(c.model_name.value_or(""));
    meta.head_reduction = opt.head_reduction.value_or(c.head_reduction.value_or("mean"));
    meta.notes = opt.notes.value_or(c.notes.value_or(""));

    auto writer = store.beginTrace(meta, enc, opt.replace);
    const int32_t slots = meta.layerSlots();
    const bool aggregated = meta.layer_mode == LayerMode::Aggregated;
    const bool selection = meta.kind == RecordKind::Selection;

    std::vector<Entry> entries;
    Record rec;
    int64_t written = 0;   // records handed to the writer
    int64_t current = -1;  // ordinal (step * slots + slot) of the record being gathered
    int64_t rows = 0;      // data rows read
    int64_t empty = 0;     // records written without rows

    auto writeRecord = [&](int64_t ordinal) {
        rec.step = ordinal / slots;
        rec.layer = aggregated ? -1 : static_cast<int32_t>(ordinal % slots);
        rec.index.clear();
        rec.value.clear();
        writer->add(rec);
    };
    auto emitUpTo = [&](int64_t ordinal, const std::string& where) {   // empty records for the gap before `ordinal`
        if (ordinal - written > limits::kMaxEmptyRecordsAllowance + rows - empty)
            throw InputError(where, std::to_string(empty + ordinal - written) + " records without rows for " +
                                        std::to_string(rows) + " data rows; at most " +
                                        std::to_string(limits::kMaxEmptyRecordsAllowance) +
                                        " records more than rows may be empty (limit)");
        while (written < ordinal) {
            writeRecord(written);
            ++written;
            ++empty;
            if (written % 4096 == 0) opt.control.check();
        }
    };
    auto flush = [&](const std::string& where) {
        if (current < 0) return;
        emitUpTo(current, where);
        std::stable_sort(entries.begin(), entries.end(),
                         [](const Entry& a, const Entry& b) { return a.token < b.token; });
        rec.step = current / slots;
        rec.layer = aggregated ? -1 : static_cast<int32_t>(current % slots);
        rec.index.clear();
        rec.value.clear();
        for (size_t k = 0; k < entries.size(); ++k) {
            if (k > 0 && entries[k].token == entries[k - 1].token)
                throw InputError(shown + ":" + std::to_string(entries[k].line),
                                 "token " + std::to_string(entries[k].token) + " appears twice in record (t=" +
                                     std::to_string(rec.step) + ", l=" + std::to_string(rec.layer) +
                                     ") (also on line " + std::to_string(entries[k - 1].line) + ")");
            if (entries[k].score == 0.0f) continue;
            rec.index.push_back(entries[k].token);
            if (!selection) rec.value.push_back(entries[k].score);
        }
        writer->add(rec);
        ++written;
        entries.clear();
        opt.control.check();
        if (in.fileSize() > 0)
            opt.control.report(static_cast<double>(in.bytesRead()) / static_cast<double>(in.fileSize()));
    };

    Fields f;
    int64_t lastLine = headerLine;
    while (in.next()) {
        if (in.isComment()) continue;
        parseRow(in, f);
        ++rows;
        lastLine = in.lineNumber();
        if (c.rows && rows > *c.rows)
            throw InputError(in.where(), "more data rows than the kvtier comment's rows=" + std::to_string(*c.rows));
        if (f.step >= meta.steps)
            throw InputError(in.where(), "step " + std::to_string(f.step) + " >= T = " + std::to_string(meta.steps));
        if (aggregated && f.layer != -1)
            throw InputError(in.where(), "layer " + std::to_string(f.layer) +
                                             " in an aggregated trace (every row needs layer -1)");
        if (!aggregated && f.layer == -1)
            throw InputError(in.where(), "layer -1 (aggregated) in a per-layer trace");
        if (!aggregated && f.layer >= meta.layers)
            throw InputError(in.where(), "layer " + std::to_string(f.layer) + " >= L = " + std::to_string(meta.layers));
        const int64_t n = meta.contextAt(f.step);
        if (f.token >= n)
            throw InputError(in.where(), "token " + std::to_string(f.token) + " >= n_t = " + std::to_string(n) +
                                             " (step " + std::to_string(f.step) + " reads tokens 0.." +
                                             std::to_string(n - 1) + ")");
        if (selection && f.score != 0.0f && f.score != 1.0f)
            throw InputError(in.where(), "score " + excerpt(trim(in.fields()[3]), 40) +
                                             " in a selection trace (expected 1, or 0 for not selected)");
        const int64_t ordinal = f.step * slots + (aggregated ? 0 : f.layer);
        if (ordinal < current)
            throw InputError(in.where(), "steps out of order: (t=" + std::to_string(f.step) + ", l=" +
                                             std::to_string(f.layer) + ") after (t=" + std::to_string(current / slots) +
                                             ", l=" + std::to_string(aggregated ? -1 : current % slots) +
                                             "); rows must be grouped by step, then layer, ascending");
        if (ordinal > current) {
            flush(in.where());
            current = ordinal;
        }
        entries.push_back({static_cast<uint32_t>(f.token), f.score, in.lineNumber()});
    }
    const std::string endWhere = shown + ":" + std::to_string(lastLine);
    // A file cut at a line boundary looks like one whose last records are empty; the
    // comment's counts tell them apart.
    if (c.rows && rows != *c.rows)
        throw InputError(endWhere, "the file looks truncated: the kvtier comment says rows=" + std::to_string(*c.rows) +
                                       " but the data ends after " + std::to_string(rows) + " rows");
    if (c.steps && !c.rows && meta.steps > 0 && (current < 0 || current / slots < meta.steps - 1))
        throw InputError(endWhere, "the file looks truncated: the kvtier comment says steps=" +
                                       std::to_string(meta.steps) + " but the rows end " +
                                       (current < 0 ? std::string("before step 0")
                                                    : "at step " + std::to_string(current / slots)) +
                                       " (if the last steps are really empty, add rows=" + std::to_string(rows) +
                                       " to the comment)");
    flush(endWhere);
    emitUpTo(total, endWhere);
    writer->commit();
    opt.control.report(1.0);
    return store.get(meta.name);
}

} // namespace kvtier
