#include "core/store/trace_store.hpp"

#include "core/model/error.hpp"
#include "core/model/text.hpp"
#include "core/store/blob_codec.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <new>
#include <utility>

namespace kvtier {

namespace {

// ---- small RAII layer over the sqlite3 C API -------------------------------------------

// SQLite's own message, fit for one line: it may quote a damaged schema from the file
// itself, newlines and all, at any length.
std::string sqliteMessage(sqlite3* db)
{
    return db ? excerpt(sqlite3_errmsg(db), 160) : std::string("out of memory");
}

[[noreturn]] void fail(sqlite3* db, const std::string& path, const std::string& what)
{
    const int code = db ? sqlite3_errcode(db) : SQLITE_ERROR;
    if (code == SQLITE_NOTADB) throw InputError(path, "not a SQLite database");
    if (code == SQLITE_CORRUPT) throw InputError(path, "the database file is corrupt (" + sqliteMessage(db) + ")");
    if (code == SQLITE_READONLY) throw InputError(path, "cannot write: the database is read-only (" + sqliteMessage(db) + ")");
    if (code == SQLITE_BUSY) throw InputError(path, "the database is locked by another program");
    if (code == SQLITE_FULL) throw InputError(path, "cannot write: the disk is full");
    if (code == SQLITE_IOERR) {
        // The operating system's reason ("No space left on device", "File too large") says
        // more than SQLite's "disk I/O error".
        const int err = sqlite3_system_errno(db);
        throw InputError(path, std::string("input/output error: ") + (err ? std::string(std::strerror(err)) : sqliteMessage(db)));
    }
    throw InputError(path, what + ": " + sqliteMessage(db));
}

void exec(sqlite3* db, const std::string& path, const char* sql)
{
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(db, path, sql);
}

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

// ---- schema and its migration ladder ---------------------------------------------------

// Schema version 0 is "no schema": a new or empty file.
void createSchemaV1(sqlite3* db, const std::string& path)
{
    exec(db, path, R"SQL(
CREATE TABLE kvtier_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE traces (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    description    TEXT NOT NULL DEFAULT '',
    source         TEXT NOT NULL DEFAULT '',
    model_name     TEXT NOT NULL DEFAULT '',
    head_reduction TEXT NOT NULL DEFAULT 'mean',
    notes          TEXT NOT NULL DEFAULT '',
    prefill        INTEGER NOT NULL CHECK (prefill >= 0),
    steps          INTEGER NOT NULL CHECK (steps >= 0),
    layers         INTEGER NOT NULL CHECK (layers >= 1),
    layer_mode     TEXT NOT NULL CHECK (layer_mode IN ('aggregated', 'per-layer')),
    kind           TEXT NOT NULL CHECK (kind IN ('scores', 'selection')),
    encoding       TEXT NOT NULL,
    entries        INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE records (
    trace_id INTEGER NOT NULL REFERENCES traces(id),
    step     INTEGER NOT NULL,
    layer    INTEGER NOT NULL,
    encoding TEXT NOT NULL,
    count    INTEGER NOT NULL,
    data     BLOB NOT NULL,
    PRIMARY KEY (trace_id, step, layer)
) WITHOUT ROWID;
)SQL");
}

// kMigrations[v] upgrades a file at schema version v to v + 1. A v2 adds one step here.
using Migration = void (*)(sqlite3*, const std::string&);
constexpr Migration kMigrations[] = {&createSchemaV1};
static_assert(std::size(kMigrations) == kSchemaVersion, "one migration step per schema version");

int32_t applicationId(sqlite3* db, const std::string& path)
{
    Statement q(db, path, "PRAGMA application_id");
    return q.step() ? static_cast<int32_t>(q.int64(0)) : 0;
}

bool hasTable(sqlite3* db, const std::string& path, const char* name)
{
    Statement q(db, path, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
    q.bind(1, std::string(name));
    return q.step();
}

// The file's schema version; 0 for an empty database. Throws when the file is some other
// SQLite database.
int readSchemaVersion(sqlite3* db, const std::string& path)
{
    const int32_t app = applicationId(db, path);   // first read: fails on a non-SQLite file
    if (app != 0 && app != kApplicationId) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "0x%08X", static_cast<uint32_t>(app));
        throw InputError(path, std::string("not a kvtier trace database (SQLite application id ") + hex + ")");
    }
    if (!hasTable(db, path, "kvtier_meta")) {
        Statement any(db, path, "SELECT count(*) FROM sqlite_master");
        any.step();
        if (any.int64(0) == 0 && app == 0) return 0;
        throw InputError(path, "not a kvtier trace database");
    }
    Statement q(db, path, "SELECT value FROM kvtier_meta WHERE key = 'schema_version'");
    if (!q.step()) throw InputError(path, "not a kvtier trace database (no schema_version in kvtier_meta)");
    const std::string v = q.text(0);
    int version = 0;
    try {
        size_t used = 0;
        version = std::stoi(v, &used);
        if (used != v.size() || version < 1) throw std::invalid_argument(v);
    } catch (const std::exception&) {
        throw InputError(path, "not a kvtier trace database (schema_version '" + v + "')");
    }
    return version;
}

void migrate(sqlite3* db, const std::string& path)
{
    exec(db, path, "BEGIN IMMEDIATE");
    try {
        // Re-read under the write lock: another process may have upgraded meanwhile.
        const int from = readSchemaVersion(db, path);
        for (int v = from; v < kSchemaVersion; ++v) kMigrations[v](db, path);
        if (from < kSchemaVersion) {
            Statement set(db, path, "INSERT OR REPLACE INTO kvtier_meta(key, value) VALUES "
                                    "('schema_version', ?1), ('application', 'kvtier')");
            set.bind(1, std::to_string(kSchemaVersion));
            set.step();
            exec(db, path, ("PRAGMA application_id = " + std::to_string(kApplicationId)).c_str());
            exec(db, path, ("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
        }
        exec(db, path, "COMMIT");
    } catch (...) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

struct Connection {
    sqlite3* db = nullptr;
    ~Connection() { sqlite3_close_v2(db); }
    sqlite3* release() { return std::exchange(db, nullptr); }
};

// `file` is what SQLite opens (the path, or a file: URI); `path` names the file in errors.
void openConnection(Connection& c, const std::string& path, int flags, const std::string& file = {})
{
    if (sqlite3_open_v2(file.empty() ? path.c_str() : file.c_str(), &c.db, flags, nullptr) != SQLITE_OK)
        throw InputError(path, std::string("cannot open: ") + sqliteMessage(c.db));
    sqlite3_busy_timeout(c.db, 5000);
    exec(c.db, path, "PRAGMA foreign_keys = ON");
}

void prepareSchema(sqlite3* db, const std::string& path, TraceStore::Mode mode)
{
    int version = readSchemaVersion(db, path);
    if (version > kSchemaVersion)
        throw InputError(path, "written by a newer kvtier (schema version " + std::to_string(version) +
                                   ", this build reads up to " + std::to_string(kSchemaVersion) +
                                   "); please upgrade");
    if (version < kSchemaVersion) {
        if (mode == TraceStore::Mode::ReadWrite) {
            migrate(db, path);
        } else if (version == 0) {
            throw InputError(path, "not a kvtier trace database (empty file)");
        } else {
            // Readers upgrade older files too: through a short-lived read-write connection.
            try {
                Connection rw;
                openConnection(rw, path, SQLITE_OPEN_READWRITE);
                migrate(rw.db, path);
            } catch (const InputError& e) {
                throw InputError(path, "schema version " + std::to_string(version) +
                                           " needs an upgrade to " + std::to_string(kSchemaVersion) +
                                           " that failed: " + e.problem());
            }
        }
        version = readSchemaVersion(db, path);
    }
    for (const char* t : {"traces", "records"})
        if (!hasTable(db, path, t))
            throw InputError(path, std::string("not a kvtier trace database (table '") + t + "' missing)");
}

// Writers switch the file to write-ahead logging (docs/TRACE_FORMAT.md, "Durability and
// concurrency"): a write in progress never touches the database file itself, so readers
// keep reading the last committed content while an import runs, and after a crash (kill
// -9, full disk) they need no writer to roll anything back before they can read.
void useWriteAheadLog(sqlite3* db, const std::string& path)
{
    const int rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr);
    // Switching needs a moment with no other connection; a reader holding the file in
    // rollback mode only postpones the switch to the next write, it does not stop this one.
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED) fail(db, path, "PRAGMA journal_mode = WAL");
}

// "file:" URI of a path, for opening it with URI parameters.
std::string fileUri(const std::string& path)
{
    std::string uri = path.starts_with('/') ? "file://" : "file:";
    for (const unsigned char ch : path) {
        if (ch == '%' || ch == '?' || ch == '#' || ch < 0x20 || ch >= 0x7F) {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", ch);
            uri += hex;
        } else {
            uri += static_cast<char>(ch);
        }
    }
    return uri;
}

// True when the file's SQLite header says write-ahead logging (file format bytes 18 and 19
// are 2, https://www.sqlite.org/fileformat.html).
bool inWalMode(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    char header[20] = {};
    return in.read(header, sizeof header) && std::memcmp(header, "SQLite format 3", 16) == 0 &&
           header[18] == 2 && header[19] == 2;
}

// Readers open the file read-write when they may, with PRAGMA query_only so that nothing
// is ever written through them. Such a connection repairs a crashed writer's leftovers
// itself (replays the committed part of a write-ahead log, rolls back a hot journal of a
// rollback-mode file) instead of failing with "read-only", and as the last connection to
// close it checkpoints and removes the -wal and -shm files rather than leaving them beside
// the database. SQLite opens a write-protected file read-only by itself.
void openForReading(Connection& c, const std::string& path)
{
    openConnection(c, path, SQLITE_OPEN_READWRITE);
    exec(c.db, path, "PRAGMA query_only = 1");
    try {
        prepareSchema(c.db, path, TraceStore::Mode::ReadOnly);
        return;
    } catch (const InputError&) {
        std::error_code ec;
        if (!inWalMode(path) || std::filesystem::exists(path + "-wal", ec)) throw;
    }
    // A write-ahead-log database in a directory we may not write, whose last writer closed
    // cleanly (no -wal file): SQLite cannot create the -shm index it wants, but the main
    // file holds every committed trace. Read it as immutable. With a -wal file present the
    // main file may lack committed pages, so that case stays an error (above).
    sqlite3_close_v2(c.release());
    try {
        openConnection(c, path, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, fileUri(path) + "?immutable=1");
        prepareSchema(c.db, path, TraceStore::Mode::ReadOnly);
    } catch (const InputError& e) {
        throw InputError(path, "cannot read a write-ahead-log database in a directory without write access: " +
                                   e.problem());
    }
}

std::string recordWhere(const std::string& path, const std::string& trace, int64_t t, int64_t l)
{
    return path + " trace '" + trace + "' record (t=" + std::to_string(t) + ", l=" + std::to_string(l) + ")";
}

std::string traceWhere(const std::string& path, const std::string& trace)
{
    return path + " trace '" + trace + "'";
}

// ---- limits ----------------------------------------------------------------------------

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

// ---- reading metadata ------------------------------------------------------------------

constexpr const char* kSummarySql =
    "SELECT t.id, t.name, t.description, t.source, t.model_name, t.head_reduction, t.notes, "
    "t.prefill, t.steps, t.layers, t.layer_mode, t.kind, t.encoding, t.entries, t.created_at, "
    "(SELECT count(*) FROM records r WHERE r.trace_id = t.id), "
    "(SELECT coalesce(sum(length(r.data)), 0) FROM records r WHERE r.trace_id = t.id) "
    "FROM traces t";

struct Row {
    int64_t id = 0;
    TraceSummary summary;
};

Row readRow(const Statement& q, const std::string& path)
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
        r.summary.encoding = encodingFromString(q.text(12));
    } catch (const InputError& e) {
        throw InputError(traceWhere(path, m.name), e.problem());
    }
    r.summary.entries = q.int64(13);
    r.summary.created_at = q.text(14);
    r.summary.records = q.int64(15);
    r.summary.blob_bytes = q.int64(16);
    // `entries` sizes load()'s reservation: it must fit the bytes the records really
    // hold (no encoding stores an entry in fewer than 2 bytes).
    const int64_t entries = r.summary.entries;
    if (entries < 0)
        throw InputError(traceWhere(path, m.name), "entries = " + std::to_string(entries) + " is negative");
    if (entries > r.summary.blob_bytes / 2)
        throw InputError(traceWhere(path, m.name), "entries = " + std::to_string(entries) + ", but its records hold " +
                                                       std::to_string(r.summary.blob_bytes) + " bytes (at most " +
                                                       std::to_string(r.summary.blob_bytes / 2) + " entries)");
    return r;
}

std::optional<Row> findRow(sqlite3* db, const std::string& path, const std::string& name)
{
    Statement q(db, path, (std::string(kSummarySql) + " WHERE t.name = ?1").c_str());
    q.bind(1, name);
    if (!q.step()) return std::nullopt;
    return readRow(q, path);
}

Row getRow(sqlite3* db, const std::string& path, const std::string& name)
{
    auto r = findRow(db, path, name);
    if (!r) throw InputError(path, "no trace named '" + name + "'");
    return *r;
}

// ---- reader ----------------------------------------------------------------------------

class SqlTraceReader final : public TraceReader {
public:
    SqlTraceReader(sqlite3* db, const std::string& path, Row row)
        : path_(path), row_(std::move(row)),
          q_(db, path_, "SELECT step, layer, encoding, count, data FROM records "
                        "WHERE trace_id = ?1 ORDER BY step, layer")
    {
        q_.bind(1, row_.id);
    }

