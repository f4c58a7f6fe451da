#pragma once
// Scenario files (docs/SCENARIO.md): `*.kvtier.json` read, checked and written back.
// Unknown keys and out-of-range values are InputErrors naming the file and the JSON path.
#include "core/model/scenario.hpp"
#include "core/policies/policy.hpp"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace kvtier {

class PresetLibrary;

// Parses and validates. A "model"/"hardware" that is a string names a preset; an object
// may carry "preset" plus fields that override it. `where` names the file in errors.
Scenario scenarioFromJson(const nlohmann::json& doc, const std::string& where, const PresetLibrary& presets);
// Every field written out in full (presets expanded), so the file stands alone.
nlohmann::json scenarioToJson(const Scenario& s);
// A policy's parameters as a JSON object, Choice parameters by name.
nlohmann::json policyParamsToJson(const PolicyInfo& info, const PolicyParams& params);

// Expands "model"/"hardware" preset references into full objects in place, so that
// `--set hardware.tiers.0.capacity_bytes=...` can address them.
void expandPresets(nlohmann::json& doc, const std::string& where, const PresetLibrary& presets);
// Applies `key.path=value` (numbers index arrays; the value is parsed as JSON when it is
// valid JSON, else taken as a string). Throws InputError naming the key.
void applyOverride(nlohmann::json& doc, const std::string& assignment);

// A key path as users type it after --set/--vary (docs/SCENARIO.md "Key paths"): dotted,
// "hardware.tiers.0.capacity_bytes" (each part one key or array index), or a JSON pointer,
// "/hardware/tiers/0/capacity_bytes" (RFC 6901; for keys holding a '.'). Errors are
// one-line InputErrors "OPTION PATH: problem".
nlohmann::json_pointer<std::string> scenarioPointer(const std::string& path, const std::string& option);
// Sets the value at `path`, creating missing object keys; an array index must exist.
void setPath(nlohmann::json& doc, const std::string& path, const nlohmann::json& value,
             const std::string& option = "--set");
// The value at `path`, or nullptr when there is none.
const nlohmann::json* findPath(const nlohmann::json& doc, const std::string& path,
                               const std::string& option = "--vary");

// `doc` with the sections a scenario file may leave out ("experts") filled in with their
// defaults where absent, so `--vary experts.hbm_share=...` names an existing key.
nlohmann::json withOptionalSections(const nlohmann::json& doc);

// Reads a scenario file, applies the overrides, validates. The trace database path is
// resolved against the scenario's folder, then the working directory.
Scenario loadScenario(const std::string& path, const PresetLibrary& presets,
                      const std::vector<std::string>& overrides = {});
void saveScenario(const Scenario& s, const std::string& path);
std::string resolveTraceDb(const std::string& db, const std::string& scenarioPath);

} // namespace kvtier
