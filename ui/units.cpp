#include "ui/units.hpp"

#include <QLocale>

#include <cmath>

namespace kvtier::ui {

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
