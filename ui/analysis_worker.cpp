#include "ui/analysis_worker.hpp"

#include "core/model/error.hpp"
#include "ui/error_sink.hpp"

#include <QElapsedTimer>
#include <QPointer>
#include <QThread>

#include <chrono>

namespace kvtier::ui {

const PolicyOutcome* AnalysisOutput::outcome(const std::string& policy) const
{
    if (!result)
        return nullptr;
    for (const PolicyOutcome& o : result->policies)
        if (o.info.name == policy)
            return &o;
    return result->policies.empty() ? nullptr : &result->policies.front();
}

namespace {

// True when b differs from a only in what re-times without re-placing (bandwidths, links,
// route, compute floor): then the full pipeline is quick and needs no partial answer.
bool onlyTimingChanged(const Scenario& a, const Scenario& b)
{
    if (a.hardware.tiers.size() != b.hardware.tiers.size())
        return false;
    Scenario c = b;
    for (size_t m = 0; m < c.hardware.tiers.size(); ++m) {
        c.hardware.tiers[m].bandwidth = a.hardware.tiers[m].bandwidth;
        c.hardware.tiers[m].link_read = a.hardware.tiers[m].link_read;
        c.hardware.tiers[m].link_write = a.hardware.tiers[m].link_write;
    }
    c.hardware.name = a.hardware.name;
    c.hardware_preset = a.hardware_preset;
    c.route = a.route;
    c.compute_floor_s = a.compute_floor_s;
    return c == a;
}

} // namespace

void AnalysisWorker::addHeatmaps(AnalysisOutput& out, const AnalysisRequest& r, const JobControl& job)
{
    const AnalysisResult& a = *out.result;
    if (r.view.wantRelevance && a.trace && a.selection) {
        const void* src[2] = {a.trace.get(), a.selection.get()};
        if (lastRelevance_ && lastRelevanceSource_[0] == src[0] && lastRelevanceSource_[1] == src[1] &&
            lastRelevance_->grid.window ==
                clampWindow(r.view.relevance, a.trace->meta().steps, a.trace->meta().prefill + a.trace->meta().steps)) {
            out.relevance = cloneHeatmap(*lastRelevance_);
        } else {
            std::shared_ptr<RelevanceHeatmap> h = buildRelevanceHeatmap(*a.trace, *a.selection, r.view.relevance, job);
            h->key = ++keys_;
            lastRelevance_ = h;
            lastRelevanceSource_[0] = src[0];
            lastRelevanceSource_[1] = src[1];
            out.relevance = cloneHeatmap(*h);
        }
    }
    const PolicyOutcome* o = out.outcome(r.view.policy);
    if (r.view.wantPlacement && o && o->placement && a.selection) {
        const void* src[2] = {o->placement.get(), a.selection.get()};
        const UnitLayout& L = o->placement->layout;
        if (lastPlacement_ && lastPlacementSource_[0] == src[0] && lastPlacementSource_[1] == src[1] &&
            lastPlacement_->grid.window == clampWindow(r.view.placement, L.steps, L.pagesAt(L.prefill + L.steps))) {
            out.placement = cloneHeatmap(*lastPlacement_);
        } else {
            std::shared_ptr<PlacementHeatmap> h = buildPlacementHeatmap(*a.selection, *o->placement, r.view.placement, job);
            h->key = ++keys_;
            lastPlacement_ = h;
            lastPlacementSource_[0] = src[0];
            lastPlacementSource_[1] = src[1];
            out.placement = cloneHeatmap(*h);
        }
    }
}

AnalysisOutputPtr AnalysisWorker::process(const AnalysisRequest& r, const JobControl& job,
                                          const std::function<void(AnalysisOutputPtr)>& partial)
{
    QElapsedTimer total;
    total.start();
    auto out = std::make_shared<AnalysisOutput>();
    out->id = r.id;
    out->scenario = r.scenario;
    out->view = r.view;
    try {
        QElapsedTimer t;
        t.start();
        if (r.fresh) {
            last_.reset();
            lastRelevance_.reset();
            lastPlacement_.reset();
            pipeline_->clear();
        }
        if (last_ && last_->scenario == r.scenario) {
            out->result = last_;
        } else {
            bool shown = false;
            for (const PolicySpec& p : r.scenario.policies)
                shown = shown || p.name == r.view.policy;
            if (partial && shown && r.scenario.policies.size() > 1 && !(last_ && onlyTimingChanged(last_->scenario, r.scenario))) {
                // First the shown policy alone; its placement is cached for the full run.
                Scenario one = r.scenario;
                std::erase_if(one.policies, [&](const PolicySpec& p) { return p.name != r.view.policy; });
                auto first = std::make_shared<AnalysisOutput>();
                first->id = r.id;
                first->scenario = r.scenario;
                first->view = r.view;
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
    } catch (const Cancelled&) {
        out->cancelled = true;
        out->result.reset();
    } catch (const InfeasibleError& e) {
        out->error = QString::fromStdString(e.what());
        out->infeasible = true;
        out->result.reset();
    } catch (const std::exception& e) {
        out->error = userMessage(e, QStringLiteral("%1 trace '%2'").arg(QString::fromStdString(r.scenario.trace_db),
                                                                       QString::fromStdString(r.scenario.trace_name)));
        out->result.reset();
    }
    out->total_ms = static_cast<double>(total.nsecsElapsed()) / 1e6;
    return out;
}

AnalysisController::AnalysisController(QObject* parent)
    : QObject(parent), pipeline_(std::make_shared<Pipeline>()), thread_(new QThread(this)),
      worker_(new AnalysisWorker(pipeline_))
{
    qRegisterMetaType<AnalysisOutputPtr>();
    thread_->setObjectName(QStringLiteral("kvtier-analysis"));
    worker_->moveToThread(thread_);
    connect(thread_, &QThread::finished, worker_, &QObject::deleteLater);
    thread_->start();
}

AnalysisController::~AnalysisController()
{
    if (running_)
        running_->cancel->store(true);
    pending_.reset();
    thread_->quit();
    thread_->wait();
}

uint64_t AnalysisController::submit(Scenario scenario, ViewParams view, bool fresh)
{
    AnalysisRequest r{++counter_, std::move(scenario), std::move(view), fresh};
    // A fresh request that supersedes another must stay fresh even if the pending slot
    // is later taken by an ordinary request (a slider moved right after Recompute).
    if (pending_ && pending_->fresh)
        r.fresh = true;
    const uint64_t id = r.id;
    if (running_) {
        running_->cancel->store(true);   // superseded: core stops at its next check
        pending_ = std::move(r);         // at most one waits; older pending ones are dropped
    } else {
        start(std::move(r));
    }
    return id;
}

void AnalysisController::cancel()
{
    pending_.reset();
    if (running_)
        running_->cancel->store(true);
}

void AnalysisController::start(AnalysisRequest r)
{
    auto flag = std::make_shared<std::atomic<bool>>(false);
    running_ = Running{r.id, flag};
    emit busyChanged(true);
    QPointer<AnalysisController> self(this);
    AnalysisWorker* worker = worker_;
    QMetaObject::invokeMethod(worker_, [self, worker, r = std::move(r), flag]() {
        JobControl job;
        job.cancel = flag.get();
        auto lastReport = std::make_shared<std::atomic<int>>(-1);
        job.progress = [self, lastReport](double f) {
            const int pct = static_cast<int>(f * 100);
            if (pct == lastReport->exchange(pct))
                return;
            QMetaObject::invokeMethod(self, [self, f]() { if (self) emit self->progress(f); }, Qt::QueuedConnection);
        };
        auto partial = [self](AnalysisOutputPtr first) {
            QMetaObject::invokeMethod(self, [self, first]() {
                // Only while it is still the newest request: a superseded one shows nothing.
                if (self && first->id == self->latestId())
                    emit self->partialReady(first);
            }, Qt::QueuedConnection);
        };
        AnalysisOutputPtr out = worker->process(r, job, partial);
        QMetaObject::invokeMethod(self, [self, out]() { if (self) self->finished(out); }, Qt::QueuedConnection);
    }, Qt::QueuedConnection);
}

void AnalysisController::finished(const AnalysisOutputPtr& out)
{
    running_.reset();
    const bool stale = out->id != counter_;
    if (pending_) {
        AnalysisRequest next = std::move(*pending_);
        pending_.reset();
        start(std::move(next));
    } else {
        emit busyChanged(false);
    }
    if (stale || out->cancelled)
        return;   // a newer request is on its way; this one no longer matches the sliders
    if (!out->result) {
        emit failed(out->error, out->infeasible);
        return;
    }
    emit resultReady(out);
}

AnalysisOutputPtr AnalysisController::runNow(Scenario scenario, ViewParams view)
{
    AnalysisWorker local(pipeline_);
    AnalysisRequest r{++counter_, std::move(scenario), std::move(view)};
    return local.process(r, JobControl{});
}

} // namespace kvtier::ui
