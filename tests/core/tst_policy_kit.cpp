// The policy kit (core/policies/policy_kit.hpp and the headers beside it: id_queue,
// ordered_picks, kit_radix_sort, recency_lists, kit_ring_lists, kit_top_slice) against std
// containers and sorts: random operation sequences applied to both, compared after every
// operation; and small cases checked by hand.
#include "core/model/fast_divider.hpp"
#include "core/policies/id_queue.hpp"
#include "core/policies/kit_ring_lists.hpp"
#include "core/policies/kit_radix_sort.hpp"
#include "core/policies/kit_top_slice.hpp"
#include "core/policies/ordered_picks.hpp"
#include "core/policies/recency_lists.hpp"
#include "core/policies/policy_kit.hpp"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
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


// RingLists' list l, tail first.
std::vector<uint32_t> ringList(const RingLists& lists, uint8_t l)
{
    std::vector<uint32_t> out;
    lists.forEachFromTail(l, [&out](uint32_t x) { out.push_back(x); });
    return out;
}

// Random operations on RingLists with two rings (lists 0, 1 young; 2, 3 old) and on
// std::deques (front = tail), compared after every operation.
void ringListsAgainstDeques(uint32_t seed)
{
    std::mt19937 rng(seed);
    const uint32_t n = 1 + rnd(rng) % 300;
    RingLists lists;
    lists.reset(n, 2);
    std::vector<std::deque<uint32_t>> ref(4);
    auto where = [&](uint32_t id) -> int {
        for (int l = 0; l < 4; ++l)
            if (std::find(ref[l].begin(), ref[l].end(), id) != ref[l].end()) return l;
        return -1;
    };
    auto erase = [&](uint32_t id) {
        const int l = where(id);
        if (l >= 0) ref[l].erase(std::find(ref[l].begin(), ref[l].end(), id));
    };
    for (int op = 0; op < 4000; ++op) {
        const uint32_t id = rnd(rng) % n;
        const auto q = static_cast<uint8_t>(rnd(rng) % 2);
        switch (rnd(rng) % 6) {
        case 0:
        case 1:   // to the head of young list q, from wherever it was
            erase(id);
            lists.unlink(id);
            lists.pushHead(q, id);
            ref[q].push_back(id);
            break;
        case 2: {   // young tail to old head
            const uint32_t want = ref[q].empty() ? RingLists::kNil : ref[q].front();
            QCOMPARE(lists.demote(q), want);
            if (want != RingLists::kNil) {
                ref[q].pop_front();
                ref[q + 2].push_back(want);
            }
            break;
        }
        case 3: {   // drop a tail: by unlink(tail(l)), or popOldTail for an old list
            const auto l = static_cast<uint8_t>(rnd(rng) % 4);
            const uint32_t want = ref[l].empty() ? RingLists::kNil : ref[l].front();
            if (l >= 2 && rnd(rng) % 2 == 0) {
                QCOMPARE(lists.popOldTail(static_cast<uint8_t>(l - 2)), want);
            } else {
                QCOMPARE(lists.tail(l), want);
                if (want != RingLists::kNil) lists.unlink(want);
            }
            if (want != RingLists::kNil) ref[l].pop_front();
            break;
        }
        default:   // out of any list, from anywhere
            erase(id);
            lists.unlink(id);
            break;
        }
        for (uint8_t l = 0; l < 4; ++l) {
            QCOMPARE(lists.size(l), ref[l].size());
            QCOMPARE(ringList(lists, l), std::vector<uint32_t>(ref[l].begin(), ref[l].end()));
        }
        const int l = where(id);
        QCOMPARE(int(lists.listOf(id)), l < 0 ? int(RingLists::kNone) : l);
        QCOMPARE(lists.contains(id), l >= 0);
    }
}

