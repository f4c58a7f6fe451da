#pragma once
// kit::RingLists: lists of ids 0..n-1 in insertion order, an id in at most one list at a
// time, for lists taken from at the tail only: ARC's T1/B1 and T2/B2 (policy_arc.hpp).
// tests/core/tst_policy_kit.cpp checks it by hand and against std::deque.
//
// The lists come in pairs sharing one ring queue: ring q holds list q (the young list, at the
// head end) and behind it list q + rings (the old list), so the young list's tail sits right
// behind the old list's head. pushHead(q, id) appends to the young list; demote(q) moves the
// young list's tail to the old list's head by moving the boundary between the two by one
// entry; popOldTail(q) takes the old list's tail out by moving the ring's front by one;
// rotate(q, id) does popOldTail(q), demote(q) and pushHead(q, id) at once (arc's usual case
// IV); unlink(id) takes an id out of any list from anywhere, leaving a hole (kNil) in its
// ring slot; tail(l) moves list l's tail end past the holes it finds there.
// (Head = most recently inserted or demoted; tail = the oldest.)
//
// A ring is a power-of-two buffer of ids. Each id has one byte (its list, and in the top bit
// a mark its owner keeps: arc's "in tier 0") and the index of its ring slot, which only
// unlink reads. So the tails are walked in the ring's own order, a hole told by the slot
// alone, and an id's list is one byte of a dense array (a million ids: 1 MB, which stays in
// the cache while a step's ascending reads look their ids up). A full ring is compacted
// (holes dropped, order kept, the live ids' slot indices rewritten) into a buffer of the same
// size when at least half of it is holes, else of twice the size: O(1) amortised per
// operation, memory within four times the live entries.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace kvtier::kit {

class RingLists {
public:
    static constexpr uint32_t kNil = UINT32_MAX;
    static constexpr uint8_t kNone = 0x7f;   // listOf() of an id in no list

    // n ids, `rings` rings: lists 0..rings-1 young, rings..2*rings-1 old (at most 63 rings).
    void reset(size_t n, size_t rings = 1)
    {
        code_.assign(n, kNone);
        slot_.assign(n, 0);
        rings_.assign(rings, Ring{});
        rings_n_ = rings;
        live_.assign(2 * rings, 0);
    }
    uint8_t listOf(uint32_t id) const { return code_[id] & kNone; }
    bool contains(uint32_t id) const { return listOf(id) != kNone; }
    size_t size(uint8_t l) const { return live_[l]; }
    // The owner's bit for id (0 after reset), kept in the byte of its list.
    bool mark(uint32_t id) const { return (code_[id] & kMark) != 0; }
    void setMark(uint32_t id, bool m) { code_[id] = static_cast<uint8_t>((code_[id] & kNone) | (m ? kMark : 0)); }
    // The list and the mark at once: listOf(code(id)) == listOf(id).
    uint8_t code(uint32_t id) const { return code_[id]; }
    static uint8_t listOfCode(uint8_t code) { return code & kNone; }
    static bool markOfCode(uint8_t code) { return (code & kMark) != 0; }

