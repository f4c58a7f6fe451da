#pragma once
// Cancellation and progress for long core jobs. The GUI's worker raises the flag when
// a newer request supersedes the running one; loops call check() often.
#include "core/model/error.hpp"

#include <atomic>
#include <functional>

namespace kvtier {

struct JobControl {
    const std::atomic<bool>* cancel = nullptr;      // may be null
    std::function<void(double fraction)> progress;  // may be empty; called from any thread

    bool cancelled() const { return cancel && cancel->load(std::memory_order_relaxed); }
    void check() const {
        if (cancelled()) throw Cancelled();
    }
    void report(double f) const {
        if (progress) progress(f);
    }
};

} // namespace kvtier
