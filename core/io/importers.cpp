#include "core/io/importers.hpp"

#include "core/io/import_db.hpp"
#include "core/io/import_long_csv.hpp"
#include "core/io/import_npy.hpp"
#include "core/io/import_paper_csv.hpp"
#include "core/io/import_seed_csv.hpp"
#include "core/io/import_dsa_topk.hpp"
#include "core/model/error.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <new>
#include <random>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace kvtier {

const char* toString(ImportFormat f)
{
    switch (f) {
    case ImportFormat::PaperCsv: return "paper-csv";
    case ImportFormat::LongCsv: return "long-csv";
    case ImportFormat::Npy: return "npy";
    case ImportFormat::KvtierDb: return "kvtier";
    case ImportFormat::SeedCsv: return "seed-csv";
    case ImportFormat::DsaTopk: return "dsa-topk";
    }
    return "?";
}

ImportFormat importFormatFromString(const std::string& s)
{
    for (ImportFormat f : {ImportFormat::PaperCsv, ImportFormat::LongCsv, ImportFormat::Npy, ImportFormat::KvtierDb,
                           ImportFormat::SeedCsv, ImportFormat::DsaTopk})
        if (s == toString(f)) return f;
    if (s == "npz") return ImportFormat::Npy;
    throw InputError("", "unknown import format '" + s + "' (expected paper-csv, long-csv, seed-csv, dsa-topk, npy or kvtier)");
}

std::string traceNameFromPath(const std::string& path)
{
    std::string stem = std::filesystem::path(path).stem().string();
    return stem.empty() ? "trace" : stem;
}

ImportFormat guessImportFormat(const std::string& path, const std::string& shownAs)
{
    const std::string& shown = shownAs.empty() ? path : shownAs;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw InputError(shown, "no such file");
    std::ifstream f(path, std::ios::binary);
    if (!f) throw InputError(shown, "cannot open for reading");
    // One read of the first bytes, looked at in memory: a pipe cannot be rewound.
    std::string head(4096, '\0');
    f.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(f.gcount()));
    auto startsWith = [&](std::string_view magic) { return head.compare(0, magic.size(), magic) == 0; };
    if (startsWith(std::string_view("SQLite format 3\0", 16))) return ImportFormat::KvtierDb;
    if (startsWith("\x93NUMPY") || startsWith("PK\x03\x04")) return ImportFormat::Npy;
    std::string why;   // what the content says when it is not a format kvtier knows
    if (startsWith("\xFF\xFE") || startsWith("\xFE\xFF"))
        why = "the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8";
    else if (head.find('\0') != std::string::npos)
        why = "the file holds NUL bytes: it looks UTF-16 (or binary); save a CSV as UTF-8";
    else if (const size_t cr = head.find('\r'); cr != std::string::npos && cr + 1 < head.size() && head[cr + 1] != '\n')
        why = "lines end with CR only (old Mac line ends); save the file with LF or CRLF line ends";
    if (why.empty()) {
        // A CSV: the first line that is not a comment is the header.
        size_t pos = startsWith("\xEF\xBB\xBF") ? 3 : 0;
        while (pos < head.size()) {
            const size_t nl = head.find('\n', pos);
            std::string line = head.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
            pos = nl == std::string::npos ? head.size() : nl + 1;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.empty() || line[0] == '#') continue;
            if (line[0] == '{' && line.find("\"topk\"") != std::string::npos) return ImportFormat::DsaTopk;
            std::string h;
            for (char c : line)
                if (c != ' ' && c != '\t') h.push_back(c);
            if (h == "n,l,read_kv") return ImportFormat::PaperCsv;
            if (h == "step,layer,token,score" || h == "step,sequence,layer,token,score") return ImportFormat::LongCsv;
            if (h == "query_id,token_id,layer_id,experts,attention") return ImportFormat::SeedCsv;
            break;
        }
    }
    std::string ext = std::filesystem::path(shown).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (why.empty() && (ext == ".npy" || ext == ".npz")) return ImportFormat::Npy;
    if (why.empty() && ext == ".jsonl") return ImportFormat::DsaTopk;
    if (why.empty() && (ext == ".db" || ext == ".sqlite" || ext == ".sqlite3" || ext == ".kvtier"))
        return ImportFormat::KvtierDb;
    if (!why.empty()) throw InputError(shown, "cannot tell the format: " + why);
    throw InputError(shown, "cannot tell the format (not a kvtier database, .npy/.npz, or a CSV with the header "
                            "'n,l,read_kv', 'step,layer,token,score' or 'query_id,token_id,layer_id,experts,attention', "
                            "or JSON lines with 'topk'); name it with --format");
}

