#pragma once
// Keeps the mouse wheel for scrolling: a slider, spin box or combo box under the pointer
// takes the wheel only when it has keyboard focus (clicked or tabbed into); otherwise the
// wheel scrolls the enclosing scroll area, as a reader of a long panel expects. One stray
// wheel turn must never change a scenario value.
#include <QObject>

class QWidget;

namespace kvtier::ui {

class WheelGuard : public QObject {
    Q_OBJECT
public:
    // Guards every slider, spin box and combo box under `root` (inclusive), now present;
    // call again after adding widgets (guarding twice is harmless).
    static void guard(QWidget* root);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    explicit WheelGuard(QObject* parent) : QObject(parent) {}
    static WheelGuard* instance();
};

} // namespace kvtier::ui
