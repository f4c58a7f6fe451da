#pragma once
// Small data structures shared by the cache policies (policy_quest.cpp, policy_arkvale.cpp,
// policy_lru.cpp, policy_lfu.cpp, policy_arc.cpp, policy_belady.cpp): an indexed binary
// heap over dense ids (a key change costs O(log n), a membership test O(1)), a bitmap set
// with its lowest member in O(log64 n), intrusive doubly linked lists over dense ids (O(1)
// move, unlink) and a lazy decay scale. No Qt, header-only.
#include "core/policies/policy.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace kvtier::detail {

// A parameter's value; `def` when absent (runPlacement may be called with unresolved params).
inline double paramOr(const PolicyParams& p, const std::string& key, double def)
{
    const auto it = p.find(key);
    return it == p.end() ? def : it->second;
}

// 4-ary heap of ids 0..n-1 with each id's key stored in its node (cheap comparisons; the 4
// children of a node share one cache line) and its position in an index (O(1) membership,
// O(log n) key change or removal). `Before`
// orders nodes and must be a strict total order (policies break ties by id), which keeps
// every policy deterministic.
struct KeyedNode {
    double key;
    uint32_t id;
};
struct LowKeyLowId {
    bool operator()(const KeyedNode& a, const KeyedNode& b) const
    {
        return a.key < b.key || (a.key == b.key && a.id < b.id);
    }
};
struct HighKeyLowId {
    bool operator()(const KeyedNode& a, const KeyedNode& b) const
    {
        return a.key > b.key || (a.key == b.key && a.id < b.id);
    }
};
struct HighKeyHighId {
    bool operator()(const KeyedNode& a, const KeyedNode& b) const
    {
        return a.key > b.key || (a.key == b.key && a.id > b.id);
    }
};

template <class Before>
class KeyedHeap {
public:
    void reset(size_t n)
    {
        heap_.clear();
        pos_.assign(n, kAbsent);
    }
    bool contains(uint32_t id) const { return pos_[id] != kAbsent; }
    bool empty() const { return heap_.empty(); }
    size_t size() const { return heap_.size(); }
    uint32_t top() const { return heap_.front().id; }
    double topKey() const { return heap_.front().key; }
    double key(uint32_t id) const { return heap_[pos_[id]].key; }

    void push(uint32_t id, double key)
    {
        heap_.push_back({key, id});
        up(heap_.size() - 1);
    }
    // Changes the key of an id in the heap.
    void set(uint32_t id, double key)
    {
        const size_t i = pos_[id];
        heap_[i].key = key;
        fix(i);
    }
    void pushOrSet(uint32_t id, double key)
    {
        if (contains(id)) set(id, key);
        else push(id, key);
    }
    uint32_t pop()
    {
        const uint32_t id = heap_.front().id;
        erase(id);
        return id;
    }
    void erase(uint32_t id)
    {
        const size_t i = pos_[id];
        const KeyedNode last = heap_.back();
        heap_.pop_back();
        pos_[id] = kAbsent;
        if (i < heap_.size()) {
            heap_[i] = last;
            pos_[last.id] = static_cast<uint32_t>(i);
            fix(i);
        }
    }
    void eraseIfPresent(uint32_t id)
    {
        if (contains(id)) erase(id);
    }
    // Multiplies every key by k > 0 (a rescale) and re-establishes the order. O(n).
    void scaleKeys(double k)
    {
        for (KeyedNode& nd : heap_) nd.key *= k;
        for (size_t i = (heap_.size() + 2) / 4; i-- > 0;) down(i);
    }

private:
    static constexpr uint32_t kAbsent = UINT32_MAX;

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
    std::vector<KeyedNode> heap_;
    std::vector<uint32_t> pos_;
};

// The lowest id of a KeyedHeap<LowKeyLowId> whose node keys are lower bounds of the true
// keys `actual[id]` (a key that only grows need not be touched when it grows): nodes below
// their true key are raised on the way. Amortised O(log n) per raise; returns the id whose
// (true key, id) is lowest. The heap must not be empty.
template <class Heap, class Keys>
uint32_t lowestLazy(Heap& heap, const Keys& actual)
{
    for (;;) {
        const uint32_t id = heap.top();
        const double k = static_cast<double>(actual[id]);
        if (!(heap.topKey() < k)) return id;
        heap.set(id, k);
    }
}

// A set of ids 0..n-1 with O(1) insert/remove and the lowest member in O(log64 n):
// a bitmap with summary levels (bit j of level i+1 = word j of level i is not zero).
class IdBitset {
public:
    static constexpr uint32_t kNone = UINT32_MAX;

