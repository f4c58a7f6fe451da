#include "ui/baseline.hpp"

#include "core/config/scenario_diff.hpp"
#include "ui/units.hpp"

#include <QAction>

namespace kvtier::ui {

namespace {

bool endsWith(const std::string& s, const char* tail)
{
    const std::string t(tail);
    return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

QString unquoted(const std::string& json)
{
    QString v = QString::fromStdString(json.empty() ? "–" : json);
    if (v.size() >= 2 && v.startsWith(QChar('"')) && v.endsWith(QChar('"')))
        v = v.mid(1, v.size() - 2);
    return v;
}

} // namespace

QString readableSetting(const std::string& path, double value)
{
    if (endsWith(path, "_bytes"))
        return formatBytes(value);
    if (endsWith(path, "bandwidth") || endsWith(path, "link_read") || endsWith(path, "link_write"))
        return formatBandwidth(value);
    if (endsWith(path, "_s"))
        return formatSeconds(value);
    return formatNumber(value, 6);
}

bool isLabelKey(const std::string& path)
{
    return path == "hardware.preset" || path == "hardware.name" || path == "model.preset" || path == "model.name";
}

QString changeText(const ScenarioChange& c, bool youSet)
{
    const QString path = QString::fromStdString(c.path);
    const QString before = c.numeric ? readableSetting(c.path, c.before_number) : unquoted(c.before);
    const QString after = c.numeric ? readableSetting(c.path, c.after_number) : unquoted(c.after);
    return youSet ? QObject::tr("%1 = %2 (you set %3)").arg(path, before, after) : QObject::tr("%1: %2 → %3").arg(path, before, after);
}

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
