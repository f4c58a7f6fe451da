#include "ui/theme.hpp"

#include <QApplication>
#include <QPalette>
#include <QWidget>

#include <algorithm>
#include <qcustomplot.h>

namespace kvtier::ui {

namespace {
Theme& currentTheme()
{
    static Theme t = Theme::light();
    return t;
}
} // namespace

Theme Theme::light()
{
    Theme t;
    t.dark = false;
    t.background = QColor(255, 255, 255);
    t.foreground = QColor(33, 33, 33);
    t.grid = QColor(215, 215, 215);
    t.subGrid = QColor(238, 238, 238);
    t.axisRectBackground = QColor(255, 255, 255);
    return t;
}

Theme Theme::darkTheme()
{
    Theme t;
    t.dark = true;
    t.background = QColor(37, 38, 41);
    t.foreground = QColor(225, 225, 225);
    t.grid = QColor(70, 72, 76);
    t.subGrid = QColor(52, 54, 58);
    t.axisRectBackground = QColor(30, 31, 34);
    return t;
}

Theme Theme::fromPalette()
{
    const QColor w = QApplication::palette().color(QPalette::Window);
    return w.lightness() < 128 ? darkTheme() : light();
}

const Theme& Theme::current() { return currentTheme(); }
void Theme::setCurrent(const Theme& t) { currentTheme() = t; }

QColor secondaryTextColor(const QPalette& palette)
{
    const QColor text = palette.color(QPalette::WindowText), window = palette.color(QPalette::Window);
    constexpr double k = 0.38;   // how far toward the window colour
    return QColor::fromRgbF(static_cast<float>(text.redF() + k * (window.redF() - text.redF())),
                            static_cast<float>(text.greenF() + k * (window.greenF() - text.greenF())),
                            static_cast<float>(text.blueF() + k * (window.blueF() - text.blueF())));
}

void useSecondaryText(QWidget* w)
{
    QPalette p = w->palette();
    p.setColor(QPalette::WindowText, secondaryTextColor(p));
    w->setPalette(p);
}

void Theme::apply(QCustomPlot* plot) const
{
    plot->setBackground(background);
    for (QCPAxisRect* rect : plot->axisRects()) {
        rect->setBackground(axisRectBackground);
        for (QCPAxis* axis : rect->axes()) {
            axis->setBasePen(QPen(foreground, 1));
            axis->setTickPen(QPen(foreground, 1));
            axis->setSubTickPen(QPen(foreground, 1));
            axis->setTickLabelColor(foreground);
            axis->setLabelColor(foreground);
            axis->grid()->setPen(QPen(grid, 1, Qt::DotLine));
            axis->grid()->setSubGridPen(QPen(subGrid, 1, Qt::DotLine));
            axis->grid()->setZeroLinePen(Qt::NoPen);
        }
    }
    for (int i = 0; i < plot->plotLayout()->elementCount(); ++i) {
        if (auto* title = qobject_cast<QCPTextElement*>(plot->plotLayout()->elementAt(i)))
            title->setTextColor(foreground);
    }
    const QList<QCPLegend*> legends = plot->findChildren<QCPLegend*>();
    for (QCPLegend* legend : legends) {
        legend->setBrush(QBrush(dark ? QColor(45, 46, 50, 230) : QColor(255, 255, 255, 230)));
        legend->setBorderPen(QPen(grid));
        legend->setTextColor(foreground);
    }
    if (plot->legend) {
        plot->legend->setBrush(QBrush(dark ? QColor(45, 46, 50, 230) : QColor(255, 255, 255, 230)));
        plot->legend->setBorderPen(QPen(grid));
        plot->legend->setTextColor(foreground);
    }
    for (int i = 0; i < plot->plotLayout()->elementCount(); ++i) {
        if (auto* scale = qobject_cast<QCPColorScale*>(plot->plotLayout()->elementAt(i))) {
            QCPAxis* a = scale->axis();
            a->setBasePen(QPen(foreground));
            a->setTickPen(QPen(foreground));
            a->setSubTickPen(QPen(foreground));
            a->setTickLabelColor(foreground);
            a->setLabelColor(foreground);
        }
    }
}

QColor tierColor(int tier)
{
    static const QColor c[] = {QColor(0x00, 0x72, 0xB2), QColor(0xE6, 0x9F, 0x00), QColor(0x00, 0x9E, 0x73),
                               QColor(0xCC, 0x79, 0xA7), QColor(0x56, 0xB4, 0xE9)};
    return c[static_cast<size_t>(tier) % 5];
}

QColor placementColor(int category, bool dark)
{
    switch (category) {
    case kNotCreated: return dark ? QColor(48, 49, 53) : QColor(246, 246, 246);
    case kLowerIdle: return dark ? QColor(110, 84, 40) : QColor(0xF6, 0xDD, 0xA8);
    case kFastIdle: return dark ? QColor(40, 82, 120) : QColor(0xA6, 0xCE, 0xE8);
    case kFastRead: return QColor(0x00, 0x5A, 0x9C);
    case kLowerRead: return QColor(0xD5, 0x5E, 0x00);
    default: return Qt::magenta;
    }
}

QString placementLabel(int category)
{
    switch (category) {
    case kNotCreated: return QObject::tr("not yet created");
    case kLowerIdle: return QObject::tr("in DRAM, not read");
    case kFastIdle: return QObject::tr("in HBM, not read");
    case kFastRead: return QObject::tr("read from HBM");
    case kLowerRead: return QObject::tr("read from DRAM");
    default: return {};
    }
}

QColor seriesColor(int i)
{
    // Tol's "bright", "vibrant" and "muted" qualitative sets: distinct for colour-blind readers too.
    static const QColor c[] = {QColor(0x44, 0x77, 0xAA), QColor(0xEE, 0x66, 0x77), QColor(0x22, 0x88, 0x33),
                               QColor(0xCC, 0xBB, 0x44), QColor(0x66, 0xCC, 0xEE), QColor(0xAA, 0x33, 0x77),
                               QColor(0x88, 0x88, 0x88), QColor(0xEE, 0x77, 0x33), QColor(0x00, 0x99, 0x88),
                               QColor(0xEE, 0x33, 0x77), QColor(0x33, 0x22, 0x88), QColor(0x88, 0x22, 0x55),
                               QColor(0x99, 0x99, 0x33), QColor(0x00, 0x77, 0xBB), QColor(0xDD, 0xCC, 0x77)};
    return c[static_cast<size_t>(i) % 15];
}

QColor boundColor(bool paper, bool dark)
{
    if (paper)
        return dark ? QColor(170, 170, 170) : QColor(110, 110, 110);
    return dark ? QColor(240, 240, 240) : QColor(20, 20, 20);
}

QColor trafficColor(int kind)
{
    static const QColor c[] = {QColor(0xA0, 0xA0, 0xA0), QColor(0x33, 0x22, 0x88), QColor(0x88, 0xCC, 0xEE),
                               QColor(0xCC, 0x66, 0x77)};
    return c[static_cast<size_t>(kind) % 4];
}

namespace {
QCPColorGradient fromStops(const unsigned char (*rgb)[3], int n)
{
    QCPColorGradient g;
    g.clearColorStops();
    for (int i = 0; i < n; ++i)
        g.setColorStopAt(static_cast<double>(i) / (n - 1), QColor(rgb[i][0], rgb[i][1], rgb[i][2]));
    g.setColorInterpolation(QCPColorGradient::ciRGB);
    g.setLevelCount(256);
    g.setNanHandling(QCPColorGradient::nhTransparent);
    return g;
}
} // namespace

QCPColorGradient viridisGradient()
{
    // matplotlib's viridis sampled at 17 evenly spaced points.
    static const unsigned char v[][3] = {{68, 1, 84},    {72, 26, 108},  {71, 47, 125},  {65, 68, 135},
                                         {57, 86, 140},  {49, 104, 142}, {42, 120, 142}, {35, 136, 142},
                                         {31, 152, 139}, {34, 168, 132}, {53, 183, 121}, {84, 197, 104},
                                         {122, 209, 81}, {165, 219, 54}, {210, 226, 27}, {236, 229, 27},
                                         {253, 231, 37}};
    return fromStops(v, 17);
}

QCPColorGradient cividisGradient()
{
    static const unsigned char v[][3] = {{0, 34, 78},     {18, 53, 112},   {53, 69, 108},   {79, 87, 108},
                                         {102, 105, 112}, {124, 123, 120}, {148, 142, 119}, {174, 163, 113},
                                         {200, 184, 102}, {227, 207, 85},  {254, 232, 56}};
    return fromStops(v, 11);
}

QCPColorGradient placementGradient(bool dark)
{
    QCPColorGradient g;
    g.clearColorStops();
    // Data values are the category ids 0..4; with data range [-0.5, 4.5] each class maps
    // to the middle of its own band. Two stops per band edge make the steps sharp.
    for (int c = 0; c < kCategoryCount; ++c) {
        const double lo = static_cast<double>(c) / static_cast<double>(kCategoryCount);
        const double hi = static_cast<double>(c + 1) / static_cast<double>(kCategoryCount);
        g.setColorStopAt(lo + 1e-6, placementColor(c, dark));
        g.setColorStopAt(hi - 1e-6, placementColor(c, dark));
    }
    g.setLevelCount(kCategoryCount * 64);
    g.setNanHandling(QCPColorGradient::nhTransparent);
    return g;
}

int placementClass(int category, int tier)
{
    switch (category) {
    case kFastIdle: return 1;
    case kFastRead: return 2;
    case kLowerIdle: return 1 + 2 * std::max(1, tier);
    case kLowerRead: return 2 + 2 * std::max(1, tier);
    default: return 0;
    }
}

int placementClassCount(int tiers) { return 1 + 2 * std::max(1, tiers); }
bool placementClassIsRead(int cls) { return cls > 0 && cls % 2 == 0; }
int placementClassTier(int cls) { return cls <= 0 ? -1 : (cls - 1) / 2; }

QColor placementClassColor(int cls, bool dark)
{
    if (cls <= 0)
        return dark ? QColor(58, 59, 64) : QColor(240, 240, 240);
    const QColor c = tierColor(placementClassTier(cls));
    if (placementClassIsRead(cls))
        return dark ? c.lighter(115) : c;
    // Idle: half the tier colour over the background (apart from every other class).
    const QColor bg = dark ? QColor(30, 31, 34) : QColor(255, 255, 255);
    const double a = 0.5;
    return QColor::fromRgbF(static_cast<float>(a * c.redF() + (1 - a) * bg.redF()),
                            static_cast<float>(a * c.greenF() + (1 - a) * bg.greenF()),
                            static_cast<float>(a * c.blueF() + (1 - a) * bg.blueF()));
}

QString placementClassLabel(int cls, const QStringList& tierNames)
{
    if (cls <= 0)
        return QObject::tr("not yet created");
    const int m = placementClassTier(cls);
    const QString name = m < tierNames.size() ? tierNames[m] : QObject::tr("tier %1").arg(m);
    return placementClassIsRead(cls) ? QObject::tr("read from %1").arg(name) : QObject::tr("in %1, not read").arg(name);
}

QCPColorGradient placementClassGradient(int tiers, bool dark)
{
    const int n = placementClassCount(tiers);
    QCPColorGradient g;
    g.clearColorStops();
    // Data values are the class ids 0..n-1 over the data range [-0.5, n - 0.5]: each class
    // maps to the middle of its own band; two stops per band edge keep the steps sharp.
    for (int c = 0; c < n; ++c) {
        const double lo = static_cast<double>(c) / n, hi = static_cast<double>(c + 1) / n;
        g.setColorStopAt(lo + 1e-6, placementClassColor(c, dark));
        g.setColorStopAt(hi - 1e-6, placementClassColor(c, dark));
    }
    g.setLevelCount(std::min(350, n * 64));
    g.setNanHandling(QCPColorGradient::nhTransparent);
    return g;
}

int expertClass(int category, int tier, int tiers)
{
    switch (category) {
    case kExpertLowerIdle: return placementClass(kLowerIdle, tier);
    case kExpertFastIdle: return placementClass(kFastIdle, 0);
    case kExpertFastRead: return placementClass(kFastRead, 0);
    case kExpertLowerRead: return placementClass(kLowerRead, tier);
    default: return placementClassCount(tiers);   // migrated
    }
}

int expertClassCount(int tiers) { return placementClassCount(tiers) + 1; }

QColor expertClassColor(int cls, int tiers, bool dark)
{
    // A move: near-black on light, near-white on dark, apart from every tier colour.
    if (cls >= placementClassCount(tiers))
        return dark ? QColor(0xF2, 0xF2, 0xF2) : QColor(0x1A, 0x1A, 0x1A);
    return placementClassColor(cls, dark);
}

QString expertClassLabel(int cls, const QStringList& tierNames)
{
    const int tiers = static_cast<int>(std::max<qsizetype>(1, tierNames.size()));
    if (cls >= placementClassCount(tiers))
        return QObject::tr("migrated at this step");
    const int m = placementClassTier(cls);
    const QString name = m >= 0 && m < tierNames.size() ? tierNames[m] : QObject::tr("tier %1").arg(m);
    return placementClassIsRead(cls) ? QObject::tr("active, read from %1").arg(name) : QObject::tr("idle in %1").arg(name);
}

QCPColorGradient expertClassGradient(int tiers, bool dark)
{
    const int n = expertClassCount(tiers);
    QCPColorGradient g;
    g.clearColorStops();
    for (int c = 0; c < n; ++c) {
        const double lo = static_cast<double>(c) / n, hi = static_cast<double>(c + 1) / n;
        g.setColorStopAt(lo + 1e-6, expertClassColor(c, tiers, dark));
        g.setColorStopAt(hi - 1e-6, expertClassColor(c, tiers, dark));
    }
    g.setLevelCount(std::min(350, n * 64));
    g.setNanHandling(QCPColorGradient::nhTransparent);
    return g;
}

} // namespace kvtier::ui
