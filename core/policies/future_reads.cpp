#include "core/policies/future_reads.hpp"

#include "core/policies/policy.hpp"

#include <stdexcept>
#include <string>

namespace kvtier {

namespace {

class WholeSelectionReads final : public FutureReads {
public:
    explicit WholeSelectionReads(const Selection& sel) : sel_(sel) {}

    int64_t steps() const override { return sel_.layout.steps; }
    std::span<const uint32_t> reads(int64_t t) override { return sel_.step_units.row(static_cast<size_t>(t)); }
    std::span<const uint32_t> nextReads(int64_t t) override
    {
        backwardPass();
        const Csr<uint32_t>& su = sel_.step_units;
        const auto r = static_cast<size_t>(t);
        return {next_.data() + su.offset[r], su.offset[r + 1] - su.offset[r]};
    }
    const std::vector<uint32_t>& firstReads() override
    {
        backwardPass();
        return first_;
    }
    void advance(int64_t) override {}

private:
    // Last step first: a read's next read is the unit's earliest read seen so far.
    void backwardPass()
    {
        if (done_) return;
        done_ = true;
        const Csr<uint32_t>& su = sel_.step_units;
        next_.assign(su.items.size(), kNever);
        first_.assign(static_cast<size_t>(sel_.layout.totalUnits()), kNever);
        for (size_t t = su.rows(); t-- > 0;)
            for (size_t k = su.offset[t]; k < su.offset[t + 1]; ++k) {
                const uint32_t u = su.items[k];
                next_[k] = first_[u];
                first_[u] = static_cast<uint32_t>(t);
            }
    }

    const Selection& sel_;
    bool done_ = false;
    std::vector<uint32_t> next_;    // parallel to step_units.items
    std::vector<uint32_t> first_;   // per unit
};

} // namespace

std::unique_ptr<FutureReads> wholeSelectionReads(const Selection& selection)
{
    return std::make_unique<WholeSelectionReads>(selection);
}

FutureReads& futureOf(const PolicyContext& ctx, std::unique_ptr<FutureReads>& owned, const char* policy)
{
    if (ctx.future_reads) return *ctx.future_reads;
    if (!ctx.future) throw std::logic_error(std::string(policy) + " is an oracle and needs the selection");
    owned = wholeSelectionReads(*ctx.future);
    return *owned;
}

} // namespace kvtier
