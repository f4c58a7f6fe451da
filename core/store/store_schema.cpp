// The trace database's schema, its upgrade ladder, and opening a file for reading or
// writing (write-ahead log, query_only readers, immutable fallback).
#include "core/store/store_sql.hpp"

#include "core/model/error.hpp"
#include "core/model/text.hpp"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace kvtier::store {

namespace {

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

// Version 2, batches of distinct sequences (MODEL.md §8): each trace's sequences and
// their prefill (table trace_sequences, one row per sequence, also for S = 1), a sequence
// column in every record's key, and the ranked record kind. SQLite cannot change a key or
// a CHECK in place, so `traces` and `records` are rebuilt and copied row for row (ids
// kept); the caller runs every step in one transaction, so an upgrade that fails leaves
// the version-1 file as it was. Foreign keys are on: the new records reference the new
// traces table from the start (renaming it renames the reference), so no table is dropped
// while rows still point at it.
void upgradeToV2Sequences(sqlite3* db, const std::string& path)
{
    exec(db, path, R"SQL(
CREATE TABLE traces_v2 (
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
    kind           TEXT NOT NULL CHECK (kind IN ('scores', 'selection', 'ranked')),
    encoding       TEXT NOT NULL,
    entries        INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
INSERT INTO traces_v2 SELECT id, name, description, source, model_name, head_reduction, notes,
    prefill, steps, layers, layer_mode, kind, encoding, entries, created_at FROM traces;
CREATE TABLE records_v2 (
    trace_id INTEGER NOT NULL REFERENCES traces_v2(id),
    step     INTEGER NOT NULL,
    sequence INTEGER NOT NULL DEFAULT 0,
    layer    INTEGER NOT NULL,
    encoding TEXT NOT NULL,
    count    INTEGER NOT NULL,
    data     BLOB NOT NULL,
    PRIMARY KEY (trace_id, step, sequence, layer)
) WITHOUT ROWID;
INSERT INTO records_v2 SELECT trace_id, step, 0, layer, encoding, count, data FROM records;
DROP TABLE records;
DROP TABLE traces;
ALTER TABLE traces_v2 RENAME TO traces;
ALTER TABLE records_v2 RENAME TO records;
CREATE TABLE trace_sequences (
    trace_id INTEGER NOT NULL REFERENCES traces(id),
    sequence INTEGER NOT NULL CHECK (sequence >= 0),
    prefill  INTEGER NOT NULL CHECK (prefill >= 0),
    PRIMARY KEY (trace_id, sequence)
) WITHOUT ROWID;
INSERT INTO trace_sequences SELECT id, 0, prefill FROM traces;
)SQL");
}

// Version 2 as one step: batches of sequences (above), then the expert tables of MoE
// traces (MODEL.md §9, store_experts.cpp), which reference the rebuilt `traces`.
void upgradeToV2(sqlite3* db, const std::string& path)
{
    upgradeToV2Sequences(db, path);
    addExpertTables(db, path);
}

// kMigrations[v] upgrades a file at schema version v to v + 1.
using Migration = void (*)(sqlite3*, const std::string&);
constexpr Migration kMigrations[] = {&createSchemaV1, &upgradeToV2};
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

} // namespace

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
    for (const char* t : {"traces", "records", "trace_sequences"})
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

} // namespace kvtier::store
