#include "core/model/trace.hpp"

#include "core/model/error.hpp"

#include <algorithm>
#include <cmath>

namespace kvtier {

const char* toString(RecordKind k)
{
    switch (k) {
    case RecordKind::Scores: return "scores";
    case RecordKind::Selection: return "selection";
    case RecordKind::Ranked: return "ranked";
    }
    return "?";
}
const char* toString(LayerMode m) { return m == LayerMode::Aggregated ? "aggregated" : "per-layer"; }
const char* toString(Encoding e)
{
    switch (e) {
    case Encoding::DenseF32: return "f32";
    case Encoding::DenseF16: return "f16";
    case Encoding::SparseF32: return "sparse_f32";
    case Encoding::SparseF16: return "sparse_f16";
    case Encoding::IndexU32: return "index_u32";
    case Encoding::RankedU32: return "ranked_u32";
    case Encoding::IndexVarint: return "index_varint";
    case Encoding::RankedVarint: return "ranked_varint";
    case Encoding::IndexStepDelta: return "index_step_delta";
    }
    return "?";
}

RecordKind recordKindFromString(const std::string& s)
{
    if (s == "scores") return RecordKind::Scores;
    if (s == "selection") return RecordKind::Selection;
    if (s == "ranked") return RecordKind::Ranked;
    throw InputError("", "unknown record kind '" + s + "' (expected scores, selection or ranked)");
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
                       Encoding::SparseF16, Encoding::IndexU32, Encoding::RankedU32, Encoding::IndexVarint,
                       Encoding::RankedVarint, Encoding::IndexStepDelta})
        if (s == toString(e)) return e;
    throw InputError("", "unknown encoding '" + s +
                             "' (expected f32, f16, sparse_f32, sparse_f16, index_u32, ranked_u32, index_varint, "
                             "ranked_varint or index_step_delta)");
}

RecordKind kindOfEncoding(Encoding e)
{
    switch (e) {
    case Encoding::IndexU32:
    case Encoding::IndexVarint:
    case Encoding::IndexStepDelta: return RecordKind::Selection;
    case Encoding::RankedU32:
    case Encoding::RankedVarint: return RecordKind::Ranked;
    case Encoding::DenseF32:
    case Encoding::DenseF16:
    case Encoding::SparseF32:
    case Encoding::SparseF16: return RecordKind::Scores;
    }
    return RecordKind::Scores;
}

std::string sequenceProblem(const TraceMeta& m)
{
    const auto& p = m.sequence_prefill;
    if (p.empty()) return {};
    if (static_cast<int64_t>(p.size()) > kMaxSequences)
        return "S = " + std::to_string(p.size()) + " sequences exceed the limit of " + std::to_string(kMaxSequences);
    if (p[0] != m.prefill)
        return "sequence 0 has prefill " + std::to_string(p[0]) + ", but the trace's P is " + std::to_string(m.prefill);
    const int64_t steps = std::max<int64_t>(m.steps, 0);
    for (size_t s = 0; s < p.size(); ++s) {
        if (p[s] < 0) return "sequence " + std::to_string(s) + " has a negative prefill " + std::to_string(p[s]);
        if (p[s] > kMaxContextTokens - steps)
            return "sequence " + std::to_string(s) + ": prefill " + std::to_string(p[s]) + " and steps T = " +
                   std::to_string(steps) + " exceed the limit P + T <= " + std::to_string(kMaxContextTokens);
    }
    return {};
}

void rankScoresFromOrder(std::span<const uint32_t> order, std::vector<uint32_t>& index, std::vector<float>& value)
{
    if (static_cast<int64_t>(order.size()) > kMaxRankedEntries)
        throw InputError("", "a ranked record of " + std::to_string(order.size()) + " entries exceeds the limit of " +
                                 std::to_string(kMaxRankedEntries));
    const size_t len = order.size();
    std::vector<std::pair<uint32_t, float>> pairs(len);
    for (size_t k = 0; k < len; ++k) pairs[k] = {order[k], static_cast<float>(len - k)};
    std::sort(pairs.begin(), pairs.end());
    for (size_t k = 1; k < len; ++k)
        if (pairs[k].first == pairs[k - 1].first)
            throw InputError("", "token index " + std::to_string(pairs[k].first) + " appears twice in the ranked list");
    index.resize(len);
    value.resize(len);
    for (size_t k = 0; k < len; ++k) {
        index[k] = pairs[k].first;
        value[k] = pairs[k].second;
    }
}

std::vector<uint32_t> orderFromRankScores(std::span<const uint32_t> index, std::span<const float> value)
{
    const size_t len = index.size();
    std::vector<uint32_t> order(len);
    for (size_t k = 0; k < len; ++k) order[len - static_cast<size_t>(value[k])] = index[k];
    return order;
}

