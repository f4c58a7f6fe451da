// Reading a trace record by record, each checked against its place and decoded; an
// index_step_delta record against the set of its (sequence, layer) at the step before.
#include "core/store/store_sql.hpp"

#include "core/model/error.hpp"
#include "core/store/blob_codec.hpp"

namespace kvtier::store {

SqlTraceReader::SqlTraceReader(sqlite3* db, const std::string& path, Row row, int64_t firstStep)
    : path_(path), row_(std::move(row)),
      q_(db, path_, "SELECT step, sequence, layer, encoding, count, data FROM records "
                    "WHERE trace_id = ?1 AND step >= ?2 ORDER BY step, sequence, layer"),
      keyInterval_(row_.summary.key_interval)
{
    const TraceMeta& m = row_.summary.meta;
    const int64_t perStep = int64_t{m.layerSlots()} * m.sequenceCount();
    // A step-delta trace is decoded from the key records at or before firstStep.
    const int64_t start = keyInterval_ > 0 ? firstStep - firstStep % keyInterval_ : firstStep;
    if (keyInterval_ > 0) prev_.resize(static_cast<size_t>(perStep));
    next_ = start * perStep;
    emitFrom_ = firstStep * perStep;
    q_.bind(1, row_.id);
    q_.bind(2, start);
}

bool SqlTraceReader::next(Record& out)
{
    while (readOne(out))
        if (next_ > emitFrom_) return true;
    return false;
}

bool SqlTraceReader::readOne(Record& out)
{
    const TraceMeta& m = row_.summary.meta;
    const int32_t slots = m.layerSlots();
    const int32_t S = m.sequenceCount();
    const int64_t wantStep = m.stepOfRecord(next_);
    const int32_t wantSeq = m.sequenceOfRecord(next_);
    const int32_t wantLayer = m.layerOfRecord(next_);
    if (done_) return false;   // stepping a finished statement would restart it
    if (!q_.step()) {
        done_ = true;
        if (next_ < m.recordCount())
            throw InputError(recordWhere(path_, m.name, wantStep, wantSeq, wantLayer, S),
                             "record missing (the trace has " + std::to_string(next_) + " of " +
                                 std::to_string(m.recordCount()) + " records)");
        return false;
    }
    const int64_t t = q_.int64(0);
    const int64_t s = q_.int64(1);
    const int64_t l = q_.int64(2);
    const std::string where = recordWhere(path_, m.name, t, s, l, S);
    if (next_ >= m.recordCount())
        throw InputError(where, "more records than the trace's T=" + std::to_string(m.steps) +
                                    (S > 1 ? " x S=" + std::to_string(S) : std::string()) +
                                    (slots > 1 ? " x L=" + std::to_string(slots) : std::string()));
    if (t != wantStep || s != wantSeq || l != wantLayer)
        throw InputError(recordWhere(path_, m.name, wantStep, wantSeq, wantLayer, S),
                         "record missing or misplaced (found (t=" + std::to_string(t) +
                             (S > 1 || s != 0 ? ", s=" + std::to_string(s) : std::string()) + ", l=" +
                             std::to_string(l) + ") next)");
    Encoding enc = Encoding::SparseF32;
    const std::string encName = q_.text(3);
    try {
        enc = encodingFromString(encName);
    } catch (const InputError&) {
        throw InputError(where, "unknown encoding '" + encName + "'");
    }
    // Selections: index_u32, index_varint or index_step_delta; ranked: ranked_u32 or
    // ranked_varint; scores: the float encodings. Records of one trace may differ (a dense
    // trace's sparse rows, a step-delta trace's key records).
    if (kindOfEncoding(enc) != m.kind)
        throw InputError(where, std::string("encoding ") + toString(enc) + " does not fit a " +
                                    toString(m.kind) + " trace");
    const size_t slot = static_cast<size_t>(wantSeq) * static_cast<size_t>(slots) +
                        static_cast<size_t>(wantLayer < 0 ? 0 : wantLayer);
    if (enc == Encoding::IndexStepDelta) {
        // A delta needs its trace's key interval and the record before it: never at a key
        // step (t % K == 0, step 0 included), so every window start has its key records.
        if (keyInterval_ == 0)
            throw InputError(where, "an index_step_delta record in a trace stored as " +
                                        traceEncodingText(row_.summary.encoding, 0) +
                                        " (delta records belong to index_step_delta/K traces)");
        if (t % keyInterval_ == 0)
            throw InputError(where, "a delta record at step " + std::to_string(t) +
                                        ", where the key interval K = " + std::to_string(keyInterval_) +
                                        " puts a key record (no previous record to apply it to)");
    }
    try {
        if (enc == Encoding::IndexStepDelta)
            decodeStepDelta(m.contextAt(wantSeq, t), q_.int64(4), q_.blob(5), prev_[slot], out.index, out.value);
        else
            decodeRecord(enc, m.contextAt(wantSeq, t), q_.int64(4), q_.blob(5), out.index, out.value);
    } catch (const InputError& e) {
        throw InputError(where, e.problem());
    }
    if (keyInterval_ > 0) prev_[slot].assign(out.index.begin(), out.index.end());
    out.step = t;
    out.sequence = wantSeq;
    out.layer = static_cast<int32_t>(l);
    ++next_;
    return true;
}

} // namespace kvtier::store
