#include "ui/headless.hpp"

#include "ui/bandwidth_view.hpp"
#include "ui/comparison_view.hpp"
#include "ui/error_sink.hpp"
#include "ui/expert_view.hpp"
#include "ui/export_actions.hpp"
#include "ui/main_window.hpp"
#include "ui/placement_view.hpp"
#include "ui/relevance_view.hpp"
#include "ui/scenario_panel.hpp"
#include "ui/sweep_view.hpp"
#include "ui/value_slider.hpp"

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFileInfo>
#include <QSlider>
#include <QTimer>

#include <algorithm>
#include <cstdio>

namespace kvtier::ui {

namespace {

// Waits for the window's next analysis (or failure). Returns false on timeout or failure.
bool waitForAnalysis(MainWindow& w, int timeoutMs, QString* error)
{
    QEventLoop loop;
    bool ok = false;
    auto c1 = QObject::connect(&w, &MainWindow::analysisShown, &loop, [&] {
        ok = true;
        loop.quit();
    });
    auto c2 = QObject::connect(&w, &MainWindow::analysisFailed, &loop, [&](const QString& m) {
        if (error)
            *error = m;
        loop.quit();
    });
    QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
    loop.exec();
    QObject::disconnect(c1);
    QObject::disconnect(c2);
    return ok;
}

// Waits until the window shows the analysis of its current scenario: the database opens in
// the background, and an earlier request (the start-up scenario) may answer first.
// Returns false on a failure or timeout.
bool waitForCurrent(MainWindow& w, int timeoutMs, QString* error)
{
    QElapsedTimer timer;
    timer.start();
    while (!(w.lastOutput() && w.lastOutput()->scenario == w.scenario() && !w.busy())) {
        QEventLoop loop;
        bool failed = false;
        auto c1 = QObject::connect(&w, &MainWindow::analysisShown, &loop, &QEventLoop::quit);
        auto c2 = QObject::connect(&w, &MainWindow::analysisFailed, &loop, [&](const QString& m) {
            if (error)
                *error = m;
            failed = true;
            loop.quit();
        });
        auto c3 = QObject::connect(&w, &MainWindow::databaseOpened, &loop, [&](const QString&, bool ok) {
            failed = failed || !ok;
            loop.quit();
        });
        QTimer::singleShot(100, &loop, &QEventLoop::quit);
        loop.exec();
        QObject::disconnect(c1);
        QObject::disconnect(c2);
        QObject::disconnect(c3);
        if ((failed && !w.busy()) || timer.elapsed() > timeoutMs)
            return false;
    }
    return true;
}

void settle(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

} // namespace

int runHeadlessExport(const HeadlessOptions& o)
{
    QString firstError;
    ErrorSink::instance().setHandler([&](const QString& title, const QString& message) {
        std::fprintf(stderr, "kvtier: %s: %s\n", qPrintable(title), qPrintable(message));
        if (firstError.isEmpty())
            firstError = message;
    });
    // The folder and the files, before any work: a named folder is made when its parent
    // exists; files are replaced only when asked.
    const QFileInfo dir(o.exportDir);
    if (!dir.exists()) {
        if (!dir.absoluteDir().exists()) {
            std::fprintf(stderr, "kvtier --export: %s: folder %s does not exist\n", qPrintable(o.exportDir),
                         qPrintable(QDir::toNativeSeparators(dir.absolutePath())));
            return 1;
        }
        if (!QDir().mkdir(dir.absoluteFilePath())) {
            std::fprintf(stderr, "kvtier --export: %s: cannot create the folder\n", qPrintable(o.exportDir));
            return 1;
        }
        std::fprintf(stderr, "kvtier: created folder %s\n", qPrintable(QDir::toNativeSeparators(dir.absoluteFilePath())));
    } else if (!dir.isDir()) {
        std::fprintf(stderr, "kvtier --export: %s: is not a folder\n", qPrintable(o.exportDir));
        return 1;
    }
    MainWindow w;
    QList<PlotView*> views = w.views();
    if (!o.sweep)
        views.removeAll(w.sweepView());
    if (!o.overwrite) {
        QStringList existing;
        for (PlotView* v : views)
            for (const QString& f : exportFileNames(v, o.exportDir))
                if (QFileInfo::exists(f))
                    existing << f;
        if (!existing.isEmpty()) {
            std::fprintf(stderr, "kvtier --export: %s exists%s; pass --overwrite to replace\n",
                         qPrintable(QDir::toNativeSeparators(existing.front())),
                         existing.size() > 1 ? qPrintable(QStringLiteral(" (and %1 more files)").arg(existing.size() - 1)) : "");
            return 1;
        }
    }
    w.setAttribute(Qt::WA_DontShowOnScreen);
    w.resize(1600, 1000);
    w.show();
    QApplication::processEvents();
    QString error;
    if (!w.loadScenarioFile(o.scenario, o.overrides))
        return 1;
    const bool ok = waitForCurrent(w, 300000, &error);
    if (!ok) {
        std::fprintf(stderr, "kvtier --export: analysis failed: %s\n", qPrintable(error.isEmpty() ? firstError : error));
        return 1;
    }
    // Heatmaps at the final window size: one more round with the laid-out views.
    settle(50);
    if (!o.policy.isEmpty()) {
        const int i = w.policyCombo()->findData(o.policy);
        if (i < 0) {
            std::fprintf(stderr, "kvtier --export: policy %s is not in the scenario\n", qPrintable(o.policy));
            return 2;
        }
        w.policyCombo()->setCurrentIndex(i);
    }
    w.recompute();
    waitForAnalysis(w, 300000, &error);
    // The heavy bounds (scenario "bounds") follow the first answer in the same request.
    QElapsedTimer heavy;
    heavy.start();
    while (w.controller()->busy() && heavy.elapsed() < 300000)
        settle(50);
    if (o.token >= 0) {
        QEventLoop loop;
        QObject::connect(w.relevanceView(), &RelevanceView::tokenDetailShown, &loop, &QEventLoop::quit);
        QTimer::singleShot(30000, &loop, &QEventLoop::quit);
        emit w.relevanceView()->tokenClicked(static_cast<quint32>(o.token));
        loop.exec();
    }
    if (o.sweep) {
        QEventLoop loop;
        QObject::connect(w.sweepView(), &SweepView::finished, &loop, &QEventLoop::quit);
        w.sweepView()->run();
        if (w.sweepView()->running())
            loop.exec();
    }
    settle(50);
    // The expert view exists for a model with experts only: known once the analysis ran.
    if (w.expertsShown()) {
        views.insert(std::max<qsizetype>(0, views.indexOf(w.placementView()) + 1), w.expertView());
        if (!o.overwrite)
            for (const QString& f : exportFileNames(w.expertView(), o.exportDir))
                if (QFileInfo::exists(f)) {
                    std::fprintf(stderr, "kvtier --export: %s exists; pass --overwrite to replace\n",
                                 qPrintable(QDir::toNativeSeparators(f)));
                    return 1;
                }
    }
    QString exportError;
    ExportOptions options;
    options.size = o.figure;
    options.overwrite = true;   // checked above
    const QStringList files = w.exportActions()->exportViews(views, o.exportDir, options, &exportError);
    for (const QString& f : files)
        std::printf("%s\n", qPrintable(QDir::toNativeSeparators(f)));
    if (!exportError.isEmpty()) {
        std::fprintf(stderr, "kvtier --export: %s\n", qPrintable(exportError));
        return 1;
    }
    std::fprintf(stderr, "kvtier: wrote %lld files to %s\n", static_cast<long long>(files.size()), qPrintable(o.exportDir));
    return 0;
}

int runLatencyBench(const HeadlessOptions& o)
{
    ErrorSink::instance().setHandler([](const QString& title, const QString& message) {
        std::fprintf(stderr, "kvtier: %s: %s\n", qPrintable(title), qPrintable(message));
    });
    MainWindow w;
    w.resize(1600, 1000);
    w.show();
    QApplication::processEvents();
    QString error;
    if (!o.scenario.isEmpty()) {
        if (!w.loadScenarioFile(o.scenario, o.overrides))
            return 1;
    } else {
        w.openDatabase(o.db, o.trace);
    }
    if (!waitForCurrent(w, 600000, &error)) {
        std::fprintf(stderr, "kvtier --bench-latency: first analysis failed: %s\n", qPrintable(error));
        return 1;
    }
    settle(200);
    if (!o.policy.isEmpty()) {
        const int i = w.policyCombo()->findData(o.policy);
        if (i < 0) {
            std::fprintf(stderr, "kvtier --bench-latency: policy %s is not in the scenario\n", qPrintable(o.policy));
            return 2;
        }
        w.policyCombo()->setCurrentIndex(i);
    }
    w.recompute();   // heatmaps at the laid-out size
    waitForAnalysis(w, 600000, &error);
    settle(200);
    const QList<PlotView*> shown = {w.comparisonView(), w.placementView(), w.bandwidthView(), w.relevanceView()};

    // One measurement: change the slider, then time (a) the first repaint of the views
    // that follow the shown policy (placement, bandwidth, relevance; the partial answer
    // when there is one) and (b) the repaint of every view after the full result,
    // including the comparison of all policies.
    struct Times {
        double first = -1, all = -1;
    };
    auto measure = [&](ValueSlider* slider, double value) -> Times {
        QElapsedTimer timer;
        QEventLoop loop;
        Times times;
        std::vector<int> atFirst, atFull;
        auto counts = [&] {
            std::vector<int> c;
            for (PlotView* v : shown)
                c.push_back(v->replots());
            return c;
        };
        // Views replot on the next event-loop turn (rpQueuedReplot); count from the result.
        auto repaintedSince = [&](const std::vector<int>& at, bool withComparison) {
            if (at.empty())
                return false;
            for (int i = 0; i < shown.size(); ++i) {
                if (!withComparison && shown[i] == w.comparisonView())
                    continue;
                if (shown[i]->replots() <= at[static_cast<size_t>(i)])
                    return false;
            }
            return true;
        };
        auto c0 = QObject::connect(&w, &MainWindow::partialShown, &loop, [&] {
            if (atFirst.empty())
                atFirst = counts();
        });
        auto c1 = QObject::connect(&w, &MainWindow::analysisShown, &loop, [&] {
            if (atFirst.empty())
                atFirst = counts();
            atFull = counts();
        });
        std::vector<QMetaObject::Connection> cs;
        for (PlotView* v : shown)
            cs.push_back(QObject::connect(v, &PlotView::replotted, &loop, [&] {
                const double ms = static_cast<double>(timer.nsecsElapsed()) / 1e6;
                if (times.first < 0 && repaintedSince(atFirst, false))
                    times.first = ms;
                if (times.all < 0 && repaintedSince(atFull, true)) {
                    times.all = ms;
                    loop.quit();
                }
            }));
        QTimer::singleShot(60000, &loop, &QEventLoop::quit);
        timer.start();
        slider->setValue(value);
        loop.exec();
        QObject::disconnect(c0);
        QObject::disconnect(c1);
        for (auto& c : cs)
            QObject::disconnect(c);
        settle(30);
        return times;
    };
    auto report = [](const char* what, std::vector<double> v) {
        std::sort(v.begin(), v.end());
        const double median = v.empty() ? 0 : v[v.size() / 2];
        const double p90 = v.empty() ? 0 : v[std::min(v.size() - 1, v.size() * 9 / 10)];
        std::printf("%-26s runs %2zu  median %7.1f ms  p90 %7.1f ms  min %7.1f ms  max %7.1f ms\n", what, v.size(), median, p90,
                    v.empty() ? 0 : v.front(), v.empty() ? 0 : v.back());
        return median;
    };
    ScenarioPanel* panel = w.scenarioPanel();
    const int lower = panel->tierCount() > 1 ? 1 : 0;
    ValueSlider* bw = panel->bandwidthSlider(lower);
    ValueSlider* cap = panel->capacitySlider(0);
    const double bw0 = bw->value(), cap0 = cap->value();
    std::vector<double> bwFirst, bwAll, capFirst, capAll;
    for (int i = 0; i < o.runs; ++i) {
        // Every value is new, so nothing is served from the caches of an earlier run.
        const Times t = measure(bw, bw0 * (1.0 + 0.013 * (i + 1)));
        if (t.first >= 0)
            bwFirst.push_back(t.first);
        if (t.all >= 0)
            bwAll.push_back(t.all);
    }
    for (int i = 0; i < o.runs; ++i) {
        const Times t = measure(cap, cap0 * (0.97 - 0.011 * i));
        if (t.first >= 0)
            capFirst.push_back(t.first);
        if (t.all >= 0)
            capAll.push_back(t.all);
    }
    // A sparsity drag: the handle moves every 16 ms for 5 s (a hand), and every result
    // shown while it is held is timed. Reported: how many, and the gaps between them
    // (the first gap runs from the drag's start). Target: a result at least every 250 ms.
    std::vector<double> dragGaps;
    int dragShown = 0;
    {
        QSlider* s = panel->sparsitySlider()->slider();
        QElapsedTimer timer;
        double lastAt = 0;
        auto shownNow = [&] {
            if (!s->isSliderDown())
                return;
            const double at = static_cast<double>(timer.nsecsElapsed()) / 1e6;
            dragGaps.push_back(at - lastAt);
            lastAt = at;
            ++dragShown;
        };
        auto c0 = QObject::connect(&w, &MainWindow::partialShown, &w, shownNow);
        auto c1 = QObject::connect(&w, &MainWindow::analysisShown, &w, shownNow);
        const int start = s->value();
        timer.start();
        s->setSliderDown(true);
        for (int k = 1; timer.elapsed() < 5000; ++k) {
            // Back and forth over a fifth of the slider: values the caches have not seen.
            const int tri = k % 100, off = tri < 50 ? tri : 100 - tri;
            s->setValue(std::clamp(start - 100 + off * 4 + k / 100, s->minimum(), s->maximum()));
            settle(16);
        }
        const double end = static_cast<double>(timer.nsecsElapsed()) / 1e6;
        dragGaps.push_back(end - lastAt);   // the wait from the last result to the release
        s->setSliderDown(false);
        QObject::disconnect(c0);
        QObject::disconnect(c1);
        waitForCurrent(w, 600000, &error);
    }
    const auto& r = w.lastOutput();
    if (r && r->result) {
        const TraceMeta& m = r->result->trace->meta();
        std::printf("trace %s: P=%lld T=%lld L=%d, %zu policies, window %dx%d\n", m.name.c_str(),
                    static_cast<long long>(m.prefill), static_cast<long long>(m.steps), m.layers, r->result->policies.size(),
                    w.width(), w.height());
    }
    std::printf("shown policy: %s\n", w.lastOutput() ? w.lastOutput()->view.policy.c_str() : "?");
    const double a = report("bandwidth: policy views", bwFirst);
    report("bandwidth: all views", bwAll);
    const double b = report("capacity: policy views", capFirst);
    report("capacity: all views", capAll);
    std::printf("sparsity drag (5 s, a move every 16 ms): %d results shown while dragging\n", dragShown);
    const double gap = report("sparsity drag: result gap", dragGaps);
    const double maxGap = dragGaps.empty() ? 1e9 : *std::max_element(dragGaps.begin(), dragGaps.end());
    std::printf("targets (first repaint): bandwidth < 50 ms: %s; capacity < 150 ms: %s; drag gap < 250 ms: %s (max %.1f ms)\n",
                a < 50 ? "met" : "MISSED", b < 150 ? "met" : "MISSED", gap < 250 && maxGap < 250 ? "met" : "MISSED", maxGap);
    return 0;
}

} // namespace kvtier::ui
