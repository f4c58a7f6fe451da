#pragma once
// kit::TopSlice: the top of a large set of ids by (key, id), for sets whose keys only ever
// move towards the top (tests/core/tst_policy_kit.cpp checks it against std::set).
//
// Only the members that come before an edge node sit in a small 4-ary indexed heap; every
// other member is only its owner's key. A member's key rising, or an id joining the set,
// costs a comparison with the edge (plus a step in the small, cache-resident heap for those
// before it). The heap's top is the set's true top whenever the slice is complete and not
// empty: every member outside the heap comes after the edge, every heap member before it.
//  - refill(size, forEach) scans the owner's whole set once and keeps its `size` best members;
//    the edge becomes the best member left out. With at most `size` members it keeps them
//    all, and the edge becomes "none": every id joining later goes into the heap.
//  - trim(size): when keys rise past the edge the heap grows; trim keeps its `size` best
//    nodes and moves the edge up to the best node it drops (O(heap size)).
// The owner refills when the heap runs empty (it took the top members away) or after
// invalidate() (keys changed other than by raise()).
//
// Keys that move away from the top may do so unannounced, as with kit::topLazy: a heap node's
// key then lags (it is never further from the top than the true key), and topLazy(keyOf)
// repairs the nodes that surface, dropping those now after the edge. A lagging node stays no
// further from the top than its true key, so the rules above still hold: every member outside
// the heap comes after the edge.
#include "core/policies/policy_kit.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

namespace kvtier::kit {

template <class Before>
class TopSlice {
public:
    static constexpr uint32_t kNone = UINT32_MAX;

    void reset(size_t n)
    {
        heap_.clear();
        pos_.assign(n, kNone);
        complete_ = false;
    }
    // The top is exact only when complete and not empty; otherwise refill() first.
    bool complete() const { return complete_; }
    bool empty() const { return heap_.empty(); }
    size_t size() const { return heap_.size(); }
    uint32_t top() const { return heap_.front().id; }
    double topKey() const { return heap_.front().key; }
    bool holds(uint32_t id) const { return pos_[id] != kNone; }

    // An id joins the set with `key`, or a member's key moves towards the top, to `key`.
    // (A heap node's key is before the edge, so a key after it is no heap node's: most raises
    // end at the comparison.)
    void raise(uint32_t id, double key)
    {
        if (!complete_ || !before_(KeyedNode{key, id}, edge_)) return;
        const uint32_t i = pos_[id];
        if (i != kNone) {
            heap_[i].key = key;   // towards the top, or away from a lagging key
            fix(i);
        } else {
            heap_.push_back({key, id});
            up(heap_.size() - 1);
        }
    }
    // The top by true key, keyOf(id), when keys may have moved away from the top unannounced:
    // the lagging nodes that surface are repaired, or dropped when now after the edge. Returns
    // kNone when the heap runs empty (refill() then).
    template <class KeyOf>
    uint32_t topLazy(KeyOf&& keyOf)
    {
        while (!heap_.empty()) {
            const uint32_t id = heap_.front().id;
            const double k = static_cast<double>(keyOf(id));
            if (heap_.front().key == k) return id;
            if (before_(KeyedNode{k, id}, edge_)) {
                heap_.front().key = k;
                down(0);
            } else {
                leave(id);
            }
        }
        return kNone;
    }
    // An id leaves the set.
    void leave(uint32_t id)
    {
        const uint32_t i = pos_[id];
        if (i == kNone) return;
        const KeyedNode last = heap_.back();
        heap_.pop_back();
        pos_[id] = kNone;
        if (i < heap_.size()) {
            place(i, last);
            fix(i);
        }
    }
    // Forget the slice; refill() before the top is used again.
    void invalidate()
    {
        clearHeap();
        complete_ = false;
    }
    // Refills from the whole set: forEach(add) calls add(id, key) once for every member.
    template <class ForEach>
    void refill(size_t size, ForEach&& forEach)
    {
        clearHeap();
        scratch_.clear();
        forEach([this](uint32_t id, double key) { scratch_.push_back({key, id}); });
        edge_ = noEdge();
        keepBest(size);
        complete_ = true;
    }
    // Keeps the `size` best heap nodes, the edge moving up to the best one dropped.
    void trim(size_t size)
    {
        if (heap_.size() <= size) return;
        for (const KeyedNode& nd : heap_) pos_[nd.id] = kNone;
        scratch_.swap(heap_);
        heap_.clear();
        keepBest(size);
    }

private:
    static KeyedNode noEdge()
    {
        const double inf = std::numeric_limits<double>::infinity();
        return KeyedNode{Before{}(KeyedNode{1.0, 0}, KeyedNode{0.0, 0}) ? -inf : inf, 0};
    }
    void clearHeap()
    {
        for (const KeyedNode& nd : heap_) pos_[nd.id] = kNone;
        heap_.clear();
    }
    // The heap becomes the `size` best of scratch_ (its ids not in the heap now).
    void keepBest(size_t size)
    {
        if (scratch_.size() > size) {
            const auto nth = scratch_.begin() + static_cast<std::ptrdiff_t>(size);
            std::nth_element(scratch_.begin(), nth, scratch_.end(), before_);
            edge_ = *nth;
            scratch_.resize(size);
        }
        heap_.swap(scratch_);
        scratch_.clear();
        for (size_t i = 0; i < heap_.size(); ++i) pos_[heap_[i].id] = static_cast<uint32_t>(i);
        for (size_t i = (heap_.size() + 2) / 4; i-- > 0;) down(i);
    }
    void place(size_t i, const KeyedNode& nd)
    {
        heap_[i] = nd;
        pos_[nd.id] = static_cast<uint32_t>(i);
    }
    void fix(size_t i)
    {
        if (i > 0 && before_(heap_[i], heap_[(i - 1) / 4])) up(i);
        else down(i);
    }
    void up(size_t i)
    {
        const KeyedNode nd = heap_[i];
        while (i > 0) {
            const size_t parent = (i - 1) / 4;
            if (!before_(nd, heap_[parent])) break;
            place(i, heap_[parent]);
            i = parent;
        }
        place(i, nd);
    }
    void down(size_t i)
    {
        const size_t n = heap_.size();
        const KeyedNode nd = heap_[i];
        for (;;) {
            const size_t first = 4 * i + 1;
            if (first >= n) break;
            size_t child = first;
            const size_t end = std::min(first + 4, n);
            for (size_t c = first + 1; c < end; ++c)
                if (before_(heap_[c], heap_[child])) child = c;
            if (!before_(heap_[child], nd)) break;
            place(i, heap_[child]);
            i = child;
        }
        place(i, nd);
    }

    Before before_;
    std::vector<KeyedNode> heap_;   // 4-ary heap, best on top
    std::vector<uint32_t> pos_;     // each id's node, or kNone
    KeyedNode edge_ = noEdge();
    bool complete_ = false;
    std::vector<KeyedNode> scratch_;
};

} // namespace kvtier::kit
