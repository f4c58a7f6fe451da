#include "core/io/import_seed_csv.hpp"

#include "core/io/csv_reader.hpp"
#include "core/io/input_text.hpp"
#include "core/model/error.hpp"
#include "core/model/experts.hpp"
#include "core/model/text.hpp"

#include <algorithm>
#include <limits>
#include <memory>

namespace kvtier {

namespace {

const char* const kHeader = "query_id,token_id,layer_id,experts,attention";

// A JSON list of non-negative integers: `[]`, `[3]`, `[5, 0, 17]`.
void parseIntList(std::string_view text, const std::string& where, const char* column, std::vector<int64_t>& out)
{
    out.clear();
    std::string_view s = trim(text);
    if (s.size() < 2 || s.front() != '[' || s.back() != ']')
        throw InputError(where, std::string(column) + " must be a JSON list like [0, 5, 17], found '" +
                                    excerpt(s, 40) + "'");
    std::string_view body = s.substr(1, s.size() - 2);
    if (trim(body).empty()) return;
    while (true) {
        const size_t comma = body.find(',');
        const std::string_view item = trim(body.substr(0, comma));
        if (item.empty()) throw InputError(where, std::string("empty element in the ") + column + " list");
        int64_t v = 0;
        if (!parseInt(item, v)) throw InputError(where, std::string(column) + " element" + notAnInteger(item));
        if (v < 0) throw InputError(where, std::string(column) + " element " + std::to_string(v) + " is negative");
        out.push_back(v);
        if (comma == std::string_view::npos) break;
        body.remove_prefix(comma + 1);
    }
}

int64_t intField(std::string_view f, const std::string& where, const char* name, int64_t limit)
{
    int64_t v = 0;
    if (!parseInt(trim(f), v)) throw InputError(where, std::string(name) + notAnInteger(trim(f)));
    if (v < 0) throw InputError(where, std::string(name) + " = " + std::to_string(v) + " is negative");
    if (v > limit)
        throw InputError(where, std::string(name) + " = " + std::to_string(v) + " exceeds the limit of " + std::to_string(limit));
    return v;
}

void checkFieldCount(std::span<const std::string_view> fields, const std::string& where)
{
    if (fields.size() != 5)
        throw InputError(where, "the row has " + std::to_string(fields.size()) +
                                    " fields, expected 5 (query_id,token_id,layer_id,experts,attention)");
}

// Where each query's rows are and what shape they have (the first pass).
struct Query {
    int64_t id = 0;
    int64_t offset = 0;     // byte offset of its first row
    int64_t line = 0;       // line of its first row
    int64_t prefill = 0;    // first token_id
    int64_t tokens = 0;     // rows seen for layer 0
};

} // namespace

void parseSeedRow(std::span<const std::string_view> fields, const std::string& where, SeedRow& row)
{
    checkFieldCount(fields, where);
    row.query = intField(fields[0], where, "query_id", std::numeric_limits<int64_t>::max());
    row.token = intField(fields[1], where, "token_id", kMaxContextTokens - 1);
    row.layer = intField(fields[2], where, "layer_id", kMaxLayers - 1);
    std::vector<int64_t> list;
    parseIntList(fields[3], where, "experts", list);
    row.experts.clear();
    for (int64_t e : list) {
        if (e > std::numeric_limits<int32_t>::max())
            throw InputError(where, "expert id " + std::to_string(e) + " is too large");
        row.experts.push_back(static_cast<int32_t>(e));
    }
    {
        std::vector<int32_t> sorted = row.experts;
        std::sort(sorted.begin(), sorted.end());
        const auto dup = std::adjacent_find(sorted.begin(), sorted.end());
        if (dup != sorted.end()) throw InputError(where, "expert " + std::to_string(*dup) + " is listed twice");
    }
    parseIntList(fields[4], where, "attention", list);
    row.attention.clear();
    row.attention.reserve(list.size());
    for (int64_t i : list) {
        if (i > row.token)
            throw InputError(where, "attention index " + std::to_string(i) + " > token_id = " + std::to_string(row.token) +
                                        " (the context of token " + std::to_string(row.token) + " is 0.." +
                                        std::to_string(row.token - 1) + ")");
        if (i < row.token) row.attention.push_back(static_cast<uint32_t>(i));   // the token itself: dropped
    }
}

TraceSummary importSeedCsv(TraceStore& store, const std::string& path, const ImportOptions& opt,
                           const SeedExpertSink& expertSink)
{
    const std::string& shown = opt.shown_name.empty() ? path : opt.shown_name;
    if (opt.encoding && *opt.encoding != Encoding::RankedU32 && *opt.encoding != Encoding::RankedVarint)
        throw InputError(shown, std::string("seed CSV traces are ranked and are stored as ranked_u32, not ") +
                                    toString(*opt.encoding) + " (ranked_varint is the compact alternative)");
    if (opt.layer_mode && *opt.layer_mode != LayerMode::PerLayer)
        throw InputError(shown, "seed CSV traces are per layer (ranked lists of different layers cannot be merged)");

    // ---- pass 1: the shape -------------------------------------------------------------
    CsvReader scan(path, shown);
    if (!scan.isRegularFile())
        throw InputError(shown, "is a pipe; the seed CSV needs two passes over a file (save it to a file)");
    if (!scan.next()) throw InputError(shown, std::string("empty file (expected the header '") + kHeader + "')");
    {
        const auto& h = scan.fields();
        const char* names[] = {"query_id", "token_id", "layer_id", "experts", "attention"};
        bool ok = h.size() == 5;
        for (size_t k = 0; ok && k < 5; ++k) ok = trim(h[k]) == names[k];
        if (!ok) throw InputError(scan.where(), std::string("expected the header '") + kHeader + "', found '" + excerpt(scan.line()) + "'");
    }
    std::vector<Query> queries;
    int64_t layers = 0;        // L, fixed by the first token of the first query
    int64_t token = -1, nextLayer = 0;
    int64_t lastLine = scan.lineNumber();
    int64_t offset = scan.bytesRead();
    std::vector<int64_t> ids;
    int64_t maxExpert = -1;    // the largest expert id listed
    if (opt.experts && (*opt.experts < 1 || *opt.experts > kMaxExperts))
        throw InputError("--experts", "E = " + std::to_string(*opt.experts) + " is outside 1.." + std::to_string(kMaxExperts));
    while (scan.next()) {
        const std::string where = scan.where();
        if (scan.isComment()) throw InputError(where, "unexpected line '" + excerpt(scan.line()) + "' (the seed CSV has no comments)");
        const auto& f = scan.fields();
        checkFieldCount(f, where);
        const int64_t q = intField(f[0], where, "query_id", std::numeric_limits<int64_t>::max());
        const int64_t tok = intField(f[1], where, "token_id", kMaxContextTokens - 1);
        const int64_t l = intField(f[2], where, "layer_id", kMaxLayers - 1);
        parseIntList(f[3], where, "experts", ids);
        for (int64_t e : ids) {
            if (opt.experts && e >= *opt.experts)
                throw InputError(where, "expert id " + std::to_string(e) + " >= E = " + std::to_string(*opt.experts) +
                                            " (--experts)");
            if (e >= kMaxExperts)
                throw InputError(where, "expert id " + std::to_string(e) + " exceeds the limit of " +
                                            std::to_string(kMaxExperts - 1) + " (E <= " + std::to_string(kMaxExperts) + ")");
            maxExpert = std::max(maxExpert, e);
        }
        const bool newQuery = queries.empty() || queries.back().id != q;
        if (newQuery) {
            if (!queries.empty() && layers == 0) layers = nextLayer;
            if (!queries.empty() && nextLayer != layers)
                throw InputError(shown + ":" + std::to_string(lastLine),
                                 "token " + std::to_string(token) + " of query " + std::to_string(queries.back().id) +
                                     " has " + std::to_string(nextLayer) + " of L = " + std::to_string(layers) + " layers");
            for (const Query& old : queries)
                if (old.id == q)
                    throw InputError(where, "query " + std::to_string(q) + " again, after other queries (its rows start on line " +
                                                std::to_string(old.line) + "; each query's rows must be together)");
            if (!queries.empty() && queries.back().tokens != queries.front().tokens)
                throw InputError(shown + ":" + std::to_string(lastLine),
                                 "query " + std::to_string(queries.back().id) + " has " + std::to_string(queries.back().tokens) +
                                     " decoded tokens, query " + std::to_string(queries.front().id) + " has " +
                                     std::to_string(queries.front().tokens) + " (the sequences of a batch share T)");
            if (static_cast<int64_t>(queries.size()) >= kMaxSeedQueries)
                throw InputError(where, "more than " + std::to_string(kMaxSeedQueries) + " queries (the limit of one import)");
            if (l != 0) throw InputError(where, "query " + std::to_string(q) + " starts at layer_id " + std::to_string(l) + ", expected 0");
            queries.push_back({q, offset, scan.lineNumber(), tok, 1});
            token = tok;
            nextLayer = 1;
        } else if (tok == token) {
            if (l != nextLayer || (layers > 0 && l >= layers))
                throw InputError(where, "layer_id " + std::to_string(l) + " for token " + std::to_string(tok) + " of query " +
                                            std::to_string(q) + ", expected " +
                                            (layers > 0 && nextLayer >= layers ? std::string("the next token") : std::to_string(nextLayer)) +
                                            " (layers come in order 0..L-1)");
            ++nextLayer;
        } else {
            if (layers == 0) layers = nextLayer;
            if (nextLayer != layers)
                throw InputError(shown + ":" + std::to_string(lastLine),
                                 "token " + std::to_string(token) + " of query " + std::to_string(q) + " has " +
                                     std::to_string(nextLayer) + " of L = " + std::to_string(layers) + " layers");
            if (tok != token + 1)
                throw InputError(where, "token_id " + std::to_string(tok) + " after " + std::to_string(token) + " in query " +
                                            std::to_string(q) + " (decode steps must be consecutive)");
            if (l != 0) throw InputError(where, "token " + std::to_string(tok) + " starts at layer_id " + std::to_string(l) + ", expected 0");
            token = tok;
            nextLayer = 1;
            ++queries.back().tokens;
        }
        lastLine = scan.lineNumber();
        offset = scan.bytesRead();
        opt.control.check();
    }
    if (queries.empty()) throw InputError(shown, "no data rows after the header");
    if (layers == 0) layers = nextLayer;
    if (nextLayer != layers)
        throw InputError(shown + ":" + std::to_string(lastLine),
                         "token " + std::to_string(token) + " of query " + std::to_string(queries.back().id) + " has " +
                             std::to_string(nextLayer) + " of L = " + std::to_string(layers) + " layers");
    if (queries.back().tokens != queries.front().tokens)
        throw InputError(shown + ":" + std::to_string(lastLine),
                         "query " + std::to_string(queries.back().id) + " has " + std::to_string(queries.back().tokens) +
                             " decoded tokens, query " + std::to_string(queries.front().id) + " has " +
                             std::to_string(queries.front().tokens) + " (the sequences of a batch share T)");

    TraceMeta meta;
    meta.name = opt.name.empty() ? traceNameFromPath(shown) : opt.name;
    meta.source = "seed-csv " + shown;
    meta.description = opt.description.value_or("");
    meta.model_name = opt.model_name.value_or("");
    meta.head_reduction = opt.head_reduction.value_or("mean");
    meta.notes = opt.notes.value_or("");
    meta.kind = RecordKind::Ranked;
    meta.layer_mode = LayerMode::PerLayer;
    meta.layers = static_cast<int32_t>(layers);
    meta.steps = queries.front().tokens;
    meta.prefill = queries.front().prefill;
    if (opt.prefill && *opt.prefill != meta.prefill)
        throw InputError(shown + ":" + std::to_string(queries.front().line),
                         "the first row has token_id = " + std::to_string(meta.prefill) + ", so P = " +
                             std::to_string(meta.prefill) + ", but P = " + std::to_string(*opt.prefill) + " was given");
    if (queries.size() > 1)
        for (const Query& q : queries) meta.sequence_prefill.push_back(q.prefill);

    // ---- pass 2: the queries in lock step ----------------------------------------------
    std::vector<std::unique_ptr<CsvReader>> readers;
    readers.reserve(queries.size());
    for (const Query& q : queries) {
        readers.push_back(std::make_unique<CsvReader>(path, shown));
        readers.back()->seek(q.offset, q.line);
    }
    // E: given, else the largest id + 1; no ids and no E: the trace has no expert sets.
    const auto experts = static_cast<int32_t>(opt.experts ? *opt.experts : maxExpert + 1);
    auto writer = store.beginTrace(meta, opt.encoding.value_or(Encoding::RankedU32), opt.replace, opt.key_interval);
    if (experts > 0) {
        try {
            writer->beginExperts(experts);
        } catch (const InputError& e) {
            throw InputError(shown, e.problem());
        }
    }
    // X[t][l] of the step being read: the union over the sequences (MODEL.md §9).
    std::vector<std::vector<uint16_t>> stepSets(experts > 0 ? static_cast<size_t>(meta.layers) : 0);
    SeedRow row;
    Record rec;
    const double total = static_cast<double>(meta.steps) * static_cast<double>(queries.size());
    for (int64_t t = 0; t < meta.steps; ++t) {
        for (size_t s = 0; s < queries.size(); ++s) {
            CsvReader& in = *readers[s];
            for (int32_t l = 0; l < meta.layers; ++l) {
                if (!in.next()) throw InputError(in.where(), "the file changed while it was imported");
                const std::string where = in.where();
                parseSeedRow(in.fields(), where, row);
                if (row.query != queries[s].id || row.token != queries[s].prefill + t || row.layer != l)
                    throw InputError(where, "the file changed while it was imported");
                try {
                    rankScoresFromOrder(row.attention, rec.index, rec.value);
                } catch (const InputError& e) {
                    throw InputError(where, e.problem());
                }
                rec.step = t;
                rec.sequence = static_cast<int32_t>(s);
                rec.layer = l;
                try {
                    writer->add(rec);
                } catch (const InputError& e) {
                    throw InputError(where, e.problem());
                }
                if (expertSink) expertSink(t, static_cast<int32_t>(s), l, row.experts);
                if (experts > 0)
                    for (int32_t e : row.experts) {
                        if (e >= experts) throw InputError(where, "the file changed while it was imported");
                        stepSets[static_cast<size_t>(l)].push_back(static_cast<uint16_t>(e));
                    }
            }
            opt.control.check();
            opt.control.report((static_cast<double>(t) * static_cast<double>(queries.size()) + static_cast<double>(s + 1)) / total);
        }
        for (int32_t l = 0; l < static_cast<int32_t>(stepSets.size()); ++l) {
            std::vector<uint16_t>& set = stepSets[static_cast<size_t>(l)];
            std::sort(set.begin(), set.end());
            set.erase(std::unique(set.begin(), set.end()), set.end());
            writer->addExpertSet(t, l, set);
            set.clear();
        }
    }
    writer->commit();
    opt.control.report(1.0);
    return store.get(meta.name);
}

} // namespace kvtier
