#include "ui/units.hpp"

#include <QLocale>

#include <algorithm>

#include <cmath>

namespace kvtier::ui {

QString formatPrefill(const TraceMeta& m)
{
    const QLocale en(QLocale::English);
    if (m.sequenceCount() <= 1)
        return QStringLiteral("P = %1").arg(m.prefill);
    const auto [lo, hi] = std::minmax_element(m.sequence_prefill.begin(), m.sequence_prefill.end());
    const QString range = *lo == *hi ? en.toString(static_cast<qlonglong>(*lo))
                                     : QStringLiteral("%1–%2").arg(en.toString(static_cast<qlonglong>(*lo)),
                                                                   en.toString(static_cast<qlonglong>(*hi)));
    return QStringLiteral("S = %1 sequences, P_s = %2").arg(m.sequenceCount()).arg(range);
}

namespace {

QString scaled(double v, int precision, const char* const* names, const double* scales, int n)
{
    if (!std::isfinite(v))
        return v > 0 ? QStringLiteral("∞") : QStringLiteral("–");
    const double a = std::fabs(v);
    int i = 0;
    while (i + 1 < n && a >= scales[i + 1] * 0.9995)
        ++i;
    return formatNumber(v / scales[i], precision) + QChar(' ') + QString::fromUtf8(names[i]);
}

} // namespace

QString formatNumber(double v, int precision)
{
    if (!std::isfinite(v))
        return v > 0 ? QStringLiteral("∞") : (std::isnan(v) ? QStringLiteral("–") : QStringLiteral("-∞"));
    if (v == 0)
        return QStringLiteral("0");
    const double a = std::fabs(v);
    if (a >= 1e7 || a < 1e-4)
        return QString::number(v, 'g', precision);
    const int digits = static_cast<int>(std::floor(std::log10(a))) + 1;
    const int decimals = std::max(0, precision - digits);
    QString s = QString::number(v, 'f', decimals);
    if (s.contains(QChar('.'))) {
        while (s.endsWith(QChar('0')))
            s.chop(1);
        if (s.endsWith(QChar('.')))
            s.chop(1);
    }
    return s;
}

QString formatBytes(double bytes, int precision)
{
    static const char* names[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    static const double scales[] = {1, 1e3, 1e6, 1e9, 1e12, 1e15};
    return scaled(bytes, precision, names, scales, 6);
}

QString formatBandwidth(double bps, int precision)
{
    static const char* names[] = {"B/s", "kB/s", "MB/s", "GB/s", "TB/s"};
    static const double scales[] = {1, 1e3, 1e6, 1e9, 1e12};
    return scaled(bps, precision, names, scales, 5);
}

QString formatSeconds(double s, int precision)
{
    static const char* names[] = {"ns", "µs", "ms", "s"};
    static const double scales[] = {1e-9, 1e-6, 1e-3, 1};
    return scaled(s, precision, names, scales, 4);
}

QString formatThroughput(double tps)
{
    if (!std::isfinite(tps))
        return QStringLiteral("–");
    if (tps >= 100)
        return QLocale::c().toString(std::round(tps), 'f', 0) + QStringLiteral(" tok/s");
    return formatNumber(tps, 3) + QStringLiteral(" tok/s");
}

QString formatPercent(double fraction, int decimals)
{
    if (!std::isfinite(fraction))
        return QStringLiteral("–");
    return QString::number(fraction * 100.0, 'f', decimals) + QStringLiteral(" %");
}

} // namespace kvtier::ui

namespace kvtier::ui {

namespace {

struct UnitName {
    const char* name;
    double scale;
};

// Byte prefixes: decimal (MODEL.md units) and binary, converted to bytes.
const UnitName kByteUnits[] = {
    {"B", 1},       {"kB", 1e3},          {"KB", 1e3},           {"MB", 1e6},
    {"GB", 1e9},    {"TB", 1e12},         {"PB", 1e15},          {"KiB", 1024.0},
    {"kiB", 1024.0}, {"MiB", 1048576.0},  {"GiB", 1073741824.0}, {"TiB", 1099511627776.0},
    {"PiB", 1125899906842624.0},
};

bool lookupBytes(const QString& unit, double* scale)
{
    for (const UnitName& u : kByteUnits)
        if (unit == QLatin1String(u.name)) {
            *scale = u.scale;
            return true;
        }
    return false;
}

} // namespace

ParsedQuantity parseQuantity(const QString& text, Quantity q, double shownScale)
{
    ParsedQuantity r;
    const QString t = text.trimmed();
    if (t.isEmpty()) {
        r.error = QStringLiteral("empty: type a number");
        return r;
    }
    // The number: [sign] digits [. digits] [e [sign] digits], read by hand so that
    // nothing after it is silently dropped (QString::toDouble would refuse the whole,
    // a spin box would keep the digits it likes).
    int i = 0;
    const int n = static_cast<int>(t.size());
    auto digit = [&](int k) { return k < n && t[k].isDigit(); };
    if (i < n && (t[i] == QLatin1Char('+') || t[i] == QLatin1Char('-')))
        ++i;
    const int mantissaStart = i;
    while (digit(i))
        ++i;
    if (i < n && t[i] == QLatin1Char('.')) {
        ++i;
        while (digit(i))
            ++i;
    }
    if (i == mantissaStart || (i == mantissaStart + 1 && t[mantissaStart] == QLatin1Char('.'))) {
        r.error = QStringLiteral("'%1' is not a number").arg(t);
        return r;
    }
    if (i < n && (t[i] == QLatin1Char('e') || t[i] == QLatin1Char('E'))) {
        int k = i + 1;
        if (k < n && (t[k] == QLatin1Char('+') || t[k] == QLatin1Char('-')))
            ++k;
        if (!digit(k)) {
            r.error = QStringLiteral("'%1': the exponent needs digits (e.g. 4e11)").arg(t);
            return r;
        }
        while (digit(k))
            ++k;
        i = k;
    }
    bool numberOk = false;
    const double number = t.left(i).toDouble(&numberOk);
    if (!numberOk || !std::isfinite(number)) {
        r.error = QStringLiteral("'%1' is not a finite number").arg(t.left(i));
        return r;
    }
    QString unit = t.mid(i).trimmed();
    if (unit.isEmpty()) {
        r.ok = true;
        r.value = number * shownScale;
        return r;
    }
    r.hadUnit = true;
    double scale = 0;
    switch (q) {
    case Quantity::Bytes:
        if (lookupBytes(unit, &scale)) {
            r.ok = true;
            r.value = number * scale;
            return r;
        }
        if (unit.endsWith(QLatin1String("/s")) && lookupBytes(unit.chopped(2).trimmed(), &scale))
            r.error = QStringLiteral("%1 is a bandwidth; this field is a size (B, kB, GB, GiB…)").arg(unit);
        else
            r.error = QStringLiteral("unknown unit '%1'; a size takes B, kB, MB, GB, TB or KiB, MiB, GiB, TiB").arg(unit);
        return r;
    case Quantity::Bandwidth:
        if (unit.endsWith(QLatin1String("/s")) && lookupBytes(unit.chopped(2).trimmed(), &scale)) {
            r.ok = true;
            r.value = number * scale;
            return r;
        }
        if (lookupBytes(unit, &scale))
            r.error = QStringLiteral("%1 is a size; this field is a bandwidth (GB/s, TB/s, GiB/s…)").arg(unit);
        else
            r.error = QStringLiteral("unknown unit '%1'; a bandwidth takes B/s, kB/s, MB/s, GB/s, TB/s or GiB/s, TiB/s").arg(unit);
        return r;
    case Quantity::Count:
        if (unit == QLatin1String("tok") || unit == QLatin1String("tokens") || unit == QLatin1String("token")) {
            r.ok = true;
            r.value = number;
            return r;
        }
        r.error = QStringLiteral("unknown unit '%1'; type a plain number of tokens").arg(unit);
        return r;
    case Quantity::Fraction:
        if (unit == QLatin1String("%")) {
            r.ok = true;
            r.value = number / 100.0;
            return r;
        }
        r.error = QStringLiteral("unknown unit '%1'; type a fraction (0.3) or a percentage (30 %)").arg(unit);
        return r;
    case Quantity::Plain:
        break;
    }
    r.error = QStringLiteral("'%1' after the number is not understood; type a plain number").arg(unit);
    return r;
}

} // namespace kvtier::ui