    // The oldest id of list l, or kNil (moves the list's tail end past holes).
    uint32_t tail(uint8_t l)
    {
        const bool young = l < rings_n_;
        Ring& r = rings_[young ? l : l - rings_n_];
        uint64_t& at = young ? r.boundary : r.begin;
        const uint64_t stop = young ? r.end : r.boundary;
        for (; at != stop; ++at) {
            const uint32_t id = r.buf[at & r.mask];
            if (id != kNil) return id;
        }
        return kNil;
    }
    // Puts id (in no list) at the head of young list q.
    void pushHead(uint8_t q, uint32_t id)
    {
        Ring& r = rings_[q];
        if (r.end - r.begin == r.buf.size()) makeRoom(q);
        const auto s = static_cast<uint32_t>(r.end & r.mask);
        r.buf[s] = id;
        slot_[id] = s;
        ++r.end;
        ++live_[q];
        setList(id, q);
    }
    // Moves the tail of young list q to the head of old list q + rings; returns it (kNil if
    // the young list is empty).
    uint32_t demote(uint8_t q)
    {
        const uint32_t id = tail(q);
        if (id == kNil) return kNil;
        ++rings_[q].boundary;
        const auto old = static_cast<uint8_t>(q + rings_n_);
        --live_[q];
        ++live_[old];
        setList(id, old);
        return id;
    }
    // Takes the tail of old list q + rings out (kNil if the list is empty): the ring's first
    // entry goes, so no hole is left behind.
    uint32_t popOldTail(uint8_t q)
    {
        const auto old = static_cast<uint8_t>(q + rings_n_);
        const uint32_t id = tail(old);
        if (id == kNil) return kNil;
        ++rings_[q].begin;
        --live_[old];
        setList(id, kNone);
        return id;
    }
    // popOldTail(q), demote(q) and pushHead(q, id) in one go, for young list q and old list
    // q + rings both not empty and id in no list: the old list's tail leaves, the young list's
    // tail moves to the old list's head and id becomes the young list's head; the sizes stay.
    // Returns the demoted id.
    uint32_t rotate(uint8_t q, uint32_t id)
    {
        Ring& r = rings_[q];
        while (r.buf[r.begin & r.mask] == kNil) ++r.begin;
        const uint32_t gone = r.buf[r.begin & r.mask];
        ++r.begin;
        setList(gone, kNone);
        while (r.buf[r.boundary & r.mask] == kNil) ++r.boundary;
        const uint32_t demoted = r.buf[r.boundary & r.mask];
        ++r.boundary;
        setList(demoted, static_cast<uint8_t>(q + rings_n_));
        if (r.end - r.begin == r.buf.size()) makeRoom(q);
        const auto s = static_cast<uint32_t>(r.end & r.mask);
        r.buf[s] = id;
        slot_[id] = s;
        ++r.end;
        setList(id, q);
        return demoted;
    }
    // Takes id out of its list, if any.
    void unlink(uint32_t id)
    {
        const uint8_t l = listOf(id);
        if (l == kNone) return;
        --live_[l];
        rings_[l < rings_n_ ? l : l - rings_n_].buf[slot_[id]] = kNil;
        setList(id, kNone);
    }
    // Calls f(id) for each id of list l, from the tail (oldest) to the head.
    template <class F>
    void forEachFromTail(uint8_t l, F&& f) const
    {
        const bool young = l < rings_n_;
        const Ring& r = rings_[young ? l : l - rings_n_];
        for (uint64_t i = young ? r.boundary : r.begin; i != (young ? r.end : r.boundary); ++i) {
            const uint32_t id = r.buf[i & r.mask];
            if (id != kNil) f(id);
        }
    }

private:
    struct Ring {
        std::vector<uint32_t> buf;   // power-of-two size; entries begin..end-1 (mod size), tail first
        uint64_t begin = 0;          // old list: begin..boundary-1
        uint64_t boundary = 0;       // young list: boundary..end-1
        uint64_t end = 0;
        uint64_t mask = 0;
    };
    static constexpr size_t kMinRing = 64;
    static constexpr uint8_t kMark = 0x80;

    void setList(uint32_t id, uint8_t l) { code_[id] = static_cast<uint8_t>((code_[id] & kMark) | l); }

    // A full ring: drop its holes, into a buffer of the same size when at least half of it is
    // holes, else of twice the size.
    void makeRoom(size_t q)
    {
        Ring& r = rings_[q];
        const size_t cap = r.buf.size();
        const size_t live = live_[q] + live_[q + rings_n_];
        const size_t next = cap == 0 ? kMinRing : (live * 2 <= cap ? cap : cap * 2);
        std::vector<uint32_t> buf(next);
        uint32_t n = 0, boundary = 0;
        for (uint64_t i = r.begin; i != r.end; ++i) {
            if (i == r.boundary) boundary = n;
            const uint32_t id = r.buf[i & r.mask];
            if (id == kNil) continue;
            slot_[id] = n;
            buf[n++] = id;
        }
        if (r.boundary == r.end) boundary = n;
        r.buf.swap(buf);
        r.begin = 0;
        r.boundary = boundary;
        r.end = n;
        r.mask = next - 1;
    }

    std::vector<uint8_t> code_;    // each id's list (kNone: none) | kMark
    std::vector<uint32_t> slot_;   // each listed id's slot in its ring
    std::vector<Ring> rings_;
    std::vector<size_t> live_;     // live ids per list
    size_t rings_n_ = 0;
};

} // namespace kvtier::kit