    const TraceMeta& meta() const override { return row_.summary.meta; }

    bool next(Record& out) override
    {
        const TraceMeta& m = row_.summary.meta;
        const int32_t slots = m.layerSlots();
        const int64_t wantStep = next_ / slots;
        const int32_t wantLayer = m.layer_mode == LayerMode::Aggregated ? -1 : static_cast<int32_t>(next_ % slots);
        if (done_) return false;   // stepping a finished statement would restart it
        if (!q_.step()) {
            done_ = true;
            if (next_ < m.recordCount())
                throw InputError(recordWhere(path_, m.name, wantStep, wantLayer),
                                 "record missing (the trace has " + std::to_string(next_) + " of " +
                                     std::to_string(m.recordCount()) + " records)");
            return false;
        }
        const int64_t t = q_.int64(0);
        const int64_t l = q_.int64(1);
        const std::string where = recordWhere(path_, m.name, t, l);
        if (next_ >= m.recordCount())
            throw InputError(where, "more records than the trace's T=" + std::to_string(m.steps) +
                                        (slots > 1 ? " x L=" + std::to_string(slots) : std::string()));
        if (t != wantStep || l != wantLayer)
            throw InputError(recordWhere(path_, m.name, wantStep, wantLayer),
                             "record missing or misplaced (found (t=" + std::to_string(t) + ", l=" +
                                 std::to_string(l) + ") next)");
        Encoding enc = Encoding::SparseF32;
        const std::string encName = q_.text(2);
        try {
            enc = encodingFromString(encName);
        } catch (const InputError&) {
            throw InputError(where, "unknown encoding '" + encName + "'");
        }
        if ((m.kind == RecordKind::Selection) != (enc == Encoding::IndexU32))
            throw InputError(where, std::string("encoding ") + toString(enc) + " does not fit a " +
                                        toString(m.kind) + " trace");
        try {
            decodeRecord(enc, m.contextAt(t), q_.int64(3), q_.blob(4), out.index, out.value);
        } catch (const InputError& e) {
            throw InputError(where, e.problem());
        }
        out.step = t;
        out.layer = static_cast<int32_t>(l);
        ++next_;
        return true;
    }

