#pragma once
// Shared by the GUI suites: waiting for the window's analysis of its current scenario.
#include "ui/main_window.hpp"

#include <QCoreApplication>
#include <QtTest>

namespace kvtier::test {

// Waits until the window is idle and shows a whole (not partial) result of the scenario it
// now holds, then lets queued repaints run; false on timeout.
inline bool waitCurrent(ui::MainWindow& w, int timeoutMs = 120000)
{
    const bool settled = QTest::qWaitFor(
        [&] { return !w.busy() && w.lastOutput() && !w.lastOutput()->partial && w.lastOutput()->scenario == w.scenario(); },
        timeoutMs);
    QCoreApplication::processEvents();
    return settled;
}

} // namespace kvtier::test
