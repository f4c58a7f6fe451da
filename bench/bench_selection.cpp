// Selection-stage benchmark (issue 13: selection must not re-sort lists stored in order).
// Prints one JSON object.
//   bench_selection --scenario FILE [--runs N] [--threads K]
//   bench_selection --db DB --trace NAME [--mode M] [--value V] [--sinks S] [--window W]
//                   [--page G] [--runs N] [--threads K]
// The trace is loaded once; then computeSelection (engine/selection.hpp) alone runs N times
// on it. Times are the median (and min/max) over the runs, in milliseconds. "digest" is an
// FNV-1a hash of every array of the Selection (token, page, unit and score CSRs, read
// tokens, the float bits of score_sum and score_max): two builds that print the same digest
// produced the same selection, bit for bit.
#include "core/config/data_dir.hpp"
#include "core/config/presets.hpp"
#include "core/config/scenario_json.hpp"
#include "core/engine/selection.hpp"
#include "core/store/trace_store.hpp"

#include <nlohmann/json.hpp>
#include <tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

using namespace kvtier;
using Clock = std::chrono::steady_clock;

namespace {

struct Fnv {
    uint64_t h = 1469598103934665603ull;
    void bytes(const void* p, size_t n)
    {
        const auto* b = static_cast<const unsigned char*>(p);
        for (size_t i = 0; i < n; ++i) {
            h ^= b[i];
            h *= 1099511628211ull;
        }
    }
    template <class T>
    void vec(const std::vector<T>& v)
    {
        const uint64_t n = v.size();
        bytes(&n, sizeof n);
        bytes(v.data(), v.size() * sizeof(T));
    }
};

std::string digest(const Selection& s)
{
    Fnv f;
    for (const Csr<uint32_t>* c : {&s.tokens, &s.pages, &s.step_units, &s.score_units}) {
        f.vec(c->offset);
        f.vec(c->items);
    }
    f.vec(s.read_tokens);
    f.vec(s.score_sum);
    f.vec(s.score_max);
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(f.h));
    return buf;
}

[[noreturn]] void usage()
{
    std::fprintf(stderr, "usage: bench_selection --scenario FILE [--runs N] [--threads K]\n"
                         "       bench_selection --db DB --trace NAME [--mode M] [--value V] [--sinks S]\n"
                         "                       [--window W] [--page G] [--runs N] [--threads K]\n");
    std::exit(2);
}

} // namespace

int main(int argc, char** argv)
{
    std::string scenario, db, name;
    SelectionConfig cfg;
    bool modeGiven = false;
    int runs = 7, threads = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage();
            return argv[++i];
        };
        try {
            if (a == "--scenario") scenario = value();
            else if (a == "--db") db = value();
            else if (a == "--trace") name = value();
            else if (a == "--mode") {
                cfg.mode = selectionModeFromString(value());
                modeGiven = true;
            } else if (a == "--value") cfg.value = std::stod(value());
            else if (a == "--sinks") cfg.sinks = std::stoll(value());
            else if (a == "--window") cfg.window = std::stoll(value());
            else if (a == "--page") cfg.page_tokens = std::stoll(value());
            else if (a == "--runs") runs = std::max(1, std::stoi(value()));
            else if (a == "--threads") threads = std::max(1, std::stoi(value()));
            else usage();
        } catch (const std::exception&) {
            usage();
        }
    }
    if (scenario.empty() == (db.empty() || name.empty())) usage();
    try {
        std::unique_ptr<tbb::global_control> limit;
        if (threads > 0)
            limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                          static_cast<size_t>(threads));
        if (!scenario.empty()) {
            setDataDir(KVTIER_BUILD_DATA_DIR);
            const Scenario s = loadScenario(scenario, PresetLibrary::loadBuiltin());
            db = s.trace_db;
            name = s.trace_name;
            cfg = s.selection;
        } else if (!modeGiven) {
            cfg.mode = SelectionMode::TopK;
            cfg.value = 64;
        }
        const auto t0 = Clock::now();
        const Trace trace = TraceStore::open(db, TraceStore::Mode::ReadOnly)->load(name);
        const double loadMs = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        const TraceMeta& m = trace.meta();

        std::vector<double> ms;
        std::string dig;
        size_t tokens = 0, units = 0, scores = 0;
        for (int r = 0; r < runs; ++r) {
            const auto s0 = Clock::now();
            const Selection sel = computeSelection(trace, cfg);
            ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s0).count());
            const std::string d = digest(sel);
            if (!dig.empty() && d != dig) {
                std::fprintf(stderr, "bench_selection: run %d gave a different selection\n", r);
                return 1;
            }
            dig = d;
            tokens = sel.tokens.items.size();
            units = sel.step_units.items.size();
            scores = sel.score_units.items.size();
        }
        std::vector<double> sorted = ms;
        std::sort(sorted.begin(), sorted.end());
        const size_t n = sorted.size();
        const double median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;

        nlohmann::json out;
        out["trace"] = {{"db", db}, {"name", m.name}, {"P", m.prefill}, {"T", m.steps}, {"L", m.layers},
                        {"mode", toString(m.layer_mode)}, {"kind", toString(m.kind)},
                        {"records", trace.recordCount()}, {"entries", trace.entryCount()}};
        out["selection"] = {{"mode", toString(cfg.mode)}, {"value", cfg.value}, {"sinks", cfg.sinks},
                            {"window", cfg.window}, {"page_tokens", cfg.page_tokens}};
        out["threads"] = tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);
        out["load_ms"] = loadMs;
        out["selection_ms"] = {{"median_ms", median}, {"min_ms", sorted.front()}, {"max_ms", sorted.back()},
                               {"runs", n}, {"all_ms", ms}};
        out["output"] = {{"tokens", tokens}, {"step_units", units}, {"score_units", scores}, {"digest", dig}};
        std::cout << out.dump(2) << "\n";
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_selection: %s\n", e.what());
        return 1;
    }
    return 0;
}
