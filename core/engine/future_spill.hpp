#pragma once
// The oracles' future in a streamed analysis (docs/PERFORMANCE.md "Streamed analysis"). A
// pre-pass selects the trace a window at a time and appends each window's read units
// (Selection::step_units) to a spill file; finish() then walks that file backwards, one
// chunk at a time with per-unit state only, writes every read's next read of the same unit
// beside it and keeps every unit's first read. In the analysis proper each oracle gets a
// feed (policies/future_reads.hpp) that reads both ahead in chunks: never the whole trace.
//
// The file: `kvtier-future-XXXXXX` in the spill directory (the system temp dir, $TMPDIR,
// unless given), unlinked as soon as it is created, so it is gone however the analysis
// ends (success, error, cancellation, a killed process); its space is freed when the
// FutureSpill is destroyed. 8 B per read entry: the units (4 B each), then their next reads
// (4 B each). Memory: the per-step offsets (8 B per step), every unit's first read (4 B per
// unit), one chunk during finish(), per feed a chunk or up to about twice its look-ahead.
#include "core/model/cancel.hpp"
#include "core/model/selection.hpp"
#include "core/policies/future_reads.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kvtier {

class FutureSpill {
public:
    // Entries read or written per chunk (finish() and each feed), by default.
    static constexpr int64_t kChunkEntries = int64_t{1} << 18;

    // Creates the file in `dir` (empty: the system temp dir). Throws InputError naming the
    // file when it cannot be created. `chunkEntries` (>= 1): entries per chunk.
    explicit FutureSpill(const UnitLayout& layout, const std::string& dir = {}, int64_t chunkEntries = kChunkEntries);
    ~FutureSpill();
    FutureSpill(const FutureSpill&) = delete;
    FutureSpill& operator=(const FutureSpill&) = delete;

    // Appends the read units of a window's steps; windows follow each other from step 0.
    // Throws InputError naming the file when it cannot be written (a full disk).
    void add(const Selection& window, const JobControl& job = {});
    // After the last window: the backward pass (next reads, first reads).
    void finish(const JobControl& job = {});
    // A feed of the future for one oracle; feeds read the file independently (one per
    // policy, run on their own threads). Only after finish().
    std::unique_ptr<FutureReads> feed() const;

    const std::string& path() const { return path_; }
    int64_t reads() const { return offset_.back(); }   // read entries so far
    int64_t bytes() const { return finished_ ? 8 * reads() : 4 * reads(); }   // on disk

    // What the feeds read: per step its first entry (then the total), per unit its first
    // read, and `count` words from word `at` of the file (units first, then next reads);
    // readWords throws InputError naming the file.
    const std::vector<int64_t>& offsets() const { return offset_; }
    const std::vector<uint32_t>& firstReads() const { return first_; }
    int64_t chunkEntries() const { return chunk_; }
    void readWords(int64_t at, int64_t count, uint32_t* out) const;

private:
    void writeWords(int64_t at, int64_t count, const uint32_t* in);

    UnitLayout layout_;
    std::string path_;
    int64_t chunk_;
    int fd_ = -1;
    std::vector<int64_t> offset_{0};   // per step held so far: its first entry; then the total
    std::vector<uint32_t> first_;      // per unit, after finish(): its first read or kNever
    bool finished_ = false;
};

} // namespace kvtier
