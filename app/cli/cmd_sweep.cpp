// kvtier-cli sweep: every policy and bound over a grid of scenario values.
#include "command.hpp"
#include "scenario_args.hpp"

#include "core/atomic_file.hpp"
#include "core/sweep.hpp"

#include <cmath>
#include <iostream>
#include <mutex>
#include <optional>

namespace kvtier::cli {

namespace {

int run(const std::vector<std::string>& argv)
{
    Args a(argv, {"scenario", "csv"}, {"quiet"}, {"set", "vary", "presets"});
    if (!a.positional().empty()) throw UsageError("unexpected argument '" + a.positional()[0] + "'");
    const std::string csv = a.require("csv");
    std::vector<SweepAxis> axes;
    for (const auto& v : a.all("vary")) axes.push_back(parseSweepAxis(v));
    if (axes.empty()) throw UsageError("give at least one --vary key.path=start:stop:step");
    const PresetLibrary presets = presetsFrom(a);
    const Scenario s = scenarioFrom(a, presets);
    // The output is checked (a folder, a missing folder) before the sweep runs.
    std::optional<AtomicFile> file;
    if (csv != "-") file.emplace(csv);
    Pipeline pipeline;
    std::mutex m;
    int shown = -1;
    const bool quiet = a.has("quiet");
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
    SweepResult r;
    try {
        r = runSweep(pipeline, scenarioToJson(s), a.require("scenario"), presets, axes, job);
    } catch (const std::bad_alloc&) {
        throw tooLargeForMemory(s);
    }
    if (!quiet) std::cerr << "\rsweep: 100% (" << r.points.size() << " points)\n";
    const std::string text = sweepToCsv(r);
    if (csv == "-") {
        std::cout << text;
    } else {
        file->stream() << text;
        file->commit();
    }
    size_t bad = 0;
    for (const auto& p : r.points) bad += !p.error.empty();
    if (bad && !quiet) std::cerr << "sweep: " << bad << " of " << r.points.size() << " points infeasible (see the error column)\n";
    return 0;
}

Registration reg("sweep",
                 {"run every policy and bound over a grid of scenario values",
                  "usage: kvtier-cli sweep --scenario FILE --vary key.path=start:stop:step [--vary ...]\n"
                  "                        --csv OUT [--set key.path=value ...] [--presets FILE ...] [--quiet]\n\n"
                  "Evaluates the scenario at every point of the grid (the cartesian product of the --vary\n"
                  "axes; a list v1,v2,v3 works too), in parallel, with a progress line on stderr.\n"
                  "Infeasible points are kept, with the reason in the error column.\n\n"
                  "  --vary k.path=a:b:s  e.g. hardware.tiers.0.capacity_bytes=2e10:9.6e10:1e10\n"
                  "  --csv OUT            the result table ('-' for stdout)\n",
                  run});

} // namespace
} // namespace kvtier::cli
