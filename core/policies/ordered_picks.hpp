#pragma once
// Ids taken one at a time in a strict total order on (key, id) (the kit's orders:
// LowKeyLowId, HighKeyHighId, ...), sorting only as far as the takes go: the next chunk of
// the order is found by selection (std::nth_element) and sorted, each chunk twice the last.
// For a step that takes k of n ids it costs O(n + k log k), where a heap kept across steps
// costs O(log n) per change of any key, however few ids the step then takes. The order is
// total, so the ids come out exactly as a heap would pop them.
#include "core/policies/policy_kit.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace kvtier::kit {

template <class Before>
class OrderedPicks {
public:
    // Empties the set; the first chunk sorted will hold at least `firstChunk` nodes.
    void clear(size_t firstChunk = kMinChunk)
    {
        nodes_.clear();
        sorted_ = taken_ = 0;
        chunk_ = std::max(firstChunk, kMinChunk);
    }
    void add(double key, uint32_t id) { nodes_.push_back({key, id}); }
    size_t size() const { return nodes_.size(); }
    size_t taken() const { return taken_; }
    bool done() const { return taken_ == nodes_.size(); }
    // The first node not taken yet. Throws std::logic_error when every node is taken.
    const KeyedNode& peek()
    {
        if (taken_ == sorted_) extend();
        return nodes_[taken_];
    }
    uint32_t take()
    {
        const uint32_t id = peek().id;
        ++taken_;
        return id;
    }

private:
    static constexpr size_t kMinChunk = 64;

    void extend()
    {
        if (sorted_ == nodes_.size()) throw std::logic_error("OrderedPicks: nothing left to take");
        const auto first = nodes_.begin() + static_cast<std::ptrdiff_t>(sorted_);
        const size_t end = std::min(nodes_.size(), sorted_ + chunk_);
        const auto last = nodes_.begin() + static_cast<std::ptrdiff_t>(end);
        if (end < nodes_.size()) std::nth_element(first, last, nodes_.end(), Before{});
        std::sort(first, last, Before{});
        sorted_ = end;
        chunk_ *= 2;
    }

    std::vector<KeyedNode> nodes_;
    size_t sorted_ = 0;   // nodes_[0, sorted_) are in order and precede all the others
    size_t taken_ = 0;
    size_t chunk_ = kMinChunk;
};

} // namespace kvtier::kit
