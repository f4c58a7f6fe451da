#include "ui/wheel_guard.hpp"

#include <QAbstractScrollArea>
#include <QAbstractSlider>
#include <QAbstractSpinBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QScrollBar>
#include <QWheelEvent>

namespace kvtier::ui {

namespace {

bool guarded(const QWidget* w)
{
    // Scroll bars are what the wheel is for.
    if (qobject_cast<const QScrollBar*>(w))
        return false;
    return qobject_cast<const QAbstractSlider*>(w) || qobject_cast<const QAbstractSpinBox*>(w) ||
           qobject_cast<const QComboBox*>(w);
}

} // namespace

WheelGuard* WheelGuard::instance()
{
    static WheelGuard* g = new WheelGuard(QCoreApplication::instance());
    return g;
}

void WheelGuard::guard(QWidget* root)
{
    if (!root)
        return;
    QList<QWidget*> all = root->findChildren<QWidget*>();
    all.prepend(root);
    for (QWidget* w : all) {
        if (!guarded(w))
            continue;
        // The wheel alone never gives focus: a click or Tab does.
        if (w->focusPolicy() == Qt::WheelFocus)
            w->setFocusPolicy(Qt::StrongFocus);
        w->removeEventFilter(instance());
        w->installEventFilter(instance());
    }
}

bool WheelGuard::eventFilter(QObject* watched, QEvent* event)
{
    if (event->type() != QEvent::Wheel)
        return false;
    auto* w = qobject_cast<QWidget*>(watched);
    if (!w || w->hasFocus())
        return false;
    // Hand the turn to the nearest scroll area's vertical bar (the Scenario panel's).
    for (QWidget* p = w->parentWidget(); p; p = p->parentWidget())
        if (auto* area = qobject_cast<QAbstractScrollArea*>(p)) {
            QCoreApplication::sendEvent(area->verticalScrollBar(), event);
            return true;
        }
    return true;   // no scroll area: the turn does nothing rather than change a value
}

} // namespace kvtier::ui
