#include "core/model/trace.hpp"

#include "core/model/error.hpp"

#include <algorithm>
#include <cmath>

namespace kvtier {

const char* toString(RecordKind k) { return k == RecordKind::Scores ? "scores" : "selection"; }
const char* toString(LayerMode m) { return m == LayerMode::Aggregated ? "aggregated" : "per-layer"; }
const char* toString(Encoding e)
{
    switch (e) {
    case Encoding::DenseF32: return "f32";
    case Encoding::DenseF16: return "f16";
    case Encoding::SparseF32: return "sparse_f32";
    case Encoding::SparseF16: return "sparse_f16";
    case Encoding::IndexU32: return "index_u32";
    }
    return "?";
}

RecordKind recordKindFromString(const std::string& s)
{
    if (s == "scores") return RecordKind::Scores;
    if (s == "selection") return RecordKind::Selection;
    throw InputError("", "unknown record kind '" + s + "' (expected scores or selection)");
}

LayerMode layerModeFromString(const std::string& s)
{
    if (s == "aggregated") return LayerMode::Aggregated;
    if (s == "per-layer") return LayerMode::PerLayer;
    throw InputError("", "unknown layer mode '" + s + "' (expected aggregated or per-layer)");
}

Encoding encodingFromString(const std::string& s)
{
    for (Encoding e : {Encoding::DenseF32, Encoding::DenseF16, Encoding::SparseF32,
                       Encoding::SparseF16, Encoding::IndexU32})
        if (s == toString(e)) return e;
    throw InputError("", "unknown encoding '" + s +
                             "' (expected f32, f16, sparse_f32, sparse_f16 or index_u32)");
}

Trace::Trace(TraceMeta meta) : meta_(std::move(meta)) {}

void Trace::setExperts(ExpertSets sets)
{
    if (!sets.empty() && (sets.steps() != meta_.steps || sets.layers() != meta_.layers))
        throw InputError("trace '" + meta_.name + "' expert sets",
                         std::to_string(sets.steps()) + " steps x " + std::to_string(sets.layers()) +
                             " layers, but the trace has T = " + std::to_string(meta_.steps) + ", L = " +
                             std::to_string(meta_.layers));
    experts_ = std::move(sets);
}

void Trace::reserve(size_t records, size_t entries)
{
    offsets_.reserve(records + 1);
    index_.reserve(entries);
    value_.reserve(entries);
}

void Trace::append(const Record& r) { append(r.step, r.layer, r.index, r.value); }

void Trace::append(int64_t step, int32_t layer, std::span<const uint32_t> index,
                   std::span<const float> value)
{
    const int64_t next = recordCount();
    const int32_t slots = meta_.layerSlots();
    const int64_t wantStep = next / slots;
    const int32_t wantLayer = meta_.layer_mode == LayerMode::Aggregated ? -1 : static_cast<int32_t>(next % slots);
    const std::string where = "trace '" + meta_.name + "' record (t=" + std::to_string(step) +
                              ", l=" + std::to_string(layer) + ")";
    if (next >= meta_.recordCount())
        throw InputError(where, "more records than T=" + std::to_string(meta_.steps) +
                                    (slots > 1 ? " x L=" + std::to_string(slots) : std::string()));
    if (step != wantStep || layer != wantLayer)
        throw InputError(where, "out of order: expected (t=" + std::to_string(wantStep) +
                                    ", l=" + std::to_string(wantLayer) + ")");
    if (index.size() != value.size())
        throw InputError(where, "index and value lengths differ");
    const int64_t n = meta_.contextAt(step);
    for (size_t k = 0; k < index.size(); ++k) {
        if (static_cast<int64_t>(index[k]) >= n)
            throw InputError(where, "token index " + std::to_string(index[k]) +
                                        " >= n_t = " + std::to_string(n));
        if (k > 0 && index[k] <= index[k - 1])
            throw InputError(where, "token indices not strictly ascending at " + std::to_string(index[k]));
        if (!std::isfinite(value[k]) || value[k] < 0)
            throw InputError(where, "score of token " + std::to_string(index[k]) +
                                        " is negative or not finite");
    }
    for (size_t k = 0; k < index.size(); ++k)
        if (value[k] > 0) {
            index_.push_back(index[k]);
            value_.push_back(value[k]);
        }
    offsets_.push_back(index_.size());
}

float Trace::valueAt(size_t record, uint32_t token) const
{
    auto idx = indices(record);
    auto it = std::lower_bound(idx.begin(), idx.end(), token);
    if (it == idx.end() || *it != token) return 0.0f;
    return values(record)[static_cast<size_t>(it - idx.begin())];
}

} // namespace kvtier