// Random operations on RingLists with one ring (list 0 young, 1 old) including rotate() and
// the owner's marks, and on std::deques (front = tail) with a std::vector<bool>, compared
// after every operation. Ids are few, so the ring wraps, fills with holes and is compacted.
void ringListsRotateAgainstDeques(uint32_t seed)
{
    std::mt19937 rng(seed);
    const uint32_t n = 4 + rnd(rng) % 120;
    RingLists lists;
    lists.reset(n, 1);
    std::vector<std::deque<uint32_t>> ref(2);
    std::vector<bool> marks(n, false);
    auto where = [&](uint32_t id) -> int {
        for (int l = 0; l < 2; ++l)
            if (std::find(ref[l].begin(), ref[l].end(), id) != ref[l].end()) return l;
        return -1;
    };
    int rotations = 0;
    for (int op = 0; op < 4000; ++op) {
        const uint32_t id = rnd(rng) % n;
        switch (rnd(rng) % 5) {
        case 0:   // to the head of the young list, from wherever it was
            if (where(id) >= 0) ref[where(id)].erase(std::find(ref[where(id)].begin(), ref[where(id)].end(), id));
            lists.unlink(id);
            lists.pushHead(0, id);
            ref[0].push_back(id);
            break;
        case 1: {   // young tail to old head
            const uint32_t want = ref[0].empty() ? RingLists::kNil : ref[0].front();
            QCOMPARE(lists.demote(0), want);
            if (want != RingLists::kNil) {
                ref[0].pop_front();
                ref[1].push_back(want);
            }
            break;
        }
        case 2: {   // rotate: old tail out, young tail to old head, id to young head
            if (ref[0].empty() || ref[1].empty() || where(id) >= 0) break;
            const uint32_t demoted = ref[0].front();
            ref[1].pop_front();
            ref[0].pop_front();
            ref[1].push_back(demoted);
            ref[0].push_back(id);
            QCOMPARE(lists.rotate(0, id), demoted);
            ++rotations;
            break;
        }
        case 3: {   // a mark set or cleared, in or out of a list
            const bool m = rnd(rng) % 2 == 0;
            lists.setMark(id, m);
            marks[id] = m;
            break;
        }
        default:   // out of any list, from anywhere
            if (where(id) >= 0) ref[where(id)].erase(std::find(ref[where(id)].begin(), ref[where(id)].end(), id));
            lists.unlink(id);
            break;
        }
        for (uint8_t l = 0; l < 2; ++l) {
            QCOMPARE(lists.size(l), ref[l].size());
            QCOMPARE(ringList(lists, l), std::vector<uint32_t>(ref[l].begin(), ref[l].end()));
        }
        const int l = where(id);
        QCOMPARE(int(lists.listOf(id)), l < 0 ? int(RingLists::kNone) : l);
        QCOMPARE(lists.mark(id), bool(marks[id]));
        QCOMPARE(int(RingLists::listOfCode(lists.code(id))), int(lists.listOf(id)));
        QCOMPARE(RingLists::markOfCode(lists.code(id)), bool(marks[id]));
    }
    QVERIFY(rotations > 100);
}

// Random operations on a TopSlice (highest key first) over a set whose keys only rise, and on
// a std::set; the slice's top, refilled as its owner would, is the set's top every time.
void topSliceAgainstSet(uint32_t seed)
{
    std::mt19937 rng(seed);
    const uint32_t n = 1 + rnd(rng) % 400;
    const size_t size = 1 + rnd(rng) % 20;
    TopSlice<HighKeyLowId> slice;
    slice.reset(n);
    std::set<KeyedNode, SetOrder<HighKeyLowId>> ref;
    std::vector<double> key(n, 0);
    std::vector<uint8_t> in(n, 0);
    int refills = 0, trims = 0;
    for (int op = 0; op < 3000; ++op) {
        const uint32_t id = rnd(rng) % n;
        switch (rnd(rng) % 8) {
        case 0:
        case 1:
        case 2:   // joins, or its key rises (small steps: ties are frequent)
            if (in[id]) ref.erase({key[id], id});
            key[id] += static_cast<double>(rnd(rng) % 3);
            ref.insert({key[id], id});
            in[id] = 1;
            slice.raise(id, key[id]);
            break;
        case 3:   // leaves
            if (in[id]) ref.erase({key[id], id});
            in[id] = 0;
            slice.leave(id);
            break;
        case 4:   // the top is taken away
            if (!ref.empty()) {
                if (!slice.complete() || slice.empty()) {
                    ++refills;
                    slice.refill(size, [&](auto&& add) {
                        for (uint32_t u = 0; u < n; ++u)
                            if (in[u]) add(u, key[u]);
                    });
                }
                QCOMPARE(slice.top(), ref.begin()->id);
                QCOMPARE(slice.topKey(), ref.begin()->key);
                in[slice.top()] = 0;
                slice.leave(slice.top());
                ref.erase(ref.begin());
            }
            break;
        case 5:
            if (slice.size() > 2 * size) {
                ++trims;
                slice.trim(size);
                QCOMPARE(slice.size(), size);
            }
            break;
        case 6:
            if (rnd(rng) % 50 == 0) slice.invalidate();
            break;
        default:
            break;
        }
        if (!ref.empty() && slice.complete() && !slice.empty()) QCOMPARE(slice.top(), ref.begin()->id);
        if (!slice.complete()) QVERIFY(slice.empty());
    }
    QVERIFY(refills > 0);
    if (n > 100 && size < 10) QVERIFY(trims > 0);
}


