#include "core/io/import_npy.hpp"

#include "core/io/import_limits.hpp"
#include "core/io/input_text.hpp"
#include "core/model/error.hpp"
#include "core/model/half.hpp"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>

namespace kvtier {

namespace {

uint16_t le16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t le32(const unsigned char* p)
{
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
           static_cast<uint32_t>(p[3]) << 24;
}
uint64_t le64(const unsigned char* p) { return static_cast<uint64_t>(le32(p)) | static_cast<uint64_t>(le32(p + 4)) << 32; }

// The file to open, and the name messages use for it (a pipe is read from a spooled copy).
struct Source {
    std::string path;
    std::string shown;
};

uint64_t fileSize(const Source& src)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(src.path, ec))
        throw InputError(src.shown, "is not a regular file (a pipe?): .npy/.npz need a file kvtier can seek in; "
                                    "save it to a file first");
    const auto n = std::filesystem::file_size(src.path, ec);
    if (ec) throw InputError(src.shown, "cannot read: " + ec.message());
    return n;
}

void openFile(std::ifstream& f, const Source& src)
{
    std::error_code ec;
    if (!std::filesystem::exists(src.path, ec)) throw InputError(src.shown, "no such file");
    f.open(src.path, std::ios::binary);
    if (!f) throw InputError(src.shown, "cannot open for reading");
}

void readAt(std::ifstream& f, const Source& src, uint64_t offset, unsigned char* dst, size_t n, const char* what)
{
    f.clear();
    f.seekg(static_cast<std::streamoff>(offset));
    f.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(n));
    if (static_cast<size_t>(f.gcount()) != n)
        throw InputError(src.shown, std::string("truncated file (") + what + " at byte " + std::to_string(offset) +
                                        " is cut off)");
}

// ---- a byte stream over one array: a plain file region, or a zip entry -----------------

class EntryStream {
public:
    // `method` 0 = stored, 8 = deflate. `crc` checked when `checkCrc` and the whole entry was read.
    EntryStream(const Source& src, std::string where, uint64_t offset, uint64_t compressedSize,
                uint64_t size, uint16_t method, uint32_t crc, bool checkCrc)
        : where_(std::move(where)), compressed_(compressedSize), left_(compressedSize), size_(size),
          method_(method), crc_(crc), checkCrc_(checkCrc)
    {
        openFile(f_, src);
        f_.seekg(static_cast<std::streamoff>(offset));
        if (method_ == 8) {
            std::memset(&zs_, 0, sizeof zs_);
            if (inflateInit2(&zs_, -MAX_WBITS) != Z_OK) throw InputError(where_, "zlib initialisation failed");
            zInit_ = true;
            in_.resize(1 << 16);
        } else if (method_ != 0) {
            throw InputError(where_, "unsupported zip compression method " + std::to_string(method_) +
                                         " (only stored and deflate)");
        }
    }
    ~EntryStream()
    {
        if (zInit_) inflateEnd(&zs_);
    }
    EntryStream(const EntryStream&) = delete;
    EntryStream& operator=(const EntryStream&) = delete;

    const std::string& where() const { return where_; }
    uint64_t remaining() const { return size_ - done_; }   // bytes the entry (file) still holds
    uint64_t size() const { return size_; }
    // Non-zero scores this entry may yield (limits::kMaxNonzeroPerCompressedByte): a
    // deflate bomb of repeated non-zero values must not become a huge database.
    uint64_t nonzeroLimit() const
    {
        if (method_ != 8) return std::numeric_limits<uint64_t>::max();   // stored: costs its bytes
        return std::max<uint64_t>(limits::kNonzeroAllowance,
                                  compressed_ * static_cast<uint64_t>(limits::kMaxNonzeroPerCompressedByte));
    }
    uint64_t compressedSize() const { return compressed_; }

    // Exactly n bytes, or InputError "truncated".
    void read(unsigned char* dst, size_t n, const char* what)
    {
        const size_t got = method_ == 8 ? inflateSome(dst, n) : readStored(dst, n);
        runningCrc_ = crc32_z(runningCrc_, dst, got);
        done_ += got;
        if (got != n)
            throw InputError(where_, std::string("truncated file: ") + what + " is cut off after byte " +
                                         std::to_string(done_));
    }

