#pragma once
// IEEE 754 binary16 ("half") <-> binary32 conversion, used by the f16 record encodings
// (docs/TRACE_FORMAT.md). Portable bit manipulation: no compiler half type, no F16C.
#include <cstdint>

namespace kvtier {

// Rounds to the nearest half, ties to even. Values beyond the half range become +-inf,
// values below half the smallest subnormal (2^-25) become +-0, NaN stays NaN (quiet).
uint16_t floatToHalf(float f);
// Exact: every half is a float.
float halfToFloat(uint16_t h);

inline constexpr float kHalfMax = 65504.0f;   // largest finite half

} // namespace kvtier
