#pragma once
// A Trace (MODEL.md §1, §8): one decode run of S >= 1 sequences in lock step. Metadata
// plus one record per (step, sequence, layer) — scores, an explicit selection or a ranked
// list — and, for MoE models, each step's active experts (MODEL.md §9). In memory a record
// is sparse: the tokens with a non-zero score (or the selected tokens, value 1), ascending
// index. Zero scores are implicit, which is exact for every selection rule of MODEL.md §2
// (ties break by lower index, so the zero-score tail is in index order). A ranked record
// (MODEL.md §8) is held as rank scores: the entry ranked first of `len` scores len, the
// last scores 1 (rankScoresFromOrder), so the §2 order of its scores is exactly its ranking.
#include "core/model/experts.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace kvtier {

enum class RecordKind { Scores, Selection, Ranked };
enum class LayerMode { Aggregated, PerLayer };

// How a record's BLOB is stored (docs/TRACE_FORMAT.md).
enum class Encoding {
    DenseF32,   // n_t little-endian float32
    DenseF16,   // n_t little-endian IEEE half
    SparseF32,  // count x (uint32 index, float32 score), ascending index
    SparseF16,  // count x uint32 index, then count x half score, ascending index
    IndexU32,   // count x uint32 index (selections), ascending
    RankedU32,  // count x uint32 index (ranked records), in rank order (MODEL.md §8)
    IndexVarint,   // selections: LEB128 varints of the gaps (first index, then i_k - i_{k-1} - 1)
    RankedVarint,  // ranked records: zigzag LEB128 of each entry's u32 difference to the one before
    // Selections as the difference from the same (sequence, layer)'s record of the step
    // before: removed and added indices (docs/TRACE_FORMAT.md "Step-delta selections").
    // Only delta records carry this name; a step-delta trace's key records are index_varint.
    IndexStepDelta,
};

const char* toString(RecordKind k);
const char* toString(LayerMode m);
const char* toString(Encoding e);
RecordKind recordKindFromString(const std::string& s);   // throws InputError
LayerMode layerModeFromString(const std::string& s);      // throws InputError
Encoding encodingFromString(const std::string& s);        // throws InputError
// The record kind an encoding stores: selection (index_u32, index_varint, index_step_delta), ranked
// (ranked_u32, ranked_varint) or scores (the four float encodings).
RecordKind kindOfEncoding(Encoding e);

// Limits of a stored trace (docs/TRACE_FORMAT.md "Limits"). Token indices are u32, so a
// context never holds more than 2^32 tokens: P + T <= 2^32 (n_t = P + t < P + T).
inline constexpr int64_t kMaxContextTokens = int64_t{1} << 32;
// Layers: real models have at most a few hundred; the bound keeps per-step buffers (one
// list per layer) small whatever a file claims. The same bound as a scenario's model.layers.
inline constexpr int64_t kMaxLayers = 65536;
// Sequences of one trace (MODEL.md §8): serving batches hold tens to thousands of requests.
inline constexpr int64_t kMaxSequences = 65536;
// Entries of one ranked record: rank scores are float and exact up to 2^24.
inline constexpr int64_t kMaxRankedEntries = int64_t{1} << 24;
// index_step_delta traces (docs/TRACE_FORMAT.md "Step-delta selections"): a key record at
// every step t with t % K == 0, K = the trace's key interval, 1 .. kMaxKeyInterval. The
// bound keeps a reader that starts at step s from decoding more than K - 1 steps before s,
// and the entries a file may claim within K x its bytes.
inline constexpr int32_t kDefaultKeyInterval = 64;
inline constexpr int32_t kMaxKeyInterval = 4096;

struct TraceMeta {
    std::string name;
    std::string description;       // one line, shown in lists
    std::string source;            // where it came from (file, generator command, ...)
    std::string model_name;
    std::string head_reduction = "mean";
    std::string notes;
    int64_t prefill = 0;           // P (P_0 when the trace holds several sequences)
    int64_t steps = 0;             // T
    int32_t layers = 1;            // L
    LayerMode layer_mode = LayerMode::Aggregated;
    RecordKind kind = RecordKind::Scores;
    // MODEL.md §8: P_s of every sequence when the trace holds S > 1 sequences (then
    // sequence_prefill[0] == prefill); empty for S = 1.
    std::vector<int64_t> sequence_prefill;

    int32_t sequenceCount() const { return sequence_prefill.empty() ? 1 : static_cast<int32_t>(sequence_prefill.size()); }
    int64_t prefillOf(int32_t s) const { return sequence_prefill.empty() ? prefill : sequence_prefill[static_cast<size_t>(s)]; }
    // Records a complete trace has: T (aggregated) or T * L (per layer), times S.
    int64_t recordCount() const {
        return (layer_mode == LayerMode::Aggregated ? steps : steps * layers) * sequenceCount();
    }
    int32_t layerSlots() const { return layer_mode == LayerMode::Aggregated ? 1 : layers; }
    int64_t contextAt(int64_t t) const { return prefill + t; }   // n_t (of sequence 0)
    int64_t contextAt(int32_t s, int64_t t) const { return prefillOf(s) + t; }   // n_t^s
    // The k-th record of a complete trace, in storage order (step, sequence, layer slot).
    int64_t stepOfRecord(int64_t k) const { return k / (int64_t{layerSlots()} * sequenceCount()); }
    int32_t sequenceOfRecord(int64_t k) const { return static_cast<int32_t>((k / layerSlots()) % sequenceCount()); }
    int32_t layerOfRecord(int64_t k) const {
        return layer_mode == LayerMode::Aggregated ? -1 : static_cast<int32_t>(k % layerSlots());
    }
};

