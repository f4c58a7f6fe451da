// Store benchmark (issue 13: a compact stored form for selections): one generated selection
// trace written as index_u32 and as index_varint, each into its own database, then loaded
// N times. Prints one JSON object.
//   bench_store [--prefill P] [--steps T] [--layers L] [--per-layer] [--ratio R] [--seed S]
//               [--runs N] [--dir DIR]
// Per encoding: the write time (one run), load time (open read-only + TraceStore::load; the
// median, min and max over the runs, in ms), record bytes, bytes per entry and the file
// size; then the varint/u32 ratios of record bytes, file size and median load time. Both
// loads must give the same records (compared entry for entry) or the benchmark fails.
#include "core/store/trace_store.hpp"
#include "core/synth/generator.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

using namespace kvtier;
using Clock = std::chrono::steady_clock;

namespace {

double msSince(Clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

int usage()
{
    std::fprintf(stderr, "usage: bench_store [--prefill P] [--steps T] [--layers L] [--per-layer] [--ratio R]\n"
                         "                   [--seed S] [--runs N] [--dir DIR]\n");
    return 2;
}

} // namespace

int main(int argc, char** argv)
{
    GeneratorParams p;
    p.prefill = 32768;
    p.steps = 1024;
    p.layers = 1;
    p.selection_ratio = 0.1;
    int runs = 5;
    std::filesystem::path dir = std::filesystem::temp_directory_path() / "kvtier-bench-store";
    try {
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            auto value = [&]() -> std::string {
                if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
                return argv[++i];
            };
            if (a == "--prefill") p.prefill = std::stoll(value());
            else if (a == "--steps") p.steps = std::stoll(value());
            else if (a == "--layers") p.layers = std::stoi(value());
            else if (a == "--per-layer") p.per_layer = true;
            else if (a == "--ratio") p.selection_ratio = std::stod(value());
            else if (a == "--seed") p.seed = std::stoull(value());
            else if (a == "--runs") runs = std::max(1, std::stoi(value()));
            else if (a == "--dir") dir = value();
            else return usage();
        }
        validate(p);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_store: %s\n", e.what());
        return usage();
    }
    std::filesystem::create_directories(dir);

    // The records once, kept in memory, so both databases get exactly the same input.
    const Trace trace = generateTrace(p, "sel");
    nlohmann::json out;
    out["prefill"] = p.prefill;
    out["steps"] = p.steps;
    out["layers"] = p.layers;
    out["per_layer"] = p.per_layer;
    out["ratio"] = p.selection_ratio;
    out["seed"] = p.seed;
    out["runs"] = runs;
    out["records"] = trace.recordCount();
    out["entries"] = trace.entryCount();

    std::vector<Trace> loaded;
    std::vector<double> medians, bytes, files;
    for (const Encoding enc : {Encoding::IndexU32, Encoding::IndexVarint}) {
        const std::string db = (dir / (std::string(toString(enc)) + ".kvtr")).string();
        for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
        const auto w0 = Clock::now();
        {
            auto store = TraceStore::open(db, TraceStore::Mode::ReadWrite);
            auto writer = store->beginTrace(trace.meta(), enc);
            Record r;
            for (size_t k = 0; k < static_cast<size_t>(trace.recordCount()); ++k) {
                r.step = trace.meta().stepOfRecord(static_cast<int64_t>(k));
                r.sequence = trace.meta().sequenceOfRecord(static_cast<int64_t>(k));
                r.layer = trace.meta().layerOfRecord(static_cast<int64_t>(k));
                r.index.assign(trace.indices(k).begin(), trace.indices(k).end());
                r.value.clear();
                writer->add(r);
            }
            writer->commit();
        }
        const double writeMs = msSince(w0);
        std::vector<double> times;
        Trace last;
        for (int run = 0; run < runs; ++run) {
            const auto t0 = Clock::now();
            auto store = TraceStore::open(db, TraceStore::Mode::ReadOnly);
            last = store->load("sel");
            times.push_back(msSince(t0));
        }
        std::sort(times.begin(), times.end());
        const TraceSummary s = TraceStore::open(db, TraceStore::Mode::ReadOnly)->get("sel");
        const double fileBytes = static_cast<double>(std::filesystem::file_size(db));
        nlohmann::json e;
        e["write_ms"] = writeMs;
        e["load_ms_median"] = times[times.size() / 2];
        e["load_ms_min"] = times.front();
        e["load_ms_max"] = times.back();
        e["record_bytes"] = s.blob_bytes;
        e["bytes_per_entry"] = static_cast<double>(s.blob_bytes) / static_cast<double>(std::max<int64_t>(s.entries, 1));
        e["file_bytes"] = fileBytes;
        out[toString(enc)] = e;
        medians.push_back(times[times.size() / 2]);
        bytes.push_back(static_cast<double>(s.blob_bytes));
        files.push_back(fileBytes);
        loaded.push_back(std::move(last));
    }
    for (size_t k = 0; k < static_cast<size_t>(trace.recordCount()); ++k) {
        const auto a = loaded[0].indices(k), b = loaded[1].indices(k);
        if (!std::equal(a.begin(), a.end(), b.begin(), b.end())) {
            std::fprintf(stderr, "bench_store: record %zu differs between the encodings\n", k);
            return 1;
        }
    }
    out["varint_over_u32"] = {{"record_bytes", bytes[1] / bytes[0]},
                              {"file_bytes", files[1] / files[0]},
                              {"load_ms_median", medians[1] / medians[0]}};
    std::cout << out.dump(2) << "\n";
    return 0;
}
