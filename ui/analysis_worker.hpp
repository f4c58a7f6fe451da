#pragma once
// The analysis runs on a JobRunner (ui/job_runner.hpp): the newest request wins; a new
// one raises the running job's cancel flag (the core stops at its next check and throws
// Cancelled) and waits as the single pending request; results of superseded requests are
// dropped. Results and progress reach the UI thread by queued calls. A request runs
// streamed (core analyzeStreamed: bounded memory, docs/GUI.md "Streamed analysis") when
// the user asks for it or when the whole-trace estimate exceeds the budget.
#include "core/engine/pipeline.hpp"
#include "core/engine/stream_analysis.hpp"
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
    // Stream the trace (bounded memory) whatever its size: the user's choice.
    bool stream = false;
    // The automatic rule: stream when the whole-trace estimate (core wholeTraceBytes)
    // exceeds this many bytes (core defaultWholeTraceBudget unless a test sets another).
    double wholeTraceBudget = 0;
};

// How a streamed run came about and what it reported (docs/GUI.md "Streamed analysis").
struct StreamInfo {
    StreamReport report;
    bool automatic = false;                    // chosen by the rule, not by the user
    double whole_bytes = 0, budget_bytes = 0;  // the rule's numbers (0 when not estimated)
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
    // Set when the analysis was streamed: the result then holds totals and per-step times
    // but no per-step lists (core holdsStepLists), no relevance statistics and no oracle
    // policies (report.oracles_left_out); the heatmaps were pooled while streaming.
    std::optional<StreamInfo> stream;
    bool streamed() const { return stream.has_value(); }
    // The named policy's outcome (the first policy's when the name is not in the result,
    // as the views fall back); null for a policy a streamed run left out.
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
    // Stream every following request (the Analysis menu's "Stream the trace"); off, a
    // request still streams when its trace is too large for the whole-trace pipeline.
    void setStreaming(bool on) { streaming_ = on; }
    bool streaming() const { return streaming_; }
    // The automatic rule's budget in bytes (default: core defaultWholeTraceBudget()).
    void setWholeTraceBudget(double bytes) { wholeTraceBudget_ = bytes; }
    double wholeTraceBudget() const { return wholeTraceBudget_; }
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
    bool streaming_ = false;
    double wholeTraceBudget_ = 0;
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
    // `pooled`: the relevance and placement images came with a streamed result; only the
    // expert image is drawn here.
    void addHeatmaps(AnalysisOutput& out, const AnalysisRequest& r, const JobControl& job, bool pooled = false);
    // The request streamed (core analyzeStreamed), its heatmaps pooled on the way.
    AnalysisOutputPtr processStreamed(const AnalysisRequest& r, const AnalysisRequest& request, StreamInfo info,
                                      const JobControl& job);
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
    // The last streamed answer (its scenario and view): the same request again costs nothing.
    AnalysisOutputPtr lastStreamed_;
};

} // namespace kvtier::ui

Q_DECLARE_METATYPE(kvtier::ui::AnalysisOutputPtr)
