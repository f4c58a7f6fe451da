// The synthetic generator: deterministic on any thread count, and each documented
// phenomenon measurable in what it emits.
// oneTBB before Qt: Qt's `emit` macro breaks oneTBB headers.
#include <tbb/task_arena.h>

#include "core/model/error.hpp"
#include "core/synth/generator.hpp"

#include <nlohmann/json.hpp>

#include <QElapsedTimer>
#include <QtTest>

#include <cmath>
#include <map>

using namespace kvtier;

namespace {

std::vector<Record> collect(const GeneratorParams& p)
{
    std::vector<Record> out;
    generate(p, [&](const Record& r) { out.push_back(r); });
    return out;
}

bool sameRecords(const std::vector<Record>& a, const std::vector<Record>& b)
{
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i].step != b[i].step || a[i].layer != b[i].layer || a[i].index != b[i].index ||
            a[i].value != b[i].value)   // bit-identical floats
            return false;
    return true;
}

std::vector<double> dense(const Record& r, int64_t prefill)
{
    std::vector<double> d(static_cast<size_t>(prefill + r.step), 0.0);
    for (size_t k = 0; k < r.index.size(); ++k) d[r.index[k]] = r.value[k];
    return d;
}

double sum(const Record& r)
{
    double s = 0;
    for (float v : r.value) s += v;
    return s;
}

double entropy(const Record& r)
{
    double h = 0;
    for (float v : r.value)
        if (v > 0) h -= v * std::log(static_cast<double>(v));
    return h;
}

GeneratorParams small()
{
    GeneratorParams p;
    p.prefill = 1024;
    p.steps = 64;
    p.burst_min_age = 128;
    return p;
}

} // namespace

class TestGenerator : public QObject {
    Q_OBJECT

private slots:
    void determinism()
    {
        GeneratorParams p = small();
        p.burst_rate = 0.1;
        const auto a = collect(p);
        const auto b = collect(p);
        QVERIFY(sameRecords(a, b));
        QCOMPARE(a.size(), size_t(64));
        p.seed = 2;
        QVERIFY(!sameRecords(a, collect(p)));
        p.seed = 1;
        // One thread versus the default arena: bit-identical.
        std::vector<Record> single;
        tbb::task_arena one(1);
        one.execute([&] { single = collect(p); });
        QVERIFY(sameRecords(a, single));
        // Per-layer and selections too.
        GeneratorParams q = generatorPreset("per-layer");
        q.prefill = 256;
        q.steps = 8;
        q.layers = 6;
        q.selection_ratio = 0.1;
        std::vector<Record> qs;
        one.execute([&] { qs = collect(q); });
        QVERIFY(sameRecords(collect(q), qs));
        QCOMPARE(qs.size(), size_t(48));
        QCOMPARE(qs[7].step, int64_t(1));
        QCOMPARE(qs[7].layer, 1);
    }

    void recordsAreProbabilities()
    {
        const GeneratorParams p = small();
        for (const Record& r : collect(p)) {
            QCOMPARE(r.layer, -1);
            QCOMPARE(static_cast<int64_t>(r.index.size()), p.prefill + r.step);   // no zeros at defaults
            QVERIFY(std::fabs(sum(r) - 1.0) < 1e-4);
            for (size_t k = 1; k < r.index.size(); ++k) QVERIFY(r.index[k] > r.index[k - 1]);
        }
        const Trace t = generateTrace(p, "x");
        QVERIFY(t.complete());
        QCOMPARE(t.meta().name, std::string("x"));
        QCOMPARE(t.meta().kind, RecordKind::Scores);
        QCOMPARE(t.meta().layer_mode, LayerMode::Aggregated);
        QVERIFY(t.meta().source.find("\"seed\":1") != std::string::npos);
    }

    void sinksGetMoreThanTheirShare()
    {
        const GeneratorParams p = small();
        double first = 0, fourth = 0;
        for (const Record& r : collect(p)) {
            const double n = static_cast<double>(p.prefill + r.step);
            double sinks = 0;
            for (size_t k = 0; k < 4; ++k) sinks += r.value[k];
            QVERIFY2(sinks > 10 * 4 / n, qPrintable(QString::number(sinks)));
            first += r.value[0];
            fourth += r.value[3];
        }
        QVERIFY(first > 3 * fourth);   // sink_decay 0.5: sink 3 has 1/8 of sink 0's weight
    }

