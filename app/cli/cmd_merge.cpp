// kvtier-cli merge: the shards of a sweep joined into its table (docs/SWEEPS.md).
#include "args.hpp"
#include "command.hpp"

#include "core/config/sweep_file.hpp"
#include "core/config/sweep_paths.hpp"
#include "core/engine/view_sweep2d.hpp"
#include "core/io/atomic_file.hpp"

#include <iostream>
#include <optional>

namespace kvtier::cli {

namespace {

int run(const std::vector<std::string>& argv)
{
    Args a(argv, {"long-csv", "grid-csv"}, {"quiet"});
    const auto& pos = a.positional();
    if (pos.size() < 2) throw UsageError("give the output and at least one result file: merge OUT FILES...");
    const std::string out = pos[0];
    const std::vector<std::string> files(pos.begin() + 1, pos.end());
    // The output is checked before the files are read.
    std::optional<AtomicFile> file, longFile, gridFile;
    if (out != "-") file.emplace(out);
    const std::optional<std::string> longCsv = a.get("long-csv"), gridCsv = a.get("grid-csv");
    if (longCsv && *longCsv != "-") longFile.emplace(*longCsv);
    if (gridCsv && *gridCsv != "-") gridFile.emplace(*gridCsv);
    const SweepResult r = mergeSweepFiles(files);
    if (gridCsv && r.axes.size() != 2)
        throw UsageError("--grid-csv needs a sweep over exactly two axes; these files have " + std::to_string(r.axes.size()));
    // Every table is formatted before any is written: a refused grid leaves no table behind.
    const std::string text = sweepToCsv(r);
    const std::string longText = longCsv ? sweepToLongCsv(r) : std::string();
    const std::string gridText = gridCsv ? sweepGrid2dToCsv(r, sweepGrid2d(r)) : std::string();
    const auto put = [](std::optional<AtomicFile>& f, const std::string& t) {
        if (f) {
            f->stream() << t;
            f->commit();
        } else {
            std::cout << t;
        }
    };
    put(file, text);
    if (longCsv) put(longFile, longText);
    if (gridCsv) put(gridFile, gridText);
    if (!a.has("quiet")) std::cerr << "merge: " << r.points.size() << " points from " << files.size() << " files\n";
    return 0;
}

Registration reg("merge",
                 {"join the result files of a sharded sweep into its table",
                  "usage: kvtier-cli merge OUT FILES... [--long-csv OUT2] [--grid-csv OUT3] [--quiet]\n\n"
                  "Joins result files of one sweep (kvtier-cli sweep --out, with or without --shard) into\n"
                  "the sweep's CSV table, OUT ('-' for stdout): byte for byte the table the unsharded\n"
                  "sweep writes with --csv. Refuses, in one line naming the file and the point:\n"
                  "  - files of different sweeps (the headers' scenario, axes, policies or kvtier version differ),\n"
                  "  - the same point twice with different results,\n"
                  "  - a point in none of the files (a shard missing or unfinished),\n"
                  "  - a file whose last line is incomplete (finish that shard with sweep --resume).\n"
                  "The same point in several files with the same results is fine.\n"
                  "--long-csv and --grid-csv also write the tables sweep writes with those options (the grid\n"
                  "for a sweep over two axes).\n",
                  run});

} // namespace
} // namespace kvtier::cli