    // After the last row: a whole zip entry must match its CRC-32.
    void finish()
    {
        if (!checkCrc_ || done_ != size_) return;
        if (static_cast<uint32_t>(runningCrc_) != crc_)
            throw InputError(where_, "CRC-32 mismatch: the archive entry is corrupt");
    }

private:
    size_t readStored(unsigned char* dst, size_t n)
    {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(n, left_));
        f_.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(want));
        const auto got = static_cast<size_t>(f_.gcount());
        left_ -= got;
        return got;
    }

    size_t inflateSome(unsigned char* dst, size_t n)
    {
        zs_.next_out = dst;
        zs_.avail_out = static_cast<uInt>(n);   // rows are far below 4 GiB
        if (n > std::numeric_limits<uInt>::max()) throw InputError(where_, "row too large");
        while (zs_.avail_out > 0 && !ended_) {
            if (zs_.avail_in == 0) {
                const size_t want = static_cast<size_t>(std::min<uint64_t>(in_.size(), left_));
                f_.read(reinterpret_cast<char*>(in_.data()), static_cast<std::streamsize>(want));
                const auto got = static_cast<size_t>(f_.gcount());
                left_ -= got;
                zs_.next_in = in_.data();
                zs_.avail_in = static_cast<uInt>(got);
                if (got == 0) break;   // compressed data ran out: truncated
            }
            const int rc = inflate(&zs_, Z_NO_FLUSH);
            if (rc == Z_STREAM_END) ended_ = true;
            else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT)
                throw InputError(where_, std::string("corrupt deflate data (") + (zs_.msg ? zs_.msg : "zlib") + ")");
            else if (rc == Z_MEM_ERROR) throw InputError(where_, "out of memory while inflating");
            else if (rc != Z_OK && rc != Z_BUF_ERROR) throw InputError(where_, "inflate failed");
        }
        return n - zs_.avail_out;
    }

    std::string where_;
    std::ifstream f_;
    uint64_t compressed_;  // compressed bytes of the whole entry
    uint64_t left_;        // compressed bytes not yet read from the file
    uint64_t size_;        // uncompressed size of the whole entry
    uint64_t done_ = 0;    // uncompressed bytes delivered
    uint16_t method_;
    uint32_t crc_;
    bool checkCrc_;
    uLong runningCrc_ = crc32_z(0, nullptr, 0);
    z_stream zs_{};
    bool zInit_ = false;
    bool ended_ = false;
    std::vector<unsigned char> in_;
};

// ---- .npy header -----------------------------------------------------------------------

class DictParser {
public:
    DictParser(const std::string& s, const std::string& where) : s_(s), where_(where) {}

