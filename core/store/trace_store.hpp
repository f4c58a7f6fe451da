#pragma once
// The SQLite trace store (docs/TRACE_FORMAT.md). Many traces per file; records as BLOBs
// with a declared encoding; a schema version that readers check (newer: refused with a
// clear message; older: upgraded). Every import runs in one transaction: a failed import
// leaves the file exactly as it was.
#include "core/model/trace.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace kvtier {

inline constexpr int kSchemaVersion = 2;
// PRAGMA application_id of every kvtier trace database: "KVTR" as a big-endian int.
inline constexpr int32_t kApplicationId = 0x4B565452;

// Per-trace summary for lists (no records loaded).
struct TraceSummary {
    TraceMeta meta;
    int64_t records = 0;      // rows stored
    int64_t blob_bytes = 0;   // total record payload
    Encoding encoding = Encoding::SparseF32;   // how the importer stored the records
    int32_t key_interval = 0;   // K of an index_step_delta trace (traces.encoding "index_step_delta/K"), else 0
    int64_t entries = 0;      // non-zero (selected) entries over all records
    std::string created_at;   // UTC, ISO 8601 ("2025-01-31T12:00:00Z")
};

// The trace's encoding as traces.encoding holds it: its name, and "index_step_delta/K" for
// a step-delta trace (docs/TRACE_FORMAT.md "Step-delta selections").
std::string encodingText(const TraceSummary& s);

class TraceReader;
class TraceWriter;
class StoreTransaction;

class TraceStore {
public:
    enum class Mode { ReadOnly, ReadWrite /* creates the file when missing */ };

    // Throws InputError("<path>", "not a kvtier trace database ...") and friends.
    static std::unique_ptr<TraceStore> open(const std::string& path, Mode mode);
    ~TraceStore();
    TraceStore(const TraceStore&) = delete;
    TraceStore& operator=(const TraceStore&) = delete;

    const std::string& path() const { return path_; }
    std::vector<TraceSummary> list() const;
    std::optional<TraceSummary> find(const std::string& name) const;
    TraceSummary get(const std::string& name) const;   // throws InputError when missing
    // As get(), without the pass over every record that counts records and blob_bytes
    // (both left 0): the metadata and the stored entry count, for a reader that streams
    // the records anyway (engine/stream_analysis.hpp).
    TraceSummary describe(const std::string& name) const;

    // Step-by-step reading: one record at a time, never the whole trace. With firstStep s
    // (0 .. T) the reader starts at step s: an index_step_delta trace is decoded from its
    // key records at s - s % K, the steps before s not returned.
    std::unique_ptr<TraceReader> reader(const std::string& name, int64_t firstStep = 0) const;
    // Loads the whole trace into the engine's CSR form, decoding each BLOB once
    // straight into the Trace (no intermediate copy of the whole trace).
    Trace load(const std::string& name) const;
    // E of the trace's expert sets (MODEL.md §9), 0 when it has none.
    int32_t experts(const std::string& name) const;
    // The trace's expert sets alone (empty when it has none), every id checked.
    ExpertSets loadExperts(const std::string& name) const;

    // Starts an import of a new trace named meta.name (must not exist yet unless
    // `replace`). Opens a transaction that the writer commits; dropping the writer
    // without commit() rolls back. Inside a transaction() the writer uses a savepoint,
    // so several traces can be written all-or-nothing.
    // meta.steps may be -1 when a streaming importer does not know T in advance: commit()
    // then takes T from the records added (the last step must be complete).
    // Selection traces must use Encoding::IndexU32, IndexVarint or IndexStepDelta, ranked traces
    // Encoding::RankedU32 or RankedVarint, score traces any other encoding. meta.sequence_prefill lists the sequences (MODEL.md §8).
    // keyInterval: K of an IndexStepDelta trace (1 .. kMaxKeyInterval; 0: kDefaultKeyInterval),
    // ignored for the other encodings.
    // The writer must not outlive the store.
    std::unique_ptr<TraceWriter> beginTrace(const TraceMeta& meta, Encoding encoding,
                                            bool replace = false, int32_t keyInterval = 0);
    void remove(const std::string& name);   // throws InputError when missing

    // BEGIN IMMEDIATE ... COMMIT around several writes; rolls back unless committed.
    std::unique_ptr<StoreTransaction> transaction();

    sqlite3* handle() const { return db_; }

private:
    TraceStore(std::string path, sqlite3* db);
    std::string path_;
    sqlite3* db_ = nullptr;
};

// Iterates records in (step, sequence, layer) order.
class TraceReader {
public:
    virtual ~TraceReader() = default;
    virtual const TraceMeta& meta() const = 0;
    // Fills `out` with the next record; false at the end. Throws InputError naming the
    // file, the trace and the record (t, l) on a truncated BLOB or an unknown encoding.
    // index_step_delta records come back decoded, as the whole set.
    virtual bool next(Record& out) = 0;
};

class TraceWriter {
public:
    virtual ~TraceWriter() = default;
    // Validates (order, index < n_t, ascending, finite, >= 0) and stores one record.
    // Selection records may leave `value` empty (or all 1). Zero scores are dropped.
    virtual void add(const Record& r) = 0;
    // The trace's per-step expert sets (MODEL.md §9), written at commit(); they must cover
    // T steps (the final T of a streaming import) and the trace's L layers.
    virtual void setExperts(const ExpertSets& sets) = 0;
    // Streaming alternative to setExperts, for importers that must not hold T x L sets:
    // beginExperts(E) once (1 .. kMaxExperts), then addExpertSet for every (t, l) in order
    // t = 0 .. T-1, l = 0 .. L-1, each written at once (ids ascending, each < E); commit()
    // checks that all T x L sets came. Either this or setExperts, not both.
    virtual void beginExperts(int32_t experts) = 0;
    virtual void addExpertSet(int64_t t, int32_t l, std::span<const uint16_t> ids) = 0;
    // Checks the trace is complete (T or T*L records), writes the metadata, commits.
    virtual void commit() = 0;
};

class StoreTransaction {
public:
    virtual ~StoreTransaction() = default;
    virtual void commit() = 0;
};

} // namespace kvtier
