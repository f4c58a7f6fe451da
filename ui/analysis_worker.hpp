#pragma once
// One worker thread runs every core job of the GUI (DESIGN.md "Threads"). The newest
// request wins: each request gets an id; a new one raises the running job's cancel flag
// (core stops at its next check) and waits as the single pending request; results whose
// id is stale are dropped. Results and progress reach the UI thread by queued calls.
#include "core/engine/pipeline.hpp"
#include "core/engine/view_heatmap.hpp"
#include "core/model/scenario.hpp"
#include "ui/heatmaps.hpp"

#include <QObject>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

class QThread;

namespace kvtier::ui {

// What the views need besides the scenario: the visible windows and their pixel sizes.
struct ViewParams {
    HeatmapWindow relevance;       // rows = tokens
    HeatmapWindow placement;       // rows = pages
    std::string policy;            // the policy shown in the placement and bandwidth views
    bool wantRelevance = true;
    bool wantPlacement = true;
    bool operator==(const ViewParams&) const = default;
};

struct AnalysisRequest {
    uint64_t id = 0;
    Scenario scenario;
    ViewParams view;
    bool fresh = false;     // drop every cached stage first (the Recompute command)
};

struct AnalysisOutput {
    uint64_t id = 0;
    Scenario scenario;
    ViewParams view;
    std::shared_ptr<const AnalysisResult> result;    // null on error
    QString error;                                   // set on failure (infeasible, bad input)
    bool infeasible = false;
    bool cancelled = false;                          // superseded or cancelled: nothing to show
    // A first, partial answer: only the policy the placement view shows, so the views
    // that depend on it repaint before every other policy is re-placed.
    bool partial = false;
    std::shared_ptr<RelevanceHeatmap> relevance;     // the view takes its data (ownership)
    std::shared_ptr<PlacementHeatmap> placement;
    double pipeline_ms = 0, heatmap_ms = 0, total_ms = 0;
    const PolicyOutcome* outcome(const std::string& policy) const;
};
using AnalysisOutputPtr = std::shared_ptr<AnalysisOutput>;

class AnalysisWorker;

class AnalysisController : public QObject {
    Q_OBJECT
public:
    explicit AnalysisController(QObject* parent = nullptr);
    ~AnalysisController() override;

    // Returns the id given to the request. `fresh` recomputes every stage from the trace
    // up, ignoring the caches (Recompute); otherwise cached stages are reused.
    uint64_t submit(Scenario scenario, ViewParams view, bool fresh = false);
    void cancel();
    bool busy() const { return running_.has_value(); }
    uint64_t latestId() const { return counter_; }
    std::shared_ptr<Pipeline> pipeline() const { return pipeline_; }
    // Runs a request on the calling thread (headless export): same code, no thread.
    AnalysisOutputPtr runNow(Scenario scenario, ViewParams view);

signals:
    void resultReady(const kvtier::ui::AnalysisOutputPtr& output);
    void partialReady(const kvtier::ui::AnalysisOutputPtr& output);
    void failed(const QString& message, bool infeasible);
    void busyChanged(bool busy);
    void progress(double fraction);

private:
    struct Running {
        uint64_t id;
        std::shared_ptr<std::atomic<bool>> cancel;
    };
    void start(AnalysisRequest r);
    void finished(const AnalysisOutputPtr& out);

    std::shared_ptr<Pipeline> pipeline_;
    QThread* thread_;
    AnalysisWorker* worker_;
    uint64_t counter_ = 0;
    std::optional<Running> running_;
    std::optional<AnalysisRequest> pending_;
};

// Lives in the worker thread. Keeps the last result and heatmaps so a zoom or a change
// that leaves them valid costs nothing.
class AnalysisWorker : public QObject {
    Q_OBJECT
public:
    explicit AnalysisWorker(std::shared_ptr<Pipeline> pipeline) : pipeline_(std::move(pipeline)) {}
    // `partial`, when given, receives a first answer for the shown policy alone when the
    // request needs new placements for several policies.
    AnalysisOutputPtr process(const AnalysisRequest& r, const JobControl& job,
                              const std::function<void(AnalysisOutputPtr)>& partial = {});

private:
    void addHeatmaps(AnalysisOutput& out, const AnalysisRequest& r, const JobControl& job);
    std::shared_ptr<Pipeline> pipeline_;
    std::shared_ptr<const AnalysisResult> last_;
    std::shared_ptr<RelevanceHeatmap> lastRelevance_;
    std::shared_ptr<PlacementHeatmap> lastPlacement_;
    // What the cached images show: the stage keys of their sources and the window.
    std::string lastRelevanceKey_, lastPlacementKey_;
    uint64_t keys_ = 0;
};

} // namespace kvtier::ui

Q_DECLARE_METATYPE(kvtier::ui::AnalysisOutputPtr)