std::string rankScoreProblem(std::span<const float> value)
{
    const size_t len = value.size();
    if (static_cast<int64_t>(len) > kMaxRankedEntries)
        return "a ranked record of " + std::to_string(len) + " entries exceeds the limit of " +
               std::to_string(kMaxRankedEntries);
    std::vector<uint8_t> seen(len + 1, 0);
    for (float v : value) {
        if (!(v >= 1.0f && v <= static_cast<float>(len)) || v != std::floor(v))
            return "rank score " + std::to_string(v) + " is not an integer in 1.." + std::to_string(len);
        const auto r = static_cast<size_t>(v);
        if (seen[r]) return "rank score " + std::to_string(r) + " appears twice";
        seen[r] = 1;
    }
    return {};
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

void Trace::startWindow(int64_t firstStep)
{
    if (firstStep < 0 || firstStep > meta_.steps)
        throw InputError("trace '" + meta_.name + "'", "window starts at step " + std::to_string(firstStep) +
                                                         " outside T = " + std::to_string(meta_.steps));
    first_step_ = firstStep;
    window_ = true;
    offsets_.assign(1, 0);
    index_.clear();
    value_.clear();
}

void Trace::reserve(size_t records, size_t entries)
{
    offsets_.reserve(records + 1);
    index_.reserve(entries);
    value_.reserve(entries);
}

void Trace::append(const Record& r) { append(r.step, r.sequence, r.layer, r.index, r.value); }

void Trace::append(int64_t step, int32_t layer, std::span<const uint32_t> index,
                   std::span<const float> value)
{
    append(step, 0, layer, index, value);
}

void Trace::append(int64_t step, int32_t sequence, int32_t layer, std::span<const uint32_t> index,
                   std::span<const float> value)
{
    const int64_t rowsPerStep = int64_t{meta_.layerSlots()} * meta_.sequenceCount();
    const int64_t next = recordCount() + first_step_ * rowsPerStep;
    const int32_t slots = meta_.layerSlots();
    const int32_t S = meta_.sequenceCount();
    const int64_t wantStep = meta_.stepOfRecord(next);
    const int32_t wantSeq = meta_.sequenceOfRecord(next);
    const int32_t wantLayer = meta_.layerOfRecord(next);
    // Built when a problem is found only: a record is appended for every few hundred entries.
    const auto where = [&] {
        return "trace '" + meta_.name + "' record (t=" + std::to_string(step) +
               (S > 1 ? ", s=" + std::to_string(sequence) : std::string()) + ", l=" + std::to_string(layer) + ")";
    };
    if (next >= meta_.recordCount())
        throw InputError(where(), "more records than T=" + std::to_string(meta_.steps) +
                                    (S > 1 ? " x S=" + std::to_string(S) : std::string()) +
                                    (slots > 1 ? " x L=" + std::to_string(slots) : std::string()));
    if (step != wantStep || sequence != wantSeq || layer != wantLayer)
        throw InputError(where(), "out of order: expected (t=" + std::to_string(wantStep) +
                                    (S > 1 ? ", s=" + std::to_string(wantSeq) : std::string()) +
                                    ", l=" + std::to_string(wantLayer) + ")");
    if (index.size() != value.size())
        throw InputError(where(), "index and value lengths differ");
    if (meta_.kind == RecordKind::Ranked) {
        const std::string problem = rankScoreProblem(value);
        if (!problem.empty()) throw InputError(where(), problem);
    }
    const int64_t n = meta_.contextAt(sequence, step);
    bool allPositive = true;
    for (size_t k = 0; k < index.size(); ++k) {
        if (static_cast<int64_t>(index[k]) >= n)
            throw InputError(where(), "token index " + std::to_string(index[k]) +
                                        " >= n_t = " + std::to_string(n));
        if (k > 0 && index[k] <= index[k - 1])
            throw InputError(where(), "token indices not strictly ascending at " + std::to_string(index[k]));
        if (!std::isfinite(value[k]) || value[k] < 0)
            throw InputError(where(), "score of token " + std::to_string(index[k]) +
                                        " is negative or not finite");
        allPositive = allPositive && value[k] > 0;
    }
    if (allPositive) {   // the usual case: every entry is kept, copied in one go
        index_.insert(index_.end(), index.begin(), index.end());
        value_.insert(value_.end(), value.begin(), value.end());
    } else {
        for (size_t k = 0; k < index.size(); ++k)
            if (value[k] > 0) {
                index_.push_back(index[k]);
                value_.push_back(value[k]);
            }
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
