// libFuzzer harness: a user preset file ({"kind": "hardware"|"models", "presets": [...]})
// added to the built-in presets with PresetLibrary::addFile, as `--presets FILE` does.
// Every preset it leaves must survive ...ToJson -> ...FromJson (scenario files embed them).
#include "core/config/data_dir.hpp"
#include "core/config/presets.hpp"
#include "fuzz_common.hpp"

#include <nlohmann/json.hpp>

using namespace kvtier;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static const PresetLibrary builtin = (setDataDir(KVTIER_BUILD_DATA_DIR), PresetLibrary::loadBuiltin());
    static const std::string input = fuzz::tempPath("presets.json");
    fuzz::writeFile(input, data, size);
    fuzz::expectOnlyInputErrors([&] {
        PresetLibrary lib = builtin;
        lib.addFile(input);
        try {
            for (const HardwarePreset& p : lib.hardware())
                (void)hardwarePresetFromJson(nlohmann::json::parse(hardwarePresetToJson(p).dump()), "saved");
            for (const ModelPreset& p : lib.models())
                (void)modelPresetFromJson(nlohmann::json::parse(modelPresetToJson(p).dump()), "saved");
        } catch (const std::exception& e) {
            fuzz::finding("an accepted preset does not load again", e.what());
        }
    });
    return 0;
}