    NpyHeader parse()
    {
        NpyHeader h;
        bool haveDescr = false, haveOrder = false, haveShape = false;
        expect('{');
        while (true) {
            skip();
            if (peek() == '}') break;
            const std::string key = str();
            expect(':');
            skip();
            if (key == "descr") {
                if (peek() == '[') throw err("structured dtypes are not supported (need a plain float array)");
                h.descr = str();
                haveDescr = true;
            } else if (key == "fortran_order") {
                h.fortran_order = boolean();
                haveOrder = true;
            } else if (key == "shape") {
                h.shape = tuple();
                haveShape = true;
            } else {
                throw err("unexpected key '" + excerpt(key, 40) + "' in the .npy header");
            }
            skip();
            if (peek() == ',') ++i_;
        }
        if (!haveDescr || !haveOrder || !haveShape)
            throw err("the .npy header lacks descr, fortran_order or shape");
        if (h.descr.size() < 3) throw err("unsupported dtype '" + excerpt(h.descr, 40) + "'");
        h.byte_order = h.descr[0];
        h.kind = h.descr[1];
        int size = 0;
        for (size_t k = 2; k < h.descr.size(); ++k) {
            if (h.descr[k] < '0' || h.descr[k] > '9' || size > 1000) throw err("unsupported dtype '" + excerpt(h.descr, 40) + "'");
            size = size * 10 + (h.descr[k] - '0');
        }
        h.item_size = size;
        return h;
    }

private:
    InputError err(const std::string& problem) const { return InputError(where_, problem); }
    void skip()
    {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
    }
    char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
    void expect(char c)
    {
        skip();
        if (peek() != c) throw err(std::string("malformed .npy header (expected '") + c + "' at offset " +
                                   std::to_string(i_) + ")");
        ++i_;
    }
    std::string str()
    {
        skip();
        const char q = peek();
        if (q != '\'' && q != '"') throw err("malformed .npy header (expected a quoted string at offset " + std::to_string(i_) + ")");
        const size_t end = s_.find(q, i_ + 1);
        if (end == std::string::npos) throw err("malformed .npy header (unterminated string)");
        std::string out = s_.substr(i_ + 1, end - i_ - 1);
        i_ = end + 1;
        return out;
    }
    bool boolean()
    {
        if (s_.compare(i_, 4, "True") == 0) { i_ += 4; return true; }
        if (s_.compare(i_, 5, "False") == 0) { i_ += 5; return false; }
        throw err("malformed .npy header (fortran_order must be True or False)");
    }
    std::vector<uint64_t> tuple()
    {
        std::vector<uint64_t> out;
        expect('(');
        while (true) {
            skip();
            if (peek() == ')') { ++i_; break; }
            uint64_t v = 0;
            const size_t start = i_;
            while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
                if (v > (std::numeric_limits<uint64_t>::max() - 9) / 10) throw err("array dimension too large");
                v = v * 10 + static_cast<uint64_t>(s_[i_++] - '0');
            }
            if (i_ == start) throw err("malformed .npy header (shape must be a tuple of integers)");
            if (peek() == 'L') ++i_;   // Python 2 long literal
            out.push_back(v);
            skip();
            if (peek() == ',') ++i_;
            else if (peek() != ')') throw err("malformed .npy header (shape must be a tuple of integers)");
        }
        return out;
    }

    const std::string& s_;
    const std::string& where_;
    size_t i_ = 0;
};

NpyHeader readNpyHeader(EntryStream& in)
{
    unsigned char pre[10];
    in.read(pre, 8, "the .npy header");
    if (std::memcmp(pre, "\x93NUMPY", 6) != 0)
        throw InputError(in.where(), "bad magic: not a .npy array (expected \\x93NUMPY)");
    const int major = pre[6];
    uint32_t len = 0;
    if (major == 1) {
        in.read(pre + 8, 2, "the .npy header");
        len = le16(pre + 8);
    } else if (major == 2 || major == 3) {
        unsigned char l4[4];
        in.read(l4, 4, "the .npy header");
        len = le32(l4);
    } else {
        throw InputError(in.where(), "unsupported .npy format version " + std::to_string(major) + "." +
                                         std::to_string(pre[7]));
    }
    // Checked before the header text is allocated: its length is a number a file can lie about.
    if (len > limits::kMaxNpyHeaderBytes)
        throw InputError(in.where(), "the .npy header claims " + readableBytes(len) + ", beyond the limit of " +
                                         readableBytes(limits::kMaxNpyHeaderBytes));
    if (len > in.remaining())
        throw InputError(in.where(), "truncated file: the .npy header is cut off after byte " +
                                         std::to_string(in.size()) + " (it claims " + std::to_string(len) + " bytes)");
    std::string text(len, '\0');
    in.read(reinterpret_cast<unsigned char*>(text.data()), len, "the .npy header");
    return parseNpyHeaderDict(text, in.where());
}

bool isFloat(const NpyHeader& h)
{
    return h.kind == 'f' && (h.item_size == 2 || h.item_size == 4 || h.item_size == 8);
}

std::string shapeText(const std::vector<uint64_t>& s)
{
    std::string out = "(";
    for (size_t k = 0; k < s.size(); ++k) out += (k ? ", " : "") + std::to_string(s[k]);
    return out + (s.size() == 1 ? ",)" : ")");
}

