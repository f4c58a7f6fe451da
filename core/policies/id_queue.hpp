#pragma once
// A first-in first-out queue of unit ids in one ring buffer: for orders whose only removals
// are at the oldest end (a FIFO by admission), where a doubly linked list over all ids would
// touch two random neighbours per move. push and pop are O(1) and touch memory in order;
// the ring doubles when full, keeping the order.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace kvtier::kit {

class IdQueue {
public:
    bool empty() const { return size_ == 0; }
    size_t size() const { return size_; }
    // The oldest id. Throws std::logic_error on an empty queue (a policy bug).
    uint32_t oldest() const
    {
        if (size_ == 0) throw std::logic_error("IdQueue: oldest() of an empty queue");
        return ring_[head_];
    }
    // The i-th id from the oldest (0 = oldest).
    uint32_t at(size_t i) const { return ring_[(head_ + i) & mask_]; }
    void push(uint32_t id)
    {
        if (size_ == ring_.size()) grow();
        ring_[(head_ + size_) & mask_] = id;
        ++size_;
    }
    uint32_t pop()
    {
        const uint32_t id = oldest();
        head_ = (head_ + 1) & mask_;
        --size_;
        return id;
    }
    void clear()
    {
        head_ = 0;
        size_ = 0;
    }

private:
    void grow()
    {
        std::vector<uint32_t> bigger(ring_.empty() ? 16 : 2 * ring_.size());
        for (size_t i = 0; i < size_; ++i) bigger[i] = at(i);
        ring_.swap(bigger);
        mask_ = ring_.size() - 1;
        head_ = 0;
    }

    std::vector<uint32_t> ring_;   // a power of two long
    size_t mask_ = 0;
    size_t head_ = 0;              // the oldest id's place
    size_t size_ = 0;
};

} // namespace kvtier::kit
