#pragma once
// Radix sorts for the kit (tests/core/tst_policy_kit.cpp checks them against std::sort):
//   radixSortNodes<Order> - KeyedNodes into one of the kit's (key, id) orders, by a stable
//                           LSD radix sort on the key's bits (a double's bits mapped so
//                           that unsigned order is the key's order), ties by id
//   radixSortIds          - ids ascending
// No comparisons, so no mispredicted branches: O(n) for n items, a pass per byte that
// differs between them (a byte every item shares is skipped).
#include "core/policies/policy_kit.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace kvtier::kit {

// How a radix sort yields the order `Before`: an ascending sort of the rank (the key's
// bits mapped to unsigned order, inverted for the high-key orders) with ties by ascending
// id, read backwards when the order puts higher ids first.
template <class Before>
struct RadixOrder;
template <>
struct RadixOrder<LowKeyLowId> {
    static constexpr bool kHighKey = false, kReversed = false;
};
template <>
struct RadixOrder<LowKeyHighId> {   // reverse of (high key, low id)
    static constexpr bool kHighKey = true, kReversed = true;
};
template <>
struct RadixOrder<HighKeyLowId> {
    static constexpr bool kHighKey = true, kReversed = false;
};
template <>
struct RadixOrder<HighKeyHighId> {   // reverse of (low key, low id)
    static constexpr bool kHighKey = false, kReversed = true;
};

// The radix rank of a key: unsigned order of ranks = order of keys (ascending, or
// descending when `high`); -0.0 and +0.0 have the same rank, as they compare equal.
inline uint64_t radixRank(double key, bool high)
{
    uint64_t b = std::bit_cast<uint64_t>(key + 0.0);   // -0.0 + 0.0 is +0.0
    b = (b >> 63) != 0 ? ~b : (b | (uint64_t(1) << 63));
    return high ? ~b : b;
}

// Sorts `v` into the order `Before` (every (key, id) distinct), by LSD radix passes of a
// byte each, skipping the bytes all nodes share: first the id's bytes unless `idsAscending`
// (v is in ascending id order), then the rank's. `buffer` is scratch space.
template <class Before>
void radixSortNodes(std::vector<KeyedNode>& v, std::vector<KeyedNode>& buffer, bool idsAscending)
{
    using O = RadixOrder<Before>;
    const size_t n = v.size();
    if (n < 2) return;
    constexpr int kIdBytes = 4, kRankBytes = 8;
    std::array<std::array<uint32_t, 256>, kIdBytes + kRankBytes> count{};
    for (const KeyedNode& nd : v) {
        const uint64_t r = radixRank(nd.key, O::kHighKey);
        for (int d = 0; d < kRankBytes; ++d) ++count[kIdBytes + d][(r >> (8 * d)) & 0xff];
        if (!idsAscending)
            for (int d = 0; d < kIdBytes; ++d) ++count[d][(nd.id >> (8 * d)) & 0xff];
    }
    buffer.resize(n);
    for (int pass = idsAscending ? kIdBytes : 0; pass < kIdBytes + kRankBytes; ++pass) {
        const bool byId = pass < kIdBytes;
        const int shift = 8 * (byId ? pass : pass - kIdBytes);
        const auto digit = [&](const KeyedNode& nd) {
            return byId ? (nd.id >> shift) & 0xff : static_cast<uint32_t>((radixRank(nd.key, O::kHighKey) >> shift) & 0xff);
        };
        std::array<uint32_t, 256>& c = count[static_cast<size_t>(pass)];
        if (c[digit(v[0])] == n) continue;   // every node has this byte: the pass moves nothing
        uint32_t at = 0;
        for (uint32_t& x : c) {
            const uint32_t k = x;
            x = at;
            at += k;
        }
        for (const KeyedNode& nd : v) buffer[c[digit(nd)]++] = nd;
        v.swap(buffer);
    }
    if constexpr (O::kReversed) std::reverse(v.begin(), v.end());
}

// Sorts ids ascending, by LSD radix passes of a byte each. `buffer` is scratch space.
inline void radixSortIds(std::vector<uint32_t>& v, std::vector<uint32_t>& buffer)
{
    const size_t n = v.size();
    if (n < 2) return;
    std::array<std::array<uint32_t, 256>, 4> count{};
    for (uint32_t id : v)
        for (int d = 0; d < 4; ++d) ++count[static_cast<size_t>(d)][(id >> (8 * d)) & 0xff];
    buffer.resize(n);
    for (int d = 0; d < 4; ++d) {
        const int shift = 8 * d;
        std::array<uint32_t, 256>& c = count[static_cast<size_t>(d)];
        if (c[(v[0] >> shift) & 0xff] == n) continue;   // every id has this byte
        uint32_t at = 0;
        for (uint32_t& x : c) {
            const uint32_t k = x;
            x = at;
            at += k;
        }
        for (uint32_t id : v) buffer[c[(id >> shift) & 0xff]++] = id;
        v.swap(buffer);
    }
}

} // namespace kvtier::kit
