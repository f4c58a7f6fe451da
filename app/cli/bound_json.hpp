#pragma once
// The heavy bounds as JSON and text, shared by `analyze` and `bound`.
#include "core/engine/pipeline.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace kvtier::cli {

// Adds "migration_aware" and "annealed" to j["bounds"] when they were computed.
inline void addHeavyBounds(nlohmann::json& bounds, const AnalysisResult& r)
{
    if (const auto& m = r.migration_bound) {
        bounds["migration_aware"] = {{"total_time_s", m->total_time},
                                     {"schedule_time_s", m->schedule_time()},
                                     {"gap", m->gap()},
                                     {"lagrangian_time_s", m->lagrangian_time},
                                     {"schedule_source", m->schedule_source},
                                     {"covers", "exclusive placement"},
                                     {"iterations", m->iterations},
                                     {"budget_hit", m->budget_hit},
                                     {"elapsed_s", m->elapsed_s}};
        if (m->windows > 0) bounds["migration_aware"]["windows"] = m->windows;   // streamed: the windowed bound
    }
    if (const auto& a = r.annealed) {
        nlohmann::json j = {{"total_time_s", a->total_time()},
                            {"start_time_s", a->start_time},
                            {"moves_tried", a->moves_tried},
                            {"moves_accepted", a->moves_accepted},
                            {"exact_evaluator", a->exact_evaluator},
                            {"budget_hit", a->budget_hit},
                            {"elapsed_s", a->elapsed_s}};
        if (a->tuned_timing)
            j["windowed_look_ahead"] = {{"window_steps", a->tuned_window_steps},
                                        {"promotion_ratio", a->tuned_promotion_ratio},
                                        {"total_time_s", a->tuned_time}};
        bounds["annealed"] = j;
    }
}

// Lines for the table: bound, schedule, gap, annealed.
inline void printHeavyBounds(const AnalysisResult& r)
{
    if (const auto& m = r.migration_bound)
        std::printf("migration-aware bound %.6g s (exclusive placement%s), best schedule %.6g s (%s), gap %.4f%s\n",
                    m->total_time, m->windows > 0 ? ", windowed" : "", m->schedule_time(), m->schedule_source.c_str(),
                    m->gap(), m->budget_hit ? " [time budget hit]" : "");
    if (const auto& a = r.annealed) {
        std::printf("annealed schedule %.6g s (from %.6g s, %lld of %lld moves accepted)%s\n", a->total_time(),
                    a->start_time, static_cast<long long>(a->moves_accepted), static_cast<long long>(a->moves_tried),
                    a->budget_hit ? " [time budget hit]" : "");
        if (a->tuned_timing)
            std::printf("windowed-look-ahead annealed: window %g steps, ratio %.4g: %.6g s\n", a->tuned_window_steps,
                        a->tuned_promotion_ratio, a->tuned_time);
    }
}

} // namespace kvtier::cli
