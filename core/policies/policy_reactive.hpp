#pragma once
// The paper's "reuse" baseline and its block variant share one implementation
// (policy_reactive.cpp); policy_page.cpp builds it with a block size.
#include "core/policies/policy.hpp"

namespace kvtier {

// blockTokens <= page size: promote exactly the missed units (reactive); larger: a missed
// unit pulls in the units of its whole block of blockTokens tokens (page).
// maxPromotions 0 = unlimited.
std::unique_ptr<Policy> makeReactivePolicy(const PolicyContext& ctx, int64_t blockTokens, int64_t maxPromotions);

} // namespace kvtier
