// The policy kit (core/policies/policy_kit.hpp) against std containers: random operation
// sequences applied to both, compared after every operation.
#include "core/policies/id_queue.hpp"
#include "core/policies/ordered_picks.hpp"
#include "core/policies/recency_lists.hpp"
#include "core/policies/policy_kit.hpp"

#include <QtTest>

#include <cmath>
#include <deque>
#include <list>
#include <random>
#include <set>

using namespace kvtier;
using namespace kvtier::kit;

namespace {

uint32_t rnd(std::mt19937& g) { return static_cast<uint32_t>(g()); }

// The (key, id) pairs of a heap in `Before` order, as std::set keeps them.
template <class Before>
struct SetOrder {
    bool operator()(const KeyedNode& a, const KeyedNode& b) const { return Before{}(a, b); }
};

template <class Before>
void heapAgainstSet(uint32_t seed)
{
    std::mt19937 rng(seed);
    const uint32_t n = 1 + rnd(rng) % 200;
    IndexedHeap<Before> heap;
    heap.reset(n);
    std::set<KeyedNode, SetOrder<Before>> ref;
    std::vector<double> keyOf(n, 0);
    std::vector<uint8_t> in(n, 0);
    // Few distinct keys, so ties (broken by id) are frequent.
    auto randomKey = [&] { return static_cast<double>(rnd(rng) % 8) * 0.25; };
    for (int op = 0; op < 3000; ++op) {
        const uint32_t id = rnd(rng) % n;
        switch (rnd(rng) % 6) {
        case 0:
        case 1:   // push, or change the key
            if (in[id]) ref.erase({keyOf[id], id});
            keyOf[id] = randomKey();
            heap.pushOrSet(id, keyOf[id]);
            ref.insert({keyOf[id], id});
            in[id] = 1;
            break;
        case 2:   // erase
            heap.eraseIfPresent(id);
            if (in[id]) ref.erase({keyOf[id], id});
            in[id] = 0;
            break;
        case 3:   // pop the top
            if (!ref.empty()) {
                const uint32_t top = heap.pop();
                QCOMPARE(top, ref.begin()->id);
                in[top] = 0;
                ref.erase(ref.begin());
            }
            break;
        case 4:   // rescale by a power of two: order unchanged
            if (rnd(rng) % 50 == 0) {
                heap.scaleKeys(0.5);
                std::set<KeyedNode, SetOrder<Before>> scaled;
                for (KeyedNode nd : ref) {
                    keyOf[nd.id] = nd.key * 0.5;
                    scaled.insert({keyOf[nd.id], nd.id});
                }
                ref.swap(scaled);
            }
            break;
        default:
            break;
        }
        QCOMPARE(heap.size(), ref.size());
        QCOMPARE(heap.contains(id), in[id] != 0);
        if (!ref.empty()) {
            QCOMPARE(heap.top(), ref.begin()->id);
            QCOMPARE(heap.topKey(), ref.begin()->key);
        }
    }
}

// Random operations on three of `count` lists (the first, a middle and the last), applied to
// the lists and to std::lists, compared after every operation.
template <class Lists>
void listsAgainstStdList(uint32_t count)
{
    const std::vector<uint32_t> used = {0, count / 2, count - 1};
    for (uint32_t seed = 1; seed <= 20; ++seed) {
        std::mt19937 rng(seed);
        const uint32_t n = 1 + rnd(rng) % 60;
        Lists lists;
        lists.reset(n, count);
        std::vector<std::list<uint32_t>> ref(count);   // front = head (most recent)
        for (int op = 0; op < 2000; ++op) {
            const uint32_t id = rnd(rng) % n;
            const uint32_t l = used[rnd(rng) % 3];
            const auto key = static_cast<decltype(lists.listOf(0))>(l);
            for (auto& r : ref) r.remove(id);
            switch (rnd(rng) % 4) {
            case 0: lists.moveToHead(key, id); ref[l].push_front(id); break;
            case 1: lists.unlink(id); lists.pushTail(key, id); ref[l].push_back(id); break;
            default: lists.unlink(id); break;
            }
            for (uint32_t k : used) {
                const auto kk = static_cast<decltype(lists.listOf(0))>(k);
                QCOMPARE(lists.size(kk), ref[k].size());
                std::vector<uint32_t> fwd, back;
                for (uint32_t x = lists.head(kk); x != Lists::kNil; x = lists.next(x)) fwd.push_back(x);
                for (uint32_t x = lists.tail(kk); x != Lists::kNil; x = lists.prev(x)) back.push_back(x);
                QCOMPARE(fwd, std::vector<uint32_t>(ref[k].begin(), ref[k].end()));
                QCOMPARE(back, std::vector<uint32_t>(ref[k].rbegin(), ref[k].rend()));
                for (uint32_t x : ref[k]) QCOMPARE(uint32_t(lists.listOf(x)), k);
            }
            bool anywhere = false;
            for (auto& r : ref) anywhere = anywhere || std::find(r.begin(), r.end(), id) != r.end();
            QCOMPARE(lists.contains(id), anywhere);
        }
    }
}

} // namespace