// A TopSlice (lowest key first) whose members' keys rise unannounced, as arkvale's residents'
// do, and sometimes fall (announced by raise()): topLazy, with the owner's refills and trims,
// finds the lowest (true key, id) of the set every time, checked against a scan.
void lazySliceFindsTheTrueLowest(uint32_t seed)
{
    std::mt19937 rng(seed);
    const uint32_t n = 1 + rnd(rng) % 300;
    const size_t size = 1 + rnd(rng) % 16;
    TopSlice<LowKeyLowId> slice;
    slice.reset(n);
    std::vector<double> key(n, 0);
    std::vector<uint8_t> in(n, 0);
    const auto keyOf = [&](uint32_t id) { return key[id]; };
    int lagging = 0;   // times the top's key lagged (the case under test)
    for (int op = 0; op < 3000; ++op) {
        const uint32_t id = rnd(rng) % n;
        switch (rnd(rng) % 8) {
        case 0:   // joins
            if (!in[id]) {
                in[id] = 1;
                key[id] = static_cast<double>(rnd(rng) % 8);
                slice.raise(id, key[id]);
            }
            break;
        case 1:
        case 2:
        case 3:   // rises, unannounced
            key[id] += static_cast<double>(rnd(rng) % 4);
            break;
        case 4:   // falls, announced
            if (in[id] && key[id] >= 1) slice.raise(id, key[id] -= 1);
            break;
        case 5:
            if (slice.complete() && slice.size() > 2 * size) slice.trim(size);
            break;
        default: {   // the lowest, taken away half of the time
            uint32_t want = TopSlice<LowKeyLowId>::kNone;
            for (uint32_t u = 0; u < n; ++u)
                if (in[u] && (want == TopSlice<LowKeyLowId>::kNone || LowKeyLowId{}({key[u], u}, {key[want], want})))
                    want = u;
            if (want == TopSlice<LowKeyLowId>::kNone) break;
            if (slice.complete() && !slice.empty() && slice.topKey() != key[slice.top()]) ++lagging;
            uint32_t got = slice.complete() ? slice.topLazy(keyOf) : TopSlice<LowKeyLowId>::kNone;
            if (got == TopSlice<LowKeyLowId>::kNone) {
                slice.refill(size, [&](auto&& add) {
                    for (uint32_t u = 0; u < n; ++u)
                        if (in[u]) add(u, key[u]);
                });
                got = slice.topLazy(keyOf);
            }
            QCOMPARE(got, want);
            QCOMPARE(slice.topKey(), key[want]);
            if (rnd(rng) % 2) {
                slice.leave(got);
                in[got] = 0;
            }
            break;
        }
        }
    }
    if (n > 50) QVERIFY(lagging > 0);
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
    // go, with the nodes added out of id order; peek never moves the order on.
    void picksFollowTheFullSort()
    {
        std::mt19937 rng(11);
        for (int round = 0; round < 300; ++round) {
            const size_t n = rng() % 3000;
            std::vector<kit::KeyedNode> all;
            kit::OrderedPicks<kit::LowKeyLowId> low;
            kit::OrderedPicks<kit::HighKeyHighId> high;
            low.clear();
            high.clear();
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

    // The radix sort behind OrderedPicks puts nodes in each of the four orders exactly as a
    // comparison sort does: by hand on five nodes (-0.0 and +0.0 are equal keys, so ids
    // decide), then against std::sort on random nodes with negative, zero, subnormal,
    // infinite and tied keys, given in ascending id order or not.
    void radixSortMatchesTheComparisonSort()
    {
        const std::vector<kit::KeyedNode> five{{1.0, 5}, {-0.0, 3}, {0.0, 1}, {-2.0, 4}, {1.0, 2}};
        const auto order = [&five]<class Before>(Before) {
            std::vector<kit::KeyedNode> v = five, buffer;
            kit::radixSortNodes<Before>(v, buffer, false);
            std::vector<uint32_t> ids;
            for (const kit::KeyedNode& nd : v) ids.push_back(nd.id);
            return ids;
        };
        QCOMPARE(order(kit::LowKeyLowId{}), (std::vector<uint32_t>{4, 1, 3, 2, 5}));
        QCOMPARE(order(kit::HighKeyHighId{}), (std::vector<uint32_t>{5, 2, 3, 1, 4}));
        QCOMPARE(order(kit::HighKeyLowId{}), (std::vector<uint32_t>{2, 5, 1, 3, 4}));
        QCOMPARE(order(kit::LowKeyHighId{}), (std::vector<uint32_t>{4, 3, 1, 5, 2}));

        std::mt19937 rng(23);
        const std::vector<double> special{0.0, -0.0, 1e-310, -1e-310, 0x1p-1074, std::numeric_limits<double>::infinity(),
                                          -std::numeric_limits<double>::infinity(), 1e300, -1e300, 0.5, 0.75};
        const auto check = []<class Before>(Before, const std::vector<kit::KeyedNode>& nodes, bool ascending) {
            std::vector<kit::KeyedNode> v = nodes, ref = nodes, buffer;
            kit::radixSortNodes<Before>(v, buffer, ascending);
            std::sort(ref.begin(), ref.end(), Before{});
            if (v.size() != ref.size()) return false;
            for (size_t i = 0; i < v.size(); ++i)
                if (v[i].id != ref[i].id || !(v[i].key == ref[i].key)) return false;
            return true;
        };
        for (int round = 0; round < 200; ++round) {
            const size_t n = rng() % 2000;
            std::vector<kit::KeyedNode> nodes;
            for (size_t i = 0; i < n; ++i) {
                double key = 0;
                switch (rng() % 4) {
                case 0: key = special[rng() % special.size()]; break;
                case 1: key = static_cast<double>(rng() % 20) - 10.0; break;   // ties
                case 2: key = std::ldexp(static_cast<double>(rng()), static_cast<int>(rng() % 200) - 100); break;
                default: key = -std::ldexp(static_cast<double>(rng()), -static_cast<int>(rng() % 1100)); break;
                }
                nodes.push_back({key, static_cast<uint32_t>(i * 5 + rng() % 5)});   // ascending ids
            }
            QVERIFY(check(kit::LowKeyLowId{}, nodes, true));
            QVERIFY(check(kit::LowKeyHighId{}, nodes, true));
            QVERIFY(check(kit::HighKeyLowId{}, nodes, true));
            QVERIFY(check(kit::HighKeyHighId{}, nodes, true));
            std::shuffle(nodes.begin(), nodes.end(), rng);
            for (kit::KeyedNode& nd : nodes) nd.id ^= static_cast<uint32_t>(round) << 24;   // high id bytes differ too
            QVERIFY(check(kit::LowKeyLowId{}, nodes, false));
            QVERIFY(check(kit::HighKeyHighId{}, nodes, false));
        }
    }

    // radixSortIds sorts as std::sort does: by hand on ids whose bytes differ in one, two
    // or all four places, then on random lists of ids below 2^20 (three bytes, the top
    // one shared) and of any size.
    void radixSortIdsMatchesStdSort()
    {
        std::vector<uint32_t> buffer;
        std::vector<uint32_t> v{7, 3, 5, 0, 6};
        kit::radixSortIds(v, buffer);
        QCOMPARE(v, (std::vector<uint32_t>{0, 3, 5, 6, 7}));
        v = {0x200, 0x1ff, 0x100, 0x2};
        kit::radixSortIds(v, buffer);
        QCOMPARE(v, (std::vector<uint32_t>{0x2, 0x100, 0x1ff, 0x200}));
        v = {0xffffffffu, 0x01000000u, 0x00ffffffu, 0x80000001u, 0};
        kit::radixSortIds(v, buffer);
        QCOMPARE(v, (std::vector<uint32_t>{0, 0x00ffffffu, 0x01000000u, 0x80000001u, 0xffffffffu}));
        std::mt19937 rng(31);
        for (int round = 0; round < 100; ++round) {
            const size_t n = rng() % 5000;
            const uint32_t limit = round % 2 ? (1u << 20) : UINT32_MAX;
            v.clear();
            for (size_t i = 0; i < n; ++i) v.push_back(static_cast<uint32_t>(rng() % limit));
            auto ref = v;
            std::sort(ref.begin(), ref.end());
            kit::radixSortIds(v, buffer);
            QCOMPARE(v, ref);
        }
    }

    // fill() from nodes with their keys (lfu's misses), with a pivot or without, expecting
    // no takes or some: the order of a full sort, before the pivot and past it.
    void picksFromNodesFollowTheFullSort()
    {
        std::mt19937 rng(29);
        for (int round = 0; round < 30; ++round) {
            const size_t n = round < 3 ? rng() % 100 : 20000 + rng() % 30000;
            std::vector<kit::KeyedNode> nodes(n);
            for (size_t i = 0; i < n; ++i) nodes[i] = {static_cast<double>(rng() % 3000) * 0.25, static_cast<uint32_t>(2 * i + rng() % 2)};
            auto asc = nodes, desc = nodes;
            std::sort(asc.begin(), asc.end(), kit::LowKeyLowId{});
            std::sort(desc.begin(), desc.end(), kit::HighKeyHighId{});
            const size_t expected = round % 3 == 0 ? 0 : 1 + rng() % 500;
            const size_t takes = std::min(n, round % 2 ? expected : 30 * expected + 100);
            kit::OrderedPicks<kit::LowKeyLowId> low;
            kit::OrderedPicks<kit::HighKeyHighId> high;
            low.fill(std::span<const kit::KeyedNode>(nodes), expected);
            high.fill(std::span<const kit::KeyedNode>(nodes), expected);
            if (n > 16384 && round % 2) QVERIFY2(low.size() < n / 2, "the pivot should leave most nodes out");
            for (size_t i = 0; i < takes; ++i) {
                QVERIFY(!high.done());
                QCOMPARE(high.peek().key, desc[i].key);
                QCOMPARE(low.take(), asc[i].id);
                QCOMPARE(high.take(), desc[i].id);
            }
            QCOMPARE(high.taken(), takes);
            QCOMPARE(low.done(), takes == n);
        }
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

    // FastDivider equals `/` and `%` for every divisor class: 1, small, powers of two, near
    // 2^32, at the edges around multiples and for random numerators.
    void fastDividerMatchesDivision()
    {
        std::mt19937 rng(17);
        std::vector<uint32_t> divisors{1, 2, 3, 7, 31, 32, 33, 1000, 65536, 65537, 2147483648u, 4294967294u, 4294967295u};
        for (int i = 0; i < 40; ++i) divisors.push_back(1 + static_cast<uint32_t>(rng() % 4294967295u));
        for (uint32_t d : divisors) {
            const FastDivider f(d);
            QCOMPARE(f.divisor(), d);
            std::vector<uint32_t> as{0, 1, d - 1, d, UINT32_MAX, UINT32_MAX - 1, UINT32_MAX / d * d, UINT32_MAX / d * d - 1};
            if (d < UINT32_MAX / 2) as.push_back(2 * d + 1);
            for (int i = 0; i < 20000; ++i) as.push_back(static_cast<uint32_t>(rng()));
            for (uint32_t a : as) {
                if (f.div(a) != a / d || f.mod(a) != a % d)
                    QFAIL(qPrintable(QString("%1 / %2").arg(a).arg(d)));
            }
        }
    }

    void listsMatchStdList()
    {
        listsAgainstStdList<IdLists>(3);
        listsAgainstStdList<BasicIdLists<uint32_t>>(300);
    }

    // RingLists by hand: two rings, ids pushed, demoted, unlinked from the middle and taken
    // from the tails, in a ring of the smallest size (64 entries) that wraps around and grows.
    void ringListsByHand()
    {
        RingLists lists;
        lists.reset(200, 2);
        for (uint32_t x : {5u, 6u, 7u}) lists.pushHead(0, x);
        QCOMPARE(ringList(lists, 0), (std::vector<uint32_t>{5, 6, 7}));
        QCOMPARE(lists.demote(0), 5u);                  // 5 to the head of list 2
        QCOMPARE(lists.demote(0), 6u);
        QCOMPARE(ringList(lists, 2), (std::vector<uint32_t>{5, 6}));   // 6 demoted last: head
        QCOMPARE(ringList(lists, 0), std::vector<uint32_t>{7});
        QCOMPARE(int(lists.listOf(6)), 2);
        lists.unlink(5);                                // from the tail of list 2
        lists.pushHead(1, 5);                           // into the other ring
        QCOMPARE(lists.tail(2), 6u);
        QCOMPARE(lists.popOldTail(0), 6u);              // list 2 now empty
        QCOMPARE(lists.popOldTail(0), RingLists::kNil);
        QCOMPARE(lists.demote(0), 7u);
        QCOMPARE(ringList(lists, 2), std::vector<uint32_t>{7});
        lists.unlink(7);
        lists.pushHead(0, 7);                           // back to list 0
        lists.pushHead(0, 6);
        QCOMPARE(lists.tail(1), 5u);
        QCOMPARE(lists.size(2), size_t(0));
        QCOMPARE(ringList(lists, 0), (std::vector<uint32_t>{7, 6}));
        lists.unlink(6);
        lists.unlink(7);                                // list 0 now empty
        QCOMPARE(lists.tail(0), RingLists::kNil);
        QCOMPARE(lists.demote(0), RingLists::kNil);
        QCOMPARE(lists.size(0), size_t(0));
        // Wrap-around: a FIFO of 40 live ids through the 64-entry ring, 200 times round it.
        lists.reset(200, 1);
        for (uint32_t x = 0; x < 40; ++x) lists.pushHead(0, x);
        for (uint32_t k = 0; k < 200 * 64; ++k) {
            const uint32_t oldest = lists.tail(0);
            QCOMPARE(oldest, k % 200);
            lists.unlink(oldest);
            lists.pushHead(0, (k + 40) % 200);
        }
        QCOMPARE(lists.size(0), size_t(40));
        std::vector<uint32_t> want;
        for (uint32_t k = 200 * 64; k < 200 * 64 + 40; ++k) want.push_back(k % 200);
        QCOMPARE(ringList(lists, 0), want);
        // Growth: 150 live ids in one ring (past 64 and 128), order kept; then half of them
        // moved to the head from the middle, which leaves dead entries to compact.
        lists.reset(200, 1);
        for (uint32_t x = 0; x < 150; ++x) lists.pushHead(0, x);
        for (uint32_t x = 0; x < 150; x += 2) {
            lists.unlink(x);
            lists.pushHead(0, x);
        }
        want.clear();
        for (uint32_t x = 1; x < 150; x += 2) want.push_back(x);
        for (uint32_t x = 0; x < 150; x += 2) want.push_back(x);
        QCOMPARE(ringList(lists, 0), want);
        QCOMPARE(lists.size(0), size_t(150));
    }

    void ringListsMatchDeques()
    {
        for (uint32_t seed = 1; seed <= 30; ++seed) ringListsAgainstDeques(seed);
    }

    // rotate() by hand: young list 0 = [3 4 5] (tail first), old list 1 = [1 2], a hole in
    // each; then rotations until the ring has wrapped round its 64 entries twice.
    void ringListsRotateByHand()
    {
        RingLists lists;
        lists.reset(300, 1);
        for (uint32_t x : {1u, 9u, 2u, 3u, 8u, 4u, 5u}) lists.pushHead(0, x);
        QCOMPARE(lists.demote(0), 1u);
        QCOMPARE(lists.demote(0), 9u);
        QCOMPARE(lists.demote(0), 2u);
        lists.unlink(9);                                   // a hole in the old list
        lists.unlink(8);                                   // a hole in the young list
        lists.setMark(4, true);
        QCOMPARE(ringList(lists, 0), (std::vector<uint32_t>{3, 4, 5}));
        QCOMPARE(ringList(lists, 1), (std::vector<uint32_t>{1, 2}));
        QCOMPARE(lists.rotate(0, 6), 3u);                  // 1 leaves, 3 to the old head
        QCOMPARE(ringList(lists, 0), (std::vector<uint32_t>{4, 5, 6}));
        QCOMPARE(ringList(lists, 1), (std::vector<uint32_t>{2, 3}));
        QCOMPARE(int(lists.listOf(1)), int(RingLists::kNone));
        QCOMPARE(int(lists.listOf(3)), 1);
        QCOMPARE(lists.rotate(0, 1), 4u);                  // past the hole 8; 2 leaves
        QCOMPARE(ringList(lists, 0), (std::vector<uint32_t>{5, 6, 1}));
        QCOMPARE(ringList(lists, 1), (std::vector<uint32_t>{3, 4}));
        QVERIFY(lists.mark(4));                            // the mark stays with its id
        QCOMPARE(int(lists.listOf(4)), 1);
        QCOMPARE(lists.size(0), size_t(3));
        QCOMPARE(lists.size(1), size_t(2));
        // 130 rotations with ids 10..139: the young list is the last three pushed, the old
        // list the two before them, and nothing else is in a list.
        for (uint32_t x = 10; x < 140; ++x) lists.rotate(0, x);
        QCOMPARE(ringList(lists, 0), (std::vector<uint32_t>{137, 138, 139}));
        QCOMPARE(ringList(lists, 1), (std::vector<uint32_t>{135, 136}));
        QCOMPARE(int(lists.listOf(134)), int(RingLists::kNone));
        QCOMPARE(int(lists.listOf(5)), int(RingLists::kNone));
        QCOMPARE(lists.size(0) + lists.size(1), size_t(5));
    }

    void ringListsRotateMatchesDeques()
    {
        for (uint32_t seed = 1; seed <= 30; ++seed) ringListsRotateAgainstDeques(seed);
    }

    // TopSlice by hand: members with keys 1..6 (ids 10..15), a refill keeping 2: ids 15 and
    // 14 in the heap, the edge id 13 (key 4). A key rising to 3.5 stays out; id 11 rising to
    // 4 comes before the edge (4, id 13) by id and goes in.
    void topSliceByHand()
    {
        TopSlice<HighKeyLowId> slice;
        slice.reset(20);
        std::vector<double> key(20, 0);
        for (uint32_t id = 10; id < 16; ++id) key[id] = id - 9;
        const auto fill = [&](auto&& add) {
            for (uint32_t id = 10; id < 16; ++id) add(id, key[id]);
        };
        QVERIFY(!slice.complete());
        slice.raise(12, 100);   // not complete: ignored
        QVERIFY(slice.empty());
        slice.refill(2, fill);
        QCOMPARE(slice.size(), size_t(2));
        QCOMPARE(slice.top(), 15u);
        slice.raise(10, key[10] = 3.5);   // after the edge (4, 13): stays out
        QCOMPARE(slice.size(), size_t(2));
        slice.raise(11, key[11] = 4);     // key 4, id 11: before the edge (4, 13)
        QCOMPARE(slice.size(), size_t(3));
        slice.raise(14, key[14] = 7);     // a member rising to the top
        QCOMPARE(slice.top(), 14u);
        QCOMPARE(slice.topKey(), 7.0);
        slice.leave(14);
        QCOMPARE(slice.top(), 15u);
        slice.leave(15);
        QCOMPARE(slice.top(), 11u);
        slice.leave(11);
        QVERIFY(slice.empty());           // 13, 12, 10 are left, all outside: refill
        key[14] = key[15] = key[11] = -1;
        slice.refill(2, [&](auto&& add) {
            for (uint32_t id : {10u, 12u, 13u}) add(id, key[id]);
        });
        QCOMPARE(slice.top(), 13u);       // 4 > 3.5 > 3
        slice.leave(13);
        QCOMPARE(slice.top(), 10u);
        slice.leave(10);
        QVERIFY(slice.empty());
        // At most `size` members: all kept, and anything joining later goes in.
        slice.refill(2, [&](auto&& add) { add(12, key[12]); });
        slice.raise(1, 0.0);
        QCOMPARE(slice.size(), size_t(2));
        QCOMPARE(slice.top(), 12u);
        // trim keeps the best 1 and moves the edge up to the best one dropped (id 1, key 0.5).
        slice.raise(1, 0.5);
        slice.raise(2, 0.25);
        slice.trim(1);
        QCOMPARE(slice.size(), size_t(1));
        slice.raise(3, 0.5);   // (0.5, 3) after the edge (0.5, 1): stays out
        QCOMPARE(slice.size(), size_t(1));
        slice.raise(0, 0.5);   // (0.5, 0) before it: in
        QCOMPARE(slice.size(), size_t(2));
        slice.leave(12);
        QCOMPARE(slice.top(), 0u);
    }

    void topSliceMatchesAnOrderedSet()
    {
        for (uint32_t seed = 1; seed <= 40; ++seed) topSliceAgainstSet(seed);
    }

    void lazySliceMatchesAScan()
    {
        for (uint32_t seed = 1; seed <= 40; ++seed) lazySliceFindsTheTrueLowest(seed);
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
