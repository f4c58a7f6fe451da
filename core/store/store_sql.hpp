#pragma once
// The trace store's insides, shared by its files (not part of the store's interface,
// core/store/trace_store.hpp): a small RAII layer over the sqlite3 C API
// (store_sqlite.cpp), the schema, its upgrades and opening a file (store_schema.cpp), trace
// rows and their checks (store_rows.cpp), the reader (trace_reader.cpp) and the writer
// (trace_writer.cpp). TraceStore itself: trace_store.cpp.
#include "core/store/trace_store.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace kvtier::store {

// ---- sqlite3 (store_sqlite.cpp) --------------------------------------------------------

std::string sqliteMessage(sqlite3* db);
// Throws the InputError that SQLite's last error on `db` means, in kvtier's words.
[[noreturn]] void fail(sqlite3* db, const std::string& path, const std::string& what);
void exec(sqlite3* db, const std::string& path, const char* sql);

class Statement {
public:
    Statement(sqlite3* db, const std::string& path, const char* sql) : db_(db), path_(&path)
    {
        if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) fail(db, path, "SQL error");
    }
    ~Statement() { sqlite3_finalize(s_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // True while there is a row; false when done. Throws on errors.
    bool step()
    {
        const int rc = sqlite3_step(s_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        fail(db_, *path_, "SQL error");
    }
    void reset()
    {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
    }
    void bind(int i, int64_t v) { check(sqlite3_bind_int64(s_, i, v)); }
    void bind(int i, const std::string& v)
    {
        check(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    }
    void bindBlob(int i, const std::vector<unsigned char>& v)
    {
        // A zero-length blob must still be a BLOB, not NULL: give it a valid pointer.
        static const unsigned char empty = 0;
        check(sqlite3_bind_blob64(s_, i, v.empty() ? &empty : v.data(), v.size(), SQLITE_STATIC));
    }
    int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }
    std::string text(int col) const
    {
        const auto* p = sqlite3_column_text(s_, col);
        return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s_, col)))
                 : std::string();
    }
    std::span<const unsigned char> blob(int col) const
    {
        const void* p = sqlite3_column_blob(s_, col);
        const auto n = static_cast<size_t>(sqlite3_column_bytes(s_, col));
        return {static_cast<const unsigned char*>(p), p ? n : 0};
    }
    bool isNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

private:
    void check(int rc)
    {
        if (rc != SQLITE_OK) fail(db_, *path_, "SQL bind error");
    }
    sqlite3* db_;
    const std::string* path_;
    sqlite3_stmt* s_ = nullptr;
};

struct Connection {
    sqlite3* db = nullptr;
    ~Connection() { sqlite3_close_v2(db); }
    sqlite3* release() { return std::exchange(db, nullptr); }
};

// `file` is what SQLite opens (the path, or a file: URI); `path` names the file in errors.
void openConnection(Connection& c, const std::string& path, int flags, const std::string& file = {});

// ---- schema and opening (store_schema.cpp) ----------------------------------------------

// Checks the file is a kvtier database this build reads; upgrades an older one.
void prepareSchema(sqlite3* db, const std::string& path, TraceStore::Mode mode);
// Writers switch the file to write-ahead logging.
void useWriteAheadLog(sqlite3* db, const std::string& path);
// A read-only connection (read-write with query_only where possible, see the .cpp).
void openForReading(Connection& c, const std::string& path);

// ---- trace rows (store_rows.cpp) ---------------------------------------------------------

std::string recordWhere(const std::string& path, const std::string& trace, int64_t t, int64_t l);
// With the sequence when the trace holds more than one.
std::string recordWhere(const std::string& path, const std::string& trace, int64_t t, int64_t s, int64_t l,
                        int32_t sequences);
std::string traceWhere(const std::string& path, const std::string& trace);
// P, T >= 0, 1 <= L <= kMaxLayers, P + T <= 2^32 (docs/TRACE_FORMAT.md "Limits").
void checkDimensions(const std::string& where, int64_t prefill, int64_t steps, int64_t layers);

// traces.encoding: the encoding's name; for index_step_delta with its key interval,
// "index_step_delta/K" (docs/TRACE_FORMAT.md "Step-delta selections").
std::string traceEncodingText(Encoding e, int32_t keyInterval);
// Parses traces.encoding into the encoding and K (0 unless index_step_delta). Throws
// InputError("", problem).
void parseTraceEncoding(const std::string& text, Encoding& e, int32_t& keyInterval);

