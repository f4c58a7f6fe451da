#pragma once
// Stage 1 of the pipeline (MODEL.md §2): which KV each step reads.
// Input: a Trace and a SelectionConfig. Output: a Selection (core/model/selection.hpp).
#include "core/model/cancel.hpp"
#include "core/model/selection.hpp"
#include "core/model/trace.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kvtier {

// The tokens one record selects (MODEL.md §2), ascending. Exposed for tests and views.
std::vector<uint32_t> selectTokens(std::span<const uint32_t> index, std::span<const float> value,
                                   int64_t n, RecordKind kind, const SelectionConfig& c);

// Runs the selection stage over all records in parallel (oneTBB). Deterministic.
Selection computeSelection(const Trace& trace, const SelectionConfig& c, const JobControl& job = {});

// The arrays a streamed analysis (stream_analysis.hpp) selects one window after another
// into. A window's selection is as large as the last one's, and arrays allocated afresh
// for each window cost a page fault and a zeroed page per 4 KB they touch, which took more
// time than the selection itself; kept from window to window they are allocated once.
class SelectionBuffers {
public:
    SelectionBuffers();
    ~SelectionBuffers();
    SelectionBuffers(const SelectionBuffers&) = delete;
    SelectionBuffers& operator=(const SelectionBuffers&) = delete;
    // Takes back a window's selection once nothing refers to it any more: its arrays are
    // reused by the next computeSelection with these buffers.
    void recycle(Selection&& used);

    struct Parts;   // the per-block lists the parallel loop fills (selection.cpp)

private:
    friend Selection computeSelection(const Trace&, const SelectionConfig&, SelectionBuffers&, const JobControl&);
    std::unique_ptr<Parts> parts_;
    Selection spare_;
};

// The same selection as above, built in `buffers`' arrays.
Selection computeSelection(const Trace& trace, const SelectionConfig& c, SelectionBuffers& buffers,
                           const JobControl& job = {});

} // namespace kvtier
