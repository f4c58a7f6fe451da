#pragma once
// Command-line modes of the `kvtier` GUI binary that need no user:
//   kvtier --export DIR --scenario FILE [--set key=value ...] [--size WxH]
//     renders every view as PNG, PDF and SVG and writes its CSV (offscreen platform);
//   kvtier --bench-latency [DB] [--trace NAME] [--scenario FILE] [--runs N]
//     measures slider change -> repainted plots, for bandwidth and capacity sliders.
#include <QSize>
#include <QString>
#include <QStringList>

namespace kvtier::ui {

struct HeadlessOptions {
    QString exportDir;
    QString scenario;
    QStringList overrides;
    QSize size{1200, 750};
    QString db, trace;
    QString policy;   // bench: the policy the placement view shows (default: the first)
    int runs = 21;
    bool sweep = true;
    long long token = -1;   // export: follow this token in the relevance view   // also run the default sweep so the sweep view has data
};

// Returns the process exit code; prints what it wrote (or the error) to stdout/stderr.
int runHeadlessExport(const HeadlessOptions& o);
int runLatencyBench(const HeadlessOptions& o);

} // namespace kvtier::ui
