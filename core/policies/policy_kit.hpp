#pragma once
// The kit every placement policy is built from (core/policies/README.md). Dense ids (units
// or blocks, 0..n-1), so a step costs O(what changed), never O(all units):
//   ResidentSet  - the policy's mirror of tier 0; moves go through it into the StepPlan
//   IndexedHeap  - a 4-ary heap of ids by (key, id) with O(1) membership and O(log n) key change
//   IdLists      - doubly linked lists of ids, head = most recent (LRU order, FIFO order);
//                  BasicIdLists<uint32_t> for more than 255 lists
//   IdBitset     - a set of ids with its lowest member (or the next one from an id) fast
//   DecayScale   - exponential decay without touching the decayed values
// Header-only, no Qt. tests/core/tst_policy_kit.cpp checks each against a std container.
#include "core/policies/policy.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace kvtier::kit {

// ---- ResidentSet -------------------------------------------------------------------------

// Which units are in tier 0, as the policy sees it. seed() during initial(); evict(),
// promote() and admit() during plan() change the mirror and append to the StepPlan, so the
// two never disagree. check() compares the count with the simulator's at the start of plan().
class ResidentSet {
public:
    void reset(size_t units)
    {
        in_.assign(units, 0);
        count_ = 0;
    }
    bool contains(uint32_t u) const { return in_[u] != 0; }
    int64_t count() const { return count_; }

    void seed(uint32_t u) { set(u); }   // a prefill unit placed in tier 0 by initial()
    void evict(uint32_t u, StepPlan& out)
    {
        clear(u);
        out.evict.push_back(u);
    }
    void promote(uint32_t u, StepPlan& out)
    {
        set(u);
        out.promote.push_back(u);
    }
    void admit(uint32_t u, StepPlan& out)   // a unit created this step, in tier 0
    {
        set(u);
        out.admit_new.push_back(u);
    }
    // Mirror changes without a plan entry, for policies that write the plan themselves.
    void set(uint32_t u)
    {
        count_ += in_[u] ^ 1;
        in_[u] = 1;
    }
    void clear(uint32_t u)
    {
        count_ -= in_[u];
        in_[u] = 0;
    }
    // Throws std::logic_error when the mirror's count is not tier 0's (a policy bug).
    void check(const FastTierView& tier0, const char* policy) const
    {
        if (tier0.count() != count_) throw std::logic_error(std::string(policy) + ": tier 0 mirror out of step");
    }

private:
    std::vector<uint8_t> in_;
    int64_t count_ = 0;
};

// ---- IndexedHeap -------------------------------------------------------------------------

// A heap node: the id and its key. Orders are strict total orders on (key, id), so ties
// are broken by id and every policy stays deterministic. `Before(a, b)`: a is nearer the top.
struct KeyedNode {
    double key;
    uint32_t id;
};
struct LowKeyLowId {   // lowest key on top, ties: lower id
    bool operator()(const KeyedNode& a, const KeyedNode& b) const
    {
        return a.key < b.key || (a.key == b.key && a.id < b.id);
    }
};
struct LowKeyHighId {   // lowest key on top, ties: higher id
    bool operator()(const KeyedNode& a, const KeyedNode& b) const
    {
        return a.key < b.key || (a.key == b.key && a.id > b.id);
    }
};
struct HighKeyLowId {   // highest key on top, ties: lower id
    bool operator()(const KeyedNode& a, const KeyedNode& b) const
    {
        return a.key > b.key || (a.key == b.key && a.id < b.id);
    }
};
struct HighKeyHighId {   // highest key on top, ties: higher id
    bool operator()(const KeyedNode& a, const KeyedNode& b) const
    {
        return a.key > b.key || (a.key == b.key && a.id > b.id);
    }
};

// 4-ary heap of ids 0..n-1. Each node stores its key (cheap comparisons; a node's 4
// children share a cache line) and an index gives each id's position (O(1) membership,
// O(log n) key change or removal).
template <class Before>
class IndexedHeap {
public:
    static constexpr uint32_t kNone = UINT32_MAX;

