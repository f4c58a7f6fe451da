#pragma once
// Decimal units for display (MODEL.md: 1 GB = 1e9 B, 1 GB/s = 1e9 B/s, 1 TB/s = 1e12 B/s).
// The core works in bytes and seconds; everything the user reads goes through here.
#include "core/model/trace.hpp"

#include <QString>

namespace kvtier::ui {

// "96 GB", "1.25 TB", "512 kB"
QString formatBytes(double bytes, int precision = 3);
// A trace's prefill as the trace info shows it: "P = 4096", or for a batch of S > 1
// sequences (MODEL.md §8) "S = 4 sequences, P_s = 1,024–2,048" (the smallest and largest).
QString formatPrefill(const TraceMeta& m);
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

namespace kvtier::ui {

// What a typed value measures: decides which unit suffixes it may carry.
enum class Quantity { Bytes, Bandwidth, Count, Fraction, Plain };

// A typed value read by parseQuantity(). `value` is in the core's units (bytes, bytes/s,
// a count, a fraction). `hadUnit`: the text named its unit (else it is in the shown one).
struct ParsedQuantity {
    bool ok = false;
    double value = 0;
    bool hadUnit = false;
    QString error;   // when !ok: what is wrong, one short phrase for a tooltip or status line
};

// Reads what a user types into a value field: a number (decimal or scientific: "4e11",
// "1.5E3"), optionally followed by a unit that fits `q`:
//   Bytes      B, kB, MB, GB, TB, PB (decimal) and KiB, MiB, GiB, TiB, PiB (binary)
//   Bandwidth  the same with "/s" ("1.2 TB/s", "450 GiB/s")
//   Count      "tok", "tokens" (or nothing)
//   Fraction   "%" ("30 %" = 0.3)
// Units are case-sensitive where it matters (k vs K are both accepted for kilo; "Mb"
// and "mB" are refused, bits are not bytes). A number without a unit is in the unit the
// field shows (`shownScale`, e.g. 1e9 for GB/s) and is returned as such. Anything else
// (letters, a second number, a unit of another quantity, NaN, inf) is refused with the
// reason; nothing is ever guessed.
ParsedQuantity parseQuantity(const QString& text, Quantity q, double shownScale = 1);

} // namespace kvtier::ui
