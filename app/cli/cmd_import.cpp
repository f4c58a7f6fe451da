// kvtier-cli import: a trace file (paper CSV, long CSV, .npy/.npz, another kvtier
// database) into a trace database, in one transaction.
#include "args.hpp"
#include "command.hpp"

#include "core/io/atomic_file.hpp"
#include "core/io/importers.hpp"
#include "core/model/error.hpp"
#include "core/store/trace_store.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

namespace kvtier::cli {

namespace {

std::string usage()
{
    return "usage: kvtier-cli import DB FILE [options]\n"
           "\n"
           "Imports FILE into the trace database DB (created when missing); FILE '-' reads\n"
           "stdin (pipes are copied to a temporary file first). One transaction:\n"
           "if anything in FILE is wrong, DB is left exactly as it was and the error names the\n"
           "file, the line or record, and the problem. A new DB appears only once complete.\n"
           "See docs/TRACE_FORMAT.md.\n"
           "\n"
           "  --format F            paper-csv | long-csv | seed-csv | dsa-topk | npy | kvtier.\n"
           "                        dsa-topk: JSON lines {request, layer, step, context,\n"
           "                        topk} of DeepSeek sparse attention's indexer. Default:\n"
           "                        guessed from the content (SQLite header, NumPy/zip\n"
           "                        magic, CSV header, a JSON line with \"topk\"), then from\n"
           "                        the extension (.jsonl: dsa-topk)\n"
           "  --name NAME           trace name (default: the file's metadata comment, else\n"
           "                        the file name without extension)\n"
           "  --prefill P           prompt length P (long CSV without a '# kvtier trace' line,\n"
           "                        .npy, .npz without a 'prefill' array (an .npz with a\n"
           "                        'sequence_prefill' array holds [S, T, (L,) n_max] scores\n"
           "                        of S sequences), dsa-topk requests\n"
           "                        without 'context'/'prefill'; paper CSV: checks it)\n"
           "  --layers-mode M       per-layer | aggregated. paper-csv: aggregated stores the\n"
           "                        union of a step's layers. Others: must match the data\n"
           "  --layers L            layer count recorded with an aggregated trace whose file\n"
           "                        does not state it (default 1); per-layer data has its own\n"
           "  --encoding E          f32 | f16 | sparse_f32 | sparse_f16 (scores), index_u32 |\n"
           "                        index_varint | index_step_delta (selections), ranked_u32 |\n"
           "                        ranked_varint (ranked; the varint forms are compact, often\n"
           "                        1 byte per entry instead of 4; index_step_delta stores a\n"
           "                        step's selection as the change from the step before).\n"
           "                        Default: paper-csv\n"
           "                        index_u32, seed-csv ranked_u32 (one sequence per\n"
           "                        query_id), dsa-topk index_u32 (one sequence per\n"
           "                        request), long-csv\n"
           "                        sparse_f32 (or the file's), npy f32, kvtier the source's\n"
           "  --key-interval K      with --encoding index_step_delta: a key record (the whole\n"
           "                        set) at least every K steps, 1 .. 4096 (default 64; a\n"
           "                        kvtier source's own K when its encoding is kept)\n"
           "  --experts E           seed-csv: experts per layer E (MoE, stored as per-step\n"
           "                        expert sets; an id >= E is an error). Default: the\n"
           "                        largest expert id + 1 (no ids listed: no expert sets)\n"
           "  --description TEXT    one line shown in lists\n"
           "  --model-name NAME     the model the trace was recorded from\n"
           "  --head-reduction TEXT how scores were reduced over heads (default mean)\n"
           "  --notes TEXT          free text\n"
           "  --replace             overwrite traces with the same name\n"
           "  --trace NAME          kvtier source: copy only this trace (default: all)\n"
           "  --array NAME          .npz: the array holding the scores (default: 'scores',\n"
           "                        else the only float array)\n";
}

template <typename T, typename F>
T parseEnum(const Args& a, const std::string& option, F fromString)
{
    try {
        return fromString(*a.get(option));
    } catch (const InputError& e) {
        throw UsageError("--" + option + ": " + e.problem());
    }
}

// The store names the file it has open; the user knows that file as `db`.
InputError asNamed(const InputError& e, const std::string& opened, const std::string& db)
{
    if (!e.where().starts_with(opened)) return e;
    return InputError(db + e.where().substr(opened.size()), e.problem());
}

// A database that does not exist yet is built under a unique temporary name beside DB and
// linked into place only when complete, never over an existing file. A failed import
// removes nothing but its own temporary file, which no other program knows about: it can
// never delete a database that a concurrent command created and filled meanwhile. When
// one did, the traces are copied into it in one transaction (a name clash refuses the
// whole import and leaves that database as it is).
std::vector<TraceSummary> importIntoNewDatabase(const std::string& db, const std::string& file, ImportFormat format,
                                                const ImportOptions& o)
{
    AtomicFile building(db);
    const std::string& temporary = building.temporaryPath();
    std::vector<TraceSummary> imported;
    try {
        auto store = TraceStore::open(temporary, TraceStore::Mode::ReadWrite);
        imported = importFile(*store, file, format, o);
    } catch (const InputError& e) {
        throw asNamed(e, temporary, db);
    }
    // Closing the last connection checkpoints the write-ahead log into the file and removes
    // it; a log left behind would hold committed pages the linked file lacks.
    std::error_code ec;
    if (std::filesystem::exists(temporary + "-wal", ec))
        throw InputError(db, "could not finish writing the new database (its write-ahead log was not merged)");
    if (building.commitIfAbsent()) return imported;

    auto store = TraceStore::open(db, TraceStore::Mode::ReadWrite);
    ImportOptions copy;
    copy.replace = o.replace;
    try {
        imported = importFile(*store, temporary, ImportFormat::KvtierDb, copy);
    } catch (const InputError& e) {
        throw asNamed(e, temporary, db);
    }
    return imported;
}

int run(const std::vector<std::string>& argv)
{
    Args a(argv,
           {"format", "name", "prefill", "layers-mode", "layers", "encoding", "description", "model-name",
            "head-reduction", "notes", "trace", "array", "experts", "key-interval"},
           {"replace"});
    if (a.positional().size() != 2) throw UsageError("expected two arguments, the database file and the file to import");
    const std::string db = a.positional()[0];
    const std::string file = a.positional()[1];

    ImportOptions o;
    o.name = a.get("name").value_or("");
    if (a.get("prefill")) {
        const int64_t p = a.getInt("prefill", 0);
        if (p < 0) throw UsageError("--prefill must be >= 0");
        o.prefill = p;
    }
    if (a.get("layers")) {
        const int64_t l = a.getInt("layers", 1);
        if (l < 1 || l > 1000000) throw UsageError("--layers must be between 1 and 1000000");
        o.layers = static_cast<int32_t>(l);
    }
    if (a.get("experts")) {
        const int64_t e = a.getInt("experts", 1);
        if (e < 1 || e > kMaxExperts) throw UsageError("--experts must be between 1 and " + std::to_string(kMaxExperts));
        o.experts = static_cast<int32_t>(e);
    }
    if (a.get("layers-mode")) o.layer_mode = parseEnum<LayerMode>(a, "layers-mode", layerModeFromString);
    if (a.get("encoding")) o.encoding = parseEnum<Encoding>(a, "encoding", encodingFromString);
    if (a.get("key-interval")) {
        const int64_t k = a.getInt("key-interval", kDefaultKeyInterval);
        if (k < 1 || k > kMaxKeyInterval)
            throw UsageError("--key-interval must be between 1 and " + std::to_string(kMaxKeyInterval));
        if (o.encoding != Encoding::IndexStepDelta) throw UsageError("--key-interval needs --encoding index_step_delta");
        o.key_interval = static_cast<int32_t>(k);
    }
    o.description = a.get("description");
    o.model_name = a.get("model-name");
    o.head_reduction = a.get("head-reduction");
    o.notes = a.get("notes");
    o.replace = a.has("replace");
    o.trace = a.get("trace").value_or("");
    o.array = a.get("array").value_or("");

    std::optional<ImportFormat> format;
    if (a.get("format")) format = parseEnum<ImportFormat>(a, "format", importFormatFromString);
    if (!o.trace.empty() && format && *format != ImportFormat::KvtierDb)
        throw UsageError("--trace applies to a kvtier database source; use --name to name the trace");
    if (!o.array.empty() && format && *format != ImportFormat::Npy) throw UsageError("--array applies to .npz files");

    // stdin ("-") and pipes are copied to a temporary file first: the importers and the
    // format guess then read them as they read any file.
    const ImportInput input(file);
    if (input.spooled()) o.shown_name = input.shown();
    if (!format) format = guessImportFormat(input.path(), input.shown());
    if (!o.trace.empty() && *format != ImportFormat::KvtierDb)
        throw UsageError("--trace applies to a kvtier database source; use --name to name the trace");
    if (!o.array.empty() && *format != ImportFormat::Npy) throw UsageError("--array applies to .npz files");
    if (o.experts && *format != ImportFormat::SeedCsv)
        throw UsageError("--experts applies to the seed CSV (the only imported format with expert data)");

    std::error_code ec;
    std::vector<TraceSummary> imported;
    if (std::filesystem::exists(db, ec)) {
        // One transaction: a failure leaves DB as it was. Nothing is ever deleted.
        auto store = TraceStore::open(db, TraceStore::Mode::ReadWrite);
        imported = importFile(*store, input.path(), *format, o);
    } else {
        imported = importIntoNewDatabase(db, input.path(), *format, o);
    }
    for (const auto& s : imported) {
        const TraceMeta& m = s.meta;
        std::printf("imported '%s' (%s) into %s: %s %s, P=%lld T=%lld L=%d, %lld records, %lld entries, %s\n",
                    m.name.c_str(), toString(*format), db.c_str(), toString(m.layer_mode), toString(m.kind),
                    static_cast<long long>(m.prefill), static_cast<long long>(m.steps), m.layers,
                    static_cast<long long>(s.records), static_cast<long long>(s.entries), encodingText(s).c_str());
    }
    return 0;
}

const Registration reg("import", Command{"import a trace file (paper CSV, long CSV, .npy/.npz, kvtier db)", usage(), run});

} // namespace

} // namespace kvtier::cli
