#include "core/model/hardware.hpp"

#include <algorithm>
#include <cmath>

namespace kvtier {

double tierTime(const Tier& tier, double readBytes, double writeBytes)
{
    double t = (readBytes + writeBytes) / tier.bandwidth;
    if (readBytes > 0 && !std::isinf(tier.link_read)) t = std::max(t, readBytes / tier.link_read);
    if (writeBytes > 0 && !std::isinf(tier.link_write)) t = std::max(t, writeBytes / tier.link_write);
    return t;
}

} // namespace kvtier
