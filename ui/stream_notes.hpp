#pragma once
// What a streamed analysis (docs/GUI.md "Streamed analysis") shows and leaves out, in the
// words the views, the Explain panel and the status line use. Text only: which data a
// streamed result holds is the core's (StreamReport, holdsStepLists).
#include "ui/analysis_worker.hpp"

#include <QString>

#include <string>

namespace kvtier::ui {

// Why the policy (or heavy-bound schedule) has no data in a streamed output: "belady is
// an oracle policy (it reads the future): a streamed run leaves it out ..."; empty when
// the output was not streamed or holds the policy.
QString streamedLeftOut(const AnalysisOutput& out, const std::string& policy);

// The line above the views while a streamed result is shown: why it streamed (asked for,
// or the whole-trace estimate above the budget), its windows, and what it left out.
// Empty when the output was not streamed.
QString streamSummary(const AnalysisOutput& out);

// "<what> is not available while streamed (a streamed run keeps no per-step lists)."
QString notWhileStreamed(const QString& what);

} // namespace kvtier::ui
