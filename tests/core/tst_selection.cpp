// MODEL.md §2 by hand: every selection mode, ties, sinks and window, pages.
#include "test_support.hpp"

#include "core/engine/selection.hpp"
#include "core/model/error.hpp"

#include <QtTest>

#include <numeric>
#include <random>

using namespace kvtier;

namespace {
std::vector<uint32_t> pick(const std::vector<float>& scores, SelectionConfig c)
{
    std::vector<uint32_t> idx;
    std::vector<float> val;
    for (size_t i = 0; i < scores.size(); ++i)
        if (scores[i] > 0) {
            idx.push_back(static_cast<uint32_t>(i));
            val.push_back(scores[i]);
        }
    return selectTokens(idx, val, static_cast<int64_t>(scores.size()), RecordKind::Scores, c);
}
using V = std::vector<uint32_t>;
} // namespace

class TestSelection : public QObject {
    Q_OBJECT
private slots:
    void dense() { QCOMPARE(pick({0.1f, 0, 0.3f}, {SelectionMode::Dense, 0, 0, 0, 1}), (V{0, 1, 2})); }

    void topkTiesByLowerIndex()
    {
        QCOMPARE(pick({0.2f, 0.5f, 0.2f, 0.2f}, {SelectionMode::TopK, 2, 0, 0, 1}), (V{0, 1}));
        QCOMPARE(pick({0.2f, 0.5f, 0.2f, 0.2f}, {SelectionMode::TopK, 3, 0, 0, 1}), (V{0, 1, 2}));
    }

    void topkFillsZeroScoresInIndexOrder()
    {
        // Only two tokens have a score; K = 4 takes the two, then the lowest-index zeros.
        QCOMPARE(pick({0, 0.3f, 0, 0, 0.6f, 0}, {SelectionMode::TopK, 4, 0, 0, 1}), (V{0, 1, 2, 4}));
        // K larger than the context reads everything.
        QCOMPARE(pick({0, 0.3f, 0}, {SelectionMode::TopK, 10, 0, 0, 1}), (V{0, 1, 2}));
        QCOMPARE(pick({0, 0.3f, 0}, {SelectionMode::TopK, 0, 0, 0, 1}), V{});
    }

    void ratioUsesTheEpsilon()
    {
        // ceil(0.4 * 5 - 1e-9) = 2, not 3 (0.4 * 5 is 2.0000000000000004 in binary).
        QCOMPARE(pick({0.1f, 0.2f, 0.3f, 0.15f, 0.25f}, {SelectionMode::Ratio, 0.4, 0, 0, 1}), (V{2, 4}));
        // ceil(0.3 * 5) = 2; ceil(0.41 * 5) = 3.
        QCOMPARE(pick({0.1f, 0.2f, 0.3f, 0.15f, 0.25f}, {SelectionMode::Ratio, 0.3, 0, 0, 1}).size(), size_t(2));
        QCOMPARE(pick({0.1f, 0.2f, 0.3f, 0.15f, 0.25f}, {SelectionMode::Ratio, 0.41, 0, 0, 1}), (V{1, 2, 4}));
        std::vector<float> big(31300, 1.0f);
        QCOMPARE(pick(big, {SelectionMode::Ratio, 0.4, 0, 0, 1}).size(), size_t(12520));
    }

    void massReachesTheShare()
    {
        // Sorted: 0.4 (0), 0.3 (2), 0.2 (1), 0.1 (3). tau 0.7 -> 0.4 + 0.3 reaches 0.7.
        QCOMPARE(pick({0.4f, 0.2f, 0.3f, 0.1f}, {SelectionMode::Mass, 0.7, 0, 0, 1}), (V{0, 2}));
        QCOMPARE(pick({0.4f, 0.2f, 0.3f, 0.1f}, {SelectionMode::Mass, 0.71, 0, 0, 1}), (V{0, 1, 2}));
        QCOMPARE(pick({0.4f, 0.2f, 0.3f, 0.1f}, {SelectionMode::Mass, 1.0, 0, 0, 1}), (V{0, 1, 2, 3}));
    }

