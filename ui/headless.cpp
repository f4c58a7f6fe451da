#include "ui/headless.hpp"

#include "ui/bandwidth_view.hpp"
#include "ui/comparison_view.hpp"
#include "ui/error_sink.hpp"
#include "ui/main_window.hpp"
#include "ui/placement_view.hpp"
#include "ui/relevance_view.hpp"
#include "ui/scenario_panel.hpp"
#include "ui/sweep_view.hpp"
#include "ui/value_slider.hpp"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
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
    MainWindow w;
    w.setAttribute(Qt::WA_DontShowOnScreen);
    w.resize(1600, 1000);
    w.show();
    QApplication::processEvents();
    QString error;
    bool ok = false;
    {
        QEventLoop loop;
        bool done = false;
        QObject::connect(&w, &MainWindow::analysisShown, &loop, [&] { ok = done = true; loop.quit(); });
        QObject::connect(&w, &MainWindow::analysisFailed, &loop, [&](const QString& m) { error = m; done = true; loop.quit(); });
        if (!w.loadScenarioFile(o.scenario, o.overrides))
            return 1;
        QTimer::singleShot(300000, &loop, &QEventLoop::quit);
        if (!done)
            loop.exec();
    }
    if (!ok) {
        std::fprintf(stderr, "kvtier --export: analysis failed: %s\n", qPrintable(error.isEmpty() ? firstError : error));
        return 1;
    }
    // Heatmaps at the final window size: one more round with the laid-out views.
    settle(50);
    w.recompute();
    waitForAnalysis(w, 300000, &error);
    if (o.sweep) {
        QEventLoop loop;
        QObject::connect(w.sweepView(), &SweepView::finished, &loop, &QEventLoop::quit);
        w.sweepView()->run();
        if (w.sweepView()->running())
            loop.exec();
    }
    settle(50);
    QString exportError;
    const QStringList files = w.exportAll(o.exportDir, o.size, &exportError);
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
    bool started = false;
    if (!o.scenario.isEmpty())
        started = w.loadScenarioFile(o.scenario, o.overrides);
    else
        started = w.openDatabase(o.db, o.trace);
    if (!started)
        return 1;
    if (!waitForAnalysis(w, 600000, &error)) {
        std::fprintf(stderr, "kvtier --bench-latency: first analysis failed: %s\n", qPrintable(error));
        return 1;
    }
    settle(200);
    w.recompute();   // heatmaps at the laid-out size
    waitForAnalysis(w, 600000, &error);
    settle(200);
    const QList<PlotView*> shown = {w.comparisonView(), w.placementView(), w.bandwidthView(), w.relevanceView()};

    // One measurement: change the slider, wait until the result is shown and every
    // visible plot has repainted after it.
    auto measure = [&](ValueSlider* slider, double value) -> double {
        std::vector<int> before;
        for (PlotView* v : shown)
            before.push_back(v->replots());
        QElapsedTimer timer;
        QEventLoop loop;
        bool resultSeen = false;
        std::vector<int> atResult;
        auto allRepainted = [&] {
            if (!resultSeen)
                return false;
            for (int i = 0; i < shown.size(); ++i)
                if (shown[i]->replots() <= atResult[static_cast<size_t>(i)])
                    return false;
            return true;
        };
        auto c1 = QObject::connect(&w, &MainWindow::analysisShown, &loop, [&] {
            resultSeen = true;
            atResult.clear();
            // Views replot on the next event-loop turn (rpQueuedReplot); count from here.
            for (PlotView* v : shown)
                atResult.push_back(v->replots());
        });
        std::vector<QMetaObject::Connection> cs;
        for (PlotView* v : shown)
            cs.push_back(QObject::connect(v, &PlotView::replotted, &loop, [&] {
                if (allRepainted())
                    loop.quit();
            }));
        QTimer::singleShot(60000, &loop, &QEventLoop::quit);
        timer.start();
        slider->setValue(value);
        loop.exec();
        const double ms = static_cast<double>(timer.nsecsElapsed()) / 1e6;
        QObject::disconnect(c1);
        for (auto& c : cs)
            QObject::disconnect(c);
        settle(30);
        return allRepainted() ? ms : -1;
    };
    auto report = [](const char* what, std::vector<double> v) {
        std::sort(v.begin(), v.end());
        const double median = v.empty() ? 0 : v[v.size() / 2];
        const double p90 = v.empty() ? 0 : v[std::min(v.size() - 1, v.size() * 9 / 10)];
        std::printf("%-28s runs %2zu  median %7.1f ms  p90 %7.1f ms  min %7.1f ms  max %7.1f ms\n", what, v.size(), median, p90,
                    v.empty() ? 0 : v.front(), v.empty() ? 0 : v.back());
        return median;
    };
    ScenarioPanel* panel = w.scenarioPanel();
    const int lower = panel->tierCount() > 1 ? 1 : 0;
    ValueSlider* bw = panel->bandwidthSlider(lower);
    ValueSlider* cap = panel->capacitySlider(0);
    const double bw0 = bw->value(), cap0 = cap->value();
    std::vector<double> bwTimes, capTimes;
    for (int i = 0; i < o.runs; ++i) {
        // Every value is new, so nothing is served from the caches of an earlier run.
        const double ms = measure(bw, bw0 * (1.0 + 0.013 * (i + 1)));
        if (ms >= 0)
            bwTimes.push_back(ms);
    }
    for (int i = 0; i < o.runs; ++i) {
        const double ms = measure(cap, cap0 * (0.97 - 0.011 * i));
        if (ms >= 0)
            capTimes.push_back(ms);
    }
    const auto& r = w.lastOutput();
    if (r && r->result) {
        const TraceMeta& m = r->result->trace->meta();
        std::printf("trace %s: P=%lld T=%lld L=%d, %zu policies, window %dx%d\n", m.name.c_str(),
                    static_cast<long long>(m.prefill), static_cast<long long>(m.steps), m.layers, r->result->policies.size(),
                    w.width(), w.height());
    }
    const double a = report("bandwidth slider -> repaint", bwTimes);
    const double b = report("capacity slider -> repaint", capTimes);
    std::printf("targets: bandwidth < 50 ms: %s; capacity < 150 ms: %s\n", a < 50 ? "met" : "MISSED", b < 150 ? "met" : "MISSED");
    return 0;
}

} // namespace kvtier::ui
