#include "ui/window_fit.hpp"

#include <algorithm>

namespace kvtier::ui {

QRect firstStartGeometry(const QRect& available)
{
    // 94 % of the width and 92 % of the height: the whole window, title bar included, is
    // visible, and a little desktop shows around it.
    const QSize size(std::max(1, available.width() * 94 / 100), std::max(1, available.height() * 92 / 100));
    QRect r(QPoint(0, 0), size);
    r.moveCenter(available.center());
    return r;
}

bool geometryFits(const QRect& saved, const QRect& available)
{
    return saved.isValid() && available.isValid() && available.contains(saved);
}

bool preferTabbedViews(const QSize& available)
{
    return available.width() < 1400 || available.height() < 860;
}

} // namespace kvtier::ui
