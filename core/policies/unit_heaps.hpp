#pragma once
// Small data structures the placement policies share, indexed by unit id so that a step
// costs O(reads + changes), never O(all units):
//   UnitFifo   - residents in admission order (intrusive doubly linked list);
//   LazyHeap   - a binary heap of (key, unit, stamp) entries with lazy invalidation.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

namespace kvtier::heaps {

// Units in the order they were admitted. push/remove/front are O(1).
class UnitFifo {
public:
    static constexpr uint32_t kNil = std::numeric_limits<uint32_t>::max();

    void reset(size_t units)
    {
        prev_.assign(units, kNil);
        next_.assign(units, kNil);
        in_.assign(units, 0);
        head_ = tail_ = kNil;
        size_ = 0;
    }
    bool contains(uint32_t u) const { return in_[u] != 0; }
    size_t size() const { return size_; }
    uint32_t front() const { return head_; }
    uint32_t next(uint32_t u) const { return next_[u]; }

    void pushBack(uint32_t u)
    {
        prev_[u] = tail_;
        next_[u] = kNil;
        if (tail_ != kNil) next_[tail_] = u;
        else head_ = u;
        tail_ = u;
        in_[u] = 1;
        ++size_;
    }
    void remove(uint32_t u)
    {
        if (prev_[u] != kNil) next_[prev_[u]] = next_[u];
        else head_ = next_[u];
        if (next_[u] != kNil) prev_[next_[u]] = prev_[u];
        else tail_ = prev_[u];
        prev_[u] = next_[u] = kNil;
        in_[u] = 0;
        --size_;
    }

private:
    std::vector<uint32_t> prev_, next_;
    std::vector<uint8_t> in_;
    uint32_t head_ = kNil, tail_ = kNil;
    size_t size_ = 0;
};

struct HeapEntry {
    double key;
    uint32_t unit;
    uint32_t stamp;   // the unit's stamp when pushed; a newer stamp makes the entry stale
};

// Orders: `First(a, b)` is true when a leaves the heap before b.
struct HighKeyLowIdFirst {   // best first: highest key, ties lower id
    bool operator()(const HeapEntry& a, const HeapEntry& b) const
    {
        return a.key != b.key ? a.key > b.key : a.unit < b.unit;
    }
};
struct LowKeyLowIdFirst {    // worst first: lowest key, ties lower id
    bool operator()(const HeapEntry& a, const HeapEntry& b) const
    {
        return a.key != b.key ? a.key < b.key : a.unit < b.unit;
    }
};
struct LowKeyHighIdFirst {   // worst first of a ranking where lower ids rank higher
    bool operator()(const HeapEntry& a, const HeapEntry& b) const
    {
        return a.key != b.key ? a.key < b.key : a.unit > b.unit;
    }
};

// A heap with lazy updates. Each member unit has one live entry (the owner decides what
// "live" means, usually: the entry's stamp equals the unit's current stamp); dead entries
// are dropped when they surface or at compaction. The owner must push a fresh entry (with
// a new stamp) whenever a unit's key moves towards the top (up in a best-first heap, down
// in a worst-first one). When a key moves away from the top it may keep the old entry:
// that entry then sorts too early, and top() repairs it when it surfaces by re-inserting
// it with the current key. So top() is always exact, and keys that only ever move away
// from the top (H2O's growing sums in its worst-first heap) cost no heap work at all.
template <class First>
class LazyHeap {
public:
    void clear() { h_.clear(); }
    size_t size() const { return h_.size(); }

    void push(double key, uint32_t unit, uint32_t stamp)
    {
        h_.push_back({key, unit, stamp});
        std::push_heap(h_.begin(), h_.end(), cmp);
    }

    // The first live entry's unit, or kNone. `live(entry)` says whether an entry still
    // stands for its unit's membership; `keyOf(unit)` gives the current key.
    static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
    template <class Live, class KeyOf>
    uint32_t top(Live&& live, KeyOf&& keyOf)
    {
        while (!h_.empty()) {
            const HeapEntry e = h_.front();
            if (!live(e)) {
                popRaw();
                continue;
            }
            const double k = keyOf(e.unit);
            if (k != e.key) {   // lagging entry: put it back where it belongs
                popRaw();
                push(k, e.unit, e.stamp);
                continue;
            }
            return e.unit;
        }
        return kNone;
    }
    // Removes the entry top() returned.
    void pop() { popRaw(); }

    // Drops dead entries once the heap holds more than `limit` entries (callers pass
    // about twice the number of units, so each compaction at least halves the heap and
    // costs O(1) amortised per push).
    template <class Live>
    void compact(size_t limit, Live&& live)
    {
        if (h_.size() <= limit) return;
        std::erase_if(h_, [&](const HeapEntry& e) { return !live(e); });
        std::make_heap(h_.begin(), h_.end(), cmp);
    }

    // Multiplies every key by f (the owner scales its keys by the same f). Rebuilds the
    // heap in case rounding merged keys.
    void scale(double f)
    {
        for (HeapEntry& e : h_) e.key *= f;
        std::make_heap(h_.begin(), h_.end(), cmp);
    }

private:
    // std heaps keep the "largest" element under comp at the front.
    static bool cmp(const HeapEntry& a, const HeapEntry& b) { return First{}(b, a); }
    void popRaw()
    {
        std::pop_heap(h_.begin(), h_.end(), cmp);
        h_.pop_back();
    }

    std::vector<HeapEntry> h_;
};

} // namespace kvtier::heaps
