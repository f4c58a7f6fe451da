// TraceStore: opening a database, listing, loading, writing and removing traces. Its
// parts are in store_sql.hpp and the store_*.cpp / trace_*.cpp files beside it.
#include "core/store/trace_store.hpp"

#include "core/model/error.hpp"
#include "core/model/text.hpp"
#include "core/store/store_sql.hpp"

#include <algorithm>
#include <filesystem>
#include <new>

namespace kvtier {

using namespace store;

std::string encodingText(const TraceSummary& s) { return store::traceEncodingText(s.encoding, s.key_interval); }

TraceStore::TraceStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

TraceStore::~TraceStore() { sqlite3_close_v2(db_); }

std::unique_ptr<TraceStore> TraceStore::open(const std::string& path, Mode mode)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto st = fs::status(path, ec);
    if (mode == Mode::ReadOnly && !fs::exists(st)) throw InputError(path, "no such file");
    if (fs::is_directory(st)) throw InputError(path, "is a directory, not a trace database");
    Connection c;
    if (mode == Mode::ReadOnly) {
        openForReading(c, path);
    } else {
        openConnection(c, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
        prepareSchema(c.db, path, mode);   // first: never switch someone else's database
        useWriteAheadLog(c.db, path);
    }
    return std::unique_ptr<TraceStore>(new TraceStore(path, c.release()));
}

std::vector<TraceSummary> TraceStore::list() const
{
    std::vector<TraceSummary> out;
    Statement q(db_, path_, (std::string(kSummarySql) + " ORDER BY t.name").c_str());
    while (q.step()) {
        Row r = readRow(q, db_, path_);
        readSequences(db_, path_, r);
        out.push_back(std::move(r.summary));
    }
    return out;
}

std::optional<TraceSummary> TraceStore::find(const std::string& name) const
{
    auto r = findRow(db_, path_, name);
    if (!r) return std::nullopt;
    return r->summary;
}

TraceSummary TraceStore::get(const std::string& name) const { return getRow(db_, path_, name).summary; }

TraceSummary TraceStore::describe(const std::string& name) const
{
    return getRow(db_, path_, name, RecordTotals::Skip).summary;
}

std::unique_ptr<TraceReader> TraceStore::reader(const std::string& name, int64_t firstStep) const
{
    // A reader needs the trace's metadata, not its records' totals (a pass over them all).
    Row row = getRow(db_, path_, name, RecordTotals::Skip);
    if (firstStep < 0 || firstStep > row.summary.meta.steps)
        throw InputError(traceWhere(path_, name), "reading from step " + std::to_string(firstStep) + " outside 0 .. T = " +
                                                      std::to_string(row.summary.meta.steps));
    return std::make_unique<store::SqlTraceReader>(db_, path_, std::move(row), firstStep);
}

Trace TraceStore::load(const std::string& name) const
{
    store::SqlTraceReader reader(db_, path_, getRow(db_, path_, name));
    const TraceSummary& s = reader.summary();
    // records and entries were checked against the file (readRow): the reservation is
    // what the file holds, at most.
    const auto records = static_cast<size_t>(std::min(s.records, s.meta.recordCount()));
    const auto entries = static_cast<size_t>(s.entries);
    try {
        Trace trace(s.meta);
        trace.reserve(records, entries);
        // One record's buffers, reused: each BLOB is decoded once and appended to the CSR arrays.
        Record rec;
        while (reader.next(rec)) {
            try {
                trace.append(rec);
            } catch (const InputError& e) {
                throw InputError(path_ + " " + e.where(), e.problem());
            }
        }
        trace.setExperts(store::readExpertSets(db_, path_, reader.id(), s.meta));
        return trace;
    } catch (const std::bad_alloc&) {
        // Offsets per record, index and value per entry.
        const double need = 8.0 * static_cast<double>(records) + 8.0 * static_cast<double>(entries);
        throw InputError(traceWhere(path_, name), "too large for memory (needs about " +
                                                      readableNumber(need / 1e9) + " GB)");
    }
}

std::unique_ptr<TraceWriter> TraceStore::beginTrace(const TraceMeta& meta, Encoding encoding, bool replace,
                                                    int32_t keyInterval)
{
    checkName(path_, meta.name);
    return store::beginSqlTrace(db_, path_, meta, encoding, replace, keyInterval);
}

void TraceStore::remove(const std::string& name)
{
    Scope scope(db_, path_);
    const Row row = getRow(db_, path_, name);
    deleteExpertSets(db_, path_, row.id);
    Statement delRecords(db_, path_, "DELETE FROM records WHERE trace_id = ?1");
    delRecords.bind(1, row.id);
    delRecords.step();
    Statement delSequences(db_, path_, "DELETE FROM trace_sequences WHERE trace_id = ?1");
    delSequences.bind(1, row.id);
    delSequences.step();
    Statement delTrace(db_, path_, "DELETE FROM traces WHERE id = ?1");
    delTrace.bind(1, row.id);
    delTrace.step();
    scope.commit();
}

std::unique_ptr<StoreTransaction> TraceStore::transaction()
{
    return store::beginTransaction(db_, path_);
}

} // namespace kvtier
