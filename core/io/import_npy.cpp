#include "core/io/import_npy.hpp"

#include "core/io/array_stream.hpp"
#include "core/io/import_limits.hpp"
#include "core/io/input_text.hpp"
#include "core/io/npy_format.hpp"
#include "core/io/npz_archive.hpp"
#include "core/model/error.hpp"
#include "core/model/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

namespace kvtier {

namespace {

std::string arrayName(const NpzEntry& e)
{
    const std::string& n = e.name;
    return n.size() > 4 && n.compare(n.size() - 4, 4, ".npy") == 0 ? n.substr(0, n.size() - 4) : n;
}

std::string positionText(int64_t t, int64_t l, int64_t i, bool perLayer)
{
    return perLayer ? "[" + std::to_string(t) + ", " + std::to_string(l) + ", " + std::to_string(i) + "]"
                    : "[" + std::to_string(t) + ", " + std::to_string(i) + "]";
}

TraceSummary importArray(TraceStore& store, const std::string& shown, ArrayStream& in, std::optional<int64_t> prefill,
                         const std::string& defaultName, const std::string& arrayLabel, const ImportOptions& opt)
{
    const NpyHeader h = readNpyHeader(in);
    if (!isFloat(h))
        throw InputError(in.where(), "unsupported dtype '" + excerpt(h.descr, 40) + "' (expected float16, float32 or float64)");
    if (h.byte_order == '>')
        throw InputError(in.where(), "big-endian dtype '" + excerpt(h.descr, 40) + "' is not supported; save it with "
                                                                     "arr.astype('<f" + std::to_string(h.item_size) + "')");
    if (h.byte_order != '<' && h.byte_order != '=')
        throw InputError(in.where(), "unsupported dtype '" + excerpt(h.descr, 40) + "'");
    if (h.fortran_order)
        throw InputError(in.where(), "Fortran-order (column-major) arrays are not supported; save it with "
                                     "np.ascontiguousarray(arr)");
    if (h.shape.size() != 2 && h.shape.size() != 3)
        throw InputError(in.where(), "wrong rank: shape " + shapeText(h.shape) +
                                         ", expected [T, n_max] (aggregated) or [T, L, n_max] (per layer)");
    const uint64_t dataBytes = elementCount(h, in.where()) * static_cast<uint64_t>(h.item_size);
    if (in.remaining() < dataBytes)
        throw InputError(in.where(), "truncated file: shape " + shapeText(h.shape) + " needs " +
                                         std::to_string(dataBytes) + " bytes of data, only " +
                                         std::to_string(in.remaining()) + " follow the header");
    const bool perLayer = h.shape.size() == 3;
    const uint64_t T = h.shape[0];
    const uint64_t L = perLayer ? h.shape[1] : 1;
    const uint64_t nmax = h.shape.back();
    if (!prefill)
        throw InputError(shown, "prefill length unknown: give P (--prefill) or store an integer array named "
                                    "'prefill' in the .npz");
    const int64_t P = *prefill;
    // The limits, checked before anything is written: an array with n_max = 0 holds no
    // bytes, so only the limits stop it from claiming billions of (empty) records.
    if (perLayer && (L == 0 || L > static_cast<uint64_t>(kMaxLayers)))
        throw InputError(in.where(), "layer dimension " + std::to_string(L) + " out of range (1.." +
                                         std::to_string(kMaxLayers) + ")");
    if (T > static_cast<uint64_t>(limits::kMaxRecords) / L)
        throw InputError(in.where(), "shape " + shapeText(h.shape) + " holds " +
                                         (perLayer ? "T x L" : std::string("T")) + " records, beyond the limit of " +
                                         std::to_string(limits::kMaxRecords));
    if (P > kMaxContextTokens || static_cast<int64_t>(T) > kMaxContextTokens - P + 1)
        throw InputError(in.where(), "P = " + std::to_string(P) + " and T = " + std::to_string(T) +
                                         " make a context beyond the limit of 2^32 tokens");
    if (T > 0 && nmax < static_cast<uint64_t>(P) + T - 1)
        throw InputError(in.where(), "n_max = " + std::to_string(nmax) + " < P + T - 1 = " +
                                         std::to_string(P + static_cast<int64_t>(T) - 1) +
                                         " (the last step needs that many scores)");

    TraceMeta meta;
    meta.name = opt.name.empty() ? defaultName : opt.name;
    meta.source = "npy " + shown + arrayLabel;
    meta.description = opt.description.value_or("");
    meta.model_name = opt.model_name.value_or("");
    meta.head_reduction = opt.head_reduction.value_or("mean");
    meta.notes = opt.notes.value_or("");
    meta.kind = RecordKind::Scores;
    meta.prefill = P;
    meta.steps = static_cast<int64_t>(T);
    meta.layer_mode = perLayer ? LayerMode::PerLayer : LayerMode::Aggregated;
    meta.layers = perLayer ? static_cast<int32_t>(L) : opt.layers.value_or(1);
    if (opt.layer_mode && *opt.layer_mode != meta.layer_mode)
        throw InputError(in.where(), "shape " + shapeText(h.shape) + " holds a " + toString(meta.layer_mode) +
                                         " trace, not " + toString(*opt.layer_mode));

    auto writer = store.beginTrace(meta, opt.encoding.value_or(Encoding::DenseF32), opt.replace);
    const auto item = static_cast<size_t>(h.item_size);
    // A row is read in chunks, never whole: n_max is a number the header states, and the
    // padding past n_t is only skipped.
    constexpr uint64_t kChunkElements = 1 << 14;
    std::vector<unsigned char> chunk(item * static_cast<size_t>(std::min<uint64_t>(nmax, kChunkElements)));
    const uint64_t nonzeroLimit = in.nonzeroLimit();
    uint64_t nonzero = 0;
    Record rec;
    const double total = static_cast<double>(std::max<uint64_t>(T * L, 1));
    for (uint64_t t = 0; t < T; ++t) {
        const uint64_t n = static_cast<uint64_t>(P) + t;
        for (uint64_t l = 0; l < L; ++l) {
            rec.step = static_cast<int64_t>(t);
            rec.layer = perLayer ? static_cast<int32_t>(l) : -1;
            rec.index.clear();
            rec.value.clear();
            for (uint64_t start = 0; start < nmax; start += kChunkElements) {
                const uint64_t count = std::min(kChunkElements, nmax - start);
                in.read(chunk.data(), static_cast<size_t>(count) * item, "the array data");
                opt.control.check();
                const uint64_t used = start >= n ? 0 : std::min(count, n - start);   // the rest is padding
                for (uint64_t k = 0; k < used; ++k) {
                    const uint64_t i = start + k;
                    const double v = floatElementAt(chunk.data() + item * static_cast<size_t>(k), item);
                    const char* bad = std::isnan(v) ? "NaN" : std::isinf(v) ? "infinite" : v < 0 ? "negative" : nullptr;
                    if (!bad && std::fabs(v) > static_cast<double>(std::numeric_limits<float>::max()))
                        bad = "beyond the float32 range";
                    if (bad)
                        throw InputError(in.where() + " at " +
                                             positionText(static_cast<int64_t>(t), static_cast<int64_t>(l),
                                                          static_cast<int64_t>(i), perLayer),
                                         std::string("score is ") + bad + " (" + std::to_string(v) + ") at step t=" +
                                             std::to_string(t) + (perLayer ? ", layer l=" + std::to_string(l) : std::string()) +
                                             ", token i=" + std::to_string(i));
                    const auto f = static_cast<float>(v);
                    if (f != 0.0f) {
                        rec.index.push_back(static_cast<uint32_t>(i));
                        rec.value.push_back(f);
                    }
                }
                if (nonzero + rec.index.size() > nonzeroLimit)
                    throw InputError(in.where() + " at " +
                                         positionText(static_cast<int64_t>(t), static_cast<int64_t>(l),
                                                      static_cast<int64_t>(start + used), perLayer),
                                     "more than " + std::to_string(nonzeroLimit) + " non-zero scores from " +
                                         readableBytes(in.compressedSize()) + " of deflated data (limit: " +
                                         std::to_string(limits::kMaxNonzeroPerCompressedByte) +
                                         " per compressed byte); a zip bomb? If the data is really this "
                                         "repetitive, save it with np.savez (uncompressed)");
            }
            nonzero += rec.index.size();
            writer->add(rec);
            opt.control.report(static_cast<double>(t * L + l + 1) / total);
        }
    }
    in.finish();
    writer->commit();
    return store.get(meta.name);
}

} // namespace

TraceSummary importNpy(TraceStore& store, const std::string& path, const ImportOptions& opt)
{
    const std::string shown = opt.shown_name.empty() ? path : opt.shown_name;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw InputError(shown, "no such file");
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw InputError(shown, "cannot open for reading");
    char magic[6] = {};
    probe.read(magic, 6);
    const auto got = probe.gcount();
    probe.close();
    const std::string stem = traceNameFromPath(shown);

    if (got == 6 && std::memcmp(magic, "\x93NUMPY", 6) == 0) {
        if (!opt.array.empty())
            throw InputError(shown, "a .npy file holds one array; choosing one ('" + excerpt(opt.array) + "') needs an .npz");
        auto in = openNpyFile(path, shown);
        return importArray(store, shown, *in, opt.prefill, stem, "", opt);
    }
    // A zip starts with a local header ("PK\3\4"); an empty one is only its end record ("PK\5\6").
    if (got < 4 || std::memcmp(magic, "PK\3\4", 4) != 0) {
        if (got >= 4 && std::memcmp(magic, "PK\5\6", 4) == 0) throw InputError(shown, "empty .npz archive (no arrays)");
        throw InputError(shown, "bad magic: neither a .npy array (\\x93NUMPY) nor an .npz archive (PK zip)");
    }

    const NpzArchive archive(path, shown);
    if (archive.entries().empty()) throw InputError(shown, "empty .npz archive (no arrays)");
    std::optional<int64_t> prefill = opt.prefill;
    const NpzEntry* scores = nullptr;
    std::vector<const NpzEntry*> floats;
    std::string names, floatNames;
    for (const NpzEntry& e : archive.entries()) {
        const std::string name = arrayName(e);
        if (names.size() < 200) names += (names.empty() ? "" : ", ") + excerpt(name, 40);
        if (name == "prefill") {
            auto in = archive.open(e);
            const int64_t p = readPrefillArray(*in);
            if (opt.prefill && *opt.prefill != p)
                throw InputError(shown, "the archive says prefill = " + std::to_string(p) + " but P = " +
                                            std::to_string(*opt.prefill) + " was given");
            prefill = p;
            continue;
        }
        if (!opt.array.empty()) {
            if (name == opt.array) scores = &e;
            continue;
        }
        if (name == "scores") {
            scores = &e;
            continue;
        }
        auto in = archive.open(e);
        if (isFloat(readNpyHeader(*in))) {
            floats.push_back(&e);
            if (floatNames.size() < 200) floatNames += (floatNames.empty() ? "" : ", ") + excerpt(name, 40);
        }
    }
    if (!opt.array.empty() && !scores)
        throw InputError(shown, "no array named '" + excerpt(opt.array) + "' (the archive holds: " + names + ")");
    if (!scores) {
        if (floats.empty()) throw InputError(shown, "no float array to import (the archive holds: " + names + ")");
        if (floats.size() > 1)
            throw InputError(shown, "several float arrays (" + floatNames + "); name the scores array 'scores' "
                                    "or choose one (--array NAME)");
        scores = floats.front();
    }
    auto in = archive.open(*scores);
    std::string label(1, ':');   // (not ":" + ...: GCC 12 reports a false -Wrestrict there)
    label += arrayName(*scores);
    return importArray(store, shown, *in, prefill, stem, label, opt);
}

} // namespace kvtier
