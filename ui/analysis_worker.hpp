#pragma once
// The analysis runs on a JobRunner (ui/job_runner.hpp): the newest request wins; a new
// one raises the running job's cancel flag (the core stops at its next check and throws
// Cancelled) and waits as the single pending request; results of superseded requests are
// dropped. Results and progress reach the UI thread by queued calls.
#include "core/engine/pipeline.hpp"
#include "core/engine/view_heatmap.hpp"
#include "core/model/scenario.hpp"
#include "ui/heatmaps.hpp"

#include <QObject>
#include <QString>

#include <functional>
#include <memory>
#include <optional>

namespace kvtier::ui {

class JobRunner;

// What the views need besides the scenario: the visible windows and their pixel sizes.
struct ViewParams {
    HeatmapWindow relevance;       // rows = tokens
    HeatmapWindow placement;       // rows = pages
    HeatmapWindow experts;         // rows = experts, layer = the model layer (a MoE model)
    std::string policy;            // the policy shown in the placement and bandwidth views
    bool wantRelevance = true;
    bool wantPlacement = true;
    bool wantExperts = true;
    bool operator==(const ViewParams&) const = default;
};

struct AnalysisRequest {
    uint64_t id = 0;
    Scenario scenario;
    ViewParams view;
    bool fresh = false;     // drop every cached stage first (the Recompute command)
    // A slider drag's intermediate value: the shown policy alone, answered as a partial
    // result (the comparison waits for the value the drag ends on).
    bool shownOnly = false;
};

struct AnalysisOutput {
    uint64_t id = 0;
    Scenario scenario;
    ViewParams view;
    std::shared_ptr<const AnalysisResult> result;    // null on error
    QString error;                                   // set on failure (infeasible, bad input)
    bool infeasible = false;
    // A first, partial answer: only the policy the placement view shows, so the views
    // that depend on it repaint before every other policy is re-placed.
    bool partial = false;
    // The heavy bounds (scenario "bounds": migration-aware bound and annealed schedule)
    // run as a second phase of the same request, after the first answer was shown:
    // `boundsPending` marks that first answer when the second phase follows.
    bool boundsPending = false;
    QString boundsNote;     // why the heavy bounds are absent (inclusive) or what failed
    // The heavy bounds' schedules, shown like a policy ("schedule", "annealed"; oracles).
    std::vector<PolicyOutcome> schedules;
    std::shared_ptr<RelevanceHeatmap> relevance;     // the view takes its data (ownership)
    std::shared_ptr<PlacementHeatmap> placement;
    std::shared_ptr<ExpertHeatmap> experts;          // a model with experts only
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
    uint64_t submit(Scenario scenario, ViewParams view, bool fresh = false, bool shownOnly = false);
    // For a slider being dragged: a running request is not cancelled but let finish (or
    // reach its first answer, the shown policy); the newest value waits and then runs,
    // for the shown policy alone. So a drag shows results at the pace the engine computes
    // them instead of none until release. A later submit() or cancel() drops the waiting
    // value; the window submits the final value in full when the drag ends.
    void submitLive(Scenario scenario, ViewParams view);
    // Stops the running request; nothing of it is shown, the last result stays.
    void cancel();
    bool busy() const;
    uint64_t latestId() const;
    JobRunner* runner() const { return runner_; }
    std::shared_ptr<Pipeline> pipeline() const { return pipeline_; }

signals:
    void resultReady(const kvtier::ui::AnalysisOutputPtr& output);
    void partialReady(const kvtier::ui::AnalysisOutputPtr& output);
    void failed(const QString& message, bool infeasible);
    void busyChanged(bool busy);
    void progress(double fraction);
    // A request's heavy phase was cancelled (a newer request, Cancel): nothing of it shows.
    void boundsCancelled();

private:
    std::shared_ptr<Pipeline> pipeline_;
    std::shared_ptr<AnalysisWorker> worker_;   // used by the runner's thread only
    JobRunner* runner_;
    bool lastFresh_ = false;   // the newest submitted request was a Recompute
    uint64_t heavyGeneration_ = 0;   // the request whose heavy phase runs (its first answer shown)
    struct Live {
        Scenario scenario;
        ViewParams view;
    };
    std::optional<Live> live_;   // submitLive()'s value waiting for the running request
    void runLive();
};

// Used on the runner's thread, one request at a time. Keeps the last result and heatmaps
// so a zoom or a change that leaves them valid costs nothing.
class AnalysisWorker {
public:
    explicit AnalysisWorker(std::shared_ptr<Pipeline> pipeline) : pipeline_(std::move(pipeline)) {}
    // `partial`, when given, receives a first answer for the shown policy alone when the
    // request needs new placements for several policies. Throws Cancelled when `job` is
    // cancelled; every other failure is reported in the output.
    // `light`, when given, receives the answer without the heavy bounds when the scenario
    // enables them; they are then computed (after a short settle that a newer request
    // cancels, so slider drags never start them) and returned.
    AnalysisOutputPtr process(const AnalysisRequest& r, const JobControl& job,
                              const std::function<void(AnalysisOutputPtr)>& partial = {},
                              const std::function<void(AnalysisOutputPtr)>& light = {});
    // How long the heavy phase waits for a newer request before it starts (tests set 0).
    static void setBoundsSettleMs(int ms);

private:
    void addHeatmaps(AnalysisOutput& out, const AnalysisRequest& r, const JobControl& job);
    AnalysisOutputPtr withHeavyBounds(const AnalysisOutput& light, const AnalysisRequest& r, const JobControl& job);
    std::shared_ptr<Pipeline> pipeline_;
    std::shared_ptr<const AnalysisResult> last_, lastHeavy_;
    std::shared_ptr<RelevanceHeatmap> lastRelevance_;
    std::shared_ptr<PlacementHeatmap> lastPlacement_;
    std::shared_ptr<ExpertHeatmap> lastExperts_;
    // What the cached images show: the stage keys of their sources and the window. The
    // expert image's sources are held, so their addresses in its key stay theirs.
    std::string lastRelevanceKey_, lastPlacementKey_, lastExpertsKey_;
    std::shared_ptr<const TimingResult> lastExpertsTiming_;
    std::shared_ptr<const Selection> lastExpertsSelection_;
    uint64_t keys_ = 0;
};

} // namespace kvtier::ui

Q_DECLARE_METATYPE(kvtier::ui::AnalysisOutputPtr)