class TestPolicyKit : public QObject {
    Q_OBJECT

private slots:
    void heapMatchesAnOrderedSet()
    {
        for (uint32_t seed = 1; seed <= 20; ++seed) {
            heapAgainstSet<LowKeyLowId>(seed);
            heapAgainstSet<LowKeyHighId>(seed);
            heapAgainstSet<HighKeyLowId>(seed);
            heapAgainstSet<HighKeyHighId>(seed);
        }
    }

    // Stored keys that lag behind growing true keys in a lowest-first heap: topLazy() still
    // returns the lowest (true key, id).
    void lazyTopFindsTheTrueLowest()
    {
        for (uint32_t seed = 1; seed <= 20; ++seed) {
            std::mt19937 rng(seed);
            const uint32_t n = 1 + rnd(rng) % 100;
            std::vector<double> actual(n);
            IndexedHeap<LowKeyLowId> heap;
            heap.reset(n);
            for (uint32_t id = 0; id < n; ++id) {
                actual[id] = rnd(rng) % 10;
                heap.push(id, actual[id]);
            }
            for (int op = 0; op < 1000; ++op) {
                actual[rnd(rng) % n] += rnd(rng) % 3;   // grows: the heap is not told
                uint32_t want = 0;
                for (uint32_t id = 1; id < n; ++id)
                    if (actual[id] < actual[want]) want = id;
                QCOMPARE(topLazy(heap, [&](uint32_t id) { return actual[id]; }), want);
            }
        }
    }

    // IdLists, and the wide form lru-demand uses with one list per sequence (past the 255
    // lists a uint8_t list id numbers).
    // The ring queue: a hand-checked order across wrap-around and growth, then random
    // pushes and pops against std::deque.
    void queueKeepsFirstInFirstOut()
    {
        kit::IdQueue q;
        QVERIFY(q.empty());
        QVERIFY_THROWS_EXCEPTION(std::logic_error, q.pop());
        for (uint32_t i = 0; i < 10; ++i) q.push(i);          // ring of 16
        for (uint32_t i = 0; i < 8; ++i) QCOMPARE(q.pop(), i);   // head at 8
        for (uint32_t i = 10; i < 24; ++i) q.push(i);         // 16 held: wraps to the front
        QCOMPARE(q.size(), size_t{16});
        q.push(24);                                            // grows to 32 from a wrapped ring
        QCOMPARE(q.size(), size_t{17});
        QCOMPARE(q.oldest(), 8u);
        QCOMPARE(q.at(16), 24u);
        for (uint32_t i = 8; i <= 24; ++i) QCOMPARE(q.pop(), i);
        QVERIFY(q.empty());

        std::mt19937 rng(7);
        std::deque<uint32_t> ref;
        for (int k = 0; k < 200000; ++k) {
            if (ref.empty() || rng() % 3 != 0) {
                const auto id = static_cast<uint32_t>(rng());
                q.push(id);
                ref.push_back(id);
            } else {
                QCOMPARE(q.pop(), ref.front());
                ref.pop_front();
            }
            QCOMPARE(q.size(), ref.size());
        }
        for (size_t i = 0; i < ref.size(); ++i) QCOMPARE(q.at(i), ref[i]);
    }

