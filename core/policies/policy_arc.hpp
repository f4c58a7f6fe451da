#pragma once
// ARC (Megiddo & Modha, "ARC: A Self-Tuning, Low Overhead Replacement Cache", FAST 2003)
// over dense ids: the cache directory of the "arc" policy (policy_arc.cpp), exposed so the
// tests can follow the adaptive target p request by request.
#include "core/policies/kit_ring_lists.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace kvtier {

class ArcLists {
public:
    enum List : uint8_t { T1 = 0, T2 = 1, B1 = 2, B2 = 3 };
    static constexpr uint8_t kNone = kit::RingLists::kNone;

    ArcLists(size_t ids, int64_t capacity);

    // Puts x at the MRU end of T1 without a request (prefill residents), settled as cached.
    void seed(uint32_t x);
    // One request for x, cases I-IV of the paper's Figure 4. Returns true on a cache hit.
    bool access(uint32_t x);
    // access(x) for each x of xs in order.
    void access(std::span<const uint32_t> xs);
    // The net change of the cache (T1 ∪ T2) since the last settle (or the seeds): calls
    // f(x, cached) for each id whose membership differs from the settled one, in the order
    // of its first flip among the requests, and settles it. An id that left and came back
    // (or came and left) is not reported.
    template <class F>
    void settle(F&& f);

    bool cached(uint32_t x) const { const uint8_t l = lists_.listOf(x); return l == T1 || l == T2; }
    uint8_t where(uint32_t x) const { return lists_.listOf(x); }
    double p() const { return p_; }
    int64_t capacity() const { return c_; }
    size_t size(List l) const { return lists_.size(l); }
    // LRU end first.
    std::vector<uint32_t> contents(List l) const;

private:
    void replace(bool xInB2);
    bool steady() const;
    void toT2(uint32_t x);   // from anywhere to the MRU end of T2

    int64_t c_;
    double p_ = 0;
    kit::RingLists lists_;   // rings T1 + B1, T2 + B2: taken from at the tail only; an id's
                             // mark: cached at the last settle
    std::vector<uint32_t> changed_;   // ids whose membership flipped since the last settle
};

template <class F>
void ArcLists::settle(F&& f)
{
    for (uint32_t x : changed_) {
        const uint8_t code = lists_.code(x);
        const uint8_t l = kit::RingLists::listOfCode(code);
        const bool now = l == T1 || l == T2;
        if (now != kit::RingLists::markOfCode(code)) {
            lists_.setMark(x, now);
            f(x, now);
        }
    }
    changed_.clear();
}

} // namespace kvtier
