// Relevance analysis by hand: token relevance over time, turnover, reuse distance, stays.
#include "test_support.hpp"

#include "core/engine/relevance.hpp"

#include <QtTest>

#include <cmath>

using namespace kvtier;

class TestRelevance : public QObject {
    Q_OBJECT

    // P = 3; top-1 selects token 0, 0, 1, 0, 0 over five steps.
    Trace trace() const
    {
        return test::denseTrace(3, {{0.9f, 0.1f, 0},
                                    {0.8f, 0.2f, 0, 0},
                                    {0.1f, 0.7f, 0.2f, 0, 0},
                                    {0.6f, 0.3f, 0.1f, 0, 0, 0},
                                    {0.5f, 0.4f, 0, 0, 0, 0, 0.1f}});
    }

private slots:
    void tokenRelevanceOverTime()
    {
        const Trace tr = trace();
        const auto r = tokenRelevance(tr, 1);
        QCOMPARE(r.size(), size_t(5));
        QCOMPARE(r[0], double(0.1f));
        QCOMPARE(r[2], double(0.7f));
        const auto late = tokenRelevance(tr, 4);   // token 4 exists from step 2 (n = 5)
        QVERIFY(std::isnan(late[0]) && std::isnan(late[1]));
        QCOMPARE(late[2], 0.0);
    }

    void turnoverReuseAndStays()
    {
        const Trace tr = trace();
        const Selection sel = computeSelection(tr, {SelectionMode::TopK, 1, 0, 0, 1});
        const auto picked = tokenSelected(sel, 0);
        QCOMPARE(picked, (std::vector<uint8_t>{1, 1, 0, 1, 1}));
        const RelevanceStats st = relevanceStats(sel, 8);
        // Turnover: step 1 same, step 2 new token, step 3 new again, step 4 same.
        QCOMPARE(st.turnover, (std::vector<double>{0, 0, 1, 1, 0}));
        QCOMPARE(st.mean_turnover, 0.5);
        // Token 0: reuse distances 1, 2, 1. Token 1: selected once.
        QCOMPARE(st.reuse_distance[1], int64_t(2));
        QCOMPARE(st.reuse_distance[2], int64_t(1));
        QCOMPARE(st.mean_reuse_distance, 4.0 / 3.0);
        // Stays: token 0 runs of 2 and 2, token 1 a run of 1.
        QCOMPARE(st.stay_length[2], int64_t(2));
        QCOMPARE(st.stay_length[1], int64_t(1));
        QCOMPARE(st.mean_stay_length, 5.0 / 3.0);
        QCOMPARE(st.selected, (std::vector<double>{1, 1, 1, 1, 1}));
    }
};

QTEST_GUILESS_MAIN(TestRelevance)
#include "tst_relevance.moc"
