#include "core/model/half.hpp"

#include <bit>

namespace kvtier {

uint16_t floatToHalf(float f)
{
    const uint32_t x = std::bit_cast<uint32_t>(f);
    const auto sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
    const uint32_t a = x & 0x7FFFFFFFu;

    if (a >= 0x7F800000u) {
        if (a == 0x7F800000u) return static_cast<uint16_t>(sign | 0x7C00u);
        // NaN: keep the top payload bits, force quiet so it cannot turn into inf.
        return static_cast<uint16_t>(sign | 0x7E00u | ((a >> 13) & 0x03FFu));
    }
    // 65520 is half-way between 65504 (odd mantissa) and 65536: ties-to-even rounds up to inf.
    if (a >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);

    if (a >= 0x38800000u) {   // >= 2^-14: a normal half
        const uint32_t exp = (a >> 23) - 127u + 15u;
        const uint32_t mant = a & 0x7FFFFFu;
        uint32_t h = (exp << 10) | (mant >> 13);
        const uint32_t rest = mant & 0x1FFFu;
        if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;   // a carry moves into the exponent, as it should
        return static_cast<uint16_t>(sign | h);
    }
    // 2^-25 is the tie between 0 and the smallest subnormal 2^-24: even wins, so <= gives 0.
    if (a <= 0x33000000u) return sign;

    // Subnormal half: value / 2^-24, i.e. the 24-bit significand shifted right by 126 - e.
    const uint32_t e = a >> 23;                 // 102 .. 112 here
    const uint32_t mant = (a & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126u - e;            // 14 .. 24
    uint32_t h = mant >> shift;
    const uint32_t rest = mant & ((1u << shift) - 1u);
    const uint32_t halfway = 1u << (shift - 1u);
    if (rest > halfway || (rest == halfway && (h & 1u))) ++h;   // may become 0x400, the smallest normal
    return static_cast<uint16_t>(sign | h);
}

float halfToFloat(uint16_t h)
{
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t mant = h & 0x3FFu;
    uint32_t bits = 0;
    if (exp == 0x1Fu) {
        bits = sign | 0x7F800000u | (mant << 13);
    } else if (exp != 0) {
        bits = sign | ((exp - 15u + 127u) << 23) | (mant << 13);
    } else if (mant == 0) {
        bits = sign;
    } else {
        // Subnormal half: normalise into a float (always normal there).
        uint32_t e = 127u - 15u + 1u;
        while ((mant & 0x400u) == 0) {
            mant <<= 1;
            --e;
        }
        bits = sign | (e << 23) | ((mant & 0x3FFu) << 13);
    }
    return std::bit_cast<float>(bits);
}

} // namespace kvtier
