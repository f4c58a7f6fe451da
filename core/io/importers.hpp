#pragma once
// Importing traces into a TraceStore (docs/TRACE_FORMAT.md): the options every importer
// shares, the formats, and one entry point that picks the importer. Each importer streams
// its input and writes one transaction, so a failed import leaves the store unchanged.
#include "core/model/cancel.hpp"
#include "core/store/trace_store.hpp"

#include <optional>
#include <string>
#include <vector>

namespace kvtier {

enum class ImportFormat { PaperCsv, LongCsv, Npy, KvtierDb, SeedCsv, DsaTopk };

const char* toString(ImportFormat f);                      // paper-csv, long-csv, npy, kvtier, seed-csv, dsa-topk
ImportFormat importFormatFromString(const std::string& s); // throws InputError
// By content first (SQLite header, .npy/.zip magic, CSV header line, a JSON line with
// "topk"), then extension.
// Throws InputError(shownAs, ...) when it cannot tell, saying why when it can see it (a
// UTF-16 file, CR-only line ends). Reads the first bytes once and never seeks.
ImportFormat guessImportFormat(const std::string& path, const std::string& shownAs = {});

// The file to import, as the importers need it: a regular file that can be read twice and
// seeked. stdin ("-") and pipes (FIFOs, the /dev/fd/N of a shell's <(...)) are copied to a
// temporary file first, removed again when this object goes; path() is then that copy and
// shown() the name for messages ("stdin" or the pipe's path).
class ImportInput {
public:
    explicit ImportInput(const std::string& path, const JobControl& control = {});
    ~ImportInput();
    ImportInput(const ImportInput&) = delete;
    ImportInput& operator=(const ImportInput&) = delete;
    const std::string& path() const { return path_; }
    const std::string& shown() const { return shown_; }
    bool spooled() const { return spooled_; }

private:
    std::string path_;
    std::string shown_;
    bool spooled_ = false;
};

struct ImportOptions {
    std::string name;                      // trace name; empty: from the file (header comment, file stem)
    std::optional<int64_t> prefill;        // P, where the file does not say it
    std::optional<Encoding> encoding;      // storage; empty: the format's default
    int32_t key_interval = 0;              // K of an index_step_delta trace; 0: the default (a
                                           // kvtier source's own K when its encoding is kept)
    std::optional<LayerMode> layer_mode;   // paper-csv: aggregated = union of a step's layers
    std::optional<int32_t> layers;         // L of an aggregated trace when the file does not say it
                                           // (the model's layer count); ignored otherwise
    std::optional<int32_t> experts;        // seed-csv: E, the experts per layer (MODEL.md §9);
                                           // empty: the largest expert id + 1
    std::optional<std::string> description;
    std::optional<std::string> model_name;
    std::optional<std::string> head_reduction;
    std::optional<std::string> notes;
    bool replace = false;                  // overwrite traces of the same name
    std::string trace;                     // kvtier source: the trace to copy (empty: all)
    std::string array;                     // npz: the scores array (empty: 'scores' or the only float array)
    std::string shown_name;                // the file's name in messages and the trace's source
                                           // (empty: the path; "stdin" for a spooled pipe)
    JobControl control;                    // cancellation and progress (0..1)
};

// Name for a trace imported from `path` when none is given: the file name without its
// extension ("runs/qasper.csv" -> "qasper").
std::string traceNameFromPath(const std::string& path);

// Imports `path` in `format`; returns the summaries of the traces written. Running out of
// memory is reported as an InputError naming the file, not as a bare std::bad_alloc.
std::vector<TraceSummary> importFile(TraceStore& store, const std::string& path, ImportFormat format,
                                     const ImportOptions& options);

} // namespace kvtier
