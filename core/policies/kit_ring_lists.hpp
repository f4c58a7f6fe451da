#pragma once
// kit::RingLists: lists of ids 0..n-1 in insertion order, an id in at most one list at a
// time, for lists taken from at the tail only: ARC's T1/B1 and T2/B2 (policy_arc.hpp).
// tests/core/tst_policy_kit.cpp checks it by hand and against std::deque.
//
// The lists come in pairs sharing one ring queue: ring q holds list q (the young list, at the
// head end) and behind it list q + rings (the old list), so the young list's tail sits right
// behind the old list's head. pushHead(q, id) appends to the young list; demote(q) moves the
// young list's tail to the old list's head by moving the boundary between the two by one
// entry; unlink(id) takes an id out of any list from anywhere (the id's stamp changes, so
// its entry is dead); popOldTail(q) takes the old list's tail out; tail(l) drops the dead
// entries it finds at the tail of list l.
// (Head = most recently inserted or demoted; tail = the oldest.)
//
// A ring is a power-of-two buffer of (id, stamp) entries; an entry is live exactly when its
// stamp is the id's. A full ring is compacted (dead entries dropped, order kept) into a buffer
// of the same size when at least half of it is dead, else of twice the size: O(1) amortised
// per operation, memory within four times the live entries. Every operation touches the id's
// own slots and the ring's ends only, never a neighbour's. (A stamp is 32 bits: an id would
// have to leave a list 2^32 times before an old entry of it could look live again.)
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace kvtier::kit {

class RingLists {
public:
    static constexpr uint32_t kNil = UINT32_MAX;
    static constexpr uint8_t kNone = std::numeric_limits<uint8_t>::max();

    // n ids, `rings` rings: lists 0..rings-1 young, rings..2*rings-1 old.
    void reset(size_t n, size_t rings = 1)
    {
        list_.assign(n, kNone);
        stamp_.assign(n, 0);
        rings_.assign(rings, Ring{});
        rings_n_ = rings;
        live_.assign(2 * rings, 0);
    }
    uint8_t listOf(uint32_t id) const { return list_[id]; }
    bool contains(uint32_t id) const { return list_[id] != kNone; }
    size_t size(uint8_t l) const { return live_[l]; }

    // The oldest id of list l, or kNil (drops the dead entries before it).
    uint32_t tail(uint8_t l)
    {
        const bool young = l < rings_n_;
        Ring& r = rings_[young ? l : l - rings_n_];
        uint64_t& at = young ? r.boundary : r.begin;
        const uint64_t stop = young ? r.end : r.boundary;
        for (; at != stop; ++at) {
            const Entry e = r.buf[at & r.mask];
            if (e.stamp == stamp_[e.id]) return e.id;
        }
        return kNil;
    }
    // Puts id at the head of young list q.
    void pushHead(uint8_t q, uint32_t id)
    {
        Ring& r = rings_[q];
        if (r.end - r.begin == r.buf.size()) makeRoom(q);
        r.buf[r.end & r.mask] = Entry{id, stamp_[id]};
        ++r.end;
        ++live_[q];
        list_[id] = q;
    }
    // Moves the tail of young list q to the head of old list q + rings; returns it (kNil if
    // the young list is empty).
    uint32_t demote(uint8_t q)
    {
        const uint32_t id = tail(q);
        if (id == kNil) return kNil;
        Ring& r = rings_[q];
        ++r.boundary;
        const auto old = static_cast<uint8_t>(q + rings_n_);
        --live_[q];
        ++live_[old];
        list_[id] = old;
        return id;
    }
    // Takes the tail of old list q + rings out (kNil if the list is empty): the ring's first
    // entry goes, so no dead entry is left behind.
    uint32_t popOldTail(uint8_t q)
    {
        const auto old = static_cast<uint8_t>(q + rings_n_);
        const uint32_t id = tail(old);
        if (id == kNil) return kNil;
        ++rings_[q].begin;
        --live_[old];
        list_[id] = kNone;
        return id;
    }
    // Takes id out of its list, if any.
    void unlink(uint32_t id)
    {
        const uint8_t l = list_[id];
        if (l == kNone) return;
        --live_[l];
        ++stamp_[id];
        list_[id] = kNone;
    }
    // Calls f(id) for each id of list l, from the tail (oldest) to the head.
    template <class F>
    void forEachFromTail(uint8_t l, F&& f) const
    {
        const bool young = l < rings_n_;
        const Ring& r = rings_[young ? l : l - rings_n_];
        for (uint64_t i = young ? r.boundary : r.begin; i != (young ? r.end : r.boundary); ++i) {
            const Entry e = r.buf[i & r.mask];
            if (e.stamp == stamp_[e.id]) f(e.id);
        }
    }

private:
    struct Entry {
        uint32_t id, stamp;
    };
    struct Ring {
        std::vector<Entry> buf;   // power-of-two size; entries begin..end-1 (mod size), tail first
        uint64_t begin = 0;       // old list: begin..boundary-1
        uint64_t boundary = 0;    // young list: boundary..end-1
        uint64_t end = 0;
        uint64_t mask = 0;
    };
    static constexpr size_t kMinRing = 64;

    // A full ring: drop its dead entries, into a buffer of the same size when at least half
    // of it is dead, else of twice the size.
    void makeRoom(size_t q)
    {
        Ring& r = rings_[q];
        const size_t cap = r.buf.size();
        const size_t live = live_[q] + live_[q + rings_n_];
        const size_t next = cap == 0 ? kMinRing : (live * 2 <= cap ? cap : cap * 2);
        std::vector<Entry> buf(next);
        uint64_t n = 0, boundary = 0;
        for (uint64_t i = r.begin; i != r.end; ++i) {
            if (i == r.boundary) boundary = n;
            const Entry e = r.buf[i & r.mask];
            if (e.stamp == stamp_[e.id]) buf[n++] = e;
        }
        if (r.boundary == r.end) boundary = n;
        r.buf.swap(buf);
        r.begin = 0;
        r.boundary = boundary;
        r.end = n;
        r.mask = next - 1;
    }

    std::vector<uint8_t> list_;     // each id's list, or kNone
    std::vector<uint32_t> stamp_;   // changes each time the id leaves a list
    std::vector<Ring> rings_;
    std::vector<size_t> live_;      // live ids per list
    size_t rings_n_ = 0;
};

} // namespace kvtier::kit
