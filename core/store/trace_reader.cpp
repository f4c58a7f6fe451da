// Reading a trace record by record, each checked against its place and decoded.
#include "core/store/store_sql.hpp"

#include "core/model/error.hpp"
#include "core/store/blob_codec.hpp"

namespace kvtier::store {

SqlTraceReader::SqlTraceReader(sqlite3* db, const std::string& path, Row row)
    : path_(path), row_(std::move(row)),
      q_(db, path_, "SELECT step, layer, encoding, count, data FROM records "
                    "WHERE trace_id = ?1 ORDER BY step, layer")
{
    q_.bind(1, row_.id);
}

bool SqlTraceReader::next(Record& out)
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

} // namespace kvtier::store
