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
        heap_.reset(n);
        complete_ = false;
    }
    // The top is exact only when complete and not empty; otherwise refill() first.
    bool complete() const { return complete_; }
    bool empty() const { return heap_.empty(); }
    size_t size() const { return heap_.size(); }
    uint32_t top() const { return heap_.top(); }
    double topKey() const { return heap_.topKey(); }
    bool holds(uint32_t id) const { return heap_.contains(id); }

    // An id joins the set with `key`, or a member's key moves towards the top, to `key`.
    // (A heap node's key is before the edge, so a key after it is no heap node's: most raises
    // end at the comparison.)
    void raise(uint32_t id, double key)
    {
        if (!complete_ || !before_(KeyedNode{key, id}, edge_)) return;
        heap_.pushOrSet(id, key);   // towards the top, or away from a lagging key
    }
    // The top by true key, keyOf(id), when keys may have moved away from the top unannounced:
    // the lagging nodes that surface are repaired, or dropped when now after the edge. Returns
    // kNone when the heap runs empty (refill() then).
    template <class KeyOf>
    uint32_t topLazy(KeyOf&& keyOf)
    {
        while (!heap_.empty()) {
            const uint32_t id = heap_.top();
            const double k = static_cast<double>(keyOf(id));
            if (heap_.topKey() == k) return id;
            if (before_(KeyedNode{k, id}, edge_)) heap_.set(id, k);
            else heap_.erase(id);
        }
        return kNone;
    }
    // An id leaves the set.
    void leave(uint32_t id)
    {
        heap_.eraseIfPresent(id);
    }
    // Forget the slice; refill() before the top is used again.
    void invalidate()
    {
        heap_.clear();
        complete_ = false;
    }
    // Refills from the whole set: forEach(add) calls add(id, key) once for every member.
    template <class ForEach>
    void refill(size_t size, ForEach&& forEach)
    {
        heap_.clear();
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
        scratch_ = heap_.nodes();
        heap_.clear();
        keepBest(size);
    }

private:
    static KeyedNode noEdge()
    {
        const double inf = std::numeric_limits<double>::infinity();
        return KeyedNode{Before{}(KeyedNode{1.0, 0}, KeyedNode{0.0, 0}) ? -inf : inf, 0};
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
        heap_.assign(scratch_);
        scratch_.clear();
    }

    Before before_;
    IndexedHeap<Before> heap_;      // the slice, best on top
    KeyedNode edge_ = noEdge();
    bool complete_ = false;
    std::vector<KeyedNode> scratch_;
};

} // namespace kvtier::kit