// Checks the sequence list of a trace (S <= kMaxSequences, P_s >= 0, P_s + T <= 2^32,
// sequence_prefill[0] == prefill); returns the problem, empty when none. `steps` may be -1.
std::string sequenceProblem(const TraceMeta& m);

// Rank scores of a ranked record given in rank order (first = most attended): ascending
// index and value len - rank. Throws InputError("", problem) on a repeated index or more
// than kMaxRankedEntries entries.
void rankScoresFromOrder(std::span<const uint32_t> order, std::vector<uint32_t>& index,
                         std::vector<float>& value);
// The ranking back from rank scores (index ascending, values a permutation of 1..len).
std::vector<uint32_t> orderFromRankScores(std::span<const uint32_t> index, std::span<const float> value);
// Empty when `value` is a permutation of 1..len (what a ranked record holds), else why not.
std::string rankScoreProblem(std::span<const float> value);

// One record. `layer` is -1 for an aggregated trace; `sequence` is 0 unless S > 1.
struct Record {
    int64_t step = 0;
    int32_t sequence = 0;
    int32_t layer = -1;
    std::vector<uint32_t> index;  // ascending, each < n_t
    std::vector<float> value;     // same length as index; scores > 0 (selection: all 1)
};

// A whole trace in memory, records in CSR form, ordered by (step, layer).
// Built by TraceStore::load or by the generator; what the engine reads.
class Trace {
public:
    Trace() = default;
    explicit Trace(TraceMeta meta);

    const TraceMeta& meta() const { return meta_; }
    TraceMeta& meta() { return meta_; }

    // Appends the next record; must come in (step, sequence, layer-slot) order. Validates it.
    void append(const Record& r);
    void append(int64_t step, int32_t layer, std::span<const uint32_t> index,
                std::span<const float> value);
    void append(int64_t step, int32_t sequence, int32_t layer, std::span<const uint32_t> index,
                std::span<const float> value);
    void reserve(size_t records, size_t entries);

    bool complete() const { return !window_ && static_cast<int64_t>(offsets_.size()) - 1 == meta_.recordCount(); }
    // Records held (all of them, or the window's).
    int64_t recordCount() const { return static_cast<int64_t>(offsets_.size()) - 1; }

    // A window of steps (streaming analysis, engine/stream_analysis.hpp): drops the records
    // held (keeping their memory for the next window) and takes records from step `firstStep`
    // on. recordId() and the selection stage then address steps firstStep .. firstStep +
    // heldSteps() - 1 by their step numbers in the whole run; meta() stays the whole trace's.
    void startWindow(int64_t firstStep);
    int64_t firstStep() const { return first_step_; }
    bool isWindow() const { return window_; }
    // Whole steps held: every (sequence, layer) record of each.
    int64_t heldSteps() const { return recordCount() / (int64_t{meta_.layerSlots()} * meta_.sequenceCount()); }
    size_t entryCount() const { return index_.size(); }

    // slot = layer for per-layer traces, 0 for aggregated. The first form is sequence 0's.
    size_t recordId(int64_t step, int32_t slot) const { return recordId(step, 0, slot); }
    size_t recordId(int64_t step, int32_t sequence, int32_t slot) const {
        return (static_cast<size_t>(step - first_step_) * static_cast<size_t>(meta_.sequenceCount()) + static_cast<size_t>(sequence)) *
                   static_cast<size_t>(meta_.layerSlots()) +
               static_cast<size_t>(slot);
    }
    std::span<const uint32_t> indices(size_t record) const {
        return {index_.data() + offsets_[record], offsets_[record + 1] - offsets_[record]};
    }
    std::span<const float> values(size_t record) const {
        return {value_.data() + offsets_[record], offsets_[record + 1] - offsets_[record]};
    }
    // Relevance of one token at one record (0 when absent); binary search.
    float valueAt(size_t record, uint32_t token) const;

    // The per-step expert sets X[t][l] (MODEL.md §9); empty when the trace has none.
    const ExpertSets& experts() const { return experts_; }
    // Throws InputError when the sets' steps or layers differ from the trace's T and L.
    void setExperts(ExpertSets sets);

private:
    TraceMeta meta_;
    int64_t first_step_ = 0;
    bool window_ = false;
    ExpertSets experts_;
    std::vector<size_t> offsets_{0};
    std::vector<uint32_t> index_;
    std::vector<float> value_;
};

} // namespace kvtier