    // OrderedPicks yields exactly a full sort's order (ties by id), however far the takes
    // go and whatever the first chunk; peek never moves the order on.
    void picksFollowTheFullSort()
    {
        std::mt19937 rng(11);
        for (int round = 0; round < 300; ++round) {
            const size_t n = rng() % 3000;
            std::vector<kit::KeyedNode> all;
            kit::OrderedPicks<kit::LowKeyLowId> low;
            kit::OrderedPicks<kit::HighKeyHighId> high;
            const size_t chunk = rng() % 500;
            low.clear(chunk);
            high.clear(chunk);
            for (size_t i = 0; i < n; ++i) {
                const double key = static_cast<double>(rng() % 50);   // many ties
                const auto id = static_cast<uint32_t>(i * 7919 % 100003);
                all.push_back({key, id});
                low.add(key, id);
                high.add(key, id);
            }
            auto asc = all, desc = all;
            std::sort(asc.begin(), asc.end(), kit::LowKeyLowId{});
            std::sort(desc.begin(), desc.end(), kit::HighKeyHighId{});
            const size_t takes = n == 0 ? 0 : rng() % (n + 1);
            for (size_t i = 0; i < takes; ++i) {
                QCOMPARE(low.peek().key, asc[i].key);
                QCOMPARE(low.take(), asc[i].id);
                QCOMPARE(high.take(), desc[i].id);
            }
            QCOMPARE(low.taken(), takes);
            QCOMPARE(low.done(), takes == n);
        }
        kit::OrderedPicks<kit::LowKeyLowId> none;
        none.clear();
        QVERIFY(none.done());
        QVERIFY_THROWS_EXCEPTION(std::logic_error, none.take());
    }

    // RecencyLists against the doubly linked lists it replaced in lruStep: random groups of
    // pushes, withdrawals anywhere and pops from the oldest end, on three lists, with the
    // compaction run at random moments; the same ids leave in the same order.
    void recencyListsMatchLinkedLists()
    {
        std::mt19937 rng(5);
        const uint32_t n = 4000;
        kit::RecencyLists<uint8_t> groups;
        kit::IdLists linked;
        groups.reset(n, 3);
        linked.reset(n, 3);
        std::vector<uint8_t> listOf(n, kit::IdLists::kNone);
        for (int round = 0; round < 3000; ++round) {
            const auto l = static_cast<uint8_t>(rng() % 3);
            groups.beginGroup(l);
            const auto ops = static_cast<uint32_t>(rng() % 40);
            for (uint32_t k = 0; k < ops; ++k) {
                const auto u = static_cast<uint32_t>(rng() % n);
                const auto what = static_cast<uint32_t>(rng() % 4);
                if (what < 2 && listOf[u] == kit::IdLists::kNone) {   // push as newest
                    groups.pushNewest(l, u);
                    linked.pushHead(l, u);
                    listOf[u] = l;
                } else if (what == 2 && listOf[u] != kit::IdLists::kNone) {   // withdraw
                    groups.withdraw(listOf[u], u);
                    linked.unlink(u);
                    listOf[u] = kit::IdLists::kNone;
                } else if (what == 3 && linked.size(l) > 0) {   // pop the oldest
                    const uint32_t v = linked.tail(l);
                    linked.unlink(v);
                    QCOMPARE(groups.popOldest(l), v);
                    listOf[v] = kit::IdLists::kNone;
                }
                QCOMPARE(groups.size(l), linked.size(l));
                QCOMPARE(groups.contains(u), listOf[u] != kit::IdLists::kNone);
            }
            if (rng() % 5 == 0) groups.tidy(l);
        }
        for (uint8_t l = 0; l < 3; ++l) {   // drain: the whole remaining order
            while (linked.size(l) > 0) {
                const uint32_t v = linked.tail(l);
                linked.unlink(v);
                QCOMPARE(groups.popOldest(l), v);
            }
            QCOMPARE(groups.size(l), size_t{0});
            QVERIFY_THROWS_EXCEPTION(std::logic_error, groups.popOldest(l));
        }
    }

