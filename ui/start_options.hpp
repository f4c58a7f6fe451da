#pragma once
// What the window's command line asks to show once the first result is in: the policy the
// placement and bandwidth views show (`kvtier --policy lru`), a token the relevance view
// follows (`kvtier --token 3000`), the sequence of a batch the heatmaps show
// (`kvtier --sequence 2`) and the view in front (`kvtier --view relevance`), so a state can be opened, shared and screenshotted
// without clicking.
#include <QString>

namespace kvtier::ui {

class MainWindow;

struct StartView {
    QString policy;        // empty: the scenario's first policy
    qint64 token = -1;     // < 0: none
    QString view;          // a view to bring to the front (MainWindow::bringViewToFront); empty: none
    int sequence = -1;     // the sequence of a batch the heatmaps show (`kvtier --sequence 2`); < 0: the first
};

// Applies `view` when `w` shows its first complete result. A policy the scenario does not
// run, or a token or sequence outside the trace, is reported through the ErrorSink in one line and
// left as it is.
void applyOnFirstResult(MainWindow& w, const StartView& view);

} // namespace kvtier::ui
