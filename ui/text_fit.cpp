#include "ui/text_fit.hpp"

#include <QFontMetrics>
#include <QStringList>

namespace kvtier::ui {

QString wrapText(const QString& text, const QFont& font, int width)
{
    const QFontMetrics fm(font);
    QStringList out;
    for (const QString& line : text.split(QLatin1Char('\n'))) {
        QString current;
        for (const QString& word : line.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
            const QString tried = current.isEmpty() ? word : current + QLatin1Char(' ') + word;
            if (!current.isEmpty() && fm.horizontalAdvance(tried) > width) {
                out << current;
                current = word;
            } else {
                current = tried;
            }
        }
        out << current;
    }
    return out.join(QLatin1Char('\n'));
}

} // namespace kvtier::ui
