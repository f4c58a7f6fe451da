// Presets: the shipped files load and say what they should; user files add and
// override; bad files fail with the file and the JSON path in the message.
#include "core/config/presets.hpp"
#include "core/model/error.hpp"
#include "test_support.hpp"

#include <nlohmann/json.hpp>

#include <QtTest>

#include <cmath>

using namespace kvtier;
using nlohmann::json;

class TestPresets : public QObject {
    Q_OBJECT

    // Runs `f`, expects an InputError whose message contains every `parts`.
    template <class F>
    void expectError(F f, std::initializer_list<std::string> parts)
    {
        try {
            f();
        } catch (const InputError& e) {
            const std::string msg = e.what();
            for (const auto& p : parts)
                QVERIFY2(msg.find(p) != std::string::npos, ("'" + p + "' not in: " + msg).c_str());
            return;
        }
        QFAIL("no InputError thrown");
    }

    static json oneHardwareFile(json tier1Patch)
    {
        json tier0 = {{"name", "HBM"}, {"capacity_bytes", 1e9}, {"bandwidth", 1e12}, {"reserve_bytes", 0},
                      {"source", "x"}};
        json tier1 = {{"name", "DRAM"}, {"capacity_bytes", 4e9}, {"bandwidth", 1e11},
                      {"link_read", 5e10}, {"link_write", 5e10}, {"source", "y"}};
        if (tier1Patch.is_object()) tier1.merge_patch(tier1Patch);   // {} arrives as null
        json p = {{"id", "a"}, {"name", "A"}, {"source", "s"}, {"tiers", json::array({tier0, tier1})}};
        json doc = {{"kind", "hardware"}, {"presets", json::array({p, p, p})}};
        doc["presets"][1]["id"] = "b";
        doc["presets"][2]["id"] = "c";
        return doc;
    }

private slots:
    void builtinLoads()
    {
        const PresetLibrary lib = PresetLibrary::loadBuiltin();
        QVERIFY(lib.hardware().size() >= 8);
        QVERIFY(lib.models().size() >= 9);
        for (const char* id : {"gh200-hbm3", "gh200-hbm3e", "gb200-per-gpu", "h100-pcie5-ddr5",
                               "h200-pcie5-ddr5", "h100-ddr5-cxl", "paper-default", "custom"}) {
            const HardwarePreset& p = lib.hardwareById(id);
            QCOMPARE(p.hardware.name, std::string(id));
            QVERIFY(!p.source.empty());
            QVERIFY(p.hardware.tiers.size() >= 2);
            QCOMPARE(p.tier_sources.size(), p.hardware.tiers.size());
            for (size_t i = 0; i < p.hardware.tiers.size(); ++i) {
                const Tier& t = p.hardware.tiers[i];
                QVERIFY(!p.tier_sources[i].empty());
                QVERIFY(t.capacity_bytes > 0 && t.bandwidth > 0);
                QCOMPARE(t.reserve_bytes, 0.0);
                if (i == 0) QVERIFY(std::isinf(t.link_read) && std::isinf(t.link_write));
                else QVERIFY(t.link_read > 0 && std::isfinite(t.link_read));
                if (i > 0) QVERIFY(t.bandwidth < p.hardware.tiers[0].bandwidth);   // fastest first
            }
        }
        QCOMPARE(lib.hardwareById("h100-ddr5-cxl").hardware.tiers.size(), size_t(3));
        const Hardware& paper = lib.hardwareById("paper-default").hardware;
        QCOMPARE(paper.tiers[0].bandwidth, 4.9e12);
        QCOMPARE(paper.tiers[1].bandwidth, 500e9);
        QCOMPARE(paper.tiers[1].link_read, 450e9);
        QCOMPARE(paper.tiers[1].link_write, 450e9);
        const Hardware& gh = lib.hardwareById("gh200-hbm3").hardware;
        QCOMPARE(gh.tiers[0].capacity_bytes, 96e9);
        QCOMPARE(gh.tiers[0].bandwidth, 4.0e12);
        QCOMPARE(lib.hardwareById("gh200-hbm3e").hardware.tiers[0].capacity_bytes, 144e9);
        QCOMPARE(lib.hardwareById("gb200-per-gpu").hardware.tiers[0].bandwidth, 8.0e12);
        QCOMPARE(lib.hardwareById("h100-pcie5-ddr5").hardware.tiers[1].link_read, 64e9);

        for (const ModelPreset& m : lib.models()) {
            QVERIFY(!m.source.empty());
            QCOMPARE(m.model.name, m.id);
            QVERIFY(m.model.layers >= 1);
            QVERIFY(m.model.kv_bytes_per_token_layer > 0);
            QVERIFY(m.model.weight_bytes > 0);
        }
    }