    void sinksAndWindowComeOnTop()
    {
        QCOMPARE(pick({0, 0, 0.9f, 0, 0, 0, 0}, {SelectionMode::TopK, 1, 2, 2, 1}), (V{0, 1, 2, 5, 6}));
        // Overlaps are counted once.
        QCOMPARE(pick({0.9f, 0, 0}, {SelectionMode::TopK, 1, 2, 2, 1}), (V{0, 1, 2}));
    }

    void selectionRecordsAreTakenAsGiven()
    {
        const std::vector<uint32_t> idx{1, 4};
        const std::vector<float> val{1, 1};
        QCOMPARE(selectTokens(idx, val, 6, RecordKind::Selection, {SelectionMode::TopK, 1, 1, 0, 1}), (V{0, 1, 4}));
    }

    // A selection trace is its own budget: dense reads it as given (plus sinks and window);
    // topk, ratio and mass rank scores it does not have and are refused, never ignored.
    void selectionTracesRefuseBudgetModes()
    {
        TraceMeta m;
        m.name = "given";
        m.prefill = 4;
        m.steps = 1;
        m.kind = RecordKind::Selection;
        Trace tr(m);
        tr.append(0, -1, std::vector<uint32_t>{1, 3}, std::vector<float>{1, 1});
        const Selection s = computeSelection(tr, {SelectionMode::Dense, 0, 0, 2, 1});
        QCOMPARE(std::vector<uint32_t>(s.tokens.row(0).begin(), s.tokens.row(0).end()), (V{1, 2, 3}));
        for (const SelectionConfig c : {SelectionConfig{SelectionMode::TopK, 1, 0, 0, 1},
                                        SelectionConfig{SelectionMode::Ratio, 0.5, 0, 0, 1},
                                        SelectionConfig{SelectionMode::Mass, 0.9, 0, 0, 1}}) {
            const QString err = test::errorOf([&] { computeSelection(tr, c); });
            QVERIFY2(err.startsWith("selection.mode: " + QString(toString(c.mode)) + " needs scores") &&
                         err.contains("trace 'given' holds selections") && err.contains("\"dense\"") &&
                         !err.contains('\n'),
                     qPrintable(err));
        }
    }

    void pagesCostAllTheirExistingTokens()
    {
        // P = 5, pages of 2: page 2 holds token 4 only at step 0 (n = 5), tokens 4-5 at step 1.
        Trace tr = test::denseTrace(5, {{0, 0.9f, 0, 0, 0.8f}, {0, 0, 0, 0.1f, 0.5f, 0.9f}});
        const Selection s = computeSelection(tr, {SelectionMode::TopK, 2, 0, 0, 2});
        QCOMPARE(s.pages.row(0).size(), size_t(2));
        QCOMPARE(s.pages.row(0)[0], 0u);
        QCOMPARE(s.pages.row(0)[1], 2u);
        QCOMPARE(s.read_tokens[0], int64_t(3));   // page 0: 2 tokens, page 2: 1 token
        QCOMPARE(s.read_tokens[1], int64_t(2));   // tokens 4, 5 share page 2
        QCOMPARE(s.layout.totalUnits(), int64_t(4));   // 7 tokens at the end -> 4 pages
        QCOMPARE(s.layout.unitsBefore(0), int64_t(3));
        QCOMPARE(s.layout.unitsBefore(1), int64_t(3));   // token 5 joins page 2
        QCOMPARE(s.layout.unitsBefore(2), int64_t(4));   // token 6 opens page 3
        // Unit scores: sum and max per page at each step.
        QCOMPARE(s.score_units.row(1).size(), size_t(2));
        QCOMPARE(s.score_sum[s.score_units.offset[1] + 1], 0.5f + 0.9f);
        QCOMPARE(s.score_max[s.score_units.offset[1] + 1], 0.9f);
    }

