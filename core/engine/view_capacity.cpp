#include "core/engine/view_capacity.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>

namespace kvtier {

namespace {

std::string bytesText(double bytes)
{
    char buf[32];
    if (bytes >= 1e9)
        std::snprintf(buf, sizeof buf, "%.1f GB", bytes / 1e9);
    else if (bytes >= 1e6)
        std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1e6);
    else
        std::snprintf(buf, sizeof buf, "%.0f kB", bytes / 1e3);
    return buf;
}

} // namespace

FastTierFit fastTierFit(const Scenario& s, const CapacityPlan& plan)
{
    FastTierFit f;
    if (s.hardware.tiers.empty() || plan.units.empty())
        return f;
    f.tier = s.hardware.tiers.front().name;
    f.fast_kv_bytes = plan.kv_bytes.front();
    // One sequence's KV at the end of the run; tier 0 holds floor(room / (batch x unit)) units
    // per sequence (planCapacity), so a batch fits while batch x perSequence <= room.
    const double perSequence = static_cast<double>(plan.units_needed) * plan.unit_bytes;
    f.kv_bytes_needed = perSequence * static_cast<double>(s.batch);
    f.fits = plan.units.front() >= plan.units_needed;
    if (perSequence > 0 && f.fast_kv_bytes > 0) {
        const double b = std::floor(f.fast_kv_bytes / perSequence);
        f.max_fitting_batch = b < 9.0e18 ? static_cast<int64_t>(b) : INT64_MAX;
    }
    return f;
}

std::string fastTierFitNote(const FastTierFit& f, int64_t batch)
{
    if (!f.fits)
        return {};
    return "The KV cache (" + bytesText(f.kv_bytes_needed) + " for batch " + std::to_string(batch) + ") fits in " + f.tier +
           " (" + bytesText(f.fast_kv_bytes) + " free after weights): every policy keeps it there and shows the same time. "
           "Raise batch above " + std::to_string(f.max_fitting_batch) + " or lower " + f.tier +
           "'s capacity to see placement matter.";
}

} // namespace kvtier
