#pragma once
// Shared by analyze and sweep: the presets (built in plus --presets files) and the
// scenario file with its --set overrides.
#include "args.hpp"

#include "core/config/presets.hpp"
#include "core/config/scenario_json.hpp"
#include "core/engine/pipeline.hpp"
#include "core/model/error.hpp"
#include "core/store/trace_store.hpp"

namespace kvtier::cli {

inline PresetLibrary presetsFrom(const Args& a)
{
    PresetLibrary lib = PresetLibrary::loadBuiltin();
    for (const auto& f : a.all("presets")) lib.addFile(f);
    return lib;
}

inline Scenario scenarioFrom(const Args& a, const PresetLibrary& presets)
{
    return loadScenario(a.require("scenario"), presets, a.all("set"));
}

// What an analysis that ran out of memory tells the user: the trace and about how much
// it needed, instead of std::bad_alloc.
inline InputError tooLargeForMemory(const Scenario& s)
{
    const std::string where = s.trace_db + " trace '" + s.trace_name + "'";
    try {
        const auto store = TraceStore::open(s.trace_db, TraceStore::Mode::ReadOnly);
        const TraceSummary sum = store->get(s.trace_name);
        const double need = analysisBytesEstimate(sum.meta, sum.entries, s);
        return InputError(where, "too large for memory (needs about " + readableNumber(need / 1e9) + " GB)");
    } catch (const std::exception&) {
        return InputError(where, "too large for memory");
    }
}

// An analysis of the whole trace that did not fit (above, or the store's load): the same
// error with the way out, `--stream` (docs/PERFORMANCE.md "Streamed analysis").
inline InputError withStreamHint(const InputError& e, const std::string& command)
{
    if (e.problem().rfind("too large for memory", 0) != 0) return e;
    return InputError(e.where(), e.problem() + "; `kvtier-cli " + command +
                                     " --stream` reads it a window of steps at a time, in bounded memory");
}

} // namespace kvtier::cli
