#include "core/config/sweep_shard.hpp"

#include "core/config/sweep_paths.hpp"
#include "core/model/error.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <numeric>

namespace kvtier {

namespace {

bool parseCount(std::string_view s, size_t& out)
{
    if (s.empty()) return false;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

} // namespace

SweepShard parseSweepShard(const std::string& spec)
{
    const auto slash = spec.find('/');
    SweepShard s;
    if (slash == std::string::npos || !parseCount(std::string_view(spec).substr(0, slash), s.index) ||
        !parseCount(std::string_view(spec).substr(slash + 1), s.count))
        throw InputError("--shard " + spec, "expected i/N, shard i of N (e.g. 2/4)");
    if (s.count < 1 || s.count > kMaxSweepPoints)
        throw InputError("--shard " + spec, "N must be from 1 to " + std::to_string(kMaxSweepPoints));
    if (s.index < 1 || s.index > s.count) throw InputError("--shard " + spec, "i must be from 1 to N");
    return s;
}

std::string sweepShardText(const SweepShard& s) { return std::to_string(s.index) + "/" + std::to_string(s.count); }

uint64_t fnv1a64(std::string_view bytes)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char c : bytes) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

nlohmann::json canonicalScenario(const nlohmann::json& scenario)
{
    nlohmann::json doc = scenario;
    if (doc.is_object() && doc.contains("trace") && doc["trace"].is_object() && doc["trace"].contains("db") &&
        doc["trace"]["db"].is_string())
        doc["trace"]["db"] = std::filesystem::path(doc["trace"]["db"].get<std::string>()).filename().string();
    return doc;
}

std::string canonicalScenarioText(const nlohmann::json& scenario)
{
    // nlohmann::json keeps object keys sorted; numbers print in their shortest exact form.
    return canonicalScenario(scenario).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

uint64_t sweepPointId(const nlohmann::json& pointScenario) { return mix64(fnv1a64(canonicalScenarioText(pointScenario))); }

std::string sweepIdText(uint64_t id)
{
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
    return buf;
}

std::vector<uint64_t> sweepPointIds(const nlohmann::json& scenario, const std::vector<SweepAxis>& axes)
{
    const size_t grid = sweepGridSize(axes, "sweep");
    std::vector<uint64_t> ids(grid);
    for (size_t i = 0; i < grid; ++i) ids[i] = sweepPointId(sweepPointScenario(scenario, axes, sweepPointValues(axes, i)));
    return ids;
}

std::vector<size_t> sweepShardOf(const std::vector<uint64_t>& ids, size_t count)
{
    std::vector<size_t> order(ids.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a] != ids[b] ? ids[a] < ids[b] : a < b; });
    std::vector<size_t> shard(ids.size());
    for (size_t rank = 0; rank < order.size(); ++rank) shard[order[rank]] = rank % count + 1;
    return shard;
}

std::vector<size_t> sweepShardPoints(const std::vector<uint64_t>& ids, const SweepShard& shard)
{
    const std::vector<size_t> of = sweepShardOf(ids, shard.count);
    std::vector<size_t> points;
    for (size_t i = 0; i < of.size(); ++i)
        if (of[i] == shard.index) points.push_back(i);
    return points;
}

} // namespace kvtier
