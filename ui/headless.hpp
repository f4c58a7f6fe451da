#pragma once
// Command-line modes of the `kvtier` GUI binary that need no user:
//   kvtier --export DIR --scenario FILE [--set key=value ...] [--size WxH[in|mm]] [--font-pt N]
//          [--overwrite] [--no-sweep]
//     renders every view as PNG, PDF and SVG and writes its CSV (offscreen platform).
//     DIR is created when its parent exists (and said so); existing files are replaced
//     only with --overwrite, else it stops before any work with a one-line error;
//     --no-sweep leaves the sweep view out (no sweep.* files);
//   kvtier --bench-latency [DB] [--trace NAME] [--scenario FILE] [--runs N]
//     measures slider change -> repainted plots, for bandwidth and capacity sliders.
#include "ui/exporter.hpp"

#include <QSize>
#include <QString>
#include <QStringList>

namespace kvtier::ui {

struct HeadlessOptions {
    QString exportDir;
    QString scenario;
    QStringList overrides;
    QSize size{1200, 750};       // --bench-latency's window; --export: see figure
    FigureSize figure = FigureSize::pixels(QSize(1200, 750));
    bool overwrite = false;
    QString db, trace;
    QString policy;   // bench: the policy the placement view shows (default: the first)
    int runs = 21;
    bool sweep = true;      // export: also run the default sweep and write the sweep view
    long long token = -1;   // export: follow this token in the relevance view
};

// Returns the process exit code; prints what it wrote (or the error) to stdout/stderr.
int runHeadlessExport(const HeadlessOptions& o);
int runLatencyBench(const HeadlessOptions& o);

} // namespace kvtier::ui
