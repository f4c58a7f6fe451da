#pragma once
// Shared by analyze and sweep: the presets (built in plus --presets files) and the
// scenario file with its --set overrides.
#include "args.hpp"

#include "core/presets.hpp"
#include "core/scenario.hpp"

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

} // namespace kvtier::cli
