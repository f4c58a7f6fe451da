#include "ui/stream_notes.hpp"

#include "ui/units.hpp"

#include <QCoreApplication>
#include <QStringList>

#include <algorithm>

namespace kvtier::ui {

namespace {

QString tr(const char* text) { return QCoreApplication::translate("StreamNotes", text); }

} // namespace

QString streamedLeftOut(const AnalysisOutput& out, const std::string& policy)
{
    if (!out.streamed())
        return {};
    const auto& oracles = out.stream->report.oracles_left_out;
    if (std::find(oracles.begin(), oracles.end(), policy) != oracles.end())
        return tr("%1 is an oracle policy (it reads the future): a streamed run leaves it out. Choose an online "
                  "policy above%2.")
            .arg(QString::fromStdString(policy),
                 out.stream->automatic ? QString() : tr(", or turn off Analysis → Stream the trace"));
    if (policy == "schedule" && out.result && out.result->migration_bound)
        return tr("A streamed run's best schedule is the fastest policy's (%1): choose that policy above.")
            .arg(QString::fromStdString(out.result->migration_bound->schedule_source));
    if (policy == "schedule" || policy == "annealed")
        return tr("The heavy bounds' schedules need the whole trace at once: a streamed run leaves them out.");
    return {};
}

QString streamSummary(const AnalysisOutput& out)
{
    if (!out.streamed())
        return {};
    const StreamInfo& s = *out.stream;
    QString why = s.automatic ? tr("Streamed in bounded memory: the whole-trace analysis would need about %1, "
                                   "above the budget of %2.")
                                    .arg(formatBytes(s.whole_bytes), formatBytes(s.budget_bytes))
                              : tr("Streamed in bounded memory (Analysis → Stream the trace).");
    why += QLatin1Char(' ') + tr("%1 windows of %2 steps (about %3 each).")
                                  .arg(s.report.windows)
                                  .arg(s.report.window_steps)
                                  .arg(formatBytes(s.report.window_bytes_estimate));
    QStringList left;
    if (!s.report.oracles_left_out.empty()) {
        QStringList names;
        for (const std::string& n : s.report.oracles_left_out)
            names << QString::fromStdString(n);
        left << tr("the oracle policies %1 (they read the future)").arg(names.join(QStringLiteral(", ")));
    }
    left << tr("the relevance statistics") << tr("token timelines") << tr("per-layer step breakdowns")
         << tr("full-resolution heatmap CSVs");
    if (out.scenario.bounds.annealed.enabled)
        left << tr("the annealed schedule");
    return why + QLatin1Char(' ') + tr("Left out: %1.").arg(left.join(QStringLiteral(", ")));
}

QString notWhileStreamed(const QString& what)
{
    return tr("%1 is not available while streamed (a streamed run keeps no per-step lists).")
        .arg(what);
}

} // namespace kvtier::ui
