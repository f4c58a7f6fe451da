#pragma once
// Hardware and model presets (DESIGN.md "Presets"): JSON files under resources/presets
// (installed in share/kvtier/presets, core/config/data_dir.hpp), each figure with the
// public source it comes from, plus any files the user adds.
//
// The JSON shapes are shared with the scenario files: a hardware object is
// {name, tiers: [{name, capacity_bytes, bandwidth, link_read, link_write, reserve_bytes}]}
// and a model object is {name, layers, kv_bytes_per_token_layer, weight_bytes}. Both
// also accept the documentary keys presets carry (id, description, source, and for
// models kv_heads, head_dim, dtype_bytes, kv_latent_dim). Any other key, a missing
// field, a wrong type or an out-of-range value is an InputError naming the file and
// the JSON path, e.g. "hardware.json: presets[2].tiers[1].bandwidth: must be > 0".
#include "core/model/hardware.hpp"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace kvtier {

struct HardwarePreset {
    std::string id, name, description, source;
    Hardware hardware;                      // hardware.name == id
    std::vector<std::string> tier_sources;  // one per tier, same order
};

struct ModelPreset {
    std::string id, name, source;
    std::string description;
    Model model;                            // model.name == id
    int kv_heads = 0;                       // 0 when the cache is latent (MLA)
    int head_dim = 0;                       // 0 when the cache is latent
    double dtype_bytes = 0;                 // bytes per cached element
    int kv_latent_dim = 0;                  // latent width (MLA), 0 for K/V caches
};

class PresetLibrary {
public:
    // The presets shipped with kvtier. The folder is $KVTIER_PRESET_DIR when set, else
    // <dataDir()>/presets (core/config/data_dir.hpp).
    // Throws InputError when none holds hardware.json and models.json.
    static PresetLibrary loadBuiltin();
    static std::string builtinDir();

    // Adds a preset file ({"kind": "hardware"|"models", "presets": [...]}). A preset
    // whose id already exists replaces it in place; new ids are appended. The whole
    // file is validated before anything changes.
    void addFile(const std::string& path);
    // Same for JSON already in memory; `where` names it in errors.
    void addJson(const nlohmann::json& doc, const std::string& where);

    const std::vector<HardwarePreset>& hardware() const { return hardware_; }
    const std::vector<ModelPreset>& models() const { return models_; }
    // Throw InputError("presets", "unknown hardware preset 'x' (known: a, b, ...)").
    const HardwarePreset& hardwareById(const std::string& id) const;
    const ModelPreset& modelById(const std::string& id) const;

private:
    std::vector<HardwarePreset> hardware_;
    std::vector<ModelPreset> models_;
};

// `where` is the file (or other origin) for the error message; `path` is the JSON path
// of `j` inside it ("" for the root), e.g. "presets[2]" or "hardware".
Hardware hardwareFromJson(const nlohmann::json& j, const std::string& where,
                          const std::string& path = "");
Tier tierFromJson(const nlohmann::json& j, const std::string& where, const std::string& path = "");
Model modelFromJson(const nlohmann::json& j, const std::string& where,
                    const std::string& path = "");
HardwarePreset hardwarePresetFromJson(const nlohmann::json& j, const std::string& where,
                                      const std::string& path = "");
ModelPreset modelPresetFromJson(const nlohmann::json& j, const std::string& where,
                                const std::string& path = "");

// The inverse: exactly the keys above; a missing link (kNoLink) is written as null.
nlohmann::json tierToJson(const Tier& t);
nlohmann::json hardwareToJson(const Hardware& h);
nlohmann::json modelToJson(const Model& m);
nlohmann::json hardwarePresetToJson(const HardwarePreset& p);
nlohmann::json modelPresetToJson(const ModelPreset& p);

// nlohmann ADL hooks, so `nlohmann::json j = hardware;` works.
void to_json(nlohmann::json& j, const Tier& t);
void to_json(nlohmann::json& j, const Hardware& h);
void to_json(nlohmann::json& j, const Model& m);

} // namespace kvtier
