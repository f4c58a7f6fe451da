#pragma once
// The banner over the views when a scenario cannot be computed: what does not fit, what
// would fix it (both from the core's InfeasibleError, in readable units), and which values
// the views still show (the last feasible result's, key by key). It floats over the top
// of its parent instead of taking a row of the layout, so showing it moves nothing.
#include "core/model/scenario.hpp"

#include <QLabel>

namespace kvtier::ui {

class InfeasibleBanner : public QLabel {
    Q_OBJECT
public:
    explicit InfeasibleBanner(QWidget* over);
    // `shown`: the scenario of the result the views keep (null when none); `asked`: the
    // scenario that failed.
    void showFailure(const QString& message, bool infeasible, const Scenario* shown, const Scenario& asked);

protected:
    bool eventFilter(QObject* watched, QEvent* e) override;

private:
    void place();
};

} // namespace kvtier::ui
