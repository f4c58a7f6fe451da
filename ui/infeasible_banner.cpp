#include "ui/infeasible_banner.hpp"

#include "core/config/scenario_diff.hpp"
#include "ui/baseline.hpp"
#include "ui/units.hpp"

#include <QEvent>

namespace kvtier::ui {

InfeasibleBanner::InfeasibleBanner(QWidget* over) : QLabel(over)
{
    setObjectName(QStringLiteral("infeasibleBanner"));
    setWordWrap(true);
    setTextFormat(Qt::RichText);
    setTextInteractionFlags(Qt::TextSelectableByMouse);
    setAutoFillBackground(true);
    // Fixed colours that read on light and dark palettes alike.
    setStyleSheet(QStringLiteral("QLabel { background: #FBE3D6; color: #5A1F00; padding: 6px; border: 1px solid #D55E00; }"));
    over->installEventFilter(this);
    hide();
}

bool InfeasibleBanner::eventFilter(QObject* watched, QEvent* e)
{
    if (watched == parent() && e->type() == QEvent::Resize && isVisible())
        place();
    return QLabel::eventFilter(watched, e);
}

void InfeasibleBanner::place()
{
    auto* p = parentWidget();
    const int w = p->width();
    const int h = heightForWidth(w);
    setGeometry(0, 0, w, h > 0 ? h : sizeHint().height());
    raise();
}

void InfeasibleBanner::showFailure(const QString& message, bool infeasible, const Scenario* shown, const Scenario& asked)
{
    QString problem = message, fix;
    const qsizetype cut = message.indexOf(QStringLiteral("; to fix: "));
    if (cut >= 0) {
        problem = message.left(cut);
        fix = message.mid(cut + 10);
    }
    if (problem.startsWith(QStringLiteral("infeasible: ")))
        problem = problem.mid(12);
    QString html = (infeasible ? tr("<b>Infeasible:</b> ") : tr("<b>Cannot compute:</b> ")) + problem.toHtmlEscaped() + QStringLiteral(".");
    if (!fix.isEmpty())
        html += tr(" <b>To fix:</b> %1.").arg(fix.toHtmlEscaped());
    if (shown) {
        QStringList kept;
        for (const ScenarioChange& c : scenarioChanges(*shown, asked)) {
            if (isLabelKey(c.path))
                continue;
            kept << changeText(c, true);
        }
        html += QStringLiteral("<br>") + (kept.isEmpty() ? tr("Every view shows the last feasible result.")
                                                       : tr("Every view shows the last feasible result: %1.").arg(kept.join(QStringLiteral(", ")).toHtmlEscaped()));
    } else {
        html += QStringLiteral("<br>") + tr("Nothing feasible has been computed yet.");
    }
    setText(html);
    show();
    place();
}

} // namespace kvtier::ui
