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
#include <functional>
#include <limits>

namespace kvtier {

namespace {

std::string arrayName(const NpzEntry& e)
{
    const std::string& n = e.name;
    return n.size() > 4 && n.compare(n.size() - 4, 4, ".npy") == 0 ? n.substr(0, n.size() - 4) : n;
}

// The array position [s, ]t[, l], i (s only with a sequence axis).
std::string positionText(int64_t s, int64_t t, int64_t l, int64_t i, bool perLayer)
{
    std::string out = "[";
    if (s >= 0) out += std::to_string(s) + ", ";
    out += std::to_string(t) + ", ";
    if (perLayer) out += std::to_string(l) + ", ";
    return out + std::to_string(i) + "]";
}

// Sequences an .npz may hold: each is read through its own stream, which first skips the
// sequences before it (a deflated entry cannot seek), so the work grows with S^2.
constexpr uint64_t kMaxNpzSequences = 256;
// Bytes the per-sequence streams may skip in all, or 16 x the array when that is more.
constexpr uint64_t kMaxNpzSkipBytes = uint64_t{4} << 30;

// `seqPrefill` non-empty: the array has a leading sequence axis of that many sequences, and
// `reopen` opens the same array again (one stream per sequence).
TraceSummary importArray(TraceStore& store, const std::string& shown, ArrayStream& in, std::optional<int64_t> prefill,
                         const std::string& defaultName, const std::string& arrayLabel, const ImportOptions& opt,
                         const std::vector<int64_t>& seqPrefill = {},
                         const std::function<std::unique_ptr<ArrayStream>()>& reopen = {})
{
    const bool batch = !seqPrefill.empty();
    const size_t lead = batch ? 1 : 0;   // the sequence axis
    const auto S = static_cast<uint64_t>(batch ? seqPrefill.size() : 1);
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
    if (h.shape.size() != 2 + lead && h.shape.size() != 3 + lead)
        throw InputError(in.where(), "wrong rank: shape " + shapeText(h.shape) +
                                         (batch ? ", expected [S, T, n_max] (aggregated) or [S, T, L, n_max] (per layer): "
                                                  "the archive has a sequence_prefill array"
                                                : ", expected [T, n_max] (aggregated) or [T, L, n_max] (per layer)"));
    if (batch && h.shape[0] != S)
        throw InputError(in.where(), "shape " + shapeText(h.shape) + " has " + std::to_string(h.shape[0]) +
                                         " sequences on its first axis, but sequence_prefill lists " + std::to_string(S));
    const uint64_t dataBytes = elementCount(h, in.where()) * static_cast<uint64_t>(h.item_size);
    if (in.remaining() < dataBytes)
        throw InputError(in.where(), "truncated file: shape " + shapeText(h.shape) + " needs " +
                                         std::to_string(dataBytes) + " bytes of data, only " +
                                         std::to_string(in.remaining()) + " follow the header");
    const bool perLayer = h.shape.size() == 3 + lead;
    const uint64_t T = h.shape[lead];
    const uint64_t L = perLayer ? h.shape[lead + 1] : 1;
    const uint64_t nmax = h.shape.back();
    if (!prefill && !batch)
        throw InputError(shown, "prefill length unknown: give P (--prefill) or store an integer array named "
                                    "'prefill' in the .npz");
    // P: the largest P_s, which bounds the context and n_max.
    const int64_t P = batch ? *std::max_element(seqPrefill.begin(), seqPrefill.end()) : *prefill;
    // The limits, checked before anything is written: an array with n_max = 0 holds no
    // bytes, so only the limits stop it from claiming billions of (empty) records.
    if (perLayer && (L == 0 || L > static_cast<uint64_t>(kMaxLayers)))
        throw InputError(in.where(), "layer dimension " + std::to_string(L) + " out of range (1.." +
                                         std::to_string(kMaxLayers) + ")");
    if (T > static_cast<uint64_t>(limits::kMaxRecords) / (L * S))
        throw InputError(in.where(), "shape " + shapeText(h.shape) + " holds " + (batch ? "S x " : "") +
                                         (perLayer ? "T x L" : std::string("T")) + " records, beyond the limit of " +
                                         std::to_string(limits::kMaxRecords));
    if (P > kMaxContextTokens || static_cast<int64_t>(T) > kMaxContextTokens - P + 1)
        throw InputError(in.where(), "P = " + std::to_string(P) + " and T = " + std::to_string(T) +
                                         " make a context beyond the limit of 2^32 tokens");
    if (T > 0 && nmax < static_cast<uint64_t>(P) + T - 1)
        throw InputError(in.where(), "n_max = " + std::to_string(nmax) + (batch ? " < max P_s + T - 1 = " : " < P + T - 1 = ") +
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
    meta.prefill = batch ? seqPrefill.front() : P;
    if (S > 1) meta.sequence_prefill = seqPrefill;
    meta.steps = static_cast<int64_t>(T);
    meta.layer_mode = perLayer ? LayerMode::PerLayer : LayerMode::Aggregated;
    meta.layers = perLayer ? static_cast<int32_t>(L) : opt.layers.value_or(1);
    if (opt.layer_mode && *opt.layer_mode != meta.layer_mode)
        throw InputError(in.where(), "shape " + shapeText(h.shape) + " holds a " + toString(meta.layer_mode) +
                                         " trace, not " + toString(*opt.layer_mode));

    // Each stream skips the sequences before its own: S (S - 1) / 2 blocks in all, bounded so a
    // small archive of many sequences cannot make the import inflate for hours.
    {
        const double skip = static_cast<double>(T * L * nmax) * static_cast<double>(h.item_size) * static_cast<double>(S) *
                            static_cast<double>(S - 1) / 2.0;
        const double limit = std::max(static_cast<double>(kMaxNpzSkipBytes), 16.0 * static_cast<double>(dataBytes));
        if (skip > limit)
            throw InputError(in.where(), "reading S = " + std::to_string(S) + " sequences in step order would skip " +
                                             readableBytes(static_cast<uint64_t>(skip)) + " of array data, beyond max(" +
                                             readableBytes(kMaxNpzSkipBytes) +
                                             ", 16 x the array) (the limit); split the sequences over several archives");
    }
    auto writer = store.beginTrace(meta, opt.encoding.value_or(Encoding::DenseF32), opt.replace, opt.key_interval);
    const auto item = static_cast<size_t>(h.item_size);
    // A row is read in chunks, never whole: n_max is a number the header states, and the
    // padding past n_t is only skipped.
    constexpr uint64_t kChunkElements = 1 << 14;
    std::vector<unsigned char> chunk(item * static_cast<size_t>(std::min<uint64_t>(nmax, kChunkElements)));
    const uint64_t nonzeroLimit = in.nonzeroLimit();
    uint64_t nonzero = 0;
    // One stream per sequence, each at its sequence's first row: the array is [S, T, ...]
    // while records are stored (t, s, l).
    std::vector<ArrayStream*> streams{&in};
    std::vector<std::unique_ptr<ArrayStream>> owned;
    const uint64_t block = T * L * nmax * static_cast<uint64_t>(item);   // one sequence's bytes
    for (uint64_t q = 1; q < S; ++q) {
        owned.push_back(reopen());
        ArrayStream& more = *owned.back();
        readNpyHeader(more);
        for (uint64_t left = q * block; left > 0;) {   // skipped, not parsed
            const auto n = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
            more.read(chunk.data(), n, "the array data");
            left -= n;
            opt.control.check();
        }
        streams.push_back(&more);
    }
    Record rec;
    const double total = static_cast<double>(std::max<uint64_t>(T * L * S, 1));
    for (uint64_t t = 0; t < T; ++t) {
        for (uint64_t q = 0; q < S; ++q) {
            ArrayStream& src = *streams[static_cast<size_t>(q)];
            const uint64_t n = static_cast<uint64_t>(meta.prefillOf(static_cast<int32_t>(q))) + t;
            const int64_t seqPos = batch ? static_cast<int64_t>(q) : -1;
            for (uint64_t l = 0; l < L; ++l) {
                rec.step = static_cast<int64_t>(t);
                rec.sequence = static_cast<int32_t>(q);
                rec.layer = perLayer ? static_cast<int32_t>(l) : -1;
                rec.index.clear();
                rec.value.clear();
                for (uint64_t start = 0; start < nmax; start += kChunkElements) {
                    const uint64_t count = std::min(kChunkElements, nmax - start);
                    src.read(chunk.data(), static_cast<size_t>(count) * item, "the array data");
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
                                                 positionText(seqPos, static_cast<int64_t>(t), static_cast<int64_t>(l),
                                                              static_cast<int64_t>(i), perLayer),
                                             std::string("score is ") + bad + " (" + std::to_string(v) + ")" +
                                                 (batch ? " in sequence s=" + std::to_string(q) : std::string()) + " at step t=" +
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
                                             positionText(seqPos, static_cast<int64_t>(t), static_cast<int64_t>(l),
                                                          static_cast<int64_t>(start + used), perLayer),
                                         "more than " + std::to_string(nonzeroLimit) + " non-zero scores from " +
                                             readableBytes(in.compressedSize()) + " of deflated data (limit: " +
                                             std::to_string(limits::kMaxNonzeroPerCompressedByte) +
                                             " per compressed byte); a zip bomb? If the data is really this "
                                             "repetitive, save it with np.savez (uncompressed)");
                }
                nonzero += rec.index.size();
                writer->add(rec);
                opt.control.report(static_cast<double>((t * S + q) * L + l + 1) / total);
            }
        }
    }
    streams.back()->finish();   // the last sequence's stream read the array to its end
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
    std::vector<int64_t> seqPrefill;   // non-empty: the scores array has a sequence axis
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
        if (name == "sequence_prefill") {
            auto in = archive.open(e);
            seqPrefill = readSequencePrefillArray(*in, kMaxNpzSequences);
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
    if (!seqPrefill.empty() && prefill && *prefill != seqPrefill.front())
        throw InputError(shown, "sequence_prefill starts with P_0 = " + std::to_string(seqPrefill.front()) + " but P = " +
                                    std::to_string(*prefill) + (opt.prefill ? " was given" : " in the prefill array"));
    auto in = archive.open(*scores);
    std::string label(1, ':');   // (not ":" + ...: GCC 12 reports a false -Wrestrict there)
    label += arrayName(*scores);
    return importArray(store, shown, *in, prefill, stem, label, opt, seqPrefill,
                       [&] { return archive.open(*scores); });
}

} // namespace kvtier
