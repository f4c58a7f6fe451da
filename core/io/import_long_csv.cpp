#include "core/io/import_long_csv.hpp"

#include "core/io/csv_reader.hpp"
#include "core/io/trace_comment.hpp"
#include "core/io/import_limits.hpp"
#include "core/io/input_text.hpp"
#include "core/model/error.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kvtier {

namespace {

struct Fields {
    int64_t step = 0;
    int64_t sequence = 0;
    int64_t layer = 0;
    int64_t token = 0;
    float score = 0;
};

// `sequences`: the file has the sequence column (step,sequence,layer,token,score).
void parseStepLayer(CsvReader& in, Fields& f, bool sequences)
{
    const auto& v = in.fields();
    const size_t want = sequences ? 5 : 4;
    if (v.size() != want)
        throw InputError(in.where(), "expected " + std::to_string(want) + " fields " +
                                         (sequences ? "step,sequence,layer,token,score" : "step,layer,token,score") +
                                         ", found " + std::to_string(v.size()));
    const size_t l = sequences ? 2 : 1;
    if (!parseInt(v[0], f.step)) throw InputError(in.where(), "step" + notAnInteger(v[0]));
    f.sequence = 0;
    if (sequences && !parseInt(v[1], f.sequence)) throw InputError(in.where(), "sequence" + notAnInteger(v[1]));
    if (!parseInt(v[l], f.layer)) throw InputError(in.where(), "layer" + notAnInteger(v[l]));
    if (f.step < 0) throw InputError(in.where(), "step " + std::to_string(f.step) + " is negative");
    if (f.sequence < 0) throw InputError(in.where(), "sequence " + std::to_string(f.sequence) + " is negative");
    if (f.sequence >= kMaxSequences)
        throw InputError(in.where(), "sequence " + std::to_string(f.sequence) + " exceeds the limit of " +
                                         std::to_string(kMaxSequences - 1));
    if (f.layer < -1) throw InputError(in.where(), "layer " + std::to_string(f.layer) + " is invalid (-1 = aggregated, else 0..L-1)");
}

void parseRow(CsvReader& in, Fields& f, bool sequences)
{
    parseStepLayer(in, f, sequences);
    const auto& v = in.fields();
    const size_t k = sequences ? 3 : 2;
    if (!parseInt(v[k], f.token)) throw InputError(in.where(), "token" + notAnInteger(v[k]));
    if (!parseFloat(v[k + 1], f.score)) throw InputError(in.where(), "score is not a number: '" + excerpt(trim(v[k + 1]), 40) + "'");
    if (f.token < 0) throw InputError(in.where(), "token " + std::to_string(f.token) + " is negative");
    if (std::isnan(f.score)) throw InputError(in.where(), "score of token " + std::to_string(f.token) + " is NaN");
    if (std::isinf(f.score)) throw InputError(in.where(), "score of token " + std::to_string(f.token) + " is infinite or beyond float32");
    if (f.score < 0)
        throw InputError(in.where(), "score of token " + std::to_string(f.token) + " is negative (" +
                                         excerpt(trim(v[k + 1]), 40) + ")");
}

struct Shape {
    int64_t steps = 0;
    LayerMode mode = LayerMode::Aggregated;
    int64_t maxLayer = -1;
    int64_t maxSequence = 0;
};

// First pass when the file does not state T, L and the mode: streams the rows once.
Shape scanShape(const std::string& path, const std::string& shown, int64_t headerLine, bool sequences)
{
    CsvReader in(path, shown);
    Shape s;
    Fields f;
    int64_t modeLine = 0;
    while (in.next()) {
        if (in.lineNumber() <= headerLine || in.isComment()) continue;
        parseStepLayer(in, f, sequences);
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
        s.maxSequence = std::max(s.maxSequence, f.sequence);
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
    bool sequences = false;   // the optional sequence column (MODEL.md §8)
    {
        const auto& h = in.fields();
        std::vector<std::string_view> names;
        for (std::string_view x : h) names.push_back(trim(x));
        const std::vector<std::string_view> plain = {"step", "layer", "token", "score"};
        const std::vector<std::string_view> batch = {"step", "sequence", "layer", "token", "score"};
        sequences = names == batch;
        if (names != plain && !sequences)
            throw InputError(in.where(), "expected the header 'step,layer,token,score', found '" + excerpt(in.line()) +
                                             "' (a batch of sequences: 'step,sequence,layer,token,score')");
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
    if (c.sequence_prefill) {
        if (c.sequence_prefill->front() != meta.prefill)
            throw InputError(shown, "the kvtier comment's sequence_prefill starts with P_0 = " +
                                        std::to_string(c.sequence_prefill->front()) + " but P = " +
                                        std::to_string(meta.prefill));
        if (c.sequence_prefill->size() > 1 && !sequences)
            throw InputError(in.where(), "the kvtier comment lists " + std::to_string(c.sequence_prefill->size()) +
                                             " sequences but the header has no sequence column");
    }
    int64_t sequenceCount = c.sequence_prefill ? static_cast<int64_t>(c.sequence_prefill->size()) : 1;

    if (c.steps && c.layers && c.mode && (!sequences || c.sequence_prefill)) {
        meta.steps = *c.steps;
        meta.layers = *c.layers;
        meta.layer_mode = *c.mode;
    } else {
        // T, L or the mode come from the rows: a first pass, which needs a file that can be
        // opened twice. (kvtier-cli import copies a pipe to a temporary file first.)
        if (!in.isRegularFile())
            throw InputError(shown, std::string("is a pipe, which can be read only once, and without a '# kvtier trace' "
                                                "line stating steps, layers") +
                                        (sequences ? ", mode and sequence_prefill" : " and mode") +
                                        " the long CSV needs two passes; save it to a file");
        const Shape s = scanShape(path, shown, headerLine, sequences);
        if (!c.sequence_prefill) sequenceCount = s.maxSequence + 1;
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
    // S > 1 without sequence_prefill: every sequence has the prefill P.
    if (sequenceCount > 1) {
        meta.sequence_prefill = c.sequence_prefill ? *c.sequence_prefill
                                                   : std::vector<int64_t>(static_cast<size_t>(sequenceCount), meta.prefill);
        const std::string problem = sequenceProblem(meta);
        if (!problem.empty()) throw InputError(shown, problem);
    }
    const int64_t perStep = slotCount * sequenceCount;
    if (meta.steps > limits::kMaxRecords / perStep)
        throw InputError(shown, "T = " + std::to_string(meta.steps) +
                                    (sequenceCount > 1 ? " x S = " + std::to_string(sequenceCount) : std::string()) +
                                    (slotCount > 1 ? " x L = " + std::to_string(slotCount) : std::string()) +
                                    " records exceeds the limit of " + std::to_string(limits::kMaxRecords));
    const int64_t total = meta.steps * perStep;
    if (c.rows && total - *c.rows > limits::kMaxEmptyRecordsAllowance)
        throw InputError(shown, "the kvtier comment declares " + std::to_string(total) + " records but rows=" +
                                    std::to_string(*c.rows) + "; at most " +
                                    std::to_string(limits::kMaxEmptyRecordsAllowance) +
                                    " records more than rows may be empty (limit)");

    const Encoding enc = opt.encoding.value_or(
        c.encoding.value_or(meta.kind == RecordKind::Selection ? Encoding::IndexU32
                            : meta.kind == RecordKind::Ranked  ? Encoding::RankedU32
                                                               : Encoding::SparseF32));
    meta.name = !opt.name.empty() ? opt.name : !c.name.empty() ? c.name : traceNameFromPath(shown);
    meta.description = opt.description.value_or(c.description.value_or(""));
    meta.source = c.source.value_or("long-csv " + shown);
    meta.model_name = opt.model_name.value_or(c.model_name.value_or(""));
    meta.head_reduction = opt.head_reduction.value_or(c.head_reduction.value_or("mean"));
    meta.notes = opt.notes.value_or(c.notes.value_or(""));

    auto writer = store.beginTrace(meta, enc, opt.replace, opt.key_interval);
    const int32_t slots = meta.layerSlots();
    const bool aggregated = meta.layer_mode == LayerMode::Aggregated;
    const auto S = static_cast<int32_t>(sequenceCount);
    // A record's ordinal in storage order: (step * S + sequence) * slots + slot.
    auto placeOf = [&](int64_t ordinal, Record& r) {
        r.step = ordinal / (int64_t{S} * slots);
        r.sequence = static_cast<int32_t>(ordinal / slots % S);
        r.layer = aggregated ? -1 : static_cast<int32_t>(ordinal % slots);
    };
    const bool selection = meta.kind == RecordKind::Selection;

    std::vector<Entry> entries;
    Record rec;
    int64_t written = 0;   // records handed to the writer
    int64_t current = -1;  // ordinal (step * slots + slot) of the record being gathered
    int64_t rows = 0;      // data rows read
    int64_t empty = 0;     // records written without rows

    auto writeRecord = [&](int64_t ordinal) {
        placeOf(ordinal, rec);
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
        placeOf(current, rec);
        rec.index.clear();
        rec.value.clear();
        for (size_t k = 0; k < entries.size(); ++k) {
            if (k > 0 && entries[k].token == entries[k - 1].token)
                throw InputError(shown + ":" + std::to_string(entries[k].line),
                                 "token " + std::to_string(entries[k].token) + " appears twice in record (t=" +
                                     std::to_string(rec.step) + (S > 1 ? ", s=" + std::to_string(rec.sequence) : std::string()) +
                                     ", l=" + std::to_string(rec.layer) + ") (also on line " + std::to_string(entries[k - 1].line) + ")");
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
        parseRow(in, f, sequences);
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
        if (f.sequence >= S)
            throw InputError(in.where(), "sequence " + std::to_string(f.sequence) + " >= S = " + std::to_string(S) +
                                             " (the kvtier comment's sequence_prefill)");
        const int64_t n = meta.contextAt(static_cast<int32_t>(f.sequence), f.step);
        if (f.token >= n)
            throw InputError(in.where(), "token " + std::to_string(f.token) + " >= n_t = " + std::to_string(n) +
                                             " (step " + std::to_string(f.step) + " reads tokens 0.." +
                                             std::to_string(n - 1) + ")");
        if (selection && f.score != 0.0f && f.score != 1.0f)
            throw InputError(in.where(), "score " + excerpt(trim(in.fields()[3]), 40) +
                                             " in a selection trace (expected 1, or 0 for not selected)");
        const int64_t ordinal = (f.step * S + f.sequence) * slots + (aggregated ? 0 : f.layer);
        if (ordinal < current) {
            Record last;
            placeOf(current, last);
            const bool seq = S > 1;
            throw InputError(in.where(), "steps out of order: (t=" + std::to_string(f.step) +
                                             (seq ? ", s=" + std::to_string(f.sequence) : std::string()) + ", l=" +
                                             std::to_string(f.layer) + ") after (t=" + std::to_string(last.step) +
                                             (seq ? ", s=" + std::to_string(last.sequence) : std::string()) + ", l=" +
                                             std::to_string(last.layer) + "); rows must be grouped by step, " +
                                             (seq ? "then sequence, " : "") + "then layer, ascending");
        }
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
    const int64_t perStepRecords = int64_t{S} * slots;
    if (c.steps && !c.rows && meta.steps > 0 && (current < 0 || current / perStepRecords < meta.steps - 1))
        throw InputError(endWhere, "the file looks truncated: the kvtier comment says steps=" +
                                       std::to_string(meta.steps) + " but the rows end " +
                                       (current < 0 ? std::string("before step 0")
                                                    : "at step " + std::to_string(current / perStepRecords)) +
                                       " (if the last steps are really empty, add rows=" + std::to_string(rows) +
                                       " to the comment)");
    flush(endWhere);
    emitUpTo(total, endWhere);
    writer->commit();
    opt.control.report(1.0);
    return store.get(meta.name);
}

} // namespace kvtier
