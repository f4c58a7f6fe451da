#pragma once
// The file importers' harness body: the input is written to a temporary file with the
// format's extension and imported with importFile into a fresh temporary store, as
// `kvtier-cli import` does; every trace it writes is then loaded back. Half of the inputs
// (chosen by a hash of the bytes, so a reproducer replays the same way) are imported with
// the options a user may add: --encoding, --layer-mode aggregated, --layers.
#include "core/io/importers.hpp"
#include "core/store/trace_store.hpp"
#include "fuzz_common.hpp"

namespace kvtier::fuzz {

// The import options for this input: none for half the inputs, else some of what
// `kvtier-cli import` accepts, picked by a hash of the bytes (FNV-1a).
inline ImportOptions importOptionsFor(const uint8_t* data, size_t size)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 1099511628211ull;
    ImportOptions o;
    if ((h & 1) == 0) return o;
    h >>= 1;
    static constexpr Encoding encodings[] = {Encoding::DenseF32, Encoding::DenseF16, Encoding::SparseF32,
                                             Encoding::SparseF16, Encoding::IndexU32};
    if (h % 6 != 5) o.encoding = encodings[h % 6];
    h /= 6;
    if (h % 3 == 1) o.layer_mode = LayerMode::Aggregated;
    if (h % 3 == 2) o.layer_mode = LayerMode::PerLayer;
    h /= 3;
    if (h % 2 == 1) o.layers = static_cast<int32_t>(1 + (h >> 1) % 80);
    return o;
}

inline void fuzzImport(const uint8_t* data, size_t size, const char* fileName, ImportFormat format)
{
    static const std::string input = tempPath(fileName);
    static const std::string db = tempPath("store.kvtr");
    writeFile(input, data, size);
    removeDatabase(db);
    expectOnlyInputErrors([&] { (void)guessImportFormat(input, fileName); });
    expectOnlyInputErrors([&] {
        auto store = TraceStore::open(db, TraceStore::Mode::ReadWrite);
        ImportInput in(input);
        ImportOptions options = importOptionsFor(data, size);
        options.shown_name = fileName;
        try {
            importFile(*store, in.path(), format, options);
        } catch (const InputError& e) {
            // The file does not say P: import it as `kvtier-cli import --prefill 2` would
            // (the seeds of tests/fuzz/make_corpus.py assume P = 2).
            if (e.problem().rfind("prefill length unknown", 0) != 0) throw;
            options.prefill = 2;
            importFile(*store, in.path(), format, options);
        }
        for (const TraceSummary& s : store->list()) (void)store->load(s.meta.name);
    });
}

} // namespace kvtier::fuzz
