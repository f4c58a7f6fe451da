#include "core/io/import_paper_csv.hpp"

#include "core/io/csv_reader.hpp"
#include "core/io/import_limits.hpp"
#include "core/io/input_text.hpp"
#include "core/model/error.hpp"

#include <algorithm>

namespace kvtier {

namespace {


struct Row {
    int64_t n = 0;
    int64_t layer = 0;
    std::vector<uint32_t> tokens;   // sorted, unique, < n
};

// Fields of a CSV line, quotes respected: what a row has when it is not `n,l,LIST`.
size_t countFields(std::string_view line)
{
    size_t n = 1;
    bool quoted = false;
    for (char ch : line) {
        if (ch == '"') quoted = !quoted;
        else if (ch == ',' && !quoted) ++n;
    }
    return n;
}

InputError fieldCountError(const CsvReader& in, std::string_view line)
{
    return InputError(in.where(), "the row has " + std::to_string(countFields(line)) +
                                      " fields, expected 3 (n,l,read_kv): '" + excerpt(line) + "'");
}

// Parses `n,l,"[i, j, k]"` (the list may also be unquoted). Index n itself is the token
// being decoded and is dropped; duplicates are removed.
void parseRow(CsvReader& in, Row& row)
{
    const std::string_view line = in.line();
    const size_t c1 = line.find(',');
    const size_t c2 = c1 == std::string_view::npos ? c1 : line.find(',', c1 + 1);
    if (c2 == std::string_view::npos)
        throw InputError(in.where(), "expected three fields n,l,read_kv, found '" + excerpt(line) + "'");
    const std::string_view nField = line.substr(0, c1);
    const std::string_view lField = line.substr(c1 + 1, c2 - c1 - 1);
    if (!parseInt(nField, row.n)) throw InputError(in.where(), "n" + notAnInteger(nField));
    if (!parseInt(lField, row.layer)) throw InputError(in.where(), "l" + notAnInteger(lField));
    if (row.n < 0) throw InputError(in.where(), "n = " + std::to_string(row.n) + " is negative");
    if (row.layer < 0) throw InputError(in.where(), "l = " + std::to_string(row.layer) + " is negative");
    if (row.layer >= kMaxLayers)
        throw InputError(in.where(), "l = " + std::to_string(row.layer) + " exceeds the limit of " +
                                         std::to_string(kMaxLayers - 1));
    if (row.n > kMaxContextTokens)
        throw InputError(in.where(), "n = " + std::to_string(row.n) + " exceeds the context limit of 2^32 tokens");

    std::string_view list = trim(line.substr(c2 + 1));
    if (!list.empty() && list.front() == '"') {
        const size_t close = list.find('"', 1);
        if (close == std::string_view::npos) throw InputError(in.where(), "unterminated quote in read_kv");
        // More after the closing quote: a comma means more fields than the three a row has.
        const std::string_view after = trim(list.substr(close + 1));
        if (!after.empty() && after.front() == ',') throw fieldCountError(in, line);
        if (!after.empty())
            throw InputError(in.where(), "unexpected text after the quoted read_kv: '" + excerpt(after, 40) + "'");
        list = list.substr(1, close - 1);
    }
    list = trim(list);
    if (list.empty() || list.front() != '[')
        throw InputError(in.where(), "read_kv must be a bracketed list like \"[0, 5, 17]\", found '" +
                                         excerpt(list, 40) + "'");
    const size_t close = list.find(']');
    if (close == std::string_view::npos)
        throw InputError(in.where(), "unterminated list in read_kv (missing ']')");
    const std::string_view rest = trim(list.substr(close + 1));
    if (!rest.empty() && rest.front() == ',') throw fieldCountError(in, line);   // an unquoted [..] then more fields
    if (!rest.empty())
        throw InputError(in.where(), "unexpected text after ']' in read_kv: '" + excerpt(rest, 40) + "'");
    std::string_view body = list.substr(1, close - 1);
    row.tokens.clear();
    if (!trim(body).empty()) {
        while (true) {
            const size_t comma = body.find(',');
            const std::string_view item = trim(body.substr(0, comma));
            int64_t v = 0;
            if (item.empty())
                throw InputError(in.where(), "empty element in read_kv list");
            if (!parseInt(item, v)) throw InputError(in.where(), "token index" + notAnInteger(item));
            if (v < 0)
                throw InputError(in.where(), "token index " + std::to_string(v) + " is negative");
            if (v > row.n)
                throw InputError(in.where(), "token index " + std::to_string(v) + " >= n_t = " +
                                                 std::to_string(row.n) + " (at n = " + std::to_string(row.n) +
                                                 " the readable tokens are 0.." + std::to_string(row.n - 1) + ")");
            if (v < row.n) row.tokens.push_back(static_cast<uint32_t>(v));   // v == n: the new token, dropped
            if (comma == std::string_view::npos) break;
            body.remove_prefix(comma + 1);
        }
    }
    std::sort(row.tokens.begin(), row.tokens.end());
    row.tokens.erase(std::unique(row.tokens.begin(), row.tokens.end()), row.tokens.end());
}

// One decode step's rows, gathered until n changes.
struct StepBuffer {
    int64_t n = -1;
    std::vector<std::vector<uint32_t>> layers;
    std::vector<int64_t> line;   // line of each layer's row, 0 = absent

