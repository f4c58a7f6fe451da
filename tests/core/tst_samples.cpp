// The bundled sample database (sample_traces/, made by scripts/make_samples.sh): every
// promised trace is there, with the promised shape, and the generated ones still match
// the generator that made them.
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"

#include <nlohmann/json.hpp>

#include <QtTest>

#include <algorithm>

#include <cmath>
#include <filesystem>

using namespace kvtier;

namespace {

std::string samplePath() { return std::string(KVTIER_SOURCE_DIR) + "/sample_traces/kvtier-samples.sqlite"; }

} // namespace

class TestSamples : public QObject {
    Q_OBJECT

    std::unique_ptr<TraceStore> store_;

private slots:
    void initTestCase()
    {
        QVERIFY2(std::filesystem::exists(samplePath()), samplePath().c_str());
        store_ = TraceStore::open(samplePath(), TraceStore::Mode::ReadOnly);
    }

    void sizeLimit()
    {
        const auto bytes = std::filesystem::file_size(samplePath());
        QVERIFY2(bytes <= 30u * 1000u * 1000u, qPrintable(QString("%1 bytes").arg(bytes)));
    }

    void everyTraceIsThere()
    {
        for (const char* name : {"stable", "drift", "bursty", "sinks-recency", "layers32", "paper-selections",
                                 "long-context", "moe-batch"}) {
            const auto s = store_->find(name);
            QVERIFY2(s.has_value(), name);
            QVERIFY2(!s->meta.description.empty(), name);
            QVERIFY2(s->meta.description.find('\n') == std::string::npos, name);
            QCOMPARE(s->records, s->meta.recordCount());
            QVERIFY(s->entries > 0);
        }
    }

    void shapes()
    {
        const TraceSummary mb = store_->get("moe-batch");
        QCOMPARE(mb.meta.sequenceCount(), 16);
        QCOMPARE(mb.meta.steps, int64_t{256});
        QVERIFY(*std::min_element(mb.meta.sequence_prefill.begin(), mb.meta.sequence_prefill.end()) >= 1024);

        const TraceSummary lc = store_->get("long-context");
        QVERIFY(lc.meta.prefill >= 8192);
        QVERIFY(lc.meta.steps >= 2048);
        QCOMPARE(lc.meta.layer_mode, LayerMode::Aggregated);
        QCOMPARE(lc.meta.kind, RecordKind::Scores);
        QCOMPARE(lc.encoding, Encoding::SparseF16);

        const TraceSummary l32 = store_->get("layers32");
        QCOMPARE(l32.meta.layers, 32);
        QCOMPARE(l32.meta.layer_mode, LayerMode::PerLayer);
        QCOMPARE(l32.meta.kind, RecordKind::Scores);

        const TraceSummary ps = store_->get("paper-selections");
        QCOMPARE(ps.meta.kind, RecordKind::Selection);
        QCOMPARE(ps.meta.layer_mode, LayerMode::PerLayer);
        QCOMPARE(ps.meta.layers, 4);
        QCOMPARE(ps.meta.prefill, int64_t(2048));
        QCOMPARE(ps.meta.steps, int64_t(128));

        for (const char* name : {"stable", "drift", "bursty", "sinks-recency"}) {
            const TraceSummary s = store_->get(name);
            QCOMPARE(s.meta.kind, RecordKind::Scores);
            QCOMPARE(s.meta.layer_mode, LayerMode::Aggregated);
        }
    }

    void paperSelectionsAreTenPercent()
    {
        // Made with --selection-ratio 0.1 and imported from the paper's CSV format.
        auto reader = store_->reader("paper-selections");
        Record r;
        int64_t count = 0;
        while (reader->next(r)) {
            const int64_t n = 2048 + r.step;
            QCOMPARE(static_cast<int64_t>(r.index.size()), static_cast<int64_t>(std::ceil(0.1 * static_cast<double>(n) - 1e-9)));
            QVERIFY(r.index.back() < n);
            ++count;
        }
        QCOMPARE(count, int64_t(128 * 4));

        // The CSV round trip lost nothing: the first steps equal the generator's
        // selections for the parameters in scripts/make_samples.sh.
        GeneratorParams p = generatorPreset("per-layer");
        p.seed = 106;
        p.prefill = 2048;
        p.steps = 3;
        p.layers = 4;
        p.selection_ratio = 0.1;
        auto again = store_->reader("paper-selections");
        generate(p, [&](const Record& want) {
            QVERIFY(again->next(r));
            QCOMPARE(r.step, want.step);
            QCOMPARE(r.layer, want.layer);
            QCOMPARE(r.index, want.index);
        });
    }

    void generatedTracesStillMatchTheGenerator()
    {
        // Each generated trace keeps its parameters in `source`; drawing them again must
        // give the stored records (to f16 precision). If this fails after a generator
        // change, rebuild the samples: scripts/make_samples.sh BUILD_DIR.
        for (const char* name : {"stable", "drift", "bursty", "sinks-recency", "layers32", "long-context"}) {
            const TraceSummary s = store_->get(name);
            const auto at = s.meta.source.find("parameters ");
            QVERIFY2(at != std::string::npos, name);
            GeneratorParams p = generatorParamsFromJson(nlohmann::json::parse(s.meta.source.substr(at + 11)), name);
            p.steps = 2;   // the first records are enough (and the plan does not depend on T beyond them)
            std::vector<Record> fresh;
            generate(p, [&](const Record& rec) { fresh.push_back(rec); });
            auto reader = store_->reader(name);
            Record stored;
            for (const Record& want : fresh) {
                QVERIFY(reader->next(stored));
                QCOMPARE(stored.step, want.step);
                QCOMPARE(stored.layer, want.layer);
                // f16 may round the smallest kept scores to 0 (dropped on store).
                QVERIFY2(stored.index.size() <= want.index.size() && stored.index.size() + 8 >= want.index.size(), name);
                size_t k = 0;
                for (size_t j = 0; j < stored.index.size(); ++j) {
                    while (k < want.index.size() && want.index[k] < stored.index[j]) ++k;
                    QVERIFY2(k < want.index.size() && want.index[k] == stored.index[j], name);
                    QVERIFY(std::fabs(stored.value[j] - want.value[k]) <= 1e-3f * want.value[k] + 1e-7f);
                }
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestSamples)
#include "tst_samples.moc"
