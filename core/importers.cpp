#include "core/importers.hpp"

#include "core/error.hpp"
#include "core/import_db.hpp"
#include "core/import_long_csv.hpp"
#include "core/import_npy.hpp"
#include "core/import_paper_csv.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace kvtier {

const char* toString(ImportFormat f)
{
    switch (f) {
    case ImportFormat::PaperCsv: return "paper-csv";
    case ImportFormat::LongCsv: return "long-csv";
    case ImportFormat::Npy: return "npy";
    case ImportFormat::KvtierDb: return "kvtier";
    }
    return "?";
}

ImportFormat importFormatFromString(const std::string& s)
{
    for (ImportFormat f : {ImportFormat::PaperCsv, ImportFormat::LongCsv, ImportFormat::Npy, ImportFormat::KvtierDb})
        if (s == toString(f)) return f;
    if (s == "npz") return ImportFormat::Npy;
    throw InputError("", "unknown import format '" + s + "' (expected paper-csv, long-csv, npy or kvtier)");
}

std::string traceNameFromPath(const std::string& path)
{
    std::string stem = std::filesystem::path(path).stem().string();
    return stem.empty() ? "trace" : stem;
}

ImportFormat guessImportFormat(const std::string& path)
{
    std::ifstream f(path, std::ios::binary);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw InputError(path, "no such file");
    if (!f) throw InputError(path, "cannot open for reading");
    char head[16] = {};
    f.read(head, sizeof head);
    const auto got = static_cast<size_t>(f.gcount());
    if (got == 16 && std::memcmp(head, "SQLite format 3\0", 16) == 0) return ImportFormat::KvtierDb;
    if (got >= 6 && std::memcmp(head, "\x93NUMPY", 6) == 0) return ImportFormat::Npy;
    if (got >= 4 && std::memcmp(head, "PK\x03\x04", 4) == 0) return ImportFormat::Npy;
    // A CSV: the first line that is not a comment is the header.
    f.clear();
    f.seekg(0);
    std::string line;
    for (int k = 0; k < 1000 && std::getline(f, line); ++k) {
        if (k == 0 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line[0] == '#') continue;
        std::string h;
        for (char c : line)
            if (c != ' ' && c != '\t') h.push_back(c);
        if (h == "n,l,read_kv") return ImportFormat::PaperCsv;
        if (h == "step,layer,token,score") return ImportFormat::LongCsv;
        break;
    }
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == ".npy" || ext == ".npz") return ImportFormat::Npy;
    if (ext == ".db" || ext == ".sqlite" || ext == ".sqlite3" || ext == ".kvtier") return ImportFormat::KvtierDb;
    throw InputError(path, "cannot tell the format (not a kvtier database, .npy/.npz, or a CSV with the header "
                           "'n,l,read_kv' or 'step,layer,token,score'); name it with --format");
}

std::vector<TraceSummary> importFile(TraceStore& store, const std::string& path, ImportFormat format,
                                     const ImportOptions& options)
{
    switch (format) {
    case ImportFormat::PaperCsv: return {importPaperCsv(store, path, options)};
    case ImportFormat::LongCsv: return {importLongCsv(store, path, options)};
    case ImportFormat::Npy: return {importNpy(store, path, options)};
    case ImportFormat::KvtierDb: return importKvtierDb(store, path, options);
    }
    throw InputError(path, "unknown import format");
}

} // namespace kvtier
