#include "ui/analysis_worker.hpp"

#include "core/engine/stream_rule.hpp"
#include "core/engine/view_explain.hpp"
#include "core/model/error.hpp"
#include "core/policies/policy.hpp"
#include "ui/error_sink.hpp"
#include "ui/job_runner.hpp"

#include <QElapsedTimer>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

namespace kvtier::ui {

const PolicyOutcome* AnalysisOutput::outcome(const std::string& policy) const
{
    // A policy a streamed run left out has no data: never another policy's in its place.
    if (streamed() && (policy == "schedule" || policy == "annealed" ||
                       std::ranges::find(stream->report.oracles_left_out, policy) != stream->report.oracles_left_out.end()))
        return nullptr;
    for (const PolicyOutcome& o : schedules)
        if (o.info.name == policy)
            return &o;
    return result ? findOutcome(*result, policy) : nullptr;
}

namespace {

// A new, empty answer to request r: its id and view, and the scenario as the caller asked
// for it (`asked`; r's may have had the heavy bounds switched off for a first answer).
std::shared_ptr<AnalysisOutput> answerTo(const AnalysisRequest& r, const Scenario& asked)
{
    auto out = std::make_shared<AnalysisOutput>();
    out->id = r.id;
    out->scenario = asked;
    out->view = r.view;
    return out;
}

std::atomic<int> boundsSettleMs{250};

bool heavyBoundsEnabled(const Scenario& s)
{
    return s.bounds.migration_aware.enabled || s.bounds.annealed.enabled;
}

// A cache key for an image: the stage key of its source, the clamped window.
std::string imageKey(const std::string& stageKey, const HeatmapWindow& w)
{
    return stageKey + "|" + std::to_string(w.t0) + "," + std::to_string(w.t1) + "," + std::to_string(w.y0) + "," +
           std::to_string(w.y1) + "," + std::to_string(w.width) + "x" + std::to_string(w.height) + ",layer " +
           std::to_string(w.layer) + ",sequence " + std::to_string(w.sequence);
}

// A failed analysis: its message for the user (infeasible placements are not errors of
// the input: they keep their own text and mark), and no result.
void recordFailure(AnalysisOutput& out, const std::exception& e, const Scenario& s)
{
    if (const auto* infeasible = dynamic_cast<const InfeasibleError*>(&e)) {
        out.error = QString::fromStdString(infeasible->what());
        out.infeasible = true;
    } else {
        out.error = userMessage(e, QStringLiteral("%1 trace '%2'").arg(QString::fromStdString(s.trace_db),
                                                                      QString::fromStdString(s.trace_name)));
    }
    out.result.reset();
}

} // namespace

void AnalysisWorker::addHeatmaps(AnalysisOutput& out, const AnalysisRequest& r, const JobControl& job, bool pooled)
{
    const AnalysisResult& a = *out.result;
    if (!pooled && r.view.wantRelevance && a.trace && a.selection) {
        const TraceMeta& meta = a.trace->meta();
        const std::string key = imageKey(a.selection_key, clampWindow(r.view.relevance, meta.steps, meta.prefillOf(std::clamp(r.view.relevance.sequence, 0, meta.sequenceCount() - 1)) + meta.steps));
        if (!lastRelevance_ || lastRelevanceKey_ != key) {
            std::shared_ptr<RelevanceHeatmap> h = toHeatmap(relevanceGrid(*a.trace, *a.selection, r.view.relevance, job));
            h->key = ++keys_;
            lastRelevance_ = h;
            lastRelevanceKey_ = key;
        }
        out.relevance = cloneHeatmap(*lastRelevance_);
    }
    const PolicyOutcome* o = out.outcome(r.view.policy);
    if (!pooled && r.view.wantPlacement && o && o->placement && a.selection) {
        const UnitLayout& L = o->placement->layout;
        const std::string key = imageKey(o->placement_key, clampWindow(r.view.placement, L.steps, L.pagesAt(L.prefillOf(std::clamp(r.view.placement.sequence, 0, L.sequences() - 1)) + L.steps)));
        if (!lastPlacement_ || lastPlacementKey_ != key) {
            std::shared_ptr<PlacementHeatmap> h = toHeatmap(placementGrid(*a.selection, *o->placement, r.view.placement, job));
            h->key = ++keys_;
            lastPlacement_ = h;
            lastPlacementKey_ = key;
        }
        out.placement = cloneHeatmap(*lastPlacement_);
    }
    // The expert heatmap of the shown policy's run (MODEL.md §9): its residency as timed.
    if (r.view.wantExperts && o && o->timing && o->timing->expert_residency && a.selection) {
        const ExpertResidency& res = *o->timing->expert_residency;
        HeatmapWindow w = r.view.experts;
        w.layer = std::clamp(w.layer, 0, std::max(0, res.layers - 1));   // a new model may have fewer layers
        const int64_t experts = res.layers > 0 ? static_cast<int64_t>(res.initial.size()) / res.layers : 0;
        char sources[64];
        std::snprintf(sources, sizeof sources, "%p,%p", static_cast<const void*>(o->timing.get()),
                      static_cast<const void*>(a.selection.get()));
        const std::string key = imageKey(sources, clampWindow(w, res.steps, experts));
        if (!lastExperts_ || lastExpertsKey_ != key) {
            std::shared_ptr<ExpertHeatmap> h = toHeatmap(expertGrid(a.selection->experts.get(), res, w, job), res.tiers);
            h->key = ++keys_;
            lastExperts_ = h;
            lastExpertsKey_ = key;
            lastExpertsTiming_ = o->timing;
            lastExpertsSelection_ = a.selection;
        }
        out.experts = cloneHeatmap(*lastExperts_);
    }
}

void AnalysisWorker::setBoundsSettleMs(int ms) { boundsSettleMs = ms; }

// The second phase: the same scenario with the heavy bounds on. Every other stage comes
// from the pipeline's caches; a failure of the bounds alone keeps the first answer.
AnalysisOutputPtr AnalysisWorker::withHeavyBounds(const AnalysisOutput& light, const AnalysisRequest& r, const JobControl& job)
{
    auto out = std::make_shared<AnalysisOutput>(light);
    out->boundsPending = false;
    if (r.scenario.inclusive) {
        out->boundsNote = QObject::tr("The certified bound covers exclusive placement only (docs/BOUNDS.md); "
                                      "this scenario is inclusive.");
        return out;
    }
    // Settle first: a slider drag sends a newer request within this time, which cancels
    // this one before any heavy work starts.
    for (int waited = 0; waited < boundsSettleMs; waited += 10) {
        job.check();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    job.check();
    QElapsedTimer t;
    t.start();
    try {
        if (lastHeavy_ && lastHeavy_->scenario == r.scenario) {
            out->result = lastHeavy_;
        } else {
            auto res = std::make_shared<AnalysisResult>(pipeline_->run(r.scenario, job));
            lastHeavy_ = res;
            out->result = res;
        }
        out->schedules = scheduleOutcomes(*out->result);
        // The heatmap of a shown schedule (the first answer could not have it).
        if (!out->schedules.empty())
            addHeatmaps(*out, r, job);
        job.check();
    } catch (const Cancelled&) {
        throw;
    } catch (const std::exception& e) {
        out->result = light.result;
        out->boundsNote = QObject::tr("The certified bound failed: %1").arg(userMessage(e));
    }
    out->pipeline_ms += static_cast<double>(t.nsecsElapsed()) / 1e6;
    return out;
}

AnalysisOutputPtr AnalysisWorker::processStreamed(const AnalysisRequest& r, const AnalysisRequest& request, StreamInfo info,
                                                  const JobControl& job)
{
    QElapsedTimer total;
    total.start();
    auto out = answerTo(r, request.scenario);
    // The same request again (a view asking for the window it already has): the last answer.
    if (lastStreamed_ && !r.shownOnly && lastStreamed_->scenario == request.scenario && lastStreamed_->view == r.view) {
        *out = *lastStreamed_;
        out->id = r.id;
        out->pipeline_ms = out->heatmap_ms = 0;   // this request's cost: none
        out->stream->automatic = info.automatic;
        out->stream->whole_bytes = info.whole_bytes;
        out->stream->budget_bytes = info.budget_bytes;
        if (lastStreamed_->relevance)
            out->relevance = cloneHeatmap(*lastStreamed_->relevance);
        if (lastStreamed_->placement)
            out->placement = cloneHeatmap(*lastStreamed_->placement);
        if (lastStreamed_->experts)
            out->experts = cloneHeatmap(*lastStreamed_->experts);
        out->total_ms = static_cast<double>(total.nsecsElapsed()) / 1e6;
        return out;
    }
    try {
        Scenario s = r.scenario;   // the heavy bounds are off (process())
        bool shownOnline = false;
        for (const PolicySpec& p : s.policies)
            if (p.name == r.view.policy)
                shownOnline = findPolicy(p.name).info.online;
        if (r.shownOnly && shownOnline && s.policies.size() > 1) {
            // A drag's intermediate value: the shown policy only.
            std::erase_if(s.policies, [&](const PolicySpec& p) { return p.name != r.view.policy; });
            out->partial = true;
        }
        // The certified bound runs in the same pass, windowed (docs/BOUNDS.md "Windows"); the
        // annealed schedule needs the whole trace. Not for a drag's intermediate value.
        const bool windowedBound = request.scenario.bounds.migration_aware.enabled && !request.scenario.inclusive;
        if (windowedBound && !out->partial)
            s.bounds.migration_aware = request.scenario.bounds.migration_aware;
        StreamOptions options;
        if (r.view.wantRelevance)
            options.relevance_grid = r.view.relevance;
        if (r.view.wantPlacement && shownOnline)
            options.placement_grids.push_back({r.view.policy, r.view.placement});
        QElapsedTimer t;
        t.start();
        // analyzeStreamed reports whole windows only, in order.
        StreamedAnalysis a = analyzeStreamed(s, options, job);
        job.check();
        out->pipeline_ms = static_cast<double>(t.nsecsElapsed()) / 1e6;
        t.restart();
        info.report = std::move(a.report);
        out->stream = std::move(info);
        out->result = std::make_shared<AnalysisResult>(std::move(a.result));
        if (a.relevance_grid) {
            out->relevance = toHeatmap(*a.relevance_grid);
            out->relevance->key = ++keys_;
        }
        if (!a.placement_grids.empty()) {
            out->placement = toHeatmap(a.placement_grids.front());
            out->placement->key = ++keys_;
        }
        addHeatmaps(*out, r, job, true);
        if (request.scenario.inclusive && heavyBoundsEnabled(request.scenario))
            out->boundsNote = QObject::tr("The certified bound covers exclusive placement only (docs/BOUNDS.md); "
                                          "this scenario is inclusive.");
        else if (request.scenario.bounds.annealed.enabled)
            out->boundsNote = QObject::tr("The annealed schedule needs the whole trace at once; a streamed run "
                                          "leaves it out.");
        out->heatmap_ms = static_cast<double>(t.nsecsElapsed()) / 1e6;
        job.check();
        if (!out->partial) {
            // Kept with its own copies of the images (the views take the output's).
            auto kept = std::make_shared<AnalysisOutput>(*out);
            if (out->relevance)
                kept->relevance = cloneHeatmap(*out->relevance);
            if (out->placement)
                kept->placement = cloneHeatmap(*out->placement);
            if (out->experts)
                kept->experts = cloneHeatmap(*out->experts);
            lastStreamed_ = kept;
        }
    } catch (const Cancelled&) {
        throw;   // nothing shown, nothing kept
    } catch (const std::exception& e) {
        recordFailure(*out, e, r.scenario);
    }
    out->total_ms = static_cast<double>(total.nsecsElapsed()) / 1e6;
    return out;
}

AnalysisOutputPtr AnalysisWorker::process(const AnalysisRequest& request, const JobControl& job,
                                          const std::function<void(AnalysisOutputPtr)>& partial,
                                          const std::function<void(AnalysisOutputPtr)>& light)
{
    // The first answer never waits for the heavy bounds: it runs without them.
    AnalysisRequest r = request;
    const bool heavy = heavyBoundsEnabled(r.scenario);
    r.scenario.bounds.migration_aware.enabled = false;
    r.scenario.bounds.annealed.enabled = false;
    QElapsedTimer total;
    total.start();
    auto out = answerTo(r, request.scenario);
    if (r.fresh) {
        last_.reset();
        lastHeavy_.reset();
        lastRelevance_.reset();
        lastPlacement_.reset();
        lastExperts_.reset();
        lastStreamed_.reset();
        pipeline_->clear();
    }
    // Streamed when asked for, or when the whole-trace pipeline would not fit the budget
    // (decided from the stored summary; a trace that cannot be read is left to the
    // pipeline, which names the problem).
    StreamInfo stream;
    bool streamed = r.stream;
    if (!streamed && !(last_ && last_->scenario == r.scenario) && r.wholeTraceBudget > 0) {
        try {
            stream.whole_bytes = wholeTraceBytes(r.scenario);
            stream.budget_bytes = r.wholeTraceBudget;
            streamed = stream.automatic = needsStreaming(stream.whole_bytes, stream.budget_bytes);
        } catch (const InputError&) {
            stream = {};
        }
    }
    if (streamed)
        return processStreamed(r, request, std::move(stream), job);
    try {
        QElapsedTimer t;
        t.start();
        if (last_ && last_->scenario == r.scenario) {
            out->result = last_;
        } else {
            bool shown = false;
            for (const PolicySpec& p : r.scenario.policies)
                shown = shown || p.name == r.view.policy;
            if (r.shownOnly && shown && r.scenario.policies.size() > 1) {
                // A drag's intermediate value: the shown policy only, nothing cached as
                // the full result.
                Scenario one = r.scenario;
                std::erase_if(one.policies, [&](const PolicySpec& p) { return p.name != r.view.policy; });
                out->partial = true;
                out->result = std::make_shared<AnalysisResult>(pipeline_->run(one, job));
                out->pipeline_ms = static_cast<double>(t.nsecsElapsed()) / 1e6;
                t.restart();
                addHeatmaps(*out, r, job);
                out->heatmap_ms = static_cast<double>(t.nsecsElapsed()) / 1e6;
                job.check();
                out->total_ms = static_cast<double>(total.nsecsElapsed()) / 1e6;
                return out;
            }
            if (partial && shown && r.scenario.policies.size() > 1 && !(last_ && firstStageToRerun(last_->scenario, r.scenario) <= Stage::Timing)) {
                // First the shown policy alone; its placement is cached for the full run.
                Scenario one = r.scenario;
                std::erase_if(one.policies, [&](const PolicySpec& p) { return p.name != r.view.policy; });
                auto first = answerTo(r, request.scenario);
                first->partial = true;
                first->result = std::make_shared<AnalysisResult>(pipeline_->run(one, job));
                first->pipeline_ms = static_cast<double>(t.nsecsElapsed()) / 1e6;
                QElapsedTimer h;
                h.start();
                addHeatmaps(*first, r, job);
                first->heatmap_ms = static_cast<double>(h.nsecsElapsed()) / 1e6;
                first->total_ms = static_cast<double>(total.nsecsElapsed()) / 1e6;
                partial(first);
            }
            auto res = std::make_shared<AnalysisResult>(pipeline_->run(r.scenario, job));
            last_ = res;
            out->result = res;
        }
        out->pipeline_ms = static_cast<double>(t.nsecsElapsed()) / 1e6;
        t.restart();
        addHeatmaps(*out, r, job);
        out->heatmap_ms = static_cast<double>(t.nsecsElapsed()) / 1e6;
        // A request cancelled while its last stage ran without a check is still cancelled:
        // Cancel means nothing of it is shown.
        job.check();
    } catch (const Cancelled&) {
        throw;   // the runner drops the request: nothing to show
    } catch (const std::exception& e) {
        recordFailure(*out, e, r.scenario);
        // The whole-trace analysis did not fit (the estimate was below the budget): the
        // window's own way out.
        if (tooLargeForMemory(e))
            out->error += QObject::tr("; here, Analysis → Stream the trace (bounded memory) does the same");
    }
    out->total_ms = static_cast<double>(total.nsecsElapsed()) / 1e6;
    if (!heavy || !out->result)
        return out;
    out->boundsPending = !request.scenario.inclusive;
    if (!out->boundsPending)
        return withHeavyBounds(*out, request, job);   // only the note: nothing to compute
    if (light)
        light(out);
    AnalysisOutputPtr full = withHeavyBounds(*out, request, job);
    full->total_ms = static_cast<double>(total.nsecsElapsed()) / 1e6;
    return full;
}

AnalysisController::AnalysisController(QObject* parent)
    : QObject(parent), pipeline_(std::make_shared<Pipeline>()), worker_(std::make_shared<AnalysisWorker>(pipeline_)),
      runner_(new JobRunner(QStringLiteral("kvtier-analysis"), JobRunner::Mode::LatestWins, this))
{
    qRegisterMetaType<AnalysisOutputPtr>();
    wholeTraceBudget_ = defaultWholeTraceBudget();
    connect(runner_, &JobRunner::busyChanged, this, &AnalysisController::busyChanged);
    connect(runner_, &JobRunner::progress, this, &AnalysisController::progress);
    // A request stopped in its heavy phase: its first answer shows, its bounds never do.
    auto stopped = [this](quint64 generation) {
        if (heavyGeneration_ != 0 && generation == heavyGeneration_) {
            heavyGeneration_ = 0;
            emit boundsCancelled();
        }
    };
    connect(runner_, &JobRunner::cancelled, this, stopped);
    connect(runner_, &JobRunner::dropped, this, stopped);
    // A drag's waiting value runs once the running request has shown something.
    connect(runner_, &JobRunner::busyChanged, this, [this](bool busy) {
        if (!busy)
            runLive();
    });
    connect(this, &AnalysisController::partialReady, this, &AnalysisController::runLive, Qt::QueuedConnection);
}

void AnalysisController::submitLive(Scenario scenario, ViewParams view)
{
    live_ = Live{std::move(scenario), std::move(view)};
    if (!runner_->busy())
        runLive();
}

void AnalysisController::runLive()
{
    if (!live_)
        return;
    Live l = std::move(*live_);
    live_.reset();
    submit(std::move(l.scenario), std::move(l.view), false, true);
}

AnalysisController::~AnalysisController()
{
    runner_->stop();
}

bool AnalysisController::busy() const { return runner_->busy(); }

uint64_t AnalysisController::latestId() const { return runner_->latest(); }

uint64_t AnalysisController::submit(Scenario scenario, ViewParams view, bool fresh, bool shownOnly)
{
    // A fresh request that supersedes another must stay fresh even if the pending slot
    // is later taken by an ordinary request (a slider moved right after Recompute).
    if (runner_->hasPending() && lastFresh_)
        fresh = true;
    live_.reset();   // this request is newer than a drag's waiting value
    lastFresh_ = fresh;
    AnalysisRequest request{0, std::move(scenario), std::move(view), fresh, shownOnly, streaming_, wholeTraceBudget_};
    std::shared_ptr<AnalysisWorker> worker = worker_;
    return runner_->run(
        [this, worker, request](const JobContext& job) {
            AnalysisRequest r = request;
            r.id = job.generation();
            // The first answer reaches the UI only while its request is still the newest.
            auto partial = [this, &job](AnalysisOutputPtr first) { job.post([this, first] { emit partialReady(first); }); };
            // The answer without the heavy bounds; the job goes on with them.
            auto light = [this, &job](AnalysisOutputPtr out) {
                job.post([this, out] {
                    heavyGeneration_ = out->id;
                    emit resultReady(out);
                });
            };
            return worker->process(r, job.control(), partial, light);
        },
        [this](AnalysisOutputPtr out) {
            heavyGeneration_ = 0;
            if (!out->result)
                emit failed(out->error, out->infeasible);
            else if (out->partial)
                emit partialReady(out);   // a drag's intermediate value
            else
                emit resultReady(out);
        });
}

void AnalysisController::cancel()
{
    live_.reset();
    runner_->cancel();
}

} // namespace kvtier::ui
