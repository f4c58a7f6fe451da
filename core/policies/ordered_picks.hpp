#pragma once
// Ids taken one at a time in a strict total order on (key, id) (the kit's orders:
// LowKeyLowId, HighKeyHighId, ...), sorting only as far as the takes go: the next chunk of
// the order is found by selection (std::nth_element) and sorted, each chunk twice the last.
// For a step that takes k of n ids it costs O(n + k log k), where a heap kept across steps
// costs O(log n) per change of any key, however few ids the step then takes. The order is
// total, so the ids come out exactly as a heap would pop them.
//
// fill() goes further when the caller expects few takes of many ids: a sample of the keys
// gives a pivot with a few times the expected takes before it, and only the nodes up to
// the pivot are stored and selected; should the takes pass them, the rest (all after the
// pivot, so after every node taken) are gathered then. Exact either way.
#include "core/policies/policy_kit.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
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
        sorted_ = taken_ = before_ = 0;
        chunk_ = std::max(firstChunk, kMinChunk);
        rest_ = {};
        keyOf_ = nullptr;
    }
    void add(double key, uint32_t id) { nodes_.push_back({key, id}); }
    // clear(2 * expected), then the nodes (keyOf(id), id) of `ids`, all of them or only
    // those up to a sampled pivot (see above). `ids` and `keyOf` must stay valid and
    // unchanged until the takes are over.
    template <class KeyOf>
    void fill(std::span<const uint32_t> ids, const KeyOf& keyOf, size_t expected)
    {
        clear(2 * expected);
        const size_t n = ids.size();
        if (expected == 0 || n < kFilterFrom || 8 * expected > n) {
            nodes_.reserve(n);
            for (uint32_t id : ids) add(keyOf(id), id);
            return;
        }
        // The pivot: the sample's node at about 4x the expected share of takes.
        sample_.clear();
        const size_t stride = n / kSample;
        for (size_t i = 0; i < n; i += stride) sample_.push_back({keyOf(ids[i]), ids[i]});
        const size_t rank = std::min(sample_.size() - 1, (4 * expected * sample_.size()) / n + 8);
        std::nth_element(sample_.begin(), sample_.begin() + static_cast<std::ptrdiff_t>(rank), sample_.end(), Before{});
        pivot_ = sample_[rank];
        for (uint32_t id : ids) {
            const KeyedNode nd{keyOf(id), id};
            if (!Before{}(pivot_, nd)) nodes_.push_back(nd);
        }
        rest_ = ids;
        keyOf_ = keyOf;
    }
    size_t size() const { return nodes_.size(); }
    size_t taken() const { return before_ + taken_; }
    bool done()
    {
        if (taken_ == nodes_.size() && keyOf_) gatherRest();
        return taken_ == nodes_.size();
    }
    // The first node not taken yet. Throws std::logic_error when every node is taken.
    const KeyedNode& peek()
    {
        if (taken_ == nodes_.size() && keyOf_) gatherRest();
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
    static constexpr size_t kFilterFrom = 16384;   // fewer ids: all of them, no sample
    static constexpr size_t kSample = 1024;

    // The nodes after the pivot, once every node up to it is taken.
    void gatherRest()
    {
        before_ += taken_;
        nodes_.clear();
        sorted_ = taken_ = 0;
        for (uint32_t id : rest_) {
            const KeyedNode nd{keyOf_(id), id};
            if (Before{}(pivot_, nd)) nodes_.push_back(nd);
        }
        keyOf_ = nullptr;
        rest_ = {};
    }

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
    size_t before_ = 0;   // taken before the rest was gathered
    size_t chunk_ = kMinChunk;
    // fill() with a pivot: the ids after it are gathered when needed.
    std::vector<KeyedNode> sample_;
    KeyedNode pivot_{0, 0};
    std::span<const uint32_t> rest_;
    std::function<double(uint32_t)> keyOf_;
};

} // namespace kvtier::kit
