#pragma once
// How big the window starts, and whether a saved geometry still fits: pure functions of
// the screen's available area (logical pixels, so 150 % scaling is a smaller area), kept
// apart from the window so tests can give any screen.
#include <QRect>
#include <QSize>

namespace kvtier::ui {

// First start: most of the available area (margins for the desktop's panels), centred.
QRect firstStartGeometry(const QRect& available);
// A saved geometry is used only when it lies wholly inside the available area (saved on
// a larger monitor, or before the scaling changed, it would start partly off screen).
bool geometryFits(const QRect& saved, const QRect& available);
// Below this much room the views start as tabs rather than a grid of four plots
// (a 1366 x 768 laptop, or 1920 x 1080 at 150 %).
bool preferTabbedViews(const QSize& available);

} // namespace kvtier::ui
