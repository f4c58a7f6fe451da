#pragma once
// Ids taken one at a time in a strict total order on (key, id) (the kit's orders:
// LowKeyLowId, LowKeyHighId, HighKeyLowId, HighKeyHighId), exactly as a heap would pop
// them, for a set rebuilt every step. The nodes are put in order by kit::radixSortNodes
// (kit_radix_sort.hpp): no comparison, so no mispredicted branch, and O(n) for n nodes;
// nodes that come in ascending id order (fill() from ascending ids or nodes, or add() in
// ascending id order) need no pass for their ids. Keys must not be NaN.
//
// fill() sorts only part of a large set when few takes are expected: a sample of the keys
// gives a pivot with about twice the expected takes before it, and only the nodes up to the
// pivot are stored and sorted; should the takes pass them, the rest (all after the pivot,
// so after every node taken) are gathered and sorted then. Exact either way.
#include "core/policies/kit_radix_sort.hpp"
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
    void clear()
    {
        nodes_.clear();
        taken_ = before_ = 0;
        sorted_ = false;
        ascending_ = true;
        restIds_ = {};
        restNodes_ = {};
        keyOf_ = nullptr;
        pivoted_ = false;
    }
    // A node, added after clear() and before the first take.
    void add(double key, uint32_t id)
    {
        ascending_ = ascending_ && (nodes_.empty() || nodes_.back().id < id);
        nodes_.push_back({key, id});
        sorted_ = false;
    }
    // clear(), then the nodes (keyOf(id), id) of `ids`, all of them or only those up to a
    // sampled pivot (see above). `ids` and `keyOf` must stay valid and unchanged until the
    // takes are over.
    template <class KeyOf>
    void fill(std::span<const uint32_t> ids, const KeyOf& keyOf, size_t expected)
    {
        clear();
        const size_t n = ids.size();
        if (!usePivot(n, expected)) {
            nodes_.reserve(n);
            for (uint32_t id : ids) add(keyOf(id), id);
            return;
        }
        samplePivot(n, expected, [&](size_t i) { return KeyedNode{keyOf(ids[i]), ids[i]}; });
        for (uint32_t id : ids) keepBeforePivot({keyOf(id), id});
        restIds_ = ids;
        keyOf_ = keyOf;
        pivoted_ = true;
    }
    // The same with the nodes given (keys computed by the caller); `nodes` must stay valid
    // and unchanged until the takes are over.
    void fill(std::span<const KeyedNode> nodes, size_t expected)
    {
        clear();
        const size_t n = nodes.size();
        if (!usePivot(n, expected)) {
            nodes_.reserve(n);
            for (const KeyedNode& nd : nodes) add(nd.key, nd.id);
            return;
        }
        samplePivot(n, expected, [&](size_t i) { return nodes[i]; });
        for (const KeyedNode& nd : nodes) keepBeforePivot(nd);
        restNodes_ = nodes;
        pivoted_ = true;
    }
    size_t size() const { return nodes_.size(); }
    size_t taken() const { return before_ + taken_; }
    bool done()
    {
        if (taken_ == nodes_.size() && pivoted_) gatherRest();
        return taken_ == nodes_.size();
    }
    // The first node not taken yet. Throws std::logic_error when every node is taken.
    const KeyedNode& peek()
    {
        if (taken_ == nodes_.size() && pivoted_) gatherRest();
        if (taken_ == nodes_.size()) throw std::logic_error("OrderedPicks: nothing left to take");
        if (!sorted_) sort();
        return nodes_[taken_];
    }
    uint32_t take()
    {
        const uint32_t id = peek().id;
        ++taken_;
        return id;
    }

private:
    static constexpr size_t kFilterFrom = 16384;   // fewer nodes: all of them, no sample
    static constexpr size_t kSample = 1024;
    static constexpr size_t kMargin = 2;   // the pivot's share of the nodes, in expected takes

    static bool usePivot(size_t n, size_t expected) { return n >= kFilterFrom && 8 * expected <= n; }

    // The pivot: the sample's node at about kMargin x the expected share of takes.
    template <class NodeAt>
    void samplePivot(size_t n, size_t expected, const NodeAt& nodeAt)
    {
        sample_.clear();
        const size_t stride = n / kSample;
        for (size_t i = 0; i < n; i += stride) sample_.push_back(nodeAt(i));
        const size_t rank = std::min(sample_.size() - 1, (kMargin * expected * sample_.size()) / n + 8);
        std::nth_element(sample_.begin(), sample_.begin() + static_cast<std::ptrdiff_t>(rank), sample_.end(), Before{});
        pivot_ = sample_[rank];
    }
    void keepBeforePivot(const KeyedNode& nd)
    {
        if (!Before{}(pivot_, nd)) add(nd.key, nd.id);
    }

    // The nodes after the pivot, once every node up to it is taken.
    void gatherRest()
    {
        before_ += taken_;
        taken_ = 0;
        nodes_.clear();
        sorted_ = false;
        ascending_ = true;
        const auto keepAfterPivot = [this](const KeyedNode& nd) {
            if (Before{}(pivot_, nd)) add(nd.key, nd.id);
        };
        if (keyOf_)
            for (uint32_t id : restIds_) keepAfterPivot({keyOf_(id), id});
        for (const KeyedNode& nd : restNodes_) keepAfterPivot(nd);
        keyOf_ = nullptr;
        restIds_ = {};
        restNodes_ = {};
        pivoted_ = false;
    }

    void sort()
    {
        radixSortNodes<Before>(nodes_, buffer_, ascending_);
        sorted_ = true;
    }

    std::vector<KeyedNode> nodes_, buffer_;
    size_t taken_ = 0;
    size_t before_ = 0;     // taken before the rest was gathered
    bool sorted_ = false;   // nodes_ is in order
    bool ascending_ = true; // nodes_ was added in ascending id order
    // fill() with a pivot: the ids or nodes after it are gathered when needed.
    std::vector<KeyedNode> sample_;
    bool pivoted_ = false;   // the nodes after pivot_ are still to gather
    KeyedNode pivot_{0, 0};
    std::span<const uint32_t> restIds_;
    std::span<const KeyedNode> restNodes_;
    std::function<double(uint32_t)> keyOf_;
};

} // namespace kvtier::kit
