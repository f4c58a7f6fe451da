#pragma once
// Division of 32-bit numbers by a divisor fixed at run time, with one multiplication instead
// of a division instruction (unit ids by the layer count, pages by a block's pages, in loops
// over every read or move): with m = floor((2^64 - 1) / d) + 1, floor(a / d) =
// floor(m * a / 2^64) for every a < 2^32 and 1 <= d < 2^32 (Lemire, Kaser, Kurz, "Faster
// remainder by direct computation", 2019). tst_policy_kit fastDividerMatchesDivision checks it
// against `/`.
#include <cstdint>

namespace kvtier {

class FastDivider {
    __extension__ using Wide = unsigned __int128;

public:
    FastDivider() = default;
    explicit FastDivider(uint32_t d) : m_(d > 1 ? UINT64_MAX / d + 1 : 0), d_(d) {}
    uint32_t divisor() const { return d_; }
    uint32_t div(uint32_t a) const
    {
        if (d_ == 1) return a;   // m would wrap to 0
        return static_cast<uint32_t>((static_cast<Wide>(m_) * a) >> 64);
    }
    uint32_t mod(uint32_t a) const { return a - div(a) * d_; }

private:
    uint64_t m_ = 0;
    uint32_t d_ = 1;
};

} // namespace kvtier