    void kappa()
    {
        const PresetLibrary lib = PresetLibrary::loadBuiltin();
        const ModelPreset& l8 = lib.modelById("llama-3-8b");
        QCOMPARE(l8.model.kv_bytes_per_token_layer, 4096.0);
        QCOMPARE(l8.model.layers, 32);
        QCOMPARE(l8.kv_heads, 8);
        QCOMPARE(l8.head_dim, 128);
        QCOMPARE(l8.model.weight_bytes, 16.06e9);
        const ModelPreset& ds = lib.modelById("deepseek-v3");
        QCOMPARE(ds.model.kv_bytes_per_token_layer, 1152.0);
        QCOMPARE(ds.model.layers, 61);
        QCOMPARE(ds.kv_latent_dim, 576);
        QCOMPARE(ds.kv_heads, 0);
        QCOMPARE(lib.modelById("paper-llama3-8b-mha").model.kv_bytes_per_token_layer, 16384.0);
        QCOMPARE(lib.modelById("qwen2.5-7b").model.kv_bytes_per_token_layer, 2048.0);
        QCOMPARE(lib.modelById("llama-3.1-405b").model.layers, 126);
        // Derived when not given: 70B file omits kappa.
        QCOMPARE(lib.modelById("llama-3-70b").model.kv_bytes_per_token_layer, 4096.0);
        for (const char* id : {"llama-3-70b", "mixtral-8x7b", "qwen2.5-72b", "mistral-7b"})
            QCOMPARE(lib.modelById(id).model.kv_bytes_per_token_layer, 4096.0);
        // Mixtral-8x7B with placeable experts (MODEL.md §9): kappa = 2 x 8 x 128 x 2; an
        // expert is 3 x 4096 x 14336 x 2 B; W = 46702792704 parameters x 2 B.
        const Model mx = lib.modelById("mixtral-8x7b-moe").model;
        QCOMPARE(mx.kv_bytes_per_token_layer, 4096.0);
        QCOMPARE(mx.layers, 32);
        QCOMPARE(mx.experts, 8);
        QCOMPARE(mx.expert_bytes, 3.0 * 4096 * 14336 * 2);
        QCOMPARE(mx.weight_bytes, 2.0 * 46702792704);
        QCOMPARE(mx.denseWeightBytes(), 3211272192.0);
        QCOMPARE(lib.modelById("mixtral-8x7b").model.experts, 0);   // the dense preset is unchanged
    }

    void unknownIdListsKnown()
    {
        const PresetLibrary lib = PresetLibrary::loadBuiltin();
        expectError([&] { lib.hardwareById("tpu"); }, {"unknown hardware preset 'tpu'", "gh200-hbm3e", "custom"});
        expectError([&] { lib.modelById("gpt"); }, {"unknown model preset 'gpt'", "llama-3-8b"});
    }

