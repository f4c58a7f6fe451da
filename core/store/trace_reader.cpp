// Reading a trace record by record, each checked against its place and decoded.
#include "core/store/store_sql.hpp"

#include "core/model/error.hpp"
#include "core/store/blob_codec.hpp"

namespace kvtier::store {

SqlTraceReader::SqlTraceReader(sqlite3* db, const std::string& path, Row row)
    : path_(path), row_(std::move(row)),
      q_(db, path_, "SELECT step, sequence, layer, encoding, count, data FROM records "
                    "WHERE trace_id = ?1 ORDER BY step, sequence, layer")
{
    q_.bind(1, row_.id);
}

bool SqlTraceReader::next(Record& out)
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
    // Selections: index_u32 or index_varint; ranked: ranked_u32 or ranked_varint; scores:
    // the float encodings. Records of one trace may differ (a dense trace's sparse rows).
    if (kindOfEncoding(enc) != m.kind)
        throw InputError(where, std::string("encoding ") + toString(enc) + " does not fit a " +
                                    toString(m.kind) + " trace");
    try {
        decodeRecord(enc, m.contextAt(wantSeq, t), q_.int64(4), q_.blob(5), out.index, out.value);
    } catch (const InputError& e) {
        throw InputError(where, e.problem());
    }
    out.step = t;
    out.sequence = wantSeq;
    out.layer = static_cast<int32_t>(l);
    ++next_;
    return true;
}

} // namespace kvtier::store