    void recencyDecaysWithDistance()
    {
        for (const char* preset : {"default", "sinks-recency"}) {
            GeneratorParams p = generatorPreset(preset);
            p.prefill = 2048;
            p.steps = 32;
            const std::vector<std::pair<int, int>> buckets = {{0, 4}, {4, 32}, {32, 256}, {256, 1024}};
            std::vector<double> mean(buckets.size(), 0.0);
            const auto rs = collect(p);
            for (const Record& r : rs) {
                const auto d = dense(r, p.prefill);
                const int n = static_cast<int>(d.size());
                for (size_t b = 0; b < buckets.size(); ++b) {
                    double s = 0;
                    for (int dist = buckets[b].first; dist < buckets[b].second; ++dist) s += d[static_cast<size_t>(n - 1 - dist)];
                    mean[b] += s / (buckets[b].second - buckets[b].first) / static_cast<double>(rs.size());
                }
            }
            for (size_t b = 1; b < buckets.size(); ++b)
                QVERIFY2(mean[b] < 0.7 * mean[b - 1], qPrintable(QString("%1 bucket %2: %3 vs %4")
                                                                      .arg(preset).arg(b).arg(mean[b]).arg(mean[b - 1])));
        }
    }

    void heavyHittersPersist()
    {
        GeneratorParams p = generatorPreset("stable");
        p.prefill = 2048;
        p.steps = 96;
        const GeneratorPlan plan = generatorPlan(p);
        QCOMPARE(plan.heavy.size(), size_t(1));
        QCOMPARE(plan.heavy[0].size(), size_t(96));
        QVERIFY(plan.bursts.empty());
        const auto rs = collect(p);
        for (size_t t : {size_t(0), size_t(95)}) {   // early and late: the same tokens stay heavy
            const auto d = dense(rs[t], p.prefill);
            double heavy = 0, other = 0;
            std::vector<bool> isHeavy(d.size(), false);
            for (uint32_t h : plan.heavy[0]) isHeavy[h] = true;
            size_t others = 0;
            for (int64_t i = 4; i < p.prefill - 64; ++i) {
                if (isHeavy[static_cast<size_t>(i)]) heavy += d[static_cast<size_t>(i)];
                else {
                    other += d[static_cast<size_t>(i)];
                    ++others;
                }
            }
            heavy /= static_cast<double>(plan.heavy[0].size());
            other /= static_cast<double>(others);
            QVERIFY2(heavy > 20 * other, qPrintable(QString("%1 vs %2").arg(heavy).arg(other)));
        }
    }

    void burstReactivatesOldSpan()
    {
        GeneratorParams p = generatorPreset("bursty");
        p.prefill = 2048;
        p.steps = 200;
        p.seed = 7;
        const GeneratorPlan plan = generatorPlan(p);
        QVERIFY(plan.bursts.size() >= 5);   // ~16 expected at 0.08 per step
        const auto rs = collect(p);
        int checked = 0;
        for (const Burst& b : plan.bursts) {
            QVERIFY(b.end_step > b.start_step);
            QVERIFY(b.first_token + b.length + p.burst_min_age <= p.prefill + b.start_step);
            if (b.start_step < 10 || b.end_step - b.start_step < 2) continue;
            // Is any other burst touching the span in the window before? Then skip.
            bool clean = true;
            for (const Burst& o : plan.bursts)
                if (&o != &b && o.start_step < b.start_step && o.end_step > b.start_step - 10 &&
                    o.first_token < b.first_token + b.length && b.first_token < o.first_token + o.length)
                    clean = false;
            if (!clean) continue;
            auto spanMean = [&](int64_t t) {
                double s = 0;
                const auto d = dense(rs[static_cast<size_t>(t)], p.prefill);
                for (uint32_t i = b.first_token; i < b.first_token + b.length; ++i) s += d[i];
                return s / b.length;
            };
            double before = 0, during = 0;
            for (int64_t t = b.start_step - 10; t < b.start_step; ++t) before += spanMean(t) / 10;
            for (int64_t t = b.start_step; t < b.end_step; ++t)
                during += spanMean(t) / static_cast<double>(b.end_step - b.start_step);
            QVERIFY2(during > 5 * before, qPrintable(QString("%1 vs %2").arg(during).arg(before)));
            ++checked;
        }
        QVERIFY(checked >= 2);
    }

