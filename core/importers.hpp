#pragma once
// Importing traces into a TraceStore (docs/TRACE_FORMAT.md): the options every importer
// shares, the formats, and one entry point that picks the importer. Each importer streams
// its input and writes one transaction, so a failed import leaves the store unchanged.
#include "core/cancel.hpp"
#include "core/trace_store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace kvtier {

enum class ImportFormat { PaperCsv, LongCsv, Npy, KvtierDb };

const char* toString(ImportFormat f);                      // paper-csv, long-csv, npy, kvtier
ImportFormat importFormatFromString(const std::string& s); // throws InputError
// By content first (SQLite header, .npy/.zip magic, CSV header line), then extension.
// Throws InputError(path, ...) when it cannot tell.
ImportFormat guessImportFormat(const std::string& path);

struct ImportOptions {
    std::string name;                      // trace name; empty: from the file (header comment, file stem)
    std::optional<int64_t> prefill;        // P, where the file does not say it
    std::optional<Encoding> encoding;      // storage; empty: the format's default
    std::optional<LayerMode> layer_mode;   // paper-csv: aggregated = union of a step's layers
    std::optional<int32_t> layers;         // L of an aggregated trace when the file does not say it
                                           // (the model's layer count); ignored otherwise
    std::optional<std::string> description;
    std::optional<std::string> model_name;
    std::optional<std::string> head_reduction;
    std::optional<std::string> notes;
    bool replace = false;                  // overwrite traces of the same name
    std::string trace;                     // kvtier source: the trace to copy (empty: all)
    std::string array;                     // npz: the scores array (empty: 'scores' or the only float array)
    JobControl control;                    // cancellation and progress (0..1)
};

// Name for a trace imported from `path` when none is given: the file name without its
// extension ("runs/qasper.csv" -> "qasper").
std::string traceNameFromPath(const std::string& path);

// Imports `path` in `format`; returns the summaries of the traces written.
std::vector<TraceSummary> importFile(TraceStore& store, const std::string& path, ImportFormat format,
                                     const ImportOptions& options);

} // namespace kvtier
