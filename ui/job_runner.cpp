#include "ui/job_runner.hpp"

#include "ui/error_sink.hpp"

#include <QThread>

namespace kvtier::ui {

void JobContext::post(std::function<void()> f) const
{
    JobRunner* runner = runner_;
    const uint64_t generation = generation_;
    QMetaObject::invokeMethod(runner, [runner, generation, f = std::move(f)]() {
        // Posted before the job's end, so the job is still the running one here; it must
        // also be uncancelled and (LatestWins) not superseded.
        const auto& r = runner->running_;
        if (!runner->stopped_ && r && r->generation == generation && !r->cancel->load() && runner->wanted(generation))
            f();
    }, Qt::QueuedConnection);
}

JobRunner::JobRunner(const QString& name, Mode mode, QObject* parent)
    : QObject(parent), mode_(mode), thread_(new QThread(this)), context_(new QObject)
{
    thread_->setObjectName(name);
    context_->moveToThread(thread_);
    thread_->start();
}

JobRunner::~JobRunner()
{
    stop();
    delete context_;
}

uint64_t JobRunner::submit(Work work, OnError onError, const QString& subject)
{
    if (stopped_)
        return 0;
    Request r{++counter_, std::move(work), std::move(onError), subject};
    const uint64_t generation = r.generation;
    if (!running_) {
        start(std::move(r));
        return generation;
    }
    if (mode_ == Mode::LatestWins) {
        running_->cancel->store(true);   // superseded: the core stops at its next check
        pending_.clear();                // at most one waits; older waiting ones are dropped
    }
    pending_.push_back(std::move(r));
    return generation;
}

void JobRunner::cancel()
{
    pending_.clear();
    if (running_)
        running_->cancel->store(true);
}

void JobRunner::stop()
{
    if (stopped_)
        return;
    cancel();
    stopped_ = true;
    thread_->quit();
    thread_->wait();
}

void JobRunner::start(Request r)
{
    auto flag = std::make_shared<std::atomic<bool>>(false);
    running_ = Running{r.generation, flag};
    setBusy(true);
    QMetaObject::invokeMethod(context_, [this, r = std::move(r), flag]() {
        const uint64_t generation = r.generation;
        JobContext context(this, generation);
        context.control_.cancel = flag.get();
        // Called from any core thread, often: only whole permille steps cross threads.
        auto lastReport = std::make_shared<std::atomic<int>>(-1);
        context.control_.progress = [this, generation, lastReport](double f) {
            const int permille = static_cast<int>(f * 1000);
            if (permille == lastReport->exchange(permille))
                return;
            QMetaObject::invokeMethod(this, [this, generation, f]() {
                if (!stopped_ && running_ && running_->generation == generation && wanted(generation))
                    emit progress(f);
            }, Qt::QueuedConnection);
        };
        std::function<void()> deliver;
        Outcome outcome = Outcome::Done;
        QString error;
        try {
            deliver = r.work(context);
        } catch (const Cancelled&) {
            outcome = Outcome::Cancelled;
        } catch (const std::exception& e) {
            outcome = Outcome::Failed;
            error = userMessage(e, r.subject);
        }
        QMetaObject::invokeMethod(this, [this, generation, outcome, deliver = std::move(deliver), error, onError = r.onError]() {
            finished(generation, outcome, deliver, error, onError);
        }, Qt::QueuedConnection);
    }, Qt::QueuedConnection);
}

void JobRunner::finished(uint64_t generation, Outcome outcome, const std::function<void()>& deliver, const QString& error,
                         const OnError& onError)
{
    if (stopped_)
        return;
    // Cancel pressed after the job's last check (or after it returned, while its answer
    // was on its way here) still means nothing of it is shown, unless the owner asked for
    // what a cancelled job returns (the sweep's finished points).
    if (running_ && running_->cancel->load() && !deliverCancelled_ && wanted(generation))
        outcome = Outcome::Cancelled;
    running_.reset();
    if (!pending_.empty()) {
        Request next = std::move(pending_.front());
        pending_.erase(pending_.begin());
        start(std::move(next));
    }
    if (outcome == Outcome::Cancelled) {
        emit cancelled(generation);
    } else if (!wanted(generation)) {
        emit dropped(generation);   // a newer request is on its way; this one is out of date
    } else {
        if (outcome == Outcome::Failed) {
            if (onError)
                onError(error);
        } else if (deliver) {
            deliver();
        }
        emit delivered(generation);
    }
    // After the delivery, so "not busy" means the result is on screen.
    if (!running_)
        setBusy(false);
}

void JobRunner::setBusy(bool busy)
{
    if (busy == busySignalled_)
        return;
    busySignalled_ = busy;
    emit busyChanged(busy);
}

} // namespace kvtier::ui
