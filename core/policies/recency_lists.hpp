#pragma once
// Residents kept in recency order for LRU rules (kit::lruStep), as groups: each step appends
// one group, the ids it used in ascending recency, and ids leave from the oldest end or are
// withdrawn anywhere (to join a newer group, or evicted). A withdrawn id's old entry stays
// behind as a stale entry (its group's stamp no longer matches the id's) and is skipped and
// dropped when the oldest end passes it, or when stale entries outnumber the members (then
// the entries are compacted, so memory stays O(members)). Every access walks the entries in
// order and one per-id stamp: a step that reorders r ids costs O(r) sequential work, where
// a doubly linked list touches two random neighbours per move. One list per `ListId` (lru:
// one; lru-demand: one per sequence); an id is in at most one list.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace kvtier::kit {

template <class ListId>
class RecencyLists {
public:
    static constexpr uint32_t kNone = UINT32_MAX;

    void reset(size_t n, size_t lists = 1)
    {
        stamp_.assign(n, kNone);
        lists_.assign(lists, List{});
        next_stamp_ = 0;
        for (size_t l = 0; l < lists; ++l) beginGroup(static_cast<ListId>(l));
    }
    bool contains(uint32_t id) const { return stamp_[id] != kNone; }
    size_t size(ListId l = 0) const { return lists_[l].members; }

    // Starts list l's newest group: ids pushed from now on are more recent than all before.
    void beginGroup(ListId l)
    {
        if (next_stamp_ == kNone) throw std::logic_error("RecencyLists: out of group stamps");
        List& list = lists_[l];
        const size_t n = list.groups.size();
        if (n > 0 && list.groups[n - 1].end == (n > 1 ? list.groups[n - 2].end : 0)) {   // empty: reuse it
            list.groups[n - 1].stamp = next_stamp_++;
            return;
        }
        list.groups.push_back({next_stamp_++, list.ids.size()});
    }
    // Adds id (not a member) to list l as its most recent.
    void pushNewest(ListId l, uint32_t id)
    {
        List& list = lists_[l];
        Group& g = list.groups.back();
        stamp_[id] = g.stamp;
        list.ids.push_back(id);
        g.end = list.ids.size();
        ++list.members;
    }
    // Removes id from list l, wherever it is; nothing when it is not a member.
    void withdraw(ListId l, uint32_t id)
    {
        if (stamp_[id] == kNone) return;
        stamp_[id] = kNone;
        --lists_[l].members;
    }
    // Removes and returns list l's least recent id. Throws std::logic_error when it is empty.
    uint32_t popOldest(ListId l)
    {
        List& list = lists_[l];
        if (list.members == 0) throw std::logic_error("RecencyLists: popOldest() of an empty list");
        for (;;) {
            while (list.front == list.groups[list.group].end) ++list.group;
            const uint32_t id = list.ids[list.front++];
            if (stamp_[id] == list.groups[list.group].stamp) {
                stamp_[id] = kNone;
                --list.members;
                return id;
            }
        }
    }
    // Keeps the entries O(members): called by the owner once per step, after its moves.
    void tidy(ListId l)
    {
        List& list = lists_[l];
        const size_t held = list.ids.size() - list.front;
        if (held <= 2 * list.members + 1024 && list.front <= list.ids.size() / 2 + 1024) return;
        size_t w = 0, kept = 0, start = list.front;
        for (size_t g = list.group; g < list.groups.size(); ++g) {
            const Group old = list.groups[g];
            const size_t before = w;
            for (size_t i = start; i < old.end; ++i)
                if (stamp_[list.ids[i]] == old.stamp) list.ids[w++] = list.ids[i];
            start = old.end;
            // Groups left empty go, but the newest stays: it is being filled.
            if (w != before || g + 1 == list.groups.size()) list.groups[kept++] = {old.stamp, w};
        }
        list.ids.resize(w);
        list.groups.resize(kept);
        list.front = 0;
        list.group = 0;
    }

private:
    struct Group {
        uint32_t stamp;
        size_t end;   // entries [previous group's end, end) of ids
    };
    struct List {
        std::vector<uint32_t> ids;   // oldest first, stale entries included
        std::vector<Group> groups;   // oldest first; the last one is being filled
        size_t front = 0;            // ids before it have left
        size_t group = 0;            // the group holding ids[front]
        size_t members = 0;
    };
    std::vector<uint32_t> stamp_;    // per id: its group's stamp, kNone when not a member
    std::vector<List> lists_;
    uint32_t next_stamp_ = 0;
};

} // namespace kvtier::kit
