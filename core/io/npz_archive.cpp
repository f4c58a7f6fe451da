#include "core/io/npz_archive.hpp"

#include "core/io/import_limits.hpp"
#include "core/io/input_text.hpp"
#include "core/model/error.hpp"
#include "core/model/text.hpp"

#include <zip.h>

namespace kvtier {

namespace {

// kvtier's words for a libzip error code: what went wrong with the file, never libzip's
// text (docs/HOSTILE_INPUTS.md).
std::string zipProblem(int code)
{
    switch (code) {
    case ZIP_ER_NOZIP: return "not a zip archive (no end-of-central-directory record); an .npz is a zip file";
    case ZIP_ER_INCONS: return "corrupt zip archive (its directory does not match the file: truncated or damaged)";
    case ZIP_ER_MULTIDISK: return "split (multi-disk) zip archives are not supported";
    case ZIP_ER_EOF: return "truncated file: the entry's data runs past the end of the archive";
    case ZIP_ER_CRC: return "CRC-32 mismatch: the archive entry is corrupt";
    case ZIP_ER_ZLIB:
    case ZIP_ER_COMPRESSED_DATA: return "corrupt deflate data";
    case ZIP_ER_COMPNOTSUPP: return "unsupported zip compression method (only stored and deflate)";
    case ZIP_ER_ENCRNOTSUPP:
    case ZIP_ER_NOPASSWD:
    case ZIP_ER_WRONGPASSWD: return "encrypted zip entries are not supported";
    case ZIP_ER_MEMORY: return "out of memory while reading the zip archive";
    case ZIP_ER_OPEN:
    case ZIP_ER_READ:
    case ZIP_ER_SEEK:
    case ZIP_ER_TELL: return "cannot read the zip archive";
    default: return "corrupt zip archive (zip error " + std::to_string(code) + ")";
    }
}

int errorCode(zip_error_t* e) { return zip_error_code_zip(e); }

// An entry's bytes through libzip (which inflates and computes the CRC-32 as it goes).
class NpzEntryStream final : public ArrayStream {
public:
    NpzEntryStream(std::shared_ptr<zip> archive, const NpzEntry& e, std::string where)
        : ArrayStream(std::move(where), e.size), archive_(std::move(archive)), compressed_(e.compressed_size),
          deflated_(e.method == ZIP_CM_DEFLATE)
    {
        file_ = zip_fopen_index(archive_.get(), e.index, 0);
        if (!file_) {
            const int code = errorCode(zip_get_error(archive_.get()));
            // Opening reads the entry's local header; what fails there is where it points.
            if (code == ZIP_ER_INVAL || code == ZIP_ER_EOF || code == ZIP_ER_SEEK || code == ZIP_ER_READ ||
                code == ZIP_ER_INCONS || code == ZIP_ER_NOZIP)
                throw InputError(this->where(), "corrupt zip: the entry's local header is missing or cut off");
            throw InputError(this->where(), zipProblem(code));
        }
    }
    ~NpzEntryStream() override
    {
        if (file_) zip_fclose(file_);
    }

    // After the whole declared size: one more read must find the end of the data, where
    // libzip compares the CRC-32 and the size. (An entry with bytes after the array is not
    // read to its end, so its CRC cannot be checked.)
    void finish() override
    {
        if (remaining() != 0 || ended_) return;
        unsigned char extra = 0;
        const zip_int64_t got = zip_fread(file_, &extra, 1);
        if (got < 0) throw InputError(where(), zipProblem(errorCode(zip_file_get_error(file_))));
        if (got > 0)
            throw InputError(where(), "corrupt zip: the entry holds more than its declared " + std::to_string(size()) +
                                          " bytes");
    }

