// libFuzzer harness: a kvtier trace database (SQLite). Opened read-only, every trace listed,
// loaded and read record by record; then copied with `import --format kvtier` into a fresh
// store, as kvtier-cli would.
#include "core/io/importers.hpp"
#include "core/store/trace_store.hpp"
#include "fuzz_common.hpp"

using namespace kvtier;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static const std::string input = fuzz::tempPath("input.kvtr");
    static const std::string db = fuzz::tempPath("store.kvtr");
    fuzz::removeDatabase(input);
    fuzz::writeFile(input, data, size);
    fuzz::expectOnlyInputErrors([&] {
        auto store = TraceStore::open(input, TraceStore::Mode::ReadOnly);
        for (const TraceSummary& s : store->list()) {
            fuzz::expectOnlyInputErrors([&] { (void)store->get(s.meta.name); });
            fuzz::expectOnlyInputErrors([&] { (void)store->load(s.meta.name); });
            fuzz::expectOnlyInputErrors([&] {
                auto reader = store->reader(s.meta.name);
                Record r;
                while (reader->next(r)) {
                }
            });
        }
    });
    // A read-only open may have left a -wal / -shm beside the input; start from the bytes.
    fuzz::removeDatabase(input);
    fuzz::writeFile(input, data, size);
    fuzz::removeDatabase(db);
    fuzz::expectOnlyInputErrors([&] {
        auto store = TraceStore::open(db, TraceStore::Mode::ReadWrite);
        ImportOptions options;
        importFile(*store, input, ImportFormat::KvtierDb, options);
        for (const TraceSummary& s : store->list()) (void)store->load(s.meta.name);
    });
    return 0;
}
