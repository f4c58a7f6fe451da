#pragma once
// Shared by analyze and sweep: the presets (built in plus --presets files) and the
// scenario file with its --set overrides.
#include "args.hpp"

#include "core/error.hpp"
#include "core/pipeline.hpp"
#include "core/presets.hpp"
#include "core/scenario.hpp"
#include "core/trace_store.hpp"

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

} // namespace kvtier::cli