    const TraceSummary& summary() const { return row_.summary; }

private:
    std::string path_;
    Row row_;
    Statement q_;
    int64_t next_ = 0;
    bool done_ = false;
};

// ---- writer ----------------------------------------------------------------------------

// A read-only store is a read-write connection with PRAGMA query_only (see TraceStore::open).
bool queryOnly(sqlite3* db, const std::string& path)
{
    Statement q(db, path, "PRAGMA query_only");
    return q.step() && q.int64(0) != 0;
}

// One transaction, or a savepoint inside an open one (TraceStore::transaction()).
class Scope {
public:
    Scope(sqlite3* db, const std::string& path) : db_(db), path_(path)
    {
        if (sqlite3_db_readonly(db, "main") == 1 || queryOnly(db, path))
            throw InputError(path, "opened read-only; cannot write");
        nested_ = sqlite3_get_autocommit(db) == 0;
        exec(db, path, nested_ ? "SAVEPOINT kvtier_write" : "BEGIN IMMEDIATE");
    }
    ~Scope()
    {
        if (open_) {
            sqlite3_exec(db_, nested_ ? "ROLLBACK TO kvtier_write; RELEASE kvtier_write" : "ROLLBACK",
                         nullptr, nullptr, nullptr);
        }
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    void commit()
    {
        exec(db_, path_, nested_ ? "RELEASE kvtier_write" : "COMMIT");
        open_ = false;
    }

private:
    sqlite3* db_;
    std::string path_;
    bool nested_ = false;
    bool open_ = true;
};

class SqlTransaction final : public StoreTransaction {
public:
    SqlTransaction(sqlite3* db, const std::string& path) : scope_(db, path) {}
    void commit() override { scope_.commit(); }

private:
    Scope scope_;
};

void checkName(const std::string& path, const std::string& name)
{
    if (name.empty()) throw InputError(path, "trace name is empty");
    for (unsigned char c : name)
        if (c < 0x20 || c == 0x7F)
            throw InputError(path, "trace name '" + name + "' contains a control character");
}

class SqlTraceWriter final : public TraceWriter {
public:
    SqlTraceWriter(sqlite3* db, const std::string& path, const TraceMeta& meta, Encoding enc, bool replace)
        : db_(db), path_(path), meta_(meta), enc_(enc), stepsOpen_(meta.steps == -1), scope_(db, path)
    {
        const std::string where = traceWhere(path_, meta_.name);
        checkDimensions(where, meta_.prefill, stepsOpen_ ? 0 : meta_.steps, meta_.layers);
        if (meta_.kind == RecordKind::Selection && enc_ != Encoding::IndexU32)
            throw InputError(where, std::string("selection traces are stored as index_u32, not ") + toString(enc_));
        if (meta_.kind == RecordKind::Scores && enc_ == Encoding::IndexU32)
            throw InputError(where, "score traces cannot be stored as index_u32 (use f32, f16, sparse_f32 or sparse_f16)");
        if (auto old = findRow(db_, path_, meta_.name)) {
            if (!replace)
                throw InputError(path_, "trace '" + meta_.name + "' already exists (use --replace to overwrite it)");
            Statement delRecords(db_, path_, "DELETE FROM records WHERE trace_id = ?1");
            delRecords.bind(1, old->id);
            delRecords.step();
            Statement delTrace(db_, path_, "DELETE FROM traces WHERE id = ?1");
            delTrace.bind(1, old->id);
            delTrace.step();
        }
        Statement ins(db_, path_,
                      "INSERT INTO traces(name, description, source, model_name, head_reduction, notes, "
                      "prefill, steps, layers, layer_mode, kind, encoding) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
        ins.bind(1, meta_.name);
        ins.bind(2, meta_.description);
        ins.bind(3, meta_.source);
        ins.bind(4, meta_.model_name);
        ins.bind(5, meta_.head_reduction);
        ins.bind(6, meta_.notes);
        ins.bind(7, meta_.prefill);
        ins.bind(8, std::max<int64_t>(meta_.steps, 0));
        ins.bind(9, static_cast<int64_t>(meta_.layers));
        ins.bind(10, std::string(toString(meta_.layer_mode)));
        ins.bind(11, std::string(toString(meta_.kind)));
        ins.bind(12, std::string(toString(enc_)));
        ins.step();
        id_ = sqlite3_last_insert_rowid(db_);
        insert_ = std::make_unique<Statement>(
            db_, path_, "INSERT INTO records(trace_id, step, layer, encoding, count, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    }

    ~SqlTraceWriter() override { insert_.reset(); }   // finalize before the scope rolls back

    void add(const Record& r) override
    {
        if (committed_) throw InputError(traceWhere(path_, meta_.name), "record added after commit");
        const int32_t slots = meta_.layerSlots();
        const std::string where = recordWhere(path_, meta_.name, r.step, r.layer);
        const bool aggregated = meta_.layer_mode == LayerMode::Aggregated;
        if (aggregated && r.layer != -1)
            throw InputError(where, "layer " + std::to_string(r.layer) + " in an aggregated trace (must be -1)");
        if (!aggregated && (r.layer < 0 || r.layer >= meta_.layers))
            throw InputError(where, "layer " + std::to_string(r.layer) + " outside 0.." + std::to_string(meta_.layers - 1));
        if (!stepsOpen_ && next_ >= meta_.recordCount())
            throw InputError(where, "more records than T=" + std::to_string(meta_.steps) +
                                        (slots > 1 ? " x L=" + std::to_string(slots) : std::string()));
        const int64_t wantStep = next_ / slots;
        const int32_t wantLayer = aggregated ? -1 : static_cast<int32_t>(next_ % slots);
        if (r.step != wantStep || r.layer != wantLayer)
            throw InputError(where, "out of order: expected (t=" + std::to_string(wantStep) + ", l=" +
                                        std::to_string(wantLayer) + ")");
        const int64_t n = meta_.contextAt(r.step);
        if (n > int64_t{1} << 32)
            throw InputError(where, "context n_t = " + std::to_string(n) + " exceeds 2^32 tokens");

        const bool selection = meta_.kind == RecordKind::Selection;
        if (!(r.index.size() == r.value.size() || (selection && r.value.empty())))
            throw InputError(where, "index and value lengths differ (" + std::to_string(r.index.size()) +
                                        " vs " + std::to_string(r.value.size()) + ")");
        for (size_t k = 0; k < r.index.size(); ++k) {
            const uint32_t i = r.index[k];
            if (static_cast<int64_t>(i) >= n)
                throw InputError(where, "token index " + std::to_string(i) + " >= n_t = " + std::to_string(n));
            if (k > 0 && i <= r.index[k - 1])
                throw InputError(where, "token indices not strictly ascending (" + std::to_string(r.index[k - 1]) +
                                            " then " + std::to_string(i) + ")");
            if (k >= r.value.size()) continue;
            const float v = r.value[k];
            if (std::isnan(v)) throw InputError(where, "score of token " + std::to_string(i) + " is NaN");
            if (std::isinf(v)) throw InputError(where, "score of token " + std::to_string(i) + " is infinite");
            if (v < 0)
                throw InputError(where, "score of token " + std::to_string(i) + " is negative (" + std::to_string(v) + ")");
            if (selection && v != 1.0f)
                throw InputError(where, "selection value of token " + std::to_string(i) + " is " +
                                            std::to_string(v) + ", expected 1");
        }
        // A dense trace stores a mostly-zero record in the matching sparse encoding when that
        // is smaller (readers honour each record's encoding): an all-zero row of a huge
        // context must not cost 4 bytes per token. Lossless: zeros are dropped either way.
        Encoding recEnc = enc_;
        if (enc_ == Encoding::DenseF32 || enc_ == Encoding::DenseF16) {
            const Encoding sparse = enc_ == Encoding::DenseF32 ? Encoding::SparseF32 : Encoding::SparseF16;
            const auto k = static_cast<int64_t>(std::count_if(r.value.begin(), r.value.end(), [](float v) { return v != 0.0f; }));
            if (blobBytes(sparse, k) < blobBytes(enc_, n)) recEnc = sparse;
        }
        EncodedRecord enc;
        try {
            enc = encodeRecord(recEnc, n, r.index, r.value, blob_);
        } catch (const InputError& e) {
            throw InputError(where, e.problem());
        }
        insert_->reset();
        insert_->bind(1, id_);
        insert_->bind(2, r.step);
        insert_->bind(3, static_cast<int64_t>(r.layer));
        insert_->bind(4, std::string(toString(recEnc)));
        insert_->bind(5, enc.count);
        insert_->bindBlob(6, blob_);
        insert_->step();
        insert_->reset();
        entries_ += enc.nonzero;
        ++next_;
    }

    void commit() override
    {
        const std::string where = traceWhere(path_, meta_.name);
        if (committed_) throw InputError(where, "committed twice");
        const int32_t slots = meta_.layerSlots();
        if (stepsOpen_) {
            if (next_ % slots != 0)
                throw InputError(where, "incomplete last step t=" + std::to_string(next_ / slots) + ": " +
                                            std::to_string(next_ % slots) + " of " + std::to_string(slots) +
                                            " layers");
            meta_.steps = next_ / slots;
            checkDimensions(where, meta_.prefill, meta_.steps, meta_.layers);
        } else if (next_ != meta_.recordCount()) {
            const int64_t missing = meta_.recordCount() - next_;
            throw InputError(where, "incomplete trace: " + std::to_string(missing) +
                                        (missing == 1 ? " record" : " records") + " missing (have " + std::to_string(next_) + " of " +
                                        std::to_string(meta_.recordCount()) + ")");
        }
        Statement upd(db_, path_, "UPDATE traces SET steps = ?1, entries = ?2 WHERE id = ?3");
        upd.bind(1, meta_.steps);
        upd.bind(2, entries_);
        upd.bind(3, id_);
        upd.step();
        insert_.reset();
        scope_.commit();
        committed_ = true;
    }

private:
    sqlite3* db_;
    std::string path_;
    TraceMeta meta_;
    Encoding enc_;
    bool stepsOpen_;
    Scope scope_;
    std::unique_ptr<Statement> insert_;
    std::vector<unsigned char> blob_;
    int64_t id_ = 0;
    int64_t next_ = 0;
    int64_t entries_ = 0;
    bool committed_ = false;
};

} // namespace

// ---- TraceStore ------------------------------------------------------------------------

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
    while (q.step()) out.push_back(readRow(q, path_).summary);
    return out;
}

std::optional<TraceSummary> TraceStore::find(const std::string& name) const
{
    auto r = findRow(db_, path_, name);
    if (!r) return std::nullopt;
    return r->summary;
}

TraceSummary TraceStore::get(const std::string& name) const { return getRow(db_, path_, name).summary; }

std::unique_ptr<TraceReader> TraceStore::reader(const std::string& name) const
{
    return std::make_unique<SqlTraceReader>(db_, path_, getRow(db_, path_, name));
}

Trace TraceStore::load(const std::string& name) const
{
    SqlTraceReader reader(db_, path_, getRow(db_, path_, name));
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
                trace.append(rec.step, rec.layer, rec.index, rec.value);
            } catch (const InputError& e) {
                throw InputError(path_ + " " + e.where(), e.problem());
            }
        }
        return trace;
    } catch (const std::bad_alloc&) {
        // Offsets per record, index and value per entry.
        const double need = 8.0 * static_cast<double>(records) + 8.0 * static_cast<double>(entries);
        throw InputError(traceWhere(path_, name), "too large for memory (needs about " +
                                                      readableNumber(need / 1e9) + " GB)");
    }
}

std::unique_ptr<TraceWriter> TraceStore::beginTrace(const TraceMeta& meta, Encoding encoding, bool replace)
{
    checkName(path_, meta.name);
    return std::make_unique<SqlTraceWriter>(db_, path_, meta, encoding, replace);
}

void TraceStore::remove(const std::string& name)
{
    Scope scope(db_, path_);
    const Row row = getRow(db_, path_, name);
    Statement delRecords(db_, path_, "DELETE FROM records WHERE trace_id = ?1");
    delRecords.bind(1, row.id);
    delRecords.step();
    Statement delTrace(db_, path_, "DELETE FROM traces WHERE id = ?1");
    delTrace.bind(1, row.id);
    delTrace.step();
    scope.commit();
}

std::unique_ptr<StoreTransaction> TraceStore::transaction()
{
    return std::make_unique<SqlTransaction>(db_, path_);
}

} // namespace kvtier
