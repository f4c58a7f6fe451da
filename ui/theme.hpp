#pragma once
// Colours shared by every view, so a tier has the same colour in the placement heatmap,
// the bandwidth curves and the explain panel; the perceptually uniform, colour-blind-safe
// gradients for the heatmaps; light/dark styling of plots.
#include "core/engine/view_experts.hpp"
#include "core/engine/view_heatmap.hpp"

#include <QColor>
#include <QStringList>
#include <QVector>

class QCustomPlot;
class QCPColorGradient;
class QPalette;
class QWidget;

namespace kvtier::ui {

// Placement heatmap categories (PlacementCategory, kNotCreated...) are the core's view data.

struct Theme {
    bool dark = false;
    QColor background, foreground, grid, subGrid, axisRectBackground;

    static Theme light();
    static Theme darkTheme();
    // Follows the application palette: Qt 6.4 has no QStyleHints::colorScheme, so the
    // window colour's lightness decides.
    static Theme fromPalette();
    static const Theme& current();
    static void setCurrent(const Theme& t);

    void apply(QCustomPlot* plot) const;
};

// Secondary text (hints, descriptions under a control): the palette's text colour blended
// 38 % toward the window colour, so it reads as secondary yet keeps a contrast near 5:1 or
// more in light and dark palettes alike (the palette's `mid` nearly vanishes on a dark window).
QColor secondaryTextColor(const QPalette& palette);
// Gives `w` (a QLabel or any widget drawing WindowText) that colour.
void useSecondaryText(QWidget* w);

// Okabe–Ito colours, safe for the common colour-vision deficiencies; one per tier, the
// same in every view (placement, bandwidth, explain, the token strip).
QColor tierColor(int tier);
QColor placementColor(int category, bool dark);
QString placementLabel(int category);

// The placement heatmap's classes: each tier in its own colour (HBM, DDR5 and CXL never
// merge). Class 0: not yet created; 1 + 2 m: in tier m, not read; 2 + 2 m: read from
// tier m. A cell's class comes from the core's category and tier (PlacementGrid).
int placementClass(int category, int tier);
int placementClassCount(int tiers);
bool placementClassIsRead(int cls);
int placementClassTier(int cls);   // -1 for "not created"
// Read: the tier colour; idle: the tier colour faded toward the plot background, so both
// stay legible (and apart) in light and dark themes.
QColor placementClassColor(int cls, bool dark);
QString placementClassLabel(int cls, const QStringList& tierNames);
QCPColorGradient placementClassGradient(int tiers, bool dark);
// The expert heatmap's classes (core ExpertCategory and tier, ExpertGrid): idle and read in
// each tier as placementClass (the same colours as the placement view), and one class more,
// placementClassCount(tiers), for an expert the expert policy moved at that step.
int expertClass(int category, int tier, int tiers);
int expertClassCount(int tiers);
QColor expertClassColor(int cls, int tiers, bool dark);
QString expertClassLabel(int cls, const QStringList& tierNames);
QCPColorGradient expertClassGradient(int tiers, bool dark);
// Distinct curves: policies in plots (Tol's "bright" + Okabe–Ito extras).
QColor seriesColor(int i);
QColor boundColor(bool paper, bool dark);
// Traffic kinds in the bandwidth view.
QColor trafficColor(int kind);   // 0 weights, 1 KV read, 2 KV write, 3 migration

// viridis / cividis built from their published colour stops (QCustomPlot 2.1 has no preset).
QCPColorGradient viridisGradient();
QCPColorGradient cividisGradient();
// Discrete gradient for the placement categories (no interpolation between classes).
QCPColorGradient placementGradient(bool dark);

} // namespace kvtier::ui