// ---- stdin and pipes -------------------------------------------------------------------

namespace {

// A new, empty file only this process can have created (O_EXCL), in the temporary folder.
std::string createTempFile()
{
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path dir = fs::temp_directory_path(ec);
    if (ec) dir = ".";
    std::random_device rd;
    for (int attempt = 0; attempt < 100; ++attempt) {
        const fs::path p = dir / ("kvtier-import-" + std::to_string(rd()) + std::to_string(rd()) + ".tmp");
        // "x": fail if it exists (C11 exclusive mode), so a planted file or link is never used.
        if (std::FILE* f = std::fopen(p.string().c_str(), "wbx")) {
            std::fclose(f);
            return p.string();
        }
    }
    throw InputError(dir.string(), "cannot create a temporary file to hold the piped input");
}

} // namespace

ImportInput::ImportInput(const std::string& path, const JobControl& control) : path_(path), shown_(path)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    const bool stdinInput = path == "-";
    if (stdinInput) shown_ = "stdin";
    else if (!fs::exists(path, ec)) throw InputError(path, "no such file");
    else if (fs::is_regular_file(path, ec) || fs::is_directory(path, ec)) return;   // the importers say "is a directory"

    // Not seekable: the CSV importers may need two passes, .npz needs its end first, and
    // format guessing peeks. A copy makes every one of them work as on a file.
    std::ifstream pipe;
    std::istream* in = &std::cin;
    if (!stdinInput) {
        pipe.open(path, std::ios::binary);
        if (!pipe) throw InputError(shown_, "cannot open for reading");
        in = &pipe;
    }
    const std::string tmp = createTempFile();
    spooled_ = true;
    path_ = tmp;
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    std::vector<char> buf(size_t{1} << 16);
    while (*in) {
        in->read(buf.data(), static_cast<std::streamsize>(buf.size()));
        const std::streamsize got = in->gcount();
        if (got > 0) out.write(buf.data(), got);
        if (!out) {
            fs::remove(tmp, ec);
            throw InputError(shown_, "cannot copy the piped input to " + tmp + " (disk full?)");
        }
        if (control.cancelled()) {
            fs::remove(tmp, ec);
            throw Cancelled();
        }
    }
    if (in->bad()) {
        fs::remove(tmp, ec);
        throw InputError(shown_, "read error");
    }
}

ImportInput::~ImportInput()
{
    std::error_code ec;
    if (spooled_) std::filesystem::remove(path_, ec);
}

std::vector<TraceSummary> importFile(TraceStore& store, const std::string& path, ImportFormat format,
                                     const ImportOptions& options)
{
    const std::string& shown = options.shown_name.empty() ? path : options.shown_name;
    if (options.experts && format != ImportFormat::SeedCsv)
        throw InputError("--experts", std::string("applies to the seed CSV; ") + toString(format) + " files carry no expert data");
    try {
        switch (format) {
        case ImportFormat::PaperCsv: return {importPaperCsv(store, path, options)};
        case ImportFormat::LongCsv: return {importLongCsv(store, path, options)};
        case ImportFormat::Npy: return {importNpy(store, path, options)};
        case ImportFormat::KvtierDb: return importKvtierDb(store, path, options);
        case ImportFormat::SeedCsv: return {importSeedCsv(store, path, options)};
        case ImportFormat::DsaTopk: return {importDsaTopk(store, path, options)};
        }
    } catch (const InputError& e) {
        // A spooled pipe: the importers that open the copy by name (kvtier databases) would
        // otherwise name the temporary file.
        if (shown == path || e.where().compare(0, path.size(), path) != 0) throw;
        throw InputError(shown + e.where().substr(path.size()), e.problem());
    } catch (const std::bad_alloc&) {
        // The importers check sizes before allocating; this is the backstop for what no
        // check foresaw, so the user still gets one line naming the file.
        throw InputError(shown, "out of memory while importing");
    } catch (const std::length_error&) {
        throw InputError(shown, "out of memory while importing (a size beyond what this machine can hold)");
    }
    throw InputError(shown, "unknown import format");
}

} // namespace kvtier