    void focusDrifts()
    {
        GeneratorParams p = generatorPreset("drift");
        p.prefill = 2048;
        p.steps = 200;
        const GeneratorPlan plan = generatorPlan(p);
        const double moved = plan.focus_centre.back() - plan.focus_centre.front();
        QVERIFY2(moved > 0.6 * p.focus_speed * 199, qPrintable(QString::number(moved)));
        const auto rs = collect(p);
        for (size_t t : {size_t(0), size_t(100), size_t(199)}) {
            const auto d = dense(rs[t], p.prefill);
            const double c = plan.focus_centre[t];
            double near = 0;
            size_t count = 0;
            for (size_t i = 0; i < d.size(); ++i)
                if (std::fabs(static_cast<double>(i) - c) <= p.focus_width) {
                    near += d[i];
                    ++count;
                }
            // The bump holds far more than a uniform share of the mass.
            QVERIFY2(near > 3.0 * static_cast<double>(count) / static_cast<double>(d.size()),
                     qPrintable(QString("t=%1: %2").arg(t).arg(near)));
        }
    }

    void highLayersAreFocused()
    {
        GeneratorParams p = generatorPreset("per-layer");
        p.prefill = 512;
        p.steps = 12;
        p.layers = 8;
        const auto rs = collect(p);
        std::vector<double> h(8, 0.0);
        for (const Record& r : rs) h[static_cast<size_t>(r.layer)] += entropy(r) / 12;
        QVERIFY2(h[0] > h[4] && h[4] > h[7], qPrintable(QString("%1 %2 %3").arg(h[0]).arg(h[4]).arg(h[7])));
        QVERIFY(h[0] - h[7] > 0.5);
        const GeneratorPlan plan = generatorPlan(p);
        QCOMPARE(plan.heavy.size(), size_t(8));
        QVERIFY(plan.heavy[0] != plan.heavy[1]);   // layer-specific part
        const TraceMeta m = generatorMeta(p);
        QCOMPARE(m.layer_mode, LayerMode::PerLayer);
        QCOMPARE(m.recordCount(), int64_t(96));
    }

    void keepTopAndMass()
    {
        GeneratorParams p = small();
        const auto full = collect(p);
        p.keep_top = 50;
        const auto top = collect(p);
        for (size_t r = 0; r < full.size(); ++r) {
            QCOMPARE(top[r].index.size(), size_t(50));
            // The kept entries are the 50 highest of the full record, values unchanged.
            std::vector<float> sorted = full[r].value;
            std::sort(sorted.begin(), sorted.end(), std::greater<>());
            const float fiftieth = sorted[49];
            const auto d = dense(full[r], p.prefill);
            for (size_t k = 0; k < top[r].index.size(); ++k) {
                QCOMPARE(static_cast<double>(top[r].value[k]), d[top[r].index[k]]);
                QVERIFY(top[r].value[k] >= fiftieth);
            }
        }
        p.keep_top = 0;
        p.keep_mass = 0.8;
        const auto mass = collect(p);
        for (size_t r = 0; r < full.size(); ++r) {
            const double s = sum(mass[r]);
            const float smallest = *std::min_element(mass[r].value.begin(), mass[r].value.end());
            QVERIFY2(s >= 0.8 - 1e-5 && s - smallest < 0.8, qPrintable(QString::number(s)));
            QVERIFY(mass[r].index.size() < full[r].index.size());
        }
        p.keep_top = 20;   // both: the smaller set
        for (const Record& r : collect(p)) QVERIFY(r.index.size() <= 20);
        const TraceMeta m = generatorMeta(p);
        QVERIFY(m.notes.find("0.8") != std::string::npos);
    }

    void selectionRatio()
    {
        GeneratorParams p = small();
        const auto full = collect(p);
        p.selection_ratio = 0.1;
        const auto sel = collect(p);
        QCOMPARE(generatorMeta(p).kind, RecordKind::Selection);
        for (size_t r = 0; r < sel.size(); ++r) {
            const int64_t n = p.prefill + sel[r].step;
            const auto want = static_cast<size_t>(std::ceil(0.1 * static_cast<double>(n) - 1e-9));
            QCOMPARE(sel[r].index.size(), want);
            for (float v : sel[r].value) QCOMPARE(v, 1.0f);
            // Exactly the highest generated scores.
            const auto d = dense(full[r], p.prefill);
            double minSel = 1, maxOther = 0;
            std::vector<bool> in(d.size(), false);
            for (uint32_t i : sel[r].index) {
                in[i] = true;
                minSel = std::min(minSel, d[i]);
            }
            for (size_t i = 0; i < d.size(); ++i)
                if (!in[i]) maxOther = std::max(maxOther, d[i]);
            QVERIFY(minSel >= maxOther);
        }
    }

