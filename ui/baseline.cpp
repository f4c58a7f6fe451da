#include "ui/baseline.hpp"

#include "ui/units.hpp"

#include <QAction>

namespace kvtier::ui {

Baseline::Baseline(std::function<AnalysisOutputPtr()> current, QObject* parent)
    : QObject(parent), current_(std::move(current)), pin_(new QAction(tr("Pin result as &baseline"), this)),
      clear_(new QAction(tr("C&lear baseline"), this))
{
    pin_->setObjectName(QStringLiteral("pinBaseline"));
    pin_->setShortcut(QKeySequence(tr("Ctrl+B")));
    pin_->setToolTip(tr("Keep the result shown now: the bandwidth view overlays its step time (dashed) and Explain "
                        "shows each policy's total time then and now"));
    clear_->setEnabled(false);
    connect(pin_, &QAction::triggered, this, [this] { pin(current_()); });
    connect(clear_, &QAction::triggered, this, [this] { pin(nullptr); });
}

void Baseline::pin(const AnalysisOutputPtr& out)
{
    pinned_ = out && out->result ? out : nullptr;
    clear_->setEnabled(pinned_ != nullptr);
    emit changed(pinned_);
}

QString Baseline::summary() const
{
    if (!pinned_)
        return tr("No baseline");
    const PolicyOutcome* o = pinned_->outcome(pinned_->view.policy);
    return tr("Baseline pinned: %1 %2/token, batch %3")
        .arg(o ? QString::fromStdString(o->info.label) : QString())
        .arg(o && o->timing ? formatSeconds(o->timing->timePerToken()) : QStringLiteral("–"))
        .arg(pinned_->scenario.batch);
}

} // namespace kvtier::ui
