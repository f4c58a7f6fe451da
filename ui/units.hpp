#pragma once
// Decimal units for display (MODEL.md: 1 GB = 1e9 B, 1 GB/s = 1e9 B/s, 1 TB/s = 1e12 B/s).
// The core works in bytes and seconds; everything the user reads goes through here.
#include <QString>

namespace kvtier::ui {

// "96 GB", "1.25 TB", "512 kB"
QString formatBytes(double bytes, int precision = 3);
// "4.9 TB/s", "450 GB/s"
QString formatBandwidth(double bytesPerSecond, int precision = 3);
// "12.4 ms", "850 µs", "1.20 s"
QString formatSeconds(double seconds, int precision = 3);
// "1,234 tok/s" style throughput
QString formatThroughput(double tokensPerSecond);
// "37.5 %"
QString formatPercent(double fraction, int decimals = 1);
// A number with `precision` significant digits, no exponent for ordinary magnitudes.
QString formatNumber(double v, int precision = 4);

} // namespace kvtier::ui