    void jsonAndSettings()
    {
        GeneratorParams p = generatorPreset("drift");
        p.seed = 0xFFFFFFFFFFFFFFFFULL;
        p.recency_kernel = RecencyKernel::Exponential;
        const nlohmann::json j = generatorParamsToJson(p);
        // Every parameter but the five expert ones, written only when experts > 0, and the
        // three batch ones, written only for a batch (docs/GENERATOR.md "Batches").
        QCOMPARE(j.size() + 5 + 3, generatorParamDocs().size());
        QCOMPARE(generatorParamsFromJson(j, "rt"), p);
        GeneratorParams moe = p;
        moe.experts = 8;
        moe.expert_top_k = 3;
        moe.expert_zipf = 0.5;
        moe.sequences = 2;
        const nlohmann::json jm = generatorParamsToJson(moe);
        QCOMPARE(jm.size(), generatorParamDocs().size());
        QCOMPARE(generatorParamsFromJson(jm, "rt"), moe);
        GeneratorParams q;
        applyGeneratorSetting(q, "recency_kernel=exp");
        applyGeneratorSetting(q, "burst_rate=0.5");
        applyGeneratorSetting(q, "per_layer=true");
        applyGeneratorSetting(q, "prefill=777");
        QCOMPARE(q.recency_kernel, RecencyKernel::Exponential);
        QCOMPARE(q.burst_rate, 0.5);
        QVERIFY(q.per_layer);
        QCOMPARE(q.prefill, int64_t(777));
        auto fails = [](auto f, const std::string& part) {
            try {
                f();
            } catch (const InputError& e) {
                return std::string(e.what()).find(part) != std::string::npos;
            }
            return false;
        };
        QVERIFY(fails([&] { applyGeneratorSetting(q, "burst_rat=1"); }, "burst_rat: unknown generator parameter"));
        QVERIFY(fails([&] { applyGeneratorSetting(q, "burst_rate=fast"); }, "burst_rate: must be a number"));
        QVERIFY(fails([&] { applyGeneratorSetting(q, "prefill=1.5"); }, "prefill: must be an integer"));
        QVERIFY(fails([&] { applyGeneratorSetting(q, "keep_mass=0"); }, "keep_mass: must be in (0, 1]"));
        QVERIFY(fails([&] { applyGeneratorSetting(q, "recency_kernel=gauss"); }, "recency_kernel: must be \"power\""));
        QVERIFY(fails([&] { applyGeneratorSetting(q, "novalue"); }, "expected key=value"));
        QVERIFY(fails([&] { generatorParamsFromJson(nlohmann::json{{"steps", 0}}, "p.json"); }, "p.json: steps: must be >= 1"));
        QVERIFY(fails([&] { generatorParamsFromJson(nlohmann::json{{"selection_ratio", 0.2}, {"keep_top", 5}}, "p.json"); },
                      "selection_ratio: selections cannot be combined"));
        QVERIFY(fails([] { generatorPreset("chaos"); }, "unknown preset 'chaos' (known: default, stable"));
        QCOMPARE(q.prefill, int64_t(777));   // failed settings change nothing
        for (const std::string& n : generatorPresetNames()) {
            validate(generatorPreset(n));
            QVERIFY(!generatorPresetDescription(n).empty());
        }
    }

    void fastEnough()
    {
        // The long-context sample's shape: P = 8192, T = 2048, aggregated, thinned.
        GeneratorParams p;
        p.prefill = 8192;
        p.steps = 2048;
        p.keep_mass = 0.9;
        p.keep_top = 2048;
        size_t entries = 0, records = 0;
        QElapsedTimer timer;
        timer.start();
        generate(p, [&](const Record& r) {
            entries += r.index.size();
            ++records;
        });
        const qint64 ms = timer.elapsed();
        qInfo("P=8192 T=2048 aggregated, keep_mass 0.9 / keep_top 2048: %lld ms, %zu entries", ms, entries);
        QCOMPARE(records, size_t(2048));
        QVERIFY2(ms < 60000, "far too slow");
    }
};

QTEST_GUILESS_MAIN(TestGenerator)
#include "tst_generator.moc"