// The SELECT every summary is read with; append a WHERE or ORDER BY.
extern const char* const kSummarySql;

struct Row {
    int64_t id = 0;
    TraceSummary summary;
};

// Whether a row also gets its records' totals (summary.records, blob_bytes, and the check of
// `entries` against the bytes): that reads every page of the trace's records, so callers
// that need only the id and the metadata skip it.
enum class RecordTotals { Read, Skip };
// One row of kSummarySql, every integer checked before it is used.
Row readRow(const Statement& q, sqlite3* db, const std::string& path, RecordTotals totals = RecordTotals::Read);
// Reads the trace's sequences (trace_sequences) into row.summary.meta, checked.
void readSequences(sqlite3* db, const std::string& path, Row& row);
std::optional<Row> findRow(sqlite3* db, const std::string& path, const std::string& name,
                           RecordTotals totals = RecordTotals::Read);
// Throws when absent.
Row getRow(sqlite3* db, const std::string& path, const std::string& name, RecordTotals totals = RecordTotals::Read);

// ---- expert sets (store_experts.cpp) -------------------------------------------------------

// Schema step 1 -> 2: the tables trace_experts and expert_sets (created when missing).
void addExpertTables(sqlite3* db, const std::string& path);
// Writes a trace's expert sets (nothing when empty); checks they match T and L.
void writeExpertSets(sqlite3* db, const std::string& path, int64_t traceId, const TraceMeta& meta,
                     const ExpertSets& sets);
// The pieces of writeExpertSets, for a writer that streams the sets: the trace_experts row,
// and one expert_sets row (ids ascending, each < E, checked by the caller); `blob` is scratch.
void writeExpertCount(sqlite3* db, const std::string& path, int64_t traceId, int32_t experts);
void writeExpertSet(Statement& insert, int64_t traceId, int64_t t, int32_t l, std::span<const uint16_t> ids,
                    std::vector<unsigned char>& blob);
inline constexpr const char* kInsertExpertSet =
    "INSERT INTO expert_sets(trace_id, step, layer, data) VALUES (?1, ?2, ?3, ?4)";
void deleteExpertSets(sqlite3* db, const std::string& path, int64_t traceId);
// E of a trace's expert sets, 0 when it has none. Throws when E is outside 1..kMaxExperts.
int32_t readExpertCount(sqlite3* db, const std::string& path, int64_t traceId, const std::string& name);
// A trace's expert sets (empty when it has none), every id and place checked.
ExpertSets readExpertSets(sqlite3* db, const std::string& path, int64_t traceId, const TraceMeta& meta);

// ---- reader (trace_reader.cpp) -------------------------------------------------------------

class SqlTraceReader final : public TraceReader {
public:
    // Starts at firstStep (0 .. T, checked by the caller); see TraceStore::reader.
    SqlTraceReader(sqlite3* db, const std::string& path, Row row, int64_t firstStep = 0);
    const TraceMeta& meta() const override { return row_.summary.meta; }
    bool next(Record& out) override;
    const TraceSummary& summary() const { return row_.summary; }
    int64_t id() const { return row_.id; }

private:
    bool readOne(Record& out);

    std::string path_;
    Row row_;
    Statement q_;
    int64_t next_ = 0;        // the next record expected, in storage order
    int64_t emitFrom_ = 0;    // records before this one are decoded, not returned
    bool done_ = false;
    // index_step_delta traces: K, and the last decoded set of every (sequence, layer slot).
    int32_t keyInterval_ = 0;
    std::vector<std::vector<uint32_t>> prev_;
};

// ---- writer (trace_writer.cpp) -------------------------------------------------------------

// One transaction, or a savepoint inside an open one (TraceStore::transaction()).
class Scope {
public:
    Scope(sqlite3* db, const std::string& path);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    void commit();

private:
    sqlite3* db_;
    std::string path_;
    bool nested_ = false;
    bool open_ = true;
};

std::unique_ptr<StoreTransaction> beginTransaction(sqlite3* db, const std::string& path);
void checkName(const std::string& path, const std::string& name);
std::unique_ptr<TraceWriter> beginSqlTrace(sqlite3* db, const std::string& path, const TraceMeta& meta,
                                           Encoding encoding, bool replace, int32_t keyInterval);

} // namespace kvtier::store