    void perLayerUnitsInterleaveLayers()
    {
        TraceMeta m;
        m.name = "pl";
        m.prefill = 3;
        m.steps = 1;
        m.layers = 2;
        m.layer_mode = LayerMode::PerLayer;
        Trace tr(m);
        tr.append(0, 0, std::vector<uint32_t>{2}, std::vector<float>{1});
        tr.append(0, 1, std::vector<uint32_t>{0}, std::vector<float>{1});
        const Selection s = computeSelection(tr, {SelectionMode::TopK, 1, 0, 0, 1});
        // unit = page * L + layer: layer 0 page 2 -> 4, layer 1 page 0 -> 1.
        QCOMPARE(s.step_units.row(0).size(), size_t(2));
        QCOMPARE(s.step_units.row(0)[0], 1u);
        QCOMPARE(s.step_units.row(0)[1], 4u);
    }

    // The fast paths against the definition: every token ranked densely (score descending,
    // ties by lower index), the budget taken, extras added, on many random records.
    void matchesTheDefinitionOnRandomRecords()
    {
        std::mt19937 rng(11);
        std::uniform_real_distribution<float> u(0, 1);
        for (int trial = 0; trial < 400; ++trial) {
            const int n = 1 + static_cast<int>(rng() % 60);
            std::vector<float> dense(static_cast<size_t>(n), 0);
            for (auto& x : dense)
                if (u(rng) < 0.4f) x = std::round(u(rng) * 8) / 8;   // many ties and zeros
            const int mode = static_cast<int>(rng() % 3) + 1;
            SelectionConfig c{static_cast<SelectionMode>(mode), 0, static_cast<int64_t>(rng() % 4),
                              static_cast<int64_t>(rng() % 4), 1};
            c.value = mode == 1 ? static_cast<double>(rng() % (n + 3)) : 0.05 + 0.95 * u(rng);
            std::vector<uint32_t> rank(static_cast<size_t>(n));
            std::iota(rank.begin(), rank.end(), 0u);
            std::stable_sort(rank.begin(), rank.end(), [&](uint32_t a, uint32_t b) { return dense[a] > dense[b]; });
            size_t k = 0;
            if (c.mode == SelectionMode::TopK) k = std::min<size_t>(static_cast<size_t>(c.value), static_cast<size_t>(n));
            if (c.mode == SelectionMode::Ratio) k = static_cast<size_t>(std::ceil(c.value * n - 1e-9));
            if (c.mode == SelectionMode::Mass) {
                double total = 0, acc = 0;
                for (float x : dense) total += x;
                const double target = c.value * total * (1 - 1e-12);
                while (target > 0 && acc < target) acc += dense[rank[k++]];
            }
            std::vector<uint32_t> expect(rank.begin(), rank.begin() + static_cast<long>(k));
            for (int64_t i = 0; i < std::min<int64_t>(c.sinks, n); ++i) expect.push_back(static_cast<uint32_t>(i));
            for (int64_t i = std::max<int64_t>(0, n - c.window); i < n; ++i) expect.push_back(static_cast<uint32_t>(i));
            std::sort(expect.begin(), expect.end());
            expect.erase(std::unique(expect.begin(), expect.end()), expect.end());
            QCOMPARE(pick(dense, c), expect);
        }
    }

    void badConfigsAreRefused_data()
    {
        QTest::addColumn<int>("mode");
        QTest::addColumn<double>("value");
        QTest::addColumn<int>("page");
        QTest::newRow("ratio 0") << int(SelectionMode::Ratio) << 0.0 << 1;
        QTest::newRow("ratio > 1") << int(SelectionMode::Ratio) << 1.5 << 1;
        QTest::newRow("mass nan") << int(SelectionMode::Mass) << std::nan("") << 1;
        QTest::newRow("topk fraction") << int(SelectionMode::TopK) << 2.5 << 1;
        QTest::newRow("page 0") << int(SelectionMode::Dense) << 0.0 << 0;
    }
    void badConfigsAreRefused()
    {
        QFETCH(int, mode);
        QFETCH(double, value);
        QFETCH(int, page);
        QVERIFY_THROWS_EXCEPTION(InputError, validate({static_cast<SelectionMode>(mode), value, 0, 0, page}));
    }
};

QTEST_GUILESS_MAIN(TestSelection)
#include "tst_selection.moc"