    // fill() with a sampled pivot: the same order as a full sort whether the takes stay
    // before the pivot or pass it (then the rest is gathered), for both directions.
    void picksFromAPivotFollowTheFullSort()
    {
        std::mt19937 rng(13);
        for (int round = 0; round < 40; ++round) {
            const size_t n = 20000 + rng() % 30000;   // above the size where a pivot is used
            std::vector<uint32_t> ids(n);
            std::vector<double> key(200000);
            for (size_t i = 0; i < n; ++i) ids[i] = static_cast<uint32_t>(i * 3 + rng() % 3);
            for (double& k : key) k = static_cast<double>(rng() % 5000);   // ties
            const auto keyOf = [&](uint32_t id) { return key[id]; };
            std::vector<kit::KeyedNode> asc, desc;
            for (uint32_t id : ids) asc.push_back({key[id], id});
            desc = asc;
            std::sort(asc.begin(), asc.end(), kit::LowKeyLowId{});
            std::sort(desc.begin(), desc.end(), kit::HighKeyHighId{});
            const size_t expected = 1 + rng() % 600;
            // Takes: well within the pivot's share, or far past it (round 0 takes them all).
            const size_t takes = round == 0 ? n : (round % 2 ? expected : std::min(n, 40 * expected));
            kit::OrderedPicks<kit::LowKeyLowId> low;
            kit::OrderedPicks<kit::HighKeyHighId> high;
            low.fill(ids, keyOf, expected);
            high.fill(ids, keyOf, expected);
            if (round % 2) QVERIFY2(low.size() < n / 2, "the pivot should leave most nodes out");
            for (size_t i = 0; i < takes; ++i) {
                QVERIFY(!low.done());
                QCOMPARE(low.peek().key, asc[i].key);
                QCOMPARE(low.take(), asc[i].id);
                QCOMPARE(high.take(), desc[i].id);
            }
            QCOMPARE(low.taken(), takes);
            QCOMPARE(low.done(), takes == n);
        }
    }

    void listsMatchStdList()
    {
        listsAgainstStdList<IdLists>(3);
        listsAgainstStdList<BasicIdLists<uint32_t>>(300);
    }

    void bitsetMatchesVectorBool()
    {
        for (uint32_t seed = 1; seed <= 20; ++seed) {
            std::mt19937 rng(seed);
            // Sizes around the word and summary-level boundaries.
            const uint32_t n = seed % 4 == 0 ? 64 * 64 + 3 : 1 + rnd(rng) % 300;
            IdBitset bits;
            bits.reset(n);
            std::vector<bool> ref(n, false);
            for (int op = 0; op < 3000; ++op) {
                const uint32_t id = rnd(rng) % n;
                const bool on = rnd(rng) % 3 != 0;
                bits.set(id, on);
                ref[id] = on;
                QCOMPARE(bits.test(id), on);
                uint32_t first = IdBitset::kNone;
                for (uint32_t i = 0; i < n; ++i)
                    if (ref[i]) {
                        first = i;
                        break;
                    }
                QCOMPARE(bits.first(), first);
                const size_t from = rnd(rng) % (n + 70);
                uint32_t next = IdBitset::kNone;
                for (size_t i = from; i < n; ++i)
                    if (ref[i]) {
                        next = static_cast<uint32_t>(i);
                        break;
                    }
                QCOMPARE(bits.next(from), next);
            }
        }
    }

