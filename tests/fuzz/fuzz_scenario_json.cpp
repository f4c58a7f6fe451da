// libFuzzer harness: a scenario file (*.kvtier.json). The bytes are parsed and given to
// scenarioFromJson, and read from a file with loadScenario, as `kvtier-cli analyze
// --scenario` does. An accepted scenario must survive scenarioToJson -> text -> parse ->
// scenarioFromJson unchanged (the GUI saves scenarios that way).
#include "core/config/data_dir.hpp"
#include "core/config/presets.hpp"
#include "core/config/scenario_json.hpp"
#include "fuzz_common.hpp"

#include <nlohmann/json.hpp>

using namespace kvtier;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static const PresetLibrary presets = (setDataDir(KVTIER_BUILD_DATA_DIR), PresetLibrary::loadBuiltin());
    static const std::string input = fuzz::tempPath("input.kvtier.json");
    fuzz::writeFile(input, data, size);

    const nlohmann::json doc = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_discarded()) {
        fuzz::expectOnlyInputErrors([&] {
            const Scenario s = scenarioFromJson(doc, "input.kvtier.json", presets);
            const std::string text = scenarioToJson(s).dump(2);
            Scenario back;
            try {
                back = scenarioFromJson(nlohmann::json::parse(text), "saved.kvtier.json", presets);
            } catch (const std::exception& e) {
                fuzz::finding("a saved scenario does not load again", std::string(e.what()) + "\n" + text);
            }
            if (!(back == s)) fuzz::finding("a saved scenario loads differently", text);
        });
    }
    fuzz::expectOnlyInputErrors([&] { (void)loadScenario(input, presets); });
    return 0;
}