    void reset(size_t n)
    {
        heap_.clear();
        pos_.assign(n, kNone);
    }
    bool contains(uint32_t id) const { return pos_[id] != kNone; }
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
        pos_[id] = kNone;
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
    // The nodes, in heap order.
    const std::vector<KeyedNode>& nodes() const { return heap_; }
    // Empties the heap (O(size), not O(n)).
    void clear()
    {
        for (const KeyedNode& nd : heap_) pos_[nd.id] = kNone;
        heap_.clear();
    }
    // Replaces the members by `nodes` (distinct ids), taking them over; O(nodes.size()).
    void assign(std::vector<KeyedNode>& nodes)
    {
        clear();
        heap_.swap(nodes);
        for (size_t i = 0; i < heap_.size(); ++i) pos_[heap_[i].id] = static_cast<uint32_t>(i);
        for (size_t i = (heap_.size() + 2) / 4; i-- > 0;) down(i);
    }
    // Multiplies every key by k > 0 (a DecayScale renormalisation) and restores the order. O(n).
    void scaleKeys(double k)
    {
        for (KeyedNode& nd : heap_) nd.key *= k;
        for (size_t i = (heap_.size() + 2) / 4; i-- > 0;) down(i);
    }

private:
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

// Lazy keys: a heap whose stored keys may lag the true keys keyOf(id), but only away from
// the bottom (a stored key is never further from the top than the true one: in a lowest-first
// heap, a stored key is <= the true key). A key moving away from the top then costs nothing;
// one moving towards the top must be set(). Returns the top id by true key, repairing the
// lagging nodes that surface (each repair moves a node down). The heap must not be empty.
template <class Heap, class KeyOf>
uint32_t topLazy(Heap& heap, KeyOf&& keyOf)
{
    for (;;) {
        const uint32_t id = heap.top();
        const double k = static_cast<double>(keyOf(id));
        if (heap.topKey() == k) return id;
        heap.set(id, k);
    }
}

// ---- IdLists -----------------------------------------------------------------------------

// Several doubly linked lists over ids 0..n-1; an id is in at most one list at a time.
// Head = most recently inserted (MRU), tail = least (LRU, or the oldest of a FIFO).
// All operations O(1). `ListId` numbers the lists: IdLists (uint8_t) holds up to 255 lists,
// BasicIdLists<uint32_t> one per sequence of any batch (lru-demand).
template <class ListId>
class BasicIdLists {
public:
    static constexpr uint32_t kNil = UINT32_MAX;
    static constexpr ListId kNone = std::numeric_limits<ListId>::max();

    void reset(size_t n, size_t lists = 1)
    {
        prev_.assign(n, kNil);
        next_.assign(n, kNil);
        list_.assign(n, kNone);
        head_.assign(lists, kNil);
        tail_.assign(lists, kNil);
        size_.assign(lists, 0);
    }
    ListId listOf(uint32_t id) const { return list_[id]; }
    bool contains(uint32_t id) const { return list_[id] != kNone; }
    size_t size(ListId l = 0) const { return size_[l]; }
    uint32_t head(ListId l = 0) const { return head_[l]; }
    uint32_t tail(ListId l = 0) const { return tail_[l]; }
    uint32_t next(uint32_t id) const { return next_[id]; }   // towards the tail (older)
    uint32_t prev(uint32_t id) const { return prev_[id]; }   // towards the head (newer)

