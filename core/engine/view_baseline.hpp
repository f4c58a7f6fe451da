#pragma once
// View data: a result against a pinned baseline ("what changed when I moved this?"): per
// policy, the total time and time per token now and in the baseline, and the difference.
#include "core/engine/pipeline.hpp"

#include <string>
#include <vector>

namespace kvtier {

struct BaselineDelta {
    std::string name, label;
    bool in_now = false, in_baseline = false;   // the policy has a timing in that result
    double total_now = 0, total_baseline = 0;   // seconds (NaN when absent)
    double per_token_now = 0, per_token_baseline = 0;
    double delta = 0;   // total_now - total_baseline, seconds (NaN unless in both)
    double ratio = 0;   // total_now / total_baseline (NaN unless in both)
};

// The policies of `now` in its order, then those only the baseline has; then the
// balanced bound as "balanced" when either result has it.
std::vector<BaselineDelta> baselineDeltas(const AnalysisResult& now, const AnalysisResult& baseline);

} // namespace kvtier