// Elements of the array; throws when its byte size would overflow.
uint64_t elementCount(const NpyHeader& h, const std::string& where)
{
    uint64_t n = 1;
    for (uint64_t d : h.shape)
        if (__builtin_mul_overflow(n, d, &n)) throw InputError(where, "array too large " + shapeText(h.shape));
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(h.item_size), &bytes))
        throw InputError(where, "array too large " + shapeText(h.shape));
    return n;
}

// The prefill array: an integer scalar or one-element array.
int64_t readPrefillArray(EntryStream& in)
{
    const NpyHeader h = readNpyHeader(in);
    if (elementCount(h, in.where()) != 1 || h.shape.size() > 1)
        throw InputError(in.where(), "the prefill array must hold one integer, not shape " + shapeText(h.shape));
    const bool intKind = h.kind == 'i' || h.kind == 'u';
    if (!intKind || !(h.item_size == 1 || h.item_size == 2 || h.item_size == 4 || h.item_size == 8) ||
        (h.byte_order == '>' && h.item_size > 1))
        throw InputError(in.where(), "the prefill array must be a little-endian integer, not dtype '" + excerpt(h.descr, 40) + "'");
    unsigned char b[8] = {};
    in.read(b, static_cast<size_t>(h.item_size), "the prefill value");
    in.finish();
    uint64_t u = le64(b);
    int64_t v = 0;
    if (h.kind == 'i' && h.item_size < 8) {
        const int bits = 8 * h.item_size;
        const uint64_t sign = uint64_t{1} << (bits - 1);
        u &= (sign << 1) - 1;
        v = static_cast<int64_t>(u ^ sign) - static_cast<int64_t>(sign);
    } else if (h.kind == 'u' && u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        throw InputError(in.where(), "prefill value too large");
    } else {
        v = static_cast<int64_t>(u);
    }
    if (v < 0) throw InputError(in.where(), "prefill P = " + std::to_string(v) + " is negative");
    return v;
}

// ---- zip directory ---------------------------------------------------------------------

constexpr uint32_t kEocdSig = 0x06054b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint32_t kZip64EocdSig = 0x06064b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kLocalSig = 0x04034b50;

uint64_t entryDataOffset(const Source& src, const ZipEntry& e)
{
    std::ifstream f;
    openFile(f, src);
    unsigned char h[30];
    readAt(f, src, e.local_header_offset, h, sizeof h, "a zip local header");
    if (le32(h) != kLocalSig)
        throw InputError(src.shown, "corrupt zip: no local header for entry '" + excerpt(e.name) + "'");
    return e.local_header_offset + 30 + le16(h + 26) + le16(h + 28);
}

std::unique_ptr<EntryStream> openEntry(const Source& src, const ZipEntry& e)
{
    const std::string where = src.shown + " entry '" + excerpt(e.name) + "'";
    if (e.flags & 1u) throw InputError(where, "encrypted zip entries are not supported");
    const uint64_t data = entryDataOffset(src, e);
    const uint64_t size = fileSize(src);
    if (data > size || e.compressed_size > size - data)
        throw InputError(where, "truncated file: the entry's data runs past the end of the archive");
    // The declared size is what the importer trusts for "enough data follows"; hold it to
    // what the compressed bytes can really give, so a 450-byte file cannot claim a terabyte.
    if (e.method == 0 && e.size != e.compressed_size)
        throw InputError(where, "corrupt zip: a stored entry of " + std::to_string(e.compressed_size) +
                                    " bytes claims " + readableBytes(e.size) + " of data");
    if (e.method == 8 && e.size / static_cast<uint64_t>(limits::kMaxDeflateExpansion) > e.compressed_size + 1)
        throw InputError(where, "corrupt zip: " + std::to_string(e.compressed_size) + " compressed bytes claim " +
                                    readableBytes(e.size) + " of data, more than deflate can give (" +
                                    std::to_string(limits::kMaxDeflateExpansion) + ":1)");
    return std::make_unique<EntryStream>(src, where, data, e.compressed_size, e.size, e.method, e.crc32, true);
}

