// Per-step expert sets (MODEL.md §9, docs/TRACE_FORMAT.md "Expert sets"): the schema step
// that adds their tables, writing, reading with every limit checked, and deleting them.
#include "core/store/store_sql.hpp"

#include "core/model/error.hpp"

#include <string>

namespace kvtier::store {

void addExpertTables(sqlite3* db, const std::string& path)
{
    exec(db, path, R"SQL(
CREATE TABLE IF NOT EXISTS trace_experts (
    trace_id INTEGER PRIMARY KEY REFERENCES traces(id),
    experts  INTEGER NOT NULL CHECK (experts >= 1)
);
CREATE TABLE IF NOT EXISTS expert_sets (
    trace_id INTEGER NOT NULL REFERENCES traces(id),
    step     INTEGER NOT NULL,
    layer    INTEGER NOT NULL,
    data     BLOB NOT NULL,
    PRIMARY KEY (trace_id, step, layer)
) WITHOUT ROWID;
)SQL");
}

void writeExpertSets(sqlite3* db, const std::string& path, int64_t traceId, const TraceMeta& meta,
                     const ExpertSets& sets)
{
    if (sets.empty()) return;
    const std::string where = traceWhere(path, meta.name) + " expert sets";
    if (sets.steps() != meta.steps || sets.layers() != meta.layers)
        throw InputError(where, std::to_string(sets.steps()) + " steps x " + std::to_string(sets.layers()) +
                                    " layers, but the trace has T = " + std::to_string(meta.steps) + ", L = " +
                                    std::to_string(meta.layers));
    writeExpertCount(db, path, traceId, sets.experts());
    Statement ins(db, path, kInsertExpertSet);
    std::vector<unsigned char> blob;
    for (int64_t t = 0; t < sets.steps(); ++t)
        for (int32_t l = 0; l < sets.layers(); ++l) writeExpertSet(ins, traceId, t, l, sets.ids(t, l), blob);
}

void writeExpertCount(sqlite3* db, const std::string& path, int64_t traceId, int32_t experts)
{
    Statement head(db, path, "INSERT INTO trace_experts(trace_id, experts) VALUES (?1, ?2)");
    head.bind(1, traceId);
    head.bind(2, static_cast<int64_t>(experts));
    head.step();
}

void writeExpertSet(Statement& ins, int64_t traceId, int64_t t, int32_t l, std::span<const uint16_t> ids,
                    std::vector<unsigned char>& blob)
{
    blob.clear();
    for (uint16_t e : ids) {   // u16 little-endian, ascending
        blob.push_back(static_cast<unsigned char>(e & 0xFF));
        blob.push_back(static_cast<unsigned char>(e >> 8));
    }
    ins.reset();
    ins.bind(1, traceId);
    ins.bind(2, t);
    ins.bind(3, static_cast<int64_t>(l));
    ins.bindBlob(4, blob);
    ins.step();
}

void deleteExpertSets(sqlite3* db, const std::string& path, int64_t traceId)
{
    for (const char* sql : {"DELETE FROM expert_sets WHERE trace_id = ?1", "DELETE FROM trace_experts WHERE trace_id = ?1"}) {
        Statement del(db, path, sql);
        del.bind(1, traceId);
        del.step();
    }
}

int32_t readExpertCount(sqlite3* db, const std::string& path, int64_t traceId, const std::string& name)
{
    Statement q(db, path, "SELECT experts FROM trace_experts WHERE trace_id = ?1");
    q.bind(1, traceId);
    if (!q.step()) return 0;
    const int64_t e = q.int64(0);
    if (e < 1 || e > kMaxExperts)
        throw InputError(traceWhere(path, name) + " expert sets",
                         "experts per layer E = " + std::to_string(e) + " outside 1.." + std::to_string(kMaxExperts));
    return static_cast<int32_t>(e);
}

ExpertSets readExpertSets(sqlite3* db, const std::string& path, int64_t traceId, const TraceMeta& meta)
{
    const int32_t E = readExpertCount(db, path, traceId, meta.name);
    if (E == 0) return {};
    const std::string where = traceWhere(path, meta.name) + " expert sets";
    ExpertSets sets(E, meta.steps, meta.layers, where);   // checks the size before allocating
    Statement q(db, path, "SELECT step, layer, data FROM expert_sets WHERE trace_id = ?1 ORDER BY step, layer");
    q.bind(1, traceId);
    int64_t next = 0;
    const int64_t want = meta.steps * meta.layers;
    std::vector<uint16_t> ids;
    while (q.step()) {
        const int64_t t = q.int64(0), l = q.int64(1);
        const std::string at = traceWhere(path, meta.name) + " expert set (t=" + std::to_string(t) + ", l=" +
                               std::to_string(l) + ")";
        if (next >= want || t != next / meta.layers || l != next % meta.layers)
            throw InputError(at, next >= want ? "more expert sets than T x L = " + std::to_string(want)
                                              : "out of place: expected (t=" + std::to_string(next / meta.layers) +
                                                    ", l=" + std::to_string(next % meta.layers) + ")");
        const auto blob = q.blob(2);
        if (blob.size() % 2 != 0) throw InputError(at, "BLOB of " + std::to_string(blob.size()) + " bytes is not a list of u16");
        ids.clear();
        for (size_t k = 0; k < blob.size(); k += 2) {
            const auto e = static_cast<uint16_t>(blob[k] | (blob[k + 1] << 8));
            if (e >= E) throw InputError(at, "expert id " + std::to_string(e) + " >= E = " + std::to_string(E));
            if (!ids.empty() && e <= ids.back())
                throw InputError(at, "expert ids not strictly ascending (" + std::to_string(ids.back()) + " then " +
                                         std::to_string(e) + ")");
            ids.push_back(e);
        }
        sets.assign(t, static_cast<int32_t>(l), ids);
        ++next;
    }
    if (next != want)
        throw InputError(where, "incomplete: " + std::to_string(next) + " of T x L = " + std::to_string(want) + " sets");
    return sets;
}

} // namespace kvtier::store

namespace kvtier {

int32_t TraceStore::experts(const std::string& name) const
{
    const store::Row row = store::getRow(db_, path_, name, store::RecordTotals::Skip);
    return store::readExpertCount(db_, path_, row.id, name);
}

ExpertSets TraceStore::loadExperts(const std::string& name) const
{
    const store::Row row = store::getRow(db_, path_, name, store::RecordTotals::Skip);
    return store::readExpertSets(db_, path_, row.id, row.summary.meta);
}

} // namespace kvtier
