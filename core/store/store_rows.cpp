// Trace rows: the summary query and the checks every stored dimension passes before use.
#include "core/store/store_sql.hpp"

#include "core/model/error.hpp"
#include "core/model/text.hpp"

#include <algorithm>

namespace kvtier::store {

std::string recordWhere(const std::string& path, const std::string& trace, int64_t t, int64_t l)
{
    return path + " trace '" + trace + "' record (t=" + std::to_string(t) + ", l=" + std::to_string(l) + ")";
}

std::string recordWhere(const std::string& path, const std::string& trace, int64_t t, int64_t s, int64_t l,
                        int32_t sequences)
{
    if (sequences <= 1) return recordWhere(path, trace, t, l);
    return path + " trace '" + trace + "' record (t=" + std::to_string(t) + ", s=" + std::to_string(s) +
           ", l=" + std::to_string(l) + ")";
}

std::string traceWhere(const std::string& path, const std::string& trace)
{
    return path + " trace '" + trace + "'";
}

// The trace dimensions every later computation relies on (docs/TRACE_FORMAT.md "Limits"):
// P, T >= 0, 1 <= L <= kMaxLayers, P + T <= 2^32 (u32 token indices). With them n_t,
// T x L and page counts cannot overflow, and L is never a zero divisor. `steps` may be
// -1 for a writer that learns T at commit.
void checkDimensions(const std::string& where, int64_t prefill, int64_t steps, int64_t layers)
{
    if (prefill < 0) throw InputError(where, "prefill P = " + std::to_string(prefill) + " is negative");
    if (steps < 0) throw InputError(where, "steps T = " + std::to_string(steps) + " is negative");
    if (layers < 1 || layers > kMaxLayers)
        throw InputError(where, "layers L = " + std::to_string(layers) + " is outside 1 .. " + std::to_string(kMaxLayers));
    if (prefill > kMaxContextTokens - steps)   // both >= 0: no overflow
        throw InputError(where, "prefill P = " + std::to_string(prefill) + " and steps T = " + std::to_string(steps) +
                                    " exceed the limit P + T <= " + std::to_string(kMaxContextTokens) +
                                    " (token indices are 32-bit)");
}

std::string traceEncodingText(Encoding e, int32_t keyInterval)
{
    std::string text = toString(e);
    if (e == Encoding::IndexStepDelta) text += "/" + std::to_string(keyInterval);
    return text;
}

void parseTraceEncoding(const std::string& text, Encoding& e, int32_t& keyInterval)
{
    keyInterval = 0;
    const std::string family = toString(Encoding::IndexStepDelta);
    if (text == family)
        throw InputError("", "encoding '" + text + "' without its key interval (" + family + "/K)");
    if (!text.starts_with(family + "/")) {
        e = encodingFromString(text);
        return;
    }
    const std::string k = text.substr(family.size() + 1);
    int64_t v = 0;
    for (const char c : k) {
        if (c < '0' || c > '9' || v > kMaxKeyInterval) {
            v = -1;
            break;
        }
        v = v * 10 + (c - '0');
    }
    if (k.empty() || (k.size() > 1 && k[0] == '0') || v < 1 || v > kMaxKeyInterval)
        throw InputError("", "encoding '" + excerpt(text) + "': the key interval K must be a whole number in 1 .. " +
                                 std::to_string(kMaxKeyInterval));
    e = Encoding::IndexStepDelta;
    keyInterval = static_cast<int32_t>(v);
}

const char* const kSummarySql =
    "SELECT t.id, t.name, t.description, t.source, t.model_name, t.head_reduction, t.notes, "
    "t.prefill, t.steps, t.layers, t.layer_mode, t.kind, t.encoding, t.entries, t.created_at "
    "FROM traces t";

namespace {

// The records' totals of one trace in one pass over its records (three scalar subqueries
// were three passes, each reading every page of a large trace). The last is the most
// entries the records' bytes can hold: a varint entry takes at least 1 byte, every other
// encoding's at least 2 (f16).
const char* const kRecordTotalsSql =
    "SELECT count(*), coalesce(sum(length(data)), 0), "
    "coalesce(sum(CASE WHEN encoding IN ('index_varint', 'ranked_varint') THEN length(data) "
    "ELSE length(data) / 2 END), 0) FROM records WHERE trace_id = ?1";

} // namespace

Row readRow(const Statement& q, sqlite3* db, const std::string& path, RecordTotals totals)
{
    Row r;
    r.id = q.int64(0);
    TraceMeta& m = r.summary.meta;
    m.name = q.text(1);
    m.description = q.text(2);
    m.source = q.text(3);
    m.model_name = q.text(4);
    m.head_reduction = q.text(5);
    m.notes = q.text(6);
    // Every integer is checked before it is narrowed or used as a size or divisor: a
    // hand-made file need not honour the schema's CHECK constraints.
    checkDimensions(traceWhere(path, m.name), q.int64(7), q.int64(8), q.int64(9));
    m.prefill = q.int64(7);
    m.steps = q.int64(8);
    m.layers = static_cast<int32_t>(q.int64(9));
    try {
        m.layer_mode = layerModeFromString(q.text(10));
        m.kind = recordKindFromString(q.text(11));
        parseTraceEncoding(q.text(12), r.summary.encoding, r.summary.key_interval);
    } catch (const InputError& e) {
        throw InputError(traceWhere(path, m.name), e.problem());
    }
    r.summary.entries = q.int64(13);
    r.summary.created_at = q.text(14);
    const int64_t entries = r.summary.entries;
    if (entries < 0)
        throw InputError(traceWhere(path, m.name), "entries = " + std::to_string(entries) + " is negative");
    if (totals == RecordTotals::Skip) return r;
    Statement t(db, path, kRecordTotalsSql);
    t.bind(1, r.id);
    t.step();
    r.summary.records = t.int64(0);
    r.summary.blob_bytes = t.int64(1);
    // `entries` sizes load()'s reservation: it must fit the bytes the records really
    // hold. Each record counts by its own encoding: a varint entry takes at least 1 byte,
    // any other at least 2, so a file cannot claim more than its bytes can decode to.
    // A step-delta record decodes to at most the bytes of its chain (its key record's and
    // every delta's since, each entry at least a byte), a chain holds at most K records:
    // K bytes' worth of entries a byte.
    const int64_t capacity = r.summary.key_interval > 0 ? std::max<int64_t>(r.summary.blob_bytes, 0) * r.summary.key_interval
                                                        : t.int64(2);
    if (entries > capacity)
        throw InputError(traceWhere(path, m.name), "entries = " + std::to_string(entries) + ", but its records hold " +
                                                       std::to_string(r.summary.blob_bytes) + " bytes (at most " +
                                                       std::to_string(capacity) + " entries)");
    return r;
}

void readSequences(sqlite3* db, const std::string& path, Row& row)
{
    TraceMeta& m = row.summary.meta;
    const std::string where = traceWhere(path, m.name);
    Statement q(db, path, "SELECT sequence, prefill FROM trace_sequences WHERE trace_id = ?1 ORDER BY sequence");
    q.bind(1, row.id);
    std::vector<int64_t> prefill;
    while (q.step()) {
        const int64_t s = q.int64(0);
        if (s != static_cast<int64_t>(prefill.size()))
            throw InputError(where, "sequence " + std::to_string(prefill.size()) + " missing from trace_sequences (found " +
                                        std::to_string(s) + " next)");
        if (s >= kMaxSequences)
            throw InputError(where, "more than " + std::to_string(kMaxSequences) + " sequences");
        prefill.push_back(q.int64(1));
    }
    // No row (a hand-made file): one sequence, the trace's own P.
    if (prefill.size() <= 1) {
        if (prefill.size() == 1 && prefill[0] != m.prefill)
            throw InputError(where, "sequence 0 has prefill " + std::to_string(prefill[0]) + ", but the trace's P is " +
                                        std::to_string(m.prefill));
        m.sequence_prefill.clear();
        return;
    }
    m.sequence_prefill = std::move(prefill);
    const std::string problem = sequenceProblem(m);
    if (!problem.empty()) throw InputError(where, problem);
}

std::optional<Row> findRow(sqlite3* db, const std::string& path, const std::string& name, RecordTotals totals)
{
    Statement q(db, path, (std::string(kSummarySql) + " WHERE t.name = ?1").c_str());
    q.bind(1, name);
    if (!q.step()) return std::nullopt;
    Row r = readRow(q, db, path, totals);
    readSequences(db, path, r);
    return r;
}

Row getRow(sqlite3* db, const std::string& path, const std::string& name, RecordTotals totals)
{
    auto r = findRow(db, path, name, totals);
    if (!r) throw InputError(path, "no trace named '" + name + "'");
    return *r;
}

} // namespace kvtier::store