    void reset(size_t n)
    {
        levels_.clear();
        size_t m = n;
        do {
            m = (m + 63) / 64;
            levels_.emplace_back(std::max<size_t>(m, 1), 0);
        } while (m > 1);
    }
    bool test(uint32_t id) const { return (levels_[0][id >> 6] >> (id & 63)) & 1; }
    void insert(uint32_t id)
    {
        for (auto& lv : levels_) {
            const bool wasEmpty = lv[id >> 6] == 0;
            lv[id >> 6] |= uint64_t(1) << (id & 63);
            if (!wasEmpty) return;
            id >>= 6;
        }
    }
    void remove(uint32_t id)
    {
        for (auto& lv : levels_) {
            lv[id >> 6] &= ~(uint64_t(1) << (id & 63));
            if (lv[id >> 6] != 0) return;
            id >>= 6;
        }
    }
    uint32_t first() const
    {
        if (levels_.back()[0] == 0) return kNone;
        size_t pos = 0;
        for (size_t l = levels_.size(); l-- > 0;)
            pos = pos * 64 + static_cast<size_t>(__builtin_ctzll(levels_[l][pos]));
        return static_cast<uint32_t>(pos);
    }

private:
    std::vector<std::vector<uint64_t>> levels_;
};

// Several doubly linked lists over ids 0..n-1; an id is in at most one list at a time.
// Head = most recently inserted (MRU), tail = least (LRU). All operations O(1).
class IdLists {
public:
    static constexpr uint32_t kNil = UINT32_MAX;
    static constexpr uint8_t kNone = 255;

    void reset(size_t n, size_t lists)
    {
        prev_.assign(n, kNil);
        next_.assign(n, kNil);
        list_.assign(n, kNone);
        head_.assign(lists, kNil);
        tail_.assign(lists, kNil);
        size_.assign(lists, 0);
    }
    uint8_t listOf(uint32_t id) const { return list_[id]; }
    size_t size(uint8_t l) const { return size_[l]; }
    uint32_t head(uint8_t l) const { return head_[l]; }
    uint32_t tail(uint8_t l) const { return tail_[l]; }
    uint32_t next(uint32_t id) const { return next_[id]; }   // towards the tail
    uint32_t prev(uint32_t id) const { return prev_[id]; }   // towards the head

    void pushHead(uint8_t l, uint32_t id)
    {
        list_[id] = l;
        prev_[id] = kNil;
        next_[id] = head_[l];
        if (head_[l] != kNil) prev_[head_[l]] = id;
        else tail_[l] = id;
        head_[l] = id;
        ++size_[l];
    }
    void pushTail(uint8_t l, uint32_t id)
    {
        list_[id] = l;
        next_[id] = kNil;
        prev_[id] = tail_[l];
        if (tail_[l] != kNil) next_[tail_[l]] = id;
        else head_[l] = id;
        tail_[l] = id;
        ++size_[l];
    }
    void unlink(uint32_t id)
    {
        const uint8_t l = list_[id];
        if (l == kNone) return;
        if (prev_[id] != kNil) next_[prev_[id]] = next_[id];
        else head_[l] = next_[id];
        if (next_[id] != kNil) prev_[next_[id]] = prev_[id];
        else tail_[l] = prev_[id];
        prev_[id] = next_[id] = kNil;
        list_[id] = kNone;
        --size_[l];
    }
    void moveToHead(uint8_t l, uint32_t id)
    {
        unlink(id);
        pushHead(l, id);
    }

private:
    std::vector<uint32_t> prev_, next_, head_, tail_;
    std::vector<uint8_t> list_;
    std::vector<size_t> size_;
};

// Lazy exponential decay: value(t) = stored * scale where every step multiplies all
// values by `decay`. Keeping `stored` fixed and growing 1/scale keeps the order of all
// values without touching them; renormalise() (O(n), rare) folds the scale back in.
struct DecayScale {
    double decay = 1.0;   // per-step factor in (0, 1]
    double weight = 1.0;  // proportional to 1 / decay^t (renormalised by powers of two)
    static constexpr double kLimit = 1e120;

    void advance() { weight /= decay; }
    bool needsRenormalise() const { return weight > kLimit; }
    // The factor, an exact power of two (so every stored value scales exactly and no order
    // or tie changes), by which stored values and the weight are multiplied to renormalise.
    static double renormaliser(double w)
    {
        int e = 0;
        std::frexp(w, &e);
        return std::ldexp(1.0, -e);
    }
};

} // namespace kvtier::detail
