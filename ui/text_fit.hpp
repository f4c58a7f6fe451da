#pragma once
// Fitting text to a width: the plots' titles on screen and every text of an exported figure.
#include <QFont>
#include <QString>

namespace kvtier::ui {

// Greedy word wrap of each line of `text` to `width` (layout units) in `font`; a word wider
// than `width` stays whole on its own line.
QString wrapText(const QString& text, const QFont& font, int width);

} // namespace kvtier::ui
