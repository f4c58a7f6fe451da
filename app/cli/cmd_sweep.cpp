// kvtier-cli sweep: every policy and bound over a grid of scenario values; a shard of the
// grid, a self-describing result file, a resumed run (docs/SWEEPS.md).
#include "command.hpp"
#include "scenario_args.hpp"

#include "core/config/sweep_file.hpp"
#include "core/config/sweep_paths.hpp"
#include "core/engine/view_sweep2d.hpp"
#include "core/io/atomic_file.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

namespace kvtier::cli {

namespace {

// Best effort: the appended points reach the disk before the command reports success.
void syncFile(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    (void)::fsync(fd);
    ::close(fd);
}

// The points an earlier run of this sweep left in `out` (--resume), by grid index; a torn
// last line is cut off so that new points start on a line of their own.
std::vector<std::optional<SweepPoint>> resumeFrom(const std::string& out, const SweepFileHeader& header,
                                                  const std::vector<uint64_t>& ids)
{
    const SweepFile f = readSweepFile(out);
    const std::string diff = sweepDifference(header, f.header);
    if (!diff.empty())
        throw InputError(out, "holds a different sweep (" + diff + " differs); remove it or choose another --out");
    if (!(f.header.shard == header.shard))
        throw InputError(out, "holds shard " + sweepShardText(f.header.shard) + ", not " + sweepShardText(header.shard));
    checkSweepFilePoints(f, ids);
    std::vector<std::optional<SweepPoint>> kept(header.grid_points);
    std::vector<size_t> lineOf(header.grid_points, 0);
    for (const auto& p : f.points) {
        auto& slot = kept[p.point.index];
        if (slot && sweepPointLine(header, *slot, p.id) != sweepPointLine(header, p.point, p.id))
            throw InputError(out + " line " + std::to_string(p.line),
                             sweepPointName(header, p.point.index, p.id) + " has other results than on line " +
                                 std::to_string(lineOf[p.point.index]));
        if (!slot) lineOf[p.point.index] = p.line;
        slot = p.point;
    }
    if (f.torn) {
        std::error_code ec;
        std::filesystem::resize_file(out, f.complete_bytes, ec);
        if (ec) throw InputError(out, "cannot cut off its incomplete last line (" + ec.message() + ")");
    }
    return kept;
}

// One of the tables, into its file or ('-') to stdout.
template <class Format>
void writeTable(const std::optional<std::string>& name, std::optional<AtomicFile>& file, Format format, const SweepResult& r)
{
    if (!name) return;
    const std::string text = format(r);
    if (file) {
        file->stream() << text;
        file->commit();
    } else {
        std::cout << text;
    }
}

int run(const std::vector<std::string>& argv)
{
    Args a(argv, {"scenario", "csv", "long-csv", "grid-csv", "out", "shard", "traces"}, {"quiet", "resume"},
           {"set", "vary", "presets"});
    if (!a.positional().empty()) throw UsageError("unexpected argument '" + a.positional()[0] + "'");
    const std::optional<std::string> csv = a.get("csv"), out = a.get("out"), longCsv = a.get("long-csv"),
                                     gridCsv = a.get("grid-csv");
    const bool resume = a.has("resume"), quiet = a.has("quiet");
    if (!csv && !out && !longCsv && !gridCsv)
        throw UsageError("give --csv OUT (the table), --long-csv OUT, --grid-csv OUT or --out FILE (the result file)");
    const SweepShard shard = a.has("shard") ? parseSweepShard(*a.get("shard")) : SweepShard{};
    if (!shard.whole() && !out) throw UsageError("a shard writes a result file: give --out FILE");
    if (!shard.whole() && (csv || longCsv || gridCsv))
        throw UsageError("--csv, --long-csv and --grid-csv are the whole sweep's tables; a shard writes --out FILE and "
                         "kvtier-cli merge makes the tables");
    if (resume && !out) throw UsageError("--resume continues a result file: give --out FILE");
    if (out && *out == "-") throw UsageError("--out needs a file (a result file is appended to and resumed)");
    std::vector<SweepAxis> axes;
    for (const auto& v : a.all("vary")) axes.push_back(parseSweepAxis(v));
    if (axes.empty() && !a.has("traces")) throw UsageError("give at least one --vary key.path=start:stop:step");
    const PresetLibrary presets = presetsFrom(a);
    const Scenario s = scenarioFrom(a, presets);
    // --traces: the trace as the outermost axis, each trace's points together.
    if (const auto traces = a.get("traces")) {
        std::vector<std::string> names;
        if (*traces == "all") {
            for (const auto& t : TraceStore::open(s.trace_db, TraceStore::Mode::ReadOnly)->list()) names.push_back(t.meta.name);
            if (names.empty()) throw InputError(s.trace_db, "holds no traces");
        } else {
            std::stringstream list(*traces);
            std::string name;
            while (std::getline(list, name, ',')) names.push_back(name);
            if (names.empty() || std::count(names.begin(), names.end(), "") > 0)
                throw UsageError("--traces takes trace names, a,b,c, or all");
        }
        axes.insert(axes.begin(), categoricalSweepAxis("trace.name", names));
    }
    if (gridCsv && axes.size() != 2)
        throw UsageError("--grid-csv needs exactly two axes (two --vary, or --traces and one --vary); this sweep has " +
                         std::to_string(axes.size()));
    // A result file names each point's axis values by key: one key, one axis.
    if (out)
        for (size_t k = 0; k < axes.size(); ++k)
            for (size_t m = 0; m < k; ++m)
                if (axes[k].key == axes[m].key) throw UsageError("--vary " + axes[k].key + " given twice");
    const nlohmann::json scenario = scenarioToJson(s);
    const std::string where = a.require("scenario");
    // The outputs are checked (a folder, a missing folder) before the sweep runs.
    std::optional<AtomicFile> csvFile, outFile, longFile, gridFile;
    if (csv && *csv != "-") csvFile.emplace(*csv);
    if (longCsv && *longCsv != "-") longFile.emplace(*longCsv);
    if (gridCsv && *gridCsv != "-") gridFile.emplace(*gridCsv);
    const bool resuming = resume && std::filesystem::exists(*out);
    if (out && !resuming) outFile.emplace(*out);

    // Which points to run: every one, or this shard's, less those a resumed file holds.
    SweepFileHeader header;
    std::vector<uint64_t> ids;
    std::vector<std::optional<SweepPoint>> kept;
    std::vector<size_t> todo;
    if (out) {
        checkSweepAxes(scenario, axes, where);
        header = sweepFileHeader(s, scenario, axes, shard, KVTIER_VERSION);
        ids = sweepPointIds(scenario, axes);
        const std::vector<size_t> mine = sweepShardPoints(ids, shard);
        if (resuming) kept = resumeFrom(*out, header, ids);
        else kept.resize(header.grid_points);
        for (size_t g : mine)
            if (!kept[g]) todo.push_back(g);
        if (resuming && !quiet)
            std::cerr << "sweep: resuming " << *out << ": " << mine.size() - todo.size() << " of " << mine.size()
                      << " points done\n";
    }
    // A resumed file is a journal: its header now, each point appended as it completes, so
    // a killed run keeps every finished point. Otherwise the file appears whole at the end.
    std::ofstream journal;
    if (resume) {
        if (outFile) {
            outFile->stream() << sweepHeaderLine(header);
            outFile->commit();
            outFile.reset();
        }
        journal.open(*out, std::ios::binary | std::ios::app);
        if (!journal) throw InputError(*out, "cannot be written");
    }

    Pipeline pipeline;
    std::mutex m;
    int shown = -1;
    bool journalFailed = false;
    JobControl job;
    job.progress = [&](double f) {
        if (quiet) return;
        std::lock_guard lock(m);
        const int pct = static_cast<int>(std::floor(f * 100));
        if (pct != shown) {
            shown = pct;
            std::cerr << "\rsweep: " << pct << "%" << std::flush;
        }
    };
    const SweepPointSink onPoint = [&](size_t, const SweepPoint& pt) {
        if (!resume) return;
        const std::string line = sweepPointLine(header, pt, ids[pt.index]);
        std::lock_guard lock(m);
        journal << line << std::flush;
        journalFailed = journalFailed || !journal;
    };
    SweepResult r;
    try {
        if (!out) r = runSweep(pipeline, scenario, where, presets, axes, job);
        else if (!todo.empty()) r = runSweep(pipeline, scenario, where, presets, axes, job, onPoint, todo);
    } catch (const std::bad_alloc&) {
        throw tooLargeForMemory(s);
    }
    if (!quiet) std::cerr << "\rsweep: 100% (" << r.points.size() << " points)\n";
    if (resume) {
        journal.close();
        if (journalFailed || !journal) throw InputError(*out, "cannot be written (disk full?); rerun with --resume");
        syncFile(*out);
    }
    if (out) {
        // Every point of this shard, in grid order.
        for (auto& p : r.points) kept[p.index] = std::move(p);
        std::vector<SweepPoint> points;
        for (auto& p : kept)
            if (p) points.push_back(std::move(*p));
        if (outFile) {
            outFile->stream() << sweepHeaderLine(header);
            for (const auto& p : points) outFile->stream() << sweepPointLine(header, p, ids[p.index]);
            outFile->commit();
        }
        r = sweepResultOf(header, std::move(points));
    }
    writeTable(csv, csvFile, sweepToCsv, r);
    writeTable(longCsv, longFile, sweepToLongCsv, r);
    writeTable(gridCsv, gridFile, [](const SweepResult& res) { return sweepGrid2dToCsv(res, sweepGrid2d(res)); }, r);
    size_t bad = 0;
    for (const auto& p : r.points) bad += !p.error.empty();
    if (bad && !quiet) std::cerr << "sweep: " << bad << " of " << r.points.size() << " points infeasible (see the error column)\n";
    return 0;
}

Registration reg("sweep",
                 {"run every policy and bound over a grid of scenario values",
                  "usage: kvtier-cli sweep --scenario FILE --vary key.path=start:stop:step [--vary ...] [--traces a,b|all]\n"
                  "                        [--csv OUT] [--long-csv OUT] [--grid-csv OUT]\n"
                  "                        [--out FILE [--shard i/N] [--resume]]   (one or more)\n"
                  "                        [--set key.path=value ...] [--presets FILE ...] [--quiet]\n\n"
                  "Evaluates the scenario at every point of the grid (the cartesian product of the --vary\n"
                  "axes; a list v1,v2,v3 works too), in parallel, with a progress line on stderr.\n"
                  "Infeasible points are kept, with the reason in the error column.\n\n"
                  "  --vary k.path=a:b:s  e.g. hardware.tiers.0.capacity_bytes=2e10:9.6e10:1e10; a list of\n"
                  "                       text (trace.name=a,b,c) for a key that holds text\n"
                  "  --traces a,b,c|all   the trace as an axis: these traces, or every trace in the\n"
                  "                       scenario's database (the first column, trace.name)\n"
                  "  --csv OUT            the result table, one row per point ('-' for stdout)\n"
                  "  --long-csv OUT       the long table: one row per point per policy (axis columns, policy,\n"
                  "                       time_s, throughput_tok_s, hbm_hit_ratio, migrated_bytes, balanced_s,\n"
                  "                       paper_s, error)\n"
                  "  --grid-csv OUT       with exactly two axes: the best policy's time (s) as a grid, a row\n"
                  "                       per value of the second axis, a column per value of the first\n"
                  "  --out FILE           the self-describing result file (JSON lines: a header with the\n"
                  "                       base scenario, the axes, the grid's size, the shard and the kvtier\n"
                  "                       version; then per point its index, id, axis values and results\n"
                  "                       under the table's column names); kvtier-cli merge makes the table\n"
                  "  --shard i/N          only shard i of N (1 <= i <= N) of the grid: each point's id is a\n"
                  "                       hash of its scenario, the same on every machine, and the shards\n"
                  "                       split the grid evenly; run all N (anywhere) and merge their files\n"
                  "  --resume             keep the points FILE already holds and run the rest; the points\n"
                  "                       are appended to FILE as they complete, so a killed run loses only\n"
                  "                       the points in flight (a half-written last line is recomputed)\n\n"
                  "Without --resume, FILE and OUT appear complete or not at all. See docs/SWEEPS.md for\n"
                  "shards with GNU parallel, over ssh and as a Slurm job array.\n",
                  run});

} // namespace
} // namespace kvtier::cli
