#pragma once
// A pinned result to compare against ("what changed when I moved this?"): Pin keeps the
// result shown now; the bandwidth view overlays its step-time curve (dashed) and the
// Explain panel lists each policy's total time then and now and the keys that changed.
#include "ui/analysis_worker.hpp"

#include <QObject>

#include <functional>

class QAction;

namespace kvtier {
struct ScenarioChange;
}

namespace kvtier::ui {

// A scenario value in the units the scenario panel uses ("80 GB", "3.35 TB/s").
QString readableSetting(const std::string& path, double value);
// Preset ids and names follow the values ("custom" once edited): not values themselves.
bool isLabelKey(const std::string& path);
// "hardware.tiers.0.capacity_bytes = 80 GB (you set 10 GB)" when `youSet`, else
// "hardware.tiers.2.bandwidth: 76.8 GB/s → 38.4 GB/s".
QString changeText(const ScenarioChange& c, bool youSet);

class Baseline : public QObject {
    Q_OBJECT
public:
    // `current` gives the result shown now (what Pin keeps).
    Baseline(std::function<AnalysisOutputPtr()> current, QObject* parent = nullptr);
    QAction* pinAction() const { return pin_; }
    QAction* clearAction() const { return clear_; }
    AnalysisOutputPtr pinned() const { return pinned_; }
    void pin(const AnalysisOutputPtr& out);   // null clears
    // "lru 4.21 ms/token, batch 8" style, for the status bar.
    QString summary() const;

signals:
    void changed(const kvtier::ui::AnalysisOutputPtr& pinned);

private:
    std::function<AnalysisOutputPtr()> current_;
    AnalysisOutputPtr pinned_;
    QAction *pin_, *clear_;
};

} // namespace kvtier::ui