    void userFileOverridesAndAdds()
    {
        PresetLibrary lib = PresetLibrary::loadBuiltin();
        const size_t before = lib.hardware().size();
        const std::string path = test::writeScratch("mine.json", R"({
            "kind": "hardware",
            "presets": [
              {"id": "custom", "name": "My box", "source": "me",
               "tiers": [{"name": "HBM", "capacity_bytes": 1e9, "bandwidth": 2e12},
                         {"name": "DRAM", "capacity_bytes": 9e9, "bandwidth": 1e11, "link_read": 3e10}]},
              {"id": "lab-rig", "name": "Lab rig", "source": "me", "description": "d",
               "tiers": [{"name": "HBM", "capacity_bytes": 2e9, "bandwidth": 1e12, "reserve_bytes": 1e8}]}
            ]})");
        lib.addFile(path);
        QCOMPARE(lib.hardware().size(), before + 1);
        const HardwarePreset& c = lib.hardwareById("custom");
        QCOMPARE(c.name, std::string("My box"));
        QCOMPARE(c.hardware.tiers[0].capacity_bytes, 1e9);
        QCOMPARE(c.hardware.tiers[1].link_read, 3e10);
        QVERIFY(std::isinf(c.hardware.tiers[1].link_write));   // omitted = no link
        QCOMPARE(lib.hardwareById("lab-rig").hardware.tiers[0].reserve_bytes, 1e8);
        QCOMPARE(lib.hardware().back().id, std::string("lab-rig"));