    uint64_t nonzeroLimit() const override
    {
        if (!deflated_) return ArrayStream::nonzeroLimit();
        return std::max<uint64_t>(limits::kNonzeroAllowance,
                                  compressed_ * static_cast<uint64_t>(limits::kMaxNonzeroPerCompressedByte));
    }
    uint64_t compressedSize() const override { return compressed_; }

private:
    // Never more than the declared size: the declared size was checked against the
    // compressed bytes, so this caps what a deflate stream may expand to.
    size_t readSome(unsigned char* dst, size_t n) override
    {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(n, remaining()));
        size_t got = 0;
        while (got < want && !ended_) {
            const zip_int64_t r = zip_fread(file_, dst + got, want - got);
            if (r < 0) {
                const int code = errorCode(zip_file_get_error(file_));
                // At the end of data shorter than declared libzip reports the size or CRC
                // mismatch; the caller's "truncated" names what was cut off.
                if (code == ZIP_ER_CRC || code == ZIP_ER_INCONS || code == ZIP_ER_EOF) {
                    ended_ = true;
                    break;
                }
                throw InputError(where(), zipProblem(code));
            }
            if (r == 0) ended_ = true;
            got += static_cast<size_t>(r);
        }
        return got;
    }

    std::shared_ptr<zip> archive_;
    zip_file_t* file_ = nullptr;
    uint64_t compressed_;
    bool deflated_;
    bool ended_ = false;
};

} // namespace

NpzArchive::NpzArchive(const std::string& path, std::string shown) : shown_(std::move(shown))
{
    fileSize_ = seekableFileSize(path, shown_);
    int code = ZIP_ER_OK;
    zip_t* z = zip_open(path.c_str(), ZIP_RDONLY, &code);
    if (!z) throw InputError(shown_, zipProblem(code));
    zip_ = std::shared_ptr<zip>(z, [](zip_t* p) { zip_discard(p); });

    const zip_int64_t count = zip_get_num_entries(z, 0);
    if (count < 0) throw InputError(shown_, zipProblem(errorCode(zip_get_error(z))));
    entries_.reserve(static_cast<size_t>(count));   // libzip already holds them all in memory
    for (zip_int64_t k = 0; k < count; ++k) {
        zip_stat_t st;
        zip_stat_init(&st);
        if (zip_stat_index(z, static_cast<zip_uint64_t>(k), ZIP_FL_ENC_RAW, &st) != 0)
            throw InputError(shown_, "corrupt zip central directory (entry " + std::to_string(k) + ")");
        constexpr zip_uint64_t need = ZIP_STAT_NAME | ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD |
                                      ZIP_STAT_ENCRYPTION_METHOD;
        if ((st.valid & need) != need)
            throw InputError(shown_, "corrupt zip central directory (entry " + std::to_string(k) + ")");
        NpzEntry e;
        e.index = static_cast<uint64_t>(k);
        e.name = st.name;
        e.method = st.comp_method;
        e.encrypted = st.encryption_method != ZIP_EM_NONE;
        e.compressed_size = st.comp_size;
        e.size = st.size;
        entries_.push_back(std::move(e));
    }
}

std::unique_ptr<ArrayStream> NpzArchive::open(const NpzEntry& e) const
{
    std::string where = shown_ + " entry '" + excerpt(e.name) + "'";
    if (e.encrypted) throw InputError(where, "encrypted zip entries are not supported");
    if (e.method != ZIP_CM_STORE && e.method != ZIP_CM_DEFLATE)
        throw InputError(where, "unsupported zip compression method " + std::to_string(e.method) +
                                    " (only stored and deflate)");
    // The compressed size sets the zip-bomb limit (ArrayStream::nonzeroLimit): it cannot
    // be more than the file holds.
    if (e.compressed_size > fileSize_)
        throw InputError(where, "truncated file: the entry's data runs past the end of the archive");
    // The declared size is what the importer trusts for "enough data follows"; hold it to
    // what the compressed bytes can really give, so a 450-byte file cannot claim a terabyte.
    if (e.method == ZIP_CM_STORE && e.size != e.compressed_size)
        throw InputError(where, "corrupt zip: a stored entry of " + std::to_string(e.compressed_size) +
                                    " bytes claims " + readableBytes(e.size) + " of data");
    if (e.method == ZIP_CM_DEFLATE && e.size / static_cast<uint64_t>(limits::kMaxDeflateExpansion) > e.compressed_size + 1)
        throw InputError(where, "corrupt zip: " + std::to_string(e.compressed_size) + " compressed bytes claim " +
                                    readableBytes(e.size) + " of data, more than deflate can give (" +
                                    std::to_string(limits::kMaxDeflateExpansion) + ":1)");
    return std::make_unique<NpzEntryStream>(zip_, e, std::move(where));
}

} // namespace kvtier