std::string arrayName(const ZipEntry& e)
{
    const std::string& n = e.name;
    return n.size() > 4 && n.compare(n.size() - 4, 4, ".npy") == 0 ? n.substr(0, n.size() - 4) : n;
}

// ---- the import proper -----------------------------------------------------------------

std::string positionText(int64_t t, int64_t l, int64_t i, bool perLayer)
{
    return perLayer ? "[" + std::to_string(t) + ", " + std::to_string(l) + ", " + std::to_string(i) + "]"
                    : "[" + std::to_string(t) + ", " + std::to_string(i) + "]";
}

// The value of element `i` of a row chunk, widened to double.
double elementAt(const unsigned char* p, size_t item)
{
    if (item == 4) return std::bit_cast<float>(le32(p));
    if (item == 8) return std::bit_cast<double>(le64(p));
    return halfToFloat(le16(p));
}

TraceSummary importArray(TraceStore& store, const Source& src, EntryStream& in, std::optional<int64_t> prefill,
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
        throw InputError(src.shown, "prefill length unknown: give P (--prefill) or store an integer array named "
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
    meta.source = "npy " + src.shown + arrayLabel;
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
                    const double v = elementAt(chunk.data() + item * static_cast<size_t>(k), item);
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

NpyHeader parseNpyHeaderDict(const std::string& text, const std::string& where)
{
    return DictParser(text, where).parse();
}

namespace {

std::vector<ZipEntry> readZipDirectory(const Source& src)
{
    std::ifstream f;
    openFile(f, src);
    const uint64_t size = fileSize(src);
    const std::string& shown = src.shown;
    if (size < 22) throw InputError(shown, "not a zip archive (too short for an .npz)");
    const uint64_t tailSize = std::min<uint64_t>(size, 22 + 65535);
    std::vector<unsigned char> tail(static_cast<size_t>(tailSize));
    readAt(f, src, size - tailSize, tail.data(), tail.size(), "the zip directory");
    size_t eocd = std::string::npos;
    for (size_t k = tail.size() - 22 + 1; k-- > 0;)
        if (le32(&tail[k]) == kEocdSig) {
            eocd = k;
            break;
        }
    if (eocd == std::string::npos)
        throw InputError(shown, "not a zip archive (no end-of-central-directory record); an .npz is a zip file");
    const unsigned char* e = &tail[eocd];
    uint64_t count = le16(e + 10);
    uint64_t cdSize = le32(e + 12);
    uint64_t cdOffset = le32(e + 16);
    const uint64_t eocdPos = size - tailSize + eocd;
    if ((count == 0xFFFF || cdSize == 0xFFFFFFFF || cdOffset == 0xFFFFFFFF) && eocdPos >= 20) {
        unsigned char loc[20];
        readAt(f, src, eocdPos - 20, loc, sizeof loc, "the zip64 locator");
        if (le32(loc) == kZip64LocatorSig) {
            unsigned char z[56];
            if (le64(loc + 8) > size) throw InputError(shown, "corrupt zip64 locator (points past the end of the file)");
            readAt(f, src, le64(loc + 8), z, sizeof z, "the zip64 directory record");
            if (le32(z) != kZip64EocdSig) throw InputError(shown, "corrupt zip64 directory record");
            count = le64(z + 32);
            cdSize = le64(z + 40);
            cdOffset = le64(z + 48);
        }
    }
    // Sizes from the file are compared by subtraction: a sum of two of them can wrap.
    if (cdOffset > size || cdSize > size - cdOffset)
        throw InputError(shown, "truncated file: the zip central directory is cut off");
    if (cdSize > (uint64_t{1} << 30)) throw InputError(shown, "implausibly large zip central directory (over 1 GiB)");
    std::vector<unsigned char> cd(static_cast<size_t>(cdSize));   // bytes the file really has
    readAt(f, src, cdOffset, cd.data(), cd.size(), "the zip central directory");

    std::vector<ZipEntry> out;
    size_t p = 0;
    for (uint64_t k = 0; k < count; ++k) {
        if (p + 46 > cd.size() || le32(&cd[p]) != kCentralSig)
            throw InputError(shown, "corrupt zip central directory (entry " + std::to_string(k) + ")");
        const unsigned char* c = &cd[p];
        ZipEntry z;
        z.flags = le16(c + 8);
        z.method = le16(c + 10);
        z.crc32 = le32(c + 16);
        z.compressed_size = le32(c + 20);
        z.size = le32(c + 24);
        const size_t nameLen = le16(c + 28), extraLen = le16(c + 30), commentLen = le16(c + 32);
        z.local_header_offset = le32(c + 42);
        if (p + 46 + nameLen + extraLen + commentLen > cd.size())
            throw InputError(shown, "corrupt zip central directory (entry " + std::to_string(k) + ")");
        z.name.assign(reinterpret_cast<const char*>(c + 46), nameLen);
        // Zip64 extra field: the 64-bit values of the fields saturated at 0xFFFFFFFF, in order.
        const unsigned char* x = c + 46 + nameLen;
        for (size_t q = 0; q + 4 <= extraLen;) {
            const uint16_t id = le16(x + q), len = le16(x + q + 2);
            if (q + 4 + len > extraLen) break;
            if (id == 0x0001) {
                const unsigned char* v = x + q + 4;
                size_t used = 0;
                auto take = [&](uint64_t& field) {
                    if (used + 8 > len) throw InputError(shown, "corrupt zip64 extra field for '" + excerpt(z.name) + "'");
                    field = le64(v + used);
                    used += 8;
                };
                if (z.size == 0xFFFFFFFF) take(z.size);
                if (z.compressed_size == 0xFFFFFFFF) take(z.compressed_size);
                if (z.local_header_offset == 0xFFFFFFFF) take(z.local_header_offset);
            }
            q += 4 + len;
        }
        out.push_back(std::move(z));
        p += 46 + nameLen + extraLen + commentLen;
    }
    return out;
}

} // namespace

std::vector<ZipEntry> readZipDirectory(const std::string& path) { return readZipDirectory(Source{path, path}); }

TraceSummary importNpy(TraceStore& store, const std::string& path, const ImportOptions& opt)
{
    const Source src{path, opt.shown_name.empty() ? path : opt.shown_name};
    const std::string& shown = src.shown;
    std::ifstream probe;
    openFile(probe, src);
    unsigned char magic[6] = {};
    probe.read(reinterpret_cast<char*>(magic), 6);
    const auto got = probe.gcount();
    probe.close();
    const std::string stem = traceNameFromPath(shown);

    if (got == 6 && std::memcmp(magic, "\x93NUMPY", 6) == 0) {
        if (!opt.array.empty())
            throw InputError(shown, "a .npy file holds one array; choosing one ('" + excerpt(opt.array) + "') needs an .npz");
        const uint64_t size = fileSize(src);
        EntryStream in(src, shown, 0, size, size, 0, 0, false);
        return importArray(store, src, in, opt.prefill, stem, "", opt);
    }
    if (got < 4 || le32(magic) != kLocalSig) {
        if (got >= 4 && (le32(magic) == kEocdSig))
            throw InputError(shown, "empty .npz archive (no arrays)");
        throw InputError(shown, "bad magic: neither a .npy array (\\x93NUMPY) nor an .npz archive (PK zip)");
    }

    const std::vector<ZipEntry> entries = readZipDirectory(src);
    std::optional<int64_t> prefill = opt.prefill;
    const ZipEntry* scores = nullptr;
    std::vector<const ZipEntry*> floats;
    std::string names, floatNames;
    for (const ZipEntry& e : entries) {
        const std::string name = arrayName(e);
        if (names.size() < 200) names += (names.empty() ? "" : ", ") + excerpt(name, 40);
        if (name == "prefill") {
            auto in = openEntry(src, e);
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
        auto in = openEntry(src, e);
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
    auto in = openEntry(src, *scores);
    std::string label(1, ':');   // (not ":" + ...: GCC 12 reports a false -Wrestrict there)
    label += arrayName(*scores);
    return importArray(store, src, *in, prefill, stem, label, opt);
}

} // namespace kvtier
