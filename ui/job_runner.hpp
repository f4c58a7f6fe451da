#pragma once
// The one way the GUI runs background work (the analysis, the sweep, imports, trace
// listing and opening, token details). A JobRunner owns one worker thread and runs one
// job at a time on it, so a job may keep state between runs (the analysis caches).
//
// Each request gets a generation number. In LatestWins mode a new request raises the
// running job's cancel flag (the core stops at its next JobControl::check() and throws
// Cancelled) and replaces the one waiting; a job that finishes after a newer request was
// made is dropped, its result never reaches the UI. In Queue mode (imports, which write
// databases and must each report) requests run in order and every one delivers.
//
// A job runs on the worker thread and returns what to do with its result on the UI
// thread (a callback), which the runner calls by a queued call if the job is still
// wanted. A job that throws Cancelled delivers nothing; any other exception reaches the
// error callback as ui::userMessage() text.
#include "core/model/cancel.hpp"

#include <QObject>
#include <QString>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

class QThread;

namespace kvtier::ui {

class JobRunner;

// What a running job sees: cancellation and progress for the core, its generation, and a
// way to hand the UI an early answer (the analysis's first policy).
class JobContext {
public:
    const JobControl& control() const { return control_; }
    uint64_t generation() const { return generation_; }
    // Runs `f` on the UI thread if this job is still the newest when it gets there.
    void post(std::function<void()> f) const;

private:
    friend class JobRunner;
    JobContext(JobRunner* runner, uint64_t generation) : runner_(runner), generation_(generation) {}
    JobRunner* runner_;
    uint64_t generation_;
    JobControl control_;
};

class JobRunner : public QObject {
    Q_OBJECT
public:
    enum class Mode { LatestWins, Queue };
    // Runs on the worker thread; returns the UI-thread continuation (may be empty).
    using Work = std::function<std::function<void()>(const JobContext&)>;
    // Receives a failed job's message (ui::userMessage of the exception), on the UI thread.
    using OnError = std::function<void(const QString& message)>;

    // `name` names the worker thread (debuggers, tests).
    explicit JobRunner(const QString& name, Mode mode = Mode::LatestWins, QObject* parent = nullptr);
    // Cancels the running job, drops the waiting ones and waits for the thread.
    ~JobRunner() override;

    // Returns the request's generation. `subject` (a file, a trace) prefixes messages of
    // unexpected errors.
    uint64_t submit(Work work, OnError onError = {}, const QString& subject = QString());

    // The common shape: `work(const JobContext&)` returns a value, `onResult(value)` gets
    // it on the UI thread.
    template <class F, class Done>
    uint64_t run(F work, Done onResult, OnError onError = {}, const QString& subject = QString())
    {
        using R = std::decay_t<std::invoke_result_t<F&, const JobContext&>>;
        return submit(
            [work = std::move(work), onResult = std::move(onResult)](const JobContext& c) mutable -> std::function<void()> {
                auto value = std::make_shared<R>(work(c));
                return [onResult, value]() mutable { onResult(std::move(*value)); };
            },
            std::move(onError), subject);
    }

    // Raises the running job's flag and drops every waiting request. Nothing of the
    // cancelled job arrives (even if it had already returned), so the UI keeps showing the
    // last delivered result; see setDeliverCancelled().
    void cancel();
    // For jobs that catch Cancelled and return what they finished (the sweep keeps its
    // complete points): their result is delivered after cancel() too.
    void setDeliverCancelled(bool deliver) { deliverCancelled_ = deliver; }
    // Cancels, drops the waiting ones and waits until the running job has returned. The
    // owner calls it first in its destructor, before the state its jobs read goes away.
    void stop();

    bool busy() const { return running_.has_value(); }
    bool hasPending() const { return !pending_.empty(); }
    uint64_t latest() const { return counter_; }
    QThread* thread() const { return thread_; }

signals:
    void busyChanged(bool busy);
    void progress(double fraction);      // of the newest job, 0..1
    void cancelled(quint64 generation);  // stopped by its flag (Cancelled): nothing delivered
    void dropped(quint64 generation);    // finished, but a newer request had been made
    void delivered(quint64 generation);  // its result (or error) reached the UI

private:
    friend class JobContext;
    struct Request {
        uint64_t generation;
        Work work;
        OnError onError;
        QString subject;
    };
    struct Running {
        uint64_t generation;
        std::shared_ptr<std::atomic<bool>> cancel;
    };
    enum class Outcome { Done, Cancelled, Failed };
    void start(Request r);
    void setBusy(bool busy);
    void finished(uint64_t generation, Outcome outcome, const std::function<void()>& deliver, const QString& error,
                  const OnError& onError);
    // Whether a finished job's result still reaches the UI: in LatestWins only the newest.
    bool wanted(uint64_t generation) const { return mode_ == Mode::Queue || generation == counter_; }

    Mode mode_;
    QThread* thread_;
    QObject* context_;   // lives in thread_; jobs are queued calls on it
    uint64_t counter_ = 0;
    std::optional<Running> running_;
    std::vector<Request> pending_;   // LatestWins: at most one
    bool stopped_ = false;
    bool busySignalled_ = false;
    bool deliverCancelled_ = false;
};

} // namespace kvtier::ui
