#include "core/io/array_stream.hpp"

#include "core/model/error.hpp"

#include <filesystem>
#include <fstream>

namespace kvtier {

void ArrayStream::read(unsigned char* dst, size_t n, const char* what)
{
    const size_t got = readSome(dst, n);
    done_ += got;
    if (got != n)
        throw InputError(where_, std::string("truncated file: ") + what + " is cut off after byte " + std::to_string(done_));
}

uint64_t seekableFileSize(const std::string& path, const std::string& shown)
{
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw InputError(shown, "no such file");
    if (!std::filesystem::is_regular_file(path, ec))
        throw InputError(shown, "is not a regular file (a pipe?): .npy/.npz need a file kvtier can seek in; "
                                "save it to a file first");
    const auto n = std::filesystem::file_size(path, ec);
    if (ec) throw InputError(shown, "cannot read: " + ec.message());
    return n;
}

namespace {

class NpyFileStream final : public ArrayStream {
public:
    NpyFileStream(const std::string& path, const std::string& shown)
        : ArrayStream(shown, seekableFileSize(path, shown)), f_(path, std::ios::binary)
    {
        if (!f_) throw InputError(shown, "cannot open for reading");
    }

private:
    size_t readSome(unsigned char* dst, size_t n) override
    {
        f_.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(n));
        return static_cast<size_t>(f_.gcount());
    }

    std::ifstream f_;
};

} // namespace

std::unique_ptr<ArrayStream> openNpyFile(const std::string& path, const std::string& shown)
{
    return std::make_unique<NpyFileStream>(path, shown);
}

} // namespace kvtier
