// Writing: transactions and savepoints, and the writer that adds a trace record by record.
#include "core/store/store_sql.hpp"

#include "core/model/error.hpp"
#include "core/store/blob_codec.hpp"

#include <algorithm>
#include <cmath>

namespace kvtier::store {

namespace {

// A read-only store is a read-write connection with PRAGMA query_only (see TraceStore::open).
bool queryOnly(sqlite3* db, const std::string& path)
{
    Statement q(db, path, "PRAGMA query_only");
    return q.step() && q.int64(0) != 0;
}

// The sets must fit what a reader may load (ExpertSets: T x L x ceil(E/64) words).
void checkExpertWords(const std::string& where, int64_t steps, int32_t experts, int32_t layers)
{
    const auto words = static_cast<double>(steps) * layers * ((experts + 63) / 64);
    if (words > static_cast<double>(kMaxExpertWords))
        throw InputError(where, "T x L x ceil(E/64) = " + std::to_string(static_cast<int64_t>(words)) +
                                    " words exceed the limit of " + std::to_string(kMaxExpertWords));
}

} // namespace

Scope::Scope(sqlite3* db, const std::string& path) : db_(db), path_(path)
{
    if (sqlite3_db_readonly(db, "main") == 1 || queryOnly(db, path))
        throw InputError(path, "opened read-only; cannot write");
    nested_ = sqlite3_get_autocommit(db) == 0;
    exec(db, path, nested_ ? "SAVEPOINT kvtier_write" : "BEGIN IMMEDIATE");
}

Scope::~Scope()
{
    if (open_) {
        sqlite3_exec(db_, nested_ ? "ROLLBACK TO kvtier_write; RELEASE kvtier_write" : "ROLLBACK",
                     nullptr, nullptr, nullptr);
    }
}

void Scope::commit()
{
    exec(db_, path_, nested_ ? "RELEASE kvtier_write" : "COMMIT");
    open_ = false;
}

void checkName(const std::string& path, const std::string& name)
{
    if (name.empty()) throw InputError(path, "trace name is empty");
    for (unsigned char c : name)
        if (c < 0x20 || c == 0x7F)
            throw InputError(path, "trace name '" + name + "' contains a control character");
}

namespace {

class SqlTransaction final : public StoreTransaction {
public:
    SqlTransaction(sqlite3* db, const std::string& path) : scope_(db, path) {}
    void commit() override { scope_.commit(); }

private:
    Scope scope_;
};

class SqlTraceWriter final : public TraceWriter {
public:
    SqlTraceWriter(sqlite3* db, const std::string& path, const TraceMeta& meta, Encoding enc, bool replace,
                   int32_t keyInterval)
        : db_(db), path_(path), meta_(meta), enc_(enc), stepsOpen_(meta.steps == -1), scope_(db, path)
    {
        const std::string where = traceWhere(path_, meta_.name);
        if (enc_ == Encoding::IndexStepDelta) {
            keyInterval_ = keyInterval == 0 ? kDefaultKeyInterval : keyInterval;
            if (keyInterval_ < 1 || keyInterval_ > kMaxKeyInterval)
                throw InputError(where, "key interval K = " + std::to_string(keyInterval) + " outside 1 .. " +
                                            std::to_string(kMaxKeyInterval));
            prev_.resize(static_cast<size_t>(meta_.layerSlots()) * static_cast<size_t>(meta_.sequenceCount()));
        }
        checkDimensions(where, meta_.prefill, stepsOpen_ ? 0 : meta_.steps, meta_.layers);
        // Every record of a selection (ranked) trace is stored in the trace's encoding:
        // index_u32 or index_varint (ranked_u32 or ranked_varint), as the caller chose.
        if (meta_.kind == RecordKind::Selection && kindOfEncoding(enc_) != RecordKind::Selection)
            throw InputError(where, std::string("selection traces are stored as index_u32, not ") + toString(enc_) +
                                        " (index_varint is the compact alternative)");
        if (meta_.kind == RecordKind::Ranked && kindOfEncoding(enc_) != RecordKind::Ranked)
            throw InputError(where, std::string("ranked traces are stored as ranked_u32, not ") + toString(enc_) +
                                        " (ranked_varint is the compact alternative)");
        if (meta_.kind == RecordKind::Scores && kindOfEncoding(enc_) != RecordKind::Scores)
            throw InputError(where, std::string("score traces cannot be stored as ") + toString(enc_) +
                                        " (use f32, f16, sparse_f32 or sparse_f16)");
        {
            const std::string problem = sequenceProblem(meta_);
            if (!problem.empty()) throw InputError(where, problem);
        }
        if (auto old = findRow(db_, path_, meta_.name)) {
            if (!replace)
                throw InputError(path_, "trace '" + meta_.name + "' already exists (use --replace to overwrite it)");
            deleteExpertSets(db_, path_, old->id);
            Statement delRecords(db_, path_, "DELETE FROM records WHERE trace_id = ?1");
            delRecords.bind(1, old->id);
            delRecords.step();
            Statement delSequences(db_, path_, "DELETE FROM trace_sequences WHERE trace_id = ?1");
            delSequences.bind(1, old->id);
            delSequences.step();
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
        ins.bind(12, traceEncodingText(enc_, keyInterval_));
        ins.step();
        id_ = sqlite3_last_insert_rowid(db_);
        Statement seq(db_, path_, "INSERT INTO trace_sequences(trace_id, sequence, prefill) VALUES (?1, ?2, ?3)");
        for (int32_t q = 0; q < meta_.sequenceCount(); ++q) {
            seq.reset();
            seq.bind(1, id_);
            seq.bind(2, static_cast<int64_t>(q));
            seq.bind(3, meta_.prefillOf(q));
            seq.step();
        }
        insert_ = std::make_unique<Statement>(
            db_, path_, "INSERT INTO records(trace_id, step, sequence, layer, encoding, count, data) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    }

    ~SqlTraceWriter() override   // finalize the statements before the scope rolls back
    {
        insert_.reset();
        expertInsert_.reset();
    }

    void add(const Record& r) override
    {
        if (committed_) throw InputError(traceWhere(path_, meta_.name), "record added after commit");
        const int32_t slots = meta_.layerSlots();
        const int32_t S = meta_.sequenceCount();
        const std::string where = recordWhere(path_, meta_.name, r.step, r.sequence, r.layer, S);
        const bool aggregated = meta_.layer_mode == LayerMode::Aggregated;
        if (r.sequence < 0 || r.sequence >= S)
            throw InputError(where, "sequence " + std::to_string(r.sequence) + " outside 0.." + std::to_string(S - 1));
        if (aggregated && r.layer != -1)
            throw InputError(where, "layer " + std::to_string(r.layer) + " in an aggregated trace (must be -1)");
        if (!aggregated && (r.layer < 0 || r.layer >= meta_.layers))
            throw InputError(where, "layer " + std::to_string(r.layer) + " outside 0.." + std::to_string(meta_.layers - 1));
        if (!stepsOpen_ && next_ >= meta_.recordCount())
            throw InputError(where, "more records than T=" + std::to_string(meta_.steps) +
                                        (S > 1 ? " x S=" + std::to_string(S) : std::string()) +
                                        (slots > 1 ? " x L=" + std::to_string(slots) : std::string()));
        const int64_t wantStep = meta_.stepOfRecord(next_);
        const int32_t wantSeq = meta_.sequenceOfRecord(next_);
        const int32_t wantLayer = meta_.layerOfRecord(next_);
        if (r.step != wantStep || r.sequence != wantSeq || r.layer != wantLayer)
            throw InputError(where, "out of order: expected (t=" + std::to_string(wantStep) +
                                        (S > 1 ? ", s=" + std::to_string(wantSeq) : std::string()) + ", l=" +
                                        std::to_string(wantLayer) + ")");
        const int64_t n = meta_.contextAt(r.sequence, r.step);
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
        if (meta_.kind == RecordKind::Ranked) {
            const std::string problem = r.value.size() == r.index.size() ? rankScoreProblem(r.value)
                                                                         : "ranked record without rank scores";
            if (!problem.empty()) throw InputError(where, problem);
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
            enc = encodeRecord(recEnc == Encoding::IndexStepDelta ? Encoding::IndexVarint : recEnc, n, r.index, r.value,
                               blob_);
        } catch (const InputError& e) {
            throw InputError(where, e.problem());
        }
        // A step-delta trace: a key record (index_varint) at every step t % K == 0 and
        // wherever the delta would not be smaller; else the delta from the same sequence's
        // and layer's set at the step before. count is the set's size either way.
        if (recEnc == Encoding::IndexStepDelta) {
            auto& prev = prev_[static_cast<size_t>(r.sequence) * static_cast<size_t>(slots) +
                               static_cast<size_t>(aggregated ? 0 : r.layer)];
            recEnc = Encoding::IndexVarint;
            if (r.step % keyInterval_ != 0) {
                encodeStepDelta(prev, r.index, delta_);
                if (delta_.size() < blob_.size()) {
                    blob_.swap(delta_);
                    recEnc = Encoding::IndexStepDelta;
                }
            }
            prev.assign(r.index.begin(), r.index.end());
        }
        insert_->reset();
        insert_->bind(1, id_);
        insert_->bind(2, r.step);
        insert_->bind(3, static_cast<int64_t>(r.sequence));
        insert_->bind(4, static_cast<int64_t>(r.layer));
        insert_->bind(5, std::string(toString(recEnc)));
        insert_->bind(6, enc.count);
        insert_->bindBlob(7, blob_);
        insert_->step();
        insert_->reset();
        entries_ += enc.nonzero;
        ++next_;
    }

    void setExperts(const ExpertSets& sets) override
    {
        if (committed_) throw InputError(traceWhere(path_, meta_.name), "expert sets added after commit");
        if (streamExperts_ > 0) throw InputError(traceWhere(path_, meta_.name), "expert sets given twice");
        experts_ = sets;
    }

    void beginExperts(int32_t experts) override
    {
        const std::string where = traceWhere(path_, meta_.name) + " expert sets";
        if (committed_) throw InputError(where, "added after commit");
        if (streamExperts_ > 0 || !experts_.empty()) throw InputError(where, "given twice");
        if (experts < 1 || experts > kMaxExperts)
            throw InputError(where, "experts per layer E = " + std::to_string(experts) + " outside 1.." +
                                        std::to_string(kMaxExperts));
        if (!stepsOpen_) checkExpertWords(where, meta_.steps, experts, meta_.layers);
        streamExperts_ = experts;
        writeExpertCount(db_, path_, id_, experts);
        expertInsert_ = std::make_unique<Statement>(db_, path_, kInsertExpertSet);
    }

    void addExpertSet(int64_t t, int32_t l, std::span<const uint16_t> ids) override
    {
        const std::string where = traceWhere(path_, meta_.name) + " expert set (t=" + std::to_string(t) + ", l=" +
                                  std::to_string(l) + ")";
        if (committed_) throw InputError(where, "added after commit");
        if (streamExperts_ == 0) throw InputError(where, "added before beginExperts");
        const int64_t wantStep = nextSet_ / meta_.layers;
        const auto wantLayer = static_cast<int32_t>(nextSet_ % meta_.layers);
        if (t != wantStep || l != wantLayer)
            throw InputError(where, "out of order: expected (t=" + std::to_string(wantStep) + ", l=" +
                                        std::to_string(wantLayer) + ")");
        if (!stepsOpen_ && t >= meta_.steps)
            throw InputError(where, "more expert sets than T x L = " + std::to_string(meta_.steps * meta_.layers));
        for (size_t k = 0; k < ids.size(); ++k) {
            if (ids[k] >= streamExperts_)
                throw InputError(where, "expert id " + std::to_string(ids[k]) + " >= E = " + std::to_string(streamExperts_));
            if (k > 0 && ids[k] <= ids[k - 1])
                throw InputError(where, "expert ids not strictly ascending (" + std::to_string(ids[k - 1]) + " then " +
                                            std::to_string(ids[k]) + ")");
        }
        writeExpertSet(*expertInsert_, id_, t, l, ids, blob_);
        ++nextSet_;
    }

    void commit() override
    {
        const std::string where = traceWhere(path_, meta_.name);
        if (committed_) throw InputError(where, "committed twice");
        const int64_t perStep = int64_t{meta_.layerSlots()} * meta_.sequenceCount();
        if (stepsOpen_) {
            if (next_ % perStep != 0)
                throw InputError(where, "incomplete last step t=" + std::to_string(next_ / perStep) + ": " +
                                            std::to_string(next_ % perStep) + " of " + std::to_string(perStep) +
                                            (meta_.sequenceCount() > 1 ? " records (sequences x layers)" : " layers"));
            meta_.steps = next_ / perStep;
            checkDimensions(where, meta_.prefill, meta_.steps, meta_.layers);
            const std::string problem = sequenceProblem(meta_);
            if (!problem.empty()) throw InputError(where, problem);
        } else if (next_ != meta_.recordCount()) {
            const int64_t missing = meta_.recordCount() - next_;
            throw InputError(where, "incomplete trace: " + std::to_string(missing) +
                                        (missing == 1 ? " record" : " records") + " missing (have " + std::to_string(next_) + " of " +
                                        std::to_string(meta_.recordCount()) + ")");
        }
        if (streamExperts_ > 0) {
            checkExpertWords(where + " expert sets", meta_.steps, streamExperts_, meta_.layers);
            const int64_t want = meta_.steps * meta_.layers;
            if (nextSet_ != want)
                throw InputError(where + " expert sets", "incomplete: " + std::to_string(nextSet_) + " of T x L = " +
                                                             std::to_string(want) + " sets");
            expertInsert_.reset();
        }
        writeExpertSets(db_, path_, id_, meta_, experts_);
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
    // index_step_delta: K, the last set of every (sequence, layer slot), a delta's bytes.
    int32_t keyInterval_ = 0;
    std::vector<std::vector<uint32_t>> prev_;
    std::vector<unsigned char> delta_;
    ExpertSets experts_;
    int32_t streamExperts_ = 0;   // E of streamed sets (beginExperts), 0: none
    std::unique_ptr<Statement> expertInsert_;
    int64_t nextSet_ = 0;         // streamed sets written
    int64_t id_ = 0;
    int64_t next_ = 0;
    int64_t entries_ = 0;
    bool committed_ = false;
};

} // namespace

std::unique_ptr<StoreTransaction> beginTransaction(sqlite3* db, const std::string& path)
{
    return std::make_unique<SqlTransaction>(db, path);
}

std::unique_ptr<TraceWriter> beginSqlTrace(sqlite3* db, const std::string& path, const TraceMeta& meta,
                                           Encoding encoding, bool replace, int32_t keyInterval)
{
    return std::make_unique<SqlTraceWriter>(db, path, meta, encoding, replace, keyInterval);
}

} // namespace kvtier::store