    void clear(int64_t newN, size_t slots)
    {
        n = newN;
        layers.resize(slots);
        for (auto& l : layers) l.clear();
        line.assign(slots, 0);
    }
};

} // namespace

TraceSummary importPaperCsv(TraceStore& store, const std::string& path, const ImportOptions& opt)
{
    const std::string& shown = opt.shown_name.empty() ? path : opt.shown_name;
    if (opt.encoding && *opt.encoding != Encoding::IndexU32 && *opt.encoding != Encoding::IndexVarint &&
        *opt.encoding != Encoding::IndexStepDelta)
        throw InputError(shown, std::string("paper CSV traces are selections and are stored as index_u32, not ") +
                                    toString(*opt.encoding) + " (index_varint is the compact alternative)");
    CsvReader in(path, shown);
    if (!in.next()) throw InputError(shown, "empty file (expected the header 'n,l,read_kv')");
    {
        const auto& h = in.fields();
        if (h.size() != 3 || trim(h[0]) != "n" || trim(h[1]) != "l" || trim(h[2]) != "read_kv")
            throw InputError(in.where(), "expected the header 'n,l,read_kv', found '" + excerpt(in.line()) + "'");
    }

    TraceMeta meta;
    meta.name = opt.name.empty() ? traceNameFromPath(shown) : opt.name;
    meta.source = "paper-csv " + shown;
    meta.description = opt.description.value_or("");
    meta.model_name = opt.model_name.value_or("");
    meta.head_reduction = opt.head_reduction.value_or("mean");
    meta.notes = opt.notes.value_or("");
    meta.kind = RecordKind::Selection;
    meta.layer_mode = opt.layer_mode.value_or(LayerMode::PerLayer);
    meta.steps = -1;   // known at the end of the file

    std::unique_ptr<TraceWriter> writer;
    StepBuffer step;
    size_t slots = 0;   // L, fixed by the first step
    Row row;
    Record rec;

    auto flush = [&](int64_t lastLine) {
        const std::string where = shown + ":" + std::to_string(lastLine);
        if (!writer) {
            // The first step fixes P and L.
            slots = step.layers.size();
            meta.prefill = step.n;
            meta.layers = static_cast<int32_t>(slots);
            if (opt.prefill && *opt.prefill != meta.prefill)
                throw InputError(where, "the first row has n = " + std::to_string(meta.prefill) +
                                            ", so P = " + std::to_string(meta.prefill) + ", but P = " +
                                            std::to_string(*opt.prefill) + " was given");
            writer = store.beginTrace(meta, opt.encoding.value_or(Encoding::IndexU32), opt.replace, opt.key_interval);
        }
        for (size_t l = 0; l < slots; ++l)
            if (step.line[l] == 0)
                throw InputError(where, "step n = " + std::to_string(step.n) + " has no row for layer l = " +
                                            std::to_string(l) + " (every step needs layers 0.." +
                                            std::to_string(slots - 1) + ")");
        rec.step = step.n - meta.prefill;
        rec.value.clear();
        if (meta.layer_mode == LayerMode::PerLayer) {
            for (size_t l = 0; l < slots; ++l) {
                rec.layer = static_cast<int32_t>(l);
                rec.index.swap(step.layers[l]);
                writer->add(rec);
                rec.index.swap(step.layers[l]);
            }
        } else {
            // Aggregated: the step reads what any layer reads.
            rec.layer = -1;
            rec.index.clear();
            for (const auto& l : step.layers) rec.index.insert(rec.index.end(), l.begin(), l.end());
            std::sort(rec.index.begin(), rec.index.end());
            rec.index.erase(std::unique(rec.index.begin(), rec.index.end()), rec.index.end());
            writer->add(rec);
        }
        opt.control.check();
        if (in.fileSize() > 0)
            opt.control.report(static_cast<double>(in.bytesRead()) / static_cast<double>(in.fileSize()));
    };

    int64_t lastLine = in.lineNumber();
    while (in.next()) {
        if (in.isComment())
            throw InputError(in.where(), "unexpected line '" + excerpt(in.line()) + "' (paper CSV has no comments)");
        parseRow(in, row);
        if (step.n < 0) {
            step.clear(row.n, 0);
        } else if (row.n == step.n + 1) {
            flush(lastLine);
            step.clear(row.n, slots);
        } else if (row.n < step.n) {
            throw InputError(in.where(), "steps out of order: n = " + std::to_string(row.n) + " after n = " +
                                             std::to_string(step.n) + " (rows must come in non-decreasing n)");
        } else if (row.n > step.n + 1) {
            throw InputError(in.where(), "step n = " + std::to_string(step.n + 1) + " is missing (n jumps from " +
                                             std::to_string(step.n) + " to " + std::to_string(row.n) + ")");
        }
        const auto l = static_cast<size_t>(row.layer);
        if (writer && l >= slots)
            throw InputError(in.where(), "layer l = " + std::to_string(row.layer) + " but the first step has L = " +
                                             std::to_string(slots) + " layers (0.." + std::to_string(slots - 1) + ")");
        if (l >= step.layers.size()) {
            step.layers.resize(l + 1);
            step.line.resize(l + 1, 0);
        }
        if (step.line[l] != 0)
            throw InputError(in.where(), "second row for n = " + std::to_string(row.n) + ", l = " +
                                             std::to_string(row.layer) + " (the first is on line " +
                                             std::to_string(step.line[l]) + ")");
        step.line[l] = in.lineNumber();
        step.layers[l].swap(row.tokens);
        lastLine = in.lineNumber();
    }
    if (step.n < 0) throw InputError(shown, "no data rows after the header");
    flush(lastLine);
    writer->commit();
    opt.control.report(1.0);
    return store.get(meta.name);
}

} // namespace kvtier
