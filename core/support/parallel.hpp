#pragma once
// The only way the core runs a parallel loop (DESIGN.md "Threads").
//
// oneTBB cancels a task group silently: when a task of an enclosing loop throws (a
// cancelled job, a bad sweep point), every loop nested in that group returns early with
// no exception, leaving its output half-filled. A stage that then returned and cached
// that output would show a policy as 0 ns until the cache was cleared. parallelFor
// therefore runs each loop in its own context bound to the enclosing one (so a cancelled
// parent still stops it at once) and, after the loop, turns a cancelled context or a
// raised cancel flag into Cancelled, so no caller ever sees a partial result.
#include "core/model/cancel.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_group.h>

namespace kvtier {

// Throws Cancelled if the enclosing task group is being cancelled or the job's flag is up.
inline void checkCancelled(tbb::task_group_context& ctx, const JobControl& job)
{
    if (ctx.is_group_execution_cancelled()) throw Cancelled();
    job.check();
}

// tbb::parallel_for over a range; body(range). Returns only if every iteration ran.
template <class Range, class Body>
void parallelFor(const Range& range, const Body& body, const JobControl& job)
{
    job.check();
    tbb::task_group_context ctx(tbb::task_group_context::bound);
    tbb::parallel_for(range, body, ctx);
    checkCancelled(ctx, job);
}

// tbb::parallel_for over the indices [first, last); body(i). Returns only if every index ran.
template <class Index, class Body>
void parallelFor(Index first, Index last, const Body& body, const JobControl& job)
{
    job.check();
    tbb::task_group_context ctx(tbb::task_group_context::bound);
    tbb::parallel_for(first, last, body, ctx);
    checkCancelled(ctx, job);
}

} // namespace kvtier
