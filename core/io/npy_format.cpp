#include "core/io/npy_format.hpp"

#include "core/io/import_limits.hpp"
#include "core/io/input_text.hpp"
#include "core/model/error.hpp"
#include "core/model/half.hpp"
#include "core/model/text.hpp"

#include <bit>
#include <cstring>
#include <limits>

namespace kvtier {

namespace {

uint16_t le16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t le32(const unsigned char* p)
{
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
           static_cast<uint32_t>(p[3]) << 24;
}
uint64_t le64(const unsigned char* p) { return static_cast<uint64_t>(le32(p)) | static_cast<uint64_t>(le32(p + 4)) << 32; }

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

} // namespace

NpyHeader parseNpyHeaderDict(const std::string& text, const std::string& where)
{
    return DictParser(text, where).parse();
}

NpyHeader readNpyHeader(ArrayStream& in)
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

double floatElementAt(const unsigned char* p, size_t item)
{
    if (item == 4) return std::bit_cast<float>(le32(p));
    if (item == 8) return std::bit_cast<double>(le64(p));
    return halfToFloat(le16(p));
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

namespace {

// Integer dtypes an index array may use: little-endian (or single-byte) int/uint of 1..8 bytes.
void checkIntegerDtype(const NpyHeader& h, const std::string& where, const char* what)
{
    const bool intKind = h.kind == 'i' || h.kind == 'u';
    if (!intKind || !(h.item_size == 1 || h.item_size == 2 || h.item_size == 4 || h.item_size == 8) ||
        (h.byte_order == '>' && h.item_size > 1))
        throw InputError(where, std::string("the ") + what + " array must be a little-endian integer, not dtype '" +
                                    excerpt(h.descr, 40) + "'");
}

int64_t integerAt(const NpyHeader& h, const unsigned char* b, const std::string& where, const char* what)
{
    uint64_t u = 0;
    for (int k = h.item_size; k-- > 0;) u = (u << 8) | b[k];
    int64_t v = 0;
    if (h.kind == 'i' && h.item_size < 8) {
        const int bits = 8 * h.item_size;
        const uint64_t sign = uint64_t{1} << (bits - 1);
        u &= (sign << 1) - 1;
        v = static_cast<int64_t>(u ^ sign) - static_cast<int64_t>(sign);
    } else if (h.kind == 'u' && u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        throw InputError(where, std::string(what) + " value too large");
    } else {
        v = static_cast<int64_t>(u);
    }
    if (v < 0) throw InputError(where, std::string(what) + " P = " + std::to_string(v) + " is negative");
    return v;
}

} // namespace

int64_t readPrefillArray(ArrayStream& in)
{
    const NpyHeader h = readNpyHeader(in);
    if (elementCount(h, in.where()) != 1 || h.shape.size() > 1)
        throw InputError(in.where(), "the prefill array must hold one integer, not shape " + shapeText(h.shape));
    checkIntegerDtype(h, in.where(), "prefill");
    unsigned char b[8] = {};
    in.read(b, static_cast<size_t>(h.item_size), "the prefill value");
    in.finish();
    return integerAt(h, b, in.where(), "prefill");
}

std::vector<int64_t> readSequencePrefillArray(ArrayStream& in, uint64_t maxCount)
{
    const NpyHeader h = readNpyHeader(in);
    if (h.shape.size() != 1 || h.shape[0] == 0 || h.shape[0] > maxCount)
        throw InputError(in.where(), "the sequence_prefill array must be one-dimensional with 1.." + std::to_string(maxCount) +
                                         " values (P_s of each sequence), not shape " + shapeText(h.shape));
    checkIntegerDtype(h, in.where(), "sequence_prefill");
    std::vector<int64_t> out;
    out.reserve(static_cast<size_t>(h.shape[0]));
    unsigned char b[8] = {};
    for (uint64_t s = 0; s < h.shape[0]; ++s) {
        in.read(b, static_cast<size_t>(h.item_size), "the sequence_prefill values");
        out.push_back(integerAt(h, b, in.where(), "sequence_prefill"));
    }
    in.finish();
    return out;
}

} // namespace kvtier
