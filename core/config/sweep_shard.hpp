#pragma once
// Splitting a sweep over processes and machines (docs/SWEEPS.md). Every grid point has an
// id: a 64-bit hash of its scenario's canonical JSON, the same on every run and machine.
// Shard i of N takes the points whose id ranks i-1 modulo N among the grid's ids (ties,
// which only a grid listing a value twice has, by grid index), so each shard holds
// floor(G/N) or ceil(G/N) points, an even sample of the grid rather than one corner of it.
#include "core/engine/sweep.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kvtier {

struct SweepShard {
    size_t index = 1, count = 1;   // shard `index` of `count`, 1 <= index <= count
    bool whole() const { return count == 1; }
    bool operator==(const SweepShard&) const = default;
};

// "i/N" (1 <= i <= N <= 1000000). Throws InputError("--shard SPEC", problem).
SweepShard parseSweepShard(const std::string& spec);
std::string sweepShardText(const SweepShard& s);   // "i/N"

// 64-bit FNV-1a of the bytes (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
uint64_t fnv1a64(std::string_view bytes);
// MurmurHash3's 64-bit finaliser: FNV-1a's low bits depend on its input's low bits only,
// so the id mixes every bit into every other.
uint64_t mix64(uint64_t h);

// The scenario as hashed and as a result file's header records it: compact JSON with keys
// sorted, the trace database reduced to its file name (a checkout's or a node's folder
// does not make a different sweep).
nlohmann::json canonicalScenario(const nlohmann::json& scenario);
std::string canonicalScenarioText(const nlohmann::json& scenario);
// mix64(fnv1a64(canonicalScenarioText(pointScenario))).
uint64_t sweepPointId(const nlohmann::json& pointScenario);
std::string sweepIdText(uint64_t id);   // 16 lowercase hex digits
// Every grid point's id, in grid order (the point's scenario from sweepPointScenario).
std::vector<uint64_t> sweepPointIds(const nlohmann::json& scenario, const std::vector<SweepAxis>& axes);
// Each point's shard (1..count), in grid order.
std::vector<size_t> sweepShardOf(const std::vector<uint64_t>& ids, size_t count);
// The grid indices of `shard`, ascending.
std::vector<size_t> sweepShardPoints(const std::vector<uint64_t>& ids, const SweepShard& shard);

} // namespace kvtier
