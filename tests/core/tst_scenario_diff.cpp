// scenarioChanges: the keys that differ between two scenarios, in the --set form.
#include "test_support.hpp"

#include "core/config/scenario_diff.hpp"
#include "core/model/hardware.hpp"

#include <QtTest>

using namespace kvtier;

class TestScenarioDiff : public QObject {
    Q_OBJECT

    static Scenario base()
    {
        Scenario s;
        s.trace_db = "t.sqlite";
        s.trace_name = "a";
        s.model = {"m", 4, 1000, 4e5};
        s.hardware.tiers = {{"HBM", 1.0e6, 4.0e12, kNoLink, kNoLink, 0}, {"LPDDR5X", 1e9, 5.0e11, 4.5e11, 4.5e11, 0}};
        s.policies = {{"lru", {}}};
        return s;
    }

private slots:
    void sameScenarioHasNoChanges() { QVERIFY(scenarioChanges(base(), base()).empty()); }

    void changedValuesAreNamed()
    {
        Scenario b = base();
        b.batch = 8;
        b.hardware.tiers[0].capacity_bytes = 131e3;
        const std::vector<ScenarioChange> c = scenarioChanges(base(), b);
        QCOMPARE(c.size(), size_t(2));
        QCOMPARE(c[0].path, std::string("batch"));
        QVERIFY(c[0].numeric);
        QCOMPARE(c[0].before_number, 1.0);
        QCOMPARE(c[0].after_number, 8.0);
        QCOMPARE(c[1].path, std::string("hardware.tiers.0.capacity_bytes"));
        QCOMPARE(c[1].after_number, 131e3);
        QCOMPARE(c[1].before, std::string("1000000.0"));
    }

    void addedAndRemovedKeys()
    {
        Scenario b = base();
        b.hardware.tiers.push_back({"CXL", 1e10, 1e11, 6.4e10, 6.4e10, 0});
        const std::vector<ScenarioChange> c = scenarioChanges(base(), b);
        QVERIFY(!c.empty());
        for (const ScenarioChange& x : c) {
            QVERIFY2(x.path.rfind("hardware.tiers.2.", 0) == 0, x.path.c_str());
            QVERIFY(x.before.empty() && !x.after.empty());
        }
        const std::vector<ScenarioChange> back = scenarioChanges(b, base());
        QCOMPARE(back.size(), c.size());
        QVERIFY(back[0].after.empty());
    }
};

QTEST_GUILESS_MAIN(TestScenarioDiff)
#include "tst_scenario_diff.moc"