    // A resident set mirrors a std::set and writes each move into the plan.
    void residentSetMatchesStdSet()
    {
        std::mt19937 rng(5);
        ResidentSet res;
        res.reset(50);
        std::set<uint32_t> ref;
        StepPlan plan;
        for (int op = 0; op < 2000; ++op) {
            const uint32_t u = rnd(rng) % 50;
            plan.clear();
            if (ref.count(u)) {
                res.evict(u, plan);
                ref.erase(u);
                QCOMPARE(plan.evict, std::vector<uint32_t>{u});
            } else if (rnd(rng) % 2) {
                res.promote(u, plan);
                ref.insert(u);
                QCOMPARE(plan.promote, std::vector<uint32_t>{u});
            } else {
                res.admit(u, plan);
                ref.insert(u);
                QCOMPARE(plan.admit_new, std::vector<uint32_t>{u});
            }
            QCOMPARE(res.count(), static_cast<int64_t>(ref.size()));
            for (uint32_t v = 0; v < 50; ++v) QCOMPARE(res.contains(v), ref.count(v) == 1);
        }
        const std::vector<uint8_t> flags(50, 0);
        QVERIFY_THROWS_EXCEPTION(std::logic_error, res.check(FastTierView(flags, res.count() + 1, 50, {}, 50), "x"));
        res.check(FastTierView(flags, res.count(), 50, {}, 50), "x");
    }

    // Values stored through the scale, read back as stored / weight, match the decay
    // computed directly; renormalisations are exact powers of two and keep every order.
    void decayMatchesDirectComputation_data()
    {
        QTest::addColumn<double>("decay");
        QTest::addColumn<int>("rule");
        for (int rule : {int(Renormalise::ToHalf), int(Renormalise::By2p500)}) {
            const char* r = rule == int(Renormalise::ToHalf) ? "to-half" : "by-2^-500";
            QTest::addRow("0.95 %s", r) << 0.95 << rule;
            QTest::addRow("0.5 %s", r) << 0.5 << rule;
            QTest::addRow("0.01 renormalises %s", r) << 0.01 << rule;
            QTest::addRow("1 plain sum %s", r) << 1.0 << rule;
        }
    }
    void decayMatchesDirectComputation()
    {
        QFETCH(double, decay);
        QFETCH(int, rule);
        const auto how = static_cast<Renormalise>(rule);
        std::mt19937 rng(9);
        const size_t n = 20;
        DecayScale scale(decay, how);
        std::vector<double> stored(n, 0), direct(n, 0);
        int renormalisations = 0;
        for (int t = 0; t < 400; ++t) {
            for (double& d : direct) d *= decay;
            for (size_t u = 0; u < n; ++u)
                if (rnd(rng) % 3 == 0) {
                    const double x = 1 + rnd(rng) % 4;
                    stored[u] += x * scale.weight();
                    direct[u] += x;
                }
            scale.advance();
            const double before = scale.weight();
            const double k = scale.renormalise();
            if (k != 1.0) {
                ++renormalisations;
                if (how == Renormalise::ToHalf) {
                    QVERIFY(before > 1e120);
                    QVERIFY(scale.weight() >= 0.5 && scale.weight() < 1);
                } else {
                    QVERIFY(before > std::ldexp(1.0, 500));
                    QCOMPARE(k, std::ldexp(1.0, -500));
                }
                int e = 0;
                QCOMPARE(std::frexp(k, &e), 0.5);   // a power of two
                QCOMPARE(scale.weight(), before * k);
                for (double& s : stored) s *= k;
            }
            // After this step's advance, stored / weight = direct * decay.
            for (size_t u = 0; u < n; ++u) {
                const double back = stored[u] / scale.weight() / decay;
                if (direct[u] > 1e-200) QVERIFY2(std::abs(back - direct[u]) <= 1e-9 * direct[u], qPrintable(QString::number(t)));
            }
            for (size_t a = 0; a < n; ++a)
                for (size_t b = 0; b < n; ++b)
                    if (direct[a] > 1e-200 && direct[b] > 1e-200 && std::abs(direct[a] - direct[b]) > 1e-9 * direct[a])
                        QCOMPARE(stored[a] < stored[b], direct[a] < direct[b]);
        }
        if (decay == 0.01) QVERIFY(renormalisations >= 3);
        if (decay == 1.0) QCOMPARE(scale.weight(), 1.0);
        QCOMPARE(scale.nextWeight(), scale.weight() / decay);
    }
};

QTEST_GUILESS_MAIN(TestPolicyKit)
#include "tst_policy_kit.moc"
