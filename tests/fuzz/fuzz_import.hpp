#pragma once
// The file importers' harness body: the input is written to a temporary file with the
// format's extension and imported with importFile into a fresh temporary store, as
// `kvtier-cli import` does; every trace it writes is then loaded back.
#include "core/importers.hpp"
#include "core/trace_store.hpp"
#include "fuzz_common.hpp"

namespace kvtier::fuzz {

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
        ImportOptions options;
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
