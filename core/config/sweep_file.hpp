#pragma once
// The self-describing result file of a sweep (`kvtier-cli sweep --out`, docs/SWEEPS.md),
// in JSON lines. Line 1, the header: the base scenario, the axes, the grid's size, the
// policies and heavy bounds, the shard and the kvtier version that wrote it. Then one line
// per point, in any order: its grid index, its id (sweep_shard.hpp), its axis values and
// its results under the sweep CSV's column names. A line counts only when complete (it
// ends in a newline): a run killed mid-line leaves a torn tail, which readers skip.
#include "core/config/sweep_shard.hpp"
#include "core/model/scenario.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace kvtier {

struct SweepFileHeader {
    std::string version;             // the kvtier version that computed the points
    nlohmann::json scenario;         // the base scenario, canonical (canonicalScenario)
    std::vector<SweepAxis> axes;
    std::vector<std::string> policies;
    bool migration_bound = false, annealed = false;
    size_t grid_points = 0;
    SweepShard shard;
};

// `scenario` is the JSON the sweep's points are built from (scenarioToJson of `base`).
SweepFileHeader sweepFileHeader(const Scenario& base, const nlohmann::json& scenario, const std::vector<SweepAxis>& axes,
                                const SweepShard& shard, const std::string& version);
// What makes two headers describe different sweeps ("the axes", "the base scenario", ...),
// or "" for the same sweep; the shard does not count.
std::string sweepDifference(const SweepFileHeader& a, const SweepFileHeader& b);

std::string sweepHeaderLine(const SweepFileHeader& h);   // each line ends in '\n'
std::string sweepPointLine(const SweepFileHeader& h, const SweepPoint& p, uint64_t id);

struct SweepFilePoint {
    SweepPoint point;   // with its index and axis values
    uint64_t id = 0;
    size_t line = 0;    // 1-based line number, for messages
};

struct SweepFile {
    std::string path;
    SweepFileHeader header;
    std::vector<SweepFilePoint> points;   // in file order
    uint64_t complete_bytes = 0;          // the header and every complete line
    bool torn = false;                    // bytes after them: a line a killed run left half written
};

// Reads a result file and checks its form: the header, and on every complete line an index
// inside the grid, the grid's axis values there, every result column. Errors are one line,
// InputError("PATH line N", problem) or InputError("PATH", problem).
SweepFile readSweepFile(const std::string& path);
// Checks each point's id against the grid's (`ids`, from sweepPointIds of the header's
// scenario and axes) and that the file's shard owns it.
void checkSweepFilePoints(const SweepFile& f, const std::vector<uint64_t>& ids);
// "point #5 (id 0123456789abcdef, batch=2)": how messages name a point.
std::string sweepPointName(const SweepFileHeader& h, size_t index, uint64_t id);

// A SweepResult with the header's axes, policies and bounds around `points` (for sweepToCsv).
SweepResult sweepResultOf(const SweepFileHeader& h, std::vector<SweepPoint> points);

// Joins result files of one sweep (shards, resumed runs, copies) into the whole sweep, its
// points in grid order: sweepToCsv of it is the unsharded sweep's CSV byte for byte.
// Refuses, in one line naming the file and the point: files of different sweeps (the
// header differs), a point twice with different results, a point no file holds, a torn
// last line.
SweepResult mergeSweepFiles(const std::vector<std::string>& paths);

} // namespace kvtier
