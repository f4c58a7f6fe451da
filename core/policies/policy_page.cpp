// The paper's "page" baseline: Reactive at block granularity. A unit a step read from a
// lower tier pulls in, at the next step, every existing unit of its block of block_tokens
// tokens (same layer slot), the read units first; the oldest-admitted residents make room.
// When the selection's pages already hold block_tokens tokens or more this is Reactive.
#include "core/policies/policy_reactive.hpp"

namespace kvtier {

namespace {

const PolicyInfo& pageInfo()
{
    static const PolicyInfo info{
        "page", "Page (block reuse)",
        "Like Reactive, but a unit read from a lower tier pulls its whole block of block_tokens tokens "
        "(that layer's units) into HBM at the next step, evicting the oldest-admitted units. The paper's "
        "page baseline.",
        true,
        {{"block_tokens", "Block (tokens)", ParamSpec::Type::Int, 1, 4096, 16,
          "Tokens per promoted block; at or below the trace's page size this is Reactive."},
         {"max_promotions_per_step", "Max promotions per step", ParamSpec::Type::Int, 0, 1e9, 0,
          "Caps the units promoted at one step (read units first); 0 promotes all that fit."}},
        true};
    return info;
}

} // namespace

PolicyEntry pagePolicy()
{
    return {pageInfo(), [](const PolicyContext& ctx, const PolicyParams& p) -> std::unique_ptr<Policy> {
                return makeReactivePolicy(ctx, static_cast<int64_t>(p.at("block_tokens")),
                                          static_cast<int64_t>(p.at("max_promotions_per_step")));
            }};
}

} // namespace kvtier