        const std::string models = test::writeScratch("mymodels.json", R"({
            "kind": "models",
            "presets": [{"id": "tiny", "name": "Tiny", "source": "me", "layers": 2,
                         "kv_heads": 1, "head_dim": 64, "dtype_bytes": 1, "weight_bytes": 1e6}]})");
        lib.addFile(models);
        QCOMPARE(lib.modelById("tiny").model.kv_bytes_per_token_layer, 128.0);
    }

    void roundTrip()
    {
        const PresetLibrary lib = PresetLibrary::loadBuiltin();
        for (const HardwarePreset& p : lib.hardware()) {
            const json j = hardwareToJson(p.hardware);
            QVERIFY(j.at("tiers").at(0).at("link_read").is_null());
            QCOMPARE(hardwareFromJson(j, "rt"), p.hardware);
            const json jp = hardwarePresetToJson(p);
            const HardwarePreset back = hardwarePresetFromJson(jp, "rt");
            QCOMPARE(back.hardware, p.hardware);
            QCOMPARE(back.tier_sources, p.tier_sources);
        }
        for (const ModelPreset& p : lib.models()) {
            const json j = p.model;   // ADL to_json
            // name, layers, kappa, W; a MoE model also experts and expert_bytes (MODEL.md §9).
            QCOMPARE(j.size(), size_t(p.model.experts > 0 ? 6 : 4));
            QCOMPARE(modelFromJson(j, "rt"), p.model);
            const ModelPreset back = modelPresetFromJson(modelPresetToJson(p), "rt");
            QCOMPARE(back.model, p.model);
            QCOMPARE(back.kv_heads, p.kv_heads);
            QCOMPARE(back.kv_latent_dim, p.kv_latent_dim);
        }
    }

    void badFiles()
    {
        PresetLibrary lib;
        // Zero bandwidth, with the exact path.
        {
            json doc = oneHardwareFile({});
            doc["presets"][2]["tiers"][1]["bandwidth"] = 0;
            const std::string p = test::writeScratch("hardware.json", doc.dump());
            expectError([&] { lib.addFile(p); }, {"hardware.json: presets[2].tiers[1].bandwidth: must be > 0"});
        }
        {
            json doc = oneHardwareFile({});
            doc["presets"][1]["tiers"][0]["capacity_bytes"] = -5;
            const std::string p = test::writeScratch("neg.json", doc.dump());
            expectError([&] { lib.addFile(p); }, {"neg.json: presets[1].tiers[0].capacity_bytes: must be > 0"});
        }
        {
            const std::string p = test::writeScratch("unk.json", oneHardwareFile({{"bandwith", 1e9}}).dump());
            expectError([&] { lib.addFile(p); }, {"unk.json: presets[0].tiers[1].bandwith: unknown key"});
        }
        {
            json doc = oneHardwareFile({});
            doc["presets"][0]["tiers"][0].erase("capacity_bytes");
            const std::string p = test::writeScratch("miss.json", doc.dump());
            expectError([&] { lib.addFile(p); }, {"miss.json: presets[0].tiers[0].capacity_bytes: missing"});
        }
        {
            const std::string p = test::writeScratch("str.json", oneHardwareFile({{"link_read", "fast"}}).dump());
            expectError([&] { lib.addFile(p); }, {"str.json: presets[0].tiers[1].link_read: must be a number"});
        }
        {
            const std::string p = test::writeScratch("broken.json", "{\"kind\": \"hardware\", \"presets\": [");
            expectError([&] { lib.addFile(p); }, {"broken.json: line 1, column 34: the file ends in the middle of a value"});
        }
        {
            const std::string p = test::writeScratch("kind.json", R"({"kind": "gpus", "presets": []})");
            expectError([&] { lib.addFile(p); }, {"kind.json: kind: must be \"hardware\" or \"models\""});
        }
        {
            json doc = oneHardwareFile({});
            doc["presets"][2]["id"] = "a";
            const std::string p = test::writeScratch("dup.json", doc.dump());
            expectError([&] { lib.addFile(p); }, {"dup.json: presets[2].id: duplicate id 'a'"});
        }
        expectError([&] { lib.addFile(test::scratchPath("nope.json")); }, {"nope.json: cannot open file"});
        // Nothing of the failed files got in.
        QVERIFY(lib.hardware().empty());
    }

    void badModels()
    {
        PresetLibrary lib;
        auto file = [](json patch) {
            json m = {{"id", "m"}, {"name", "M"}, {"source", "s"}, {"layers", 32}, {"kv_heads", 8},
                      {"head_dim", 128}, {"dtype_bytes", 2}, {"weight_bytes", 1e9}};
            m.merge_patch(patch);
            return json{{"kind", "models"}, {"presets", json::array({m})}}.dump();
        };
        const std::string a = test::writeScratch("models.json", file({{"kv_bytes_per_token_layer", 4000}}));
        expectError([&] { lib.addFile(a); },
                    {"models.json: presets[0].kv_bytes_per_token_layer: 4000 does not match 2 * kv_heads * "
                     "head_dim * dtype_bytes = 4096"});
        const std::string b = test::writeScratch("m2.json", file({{"layers", 0}}));
        expectError([&] { lib.addFile(b); }, {"m2.json: presets[0].layers: must be >= 1"});
        const std::string c = test::writeScratch("m3.json", file({{"layers", 3.5}}));
        expectError([&] { lib.addFile(c); }, {"m3.json: presets[0].layers: must be an integer"});
        const std::string d = test::writeScratch("m4.json", file({{"weight_bytes", -1}}));
        expectError([&] { lib.addFile(d); }, {"m4.json: presets[0].weight_bytes: must be >= 0"});
        const std::string e =
            test::writeScratch("m5.json", file({{"kv_heads", nullptr}, {"head_dim", nullptr}, {"dtype_bytes", nullptr}}));
        expectError([&] { lib.addFile(e); }, {"m5.json: presets[0].kv_bytes_per_token_layer: missing"});
        const std::string f = test::writeScratch("m6.json", file({{"kv_latent_dim", 576}}));
        expectError([&] { lib.addFile(f); }, {"m6.json: presets[0].kv_latent_dim: give kv_heads"});
        QVERIFY(lib.models().empty());
        // A scenario-style model object with a nested path.
        expectError([&] { modelFromJson(json{{"layers", 2}, {"kv_bytes_per_token_layer", 8}}, "scenario.json", "model"); },
                    {"scenario.json: model.weight_bytes: missing"});
        expectError([&] { hardwareFromJson(json{{"name", "x"}, {"tiers", json::array()}}, "scenario.json", "hardware"); },
                    {"scenario.json: hardware.tiers: must hold at least one tier"});
    }

    void envOverride()
    {
        qputenv("KVTIER_PRESET_DIR", QByteArray::fromStdString(test::scratchPath("no-such-dir")));
        expectError([] { PresetLibrary::loadBuiltin(); }, {"KVTIER_PRESET_DIR"});
        qunsetenv("KVTIER_PRESET_DIR");
        QVERIFY(!PresetLibrary::loadBuiltin().hardware().empty());
    }
};

QTEST_GUILESS_MAIN(TestPresets)
#include "tst_presets.moc"
