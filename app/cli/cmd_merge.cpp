// kvtier-cli merge: the shards of a sweep joined into its table (docs/SWEEPS.md).
#include "args.hpp"
#include "command.hpp"

#include "core/config/sweep_file.hpp"
#include "core/config/sweep_paths.hpp"
#include "core/io/atomic_file.hpp"

#include <iostream>
#include <optional>

namespace kvtier::cli {

namespace {

int run(const std::vector<std::string>& argv)
{
    Args a(argv, {}, {"quiet"});
    const auto& pos = a.positional();
    if (pos.size() < 2) throw UsageError("give the output and at least one result file: merge OUT FILES...");
    const std::string out = pos[0];
    const std::vector<std::string> files(pos.begin() + 1, pos.end());
    // The output is checked before the files are read.
    std::optional<AtomicFile> file;
    if (out != "-") file.emplace(out);
    const SweepResult r = mergeSweepFiles(files);
    const std::string text = sweepToCsv(r);
    if (file) {
        file->stream() << text;
        file->commit();
    } else {
        std::cout << text;
    }
    if (!a.has("quiet")) std::cerr << "merge: " << r.points.size() << " points from " << files.size() << " files\n";
    return 0;
}

Registration reg("merge",
                 {"join the result files of a sharded sweep into its table",
                  "usage: kvtier-cli merge OUT FILES... [--quiet]\n\n"
                  "Joins result files of one sweep (kvtier-cli sweep --out, with or without --shard) into\n"
                  "the sweep's CSV table, OUT ('-' for stdout): byte for byte the table the unsharded\n"
                  "sweep writes with --csv. Refuses, in one line naming the file and the point:\n"
                  "  - files of different sweeps (the headers' scenario, axes, policies or kvtier version differ),\n"
                  "  - the same point twice with different results,\n"
                  "  - a point in none of the files (a shard missing or unfinished),\n"
                  "  - a file whose last line is incomplete (finish that shard with sweep --resume).\n"
                  "The same point in several files with the same results is fine.\n",
                  run});

} // namespace
} // namespace kvtier::cli