    void pushHead(ListId l, uint32_t id)
    {
        list_[id] = l;
        prev_[id] = kNil;
        next_[id] = head_[l];
        if (head_[l] != kNil) prev_[head_[l]] = id;
        else tail_[l] = id;
        head_[l] = id;
        ++size_[l];
    }
    void pushTail(ListId l, uint32_t id)
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
        const ListId l = list_[id];
        if (l == kNone) return;
        if (prev_[id] != kNil) next_[prev_[id]] = next_[id];
        else head_[l] = next_[id];
        if (next_[id] != kNil) prev_[next_[id]] = prev_[id];
        else tail_[l] = prev_[id];
        prev_[id] = next_[id] = kNil;
        list_[id] = kNone;
        --size_[l];
    }
    void moveToHead(ListId l, uint32_t id)
    {
        unlink(id);
        pushHead(l, id);
    }

private:
    std::vector<uint32_t> prev_, next_, head_, tail_;
    std::vector<ListId> list_;
    std::vector<size_t> size_;
};
using IdLists = BasicIdLists<uint8_t>;

// ---- IdBitset ----------------------------------------------------------------------------

// A set of ids 0..n-1: O(1) insert/remove, the lowest member in O(log64 n) (a bitmap with
// summary levels: bit j of level i+1 says word j of level i is not zero), and the next
// member from an id by a scan of the words in between.
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
    void set(uint32_t id, bool on)
    {
        if (on) insert(id);
        else remove(id);
    }
    uint32_t first() const
    {
        if (levels_.back()[0] == 0) return kNone;
        size_t pos = 0;
        for (size_t l = levels_.size(); l-- > 0;)
            pos = pos * 64 + static_cast<size_t>(std::countr_zero(levels_[l][pos]));
        return static_cast<uint32_t>(pos);
    }
    // The lowest member >= from, or kNone.
    uint32_t next(size_t from) const
    {
        const std::vector<uint64_t>& w = levels_[0];
        size_t i = from / 64;
        if (i >= w.size()) return kNone;
        uint64_t word = w[i] >> (from % 64);
        if (word != 0) return static_cast<uint32_t>(from + static_cast<size_t>(std::countr_zero(word)));
        while (++i < w.size())
            if (w[i] != 0) return static_cast<uint32_t>(i * 64 + static_cast<size_t>(std::countr_zero(w[i])));
        return kNone;
    }

private:
    std::vector<std::vector<uint64_t>> levels_;
};

// ---- DecayScale --------------------------------------------------------------------------

// Exponential decay by `decay` per step, applied to no value. The rule: an amount x
// observed when the scale's weight is w is stored as x * w, and advance() divides w by
// decay once per step; so a stored value is the decayed value times the current weight,
// the same factor for all, and the order of all values (and their sums) is that of the
// decayed values. When w grows too large, renormalise() multiplies w by an exact power of
// two and returns that factor; the owner multiplies every stored value by it. Scaling by a
// power of two is exact, so no order or tie changes while stored values stay normal doubles.
// decay = 1: w stays 1 and nothing is ever renormalised.
//
// Where a renormalisation lands decides which long-forgotten values (decayed below 2^-1022
// times w) lose bits first, and so which of them tie; policies keep the landing they were
// published with, so their results stay bit-identical:
//   Renormalise::ToHalf  - when w > 1e120, into [0.5, 1) (lfu, arkvale)
//   Renormalise::By2p500 - when w > 2^500, by 2^-500 (h2o)
enum class Renormalise { ToHalf, By2p500 };

class DecayScale {
public:
    explicit DecayScale(double decay = 1.0, Renormalise rule = Renormalise::ToHalf) : decay_(decay), rule_(rule) {}
    double decay() const { return decay_; }
    double weight() const { return w_; }                // of an amount observed now
    double nextWeight() const { return w_ / decay_; }   // ... after the next advance()
    void advance() { w_ /= decay_; }
    // The factor to multiply every stored value by: 1 when no renormalisation is due.
    double renormalise()
    {
        double k = 1.0;
        if (rule_ == Renormalise::ToHalf && w_ > 1e120) {
            int e = 0;
            std::frexp(w_, &e);
            k = std::ldexp(1.0, -e);
        } else if (rule_ == Renormalise::By2p500 && w_ > 0x1p500) {
            k = 0x1p-500;
        }
        w_ *= k;
        return k;
    }

private:
    double decay_;
    Renormalise rule_;
    double w_ = 1.0;
};

} // namespace kvtier::kit
