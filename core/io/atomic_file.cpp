#include "core/io/atomic_file.hpp"

#include "core/model/error.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include <stdio.h>   // renameat2

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kvtier {

namespace fs = std::filesystem;

namespace {

std::string systemError(int err) { return err ? std::strerror(err) : "unknown error"; }

// Six random letters and digits: with O_EXCL, a clash only costs another try.
std::string randomSuffix()
{
    static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    thread_local std::mt19937 gen{std::random_device{}()};
    std::uniform_int_distribution<size_t> pick(0, sizeof kChars - 2);
    std::string s(6, 'x');
    for (char& c : s) c = kChars[pick(gen)];
    return s;
}

fs::path folderOf(const fs::path& file) { return file.parent_path().empty() ? fs::path(".") : file.parent_path(); }

// Best effort: makes the rename itself survive a power cut. The file's data is already
// synced; failing here loses nothing the user could act on.
void syncFolder(const fs::path& folder)
{
    const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

} // namespace

AtomicFile::AtomicFile(const std::string& target) : target_(target)
{
    if (target.empty()) throw InputError("(output)", "no file name given");
    std::error_code ec;
    fs::path written = target;
    // Writing through a symbolic link replaces the file it points to, not the link.
    if (fs::is_symlink(fs::symlink_status(written, ec))) written = fs::weakly_canonical(written, ec);
    const auto st = fs::status(written, ec);
    if (fs::is_directory(st)) throw InputError(target, "is a directory");
    const fs::path folder = folderOf(written);
    const auto folderStatus = fs::status(folder, ec);
    if (!fs::exists(folderStatus)) throw InputError(target, "folder '" + folder.string() + "' does not exist");
    if (!fs::is_directory(folderStatus)) throw InputError(target, "'" + folder.string() + "' is not a folder");
    written_ = written.string();

    if (fs::exists(st) && !fs::is_regular_file(st)) {
        direct_ = true;
        temporary_ = written_;
        out_.open(temporary_, std::ios::binary);
        if (!out_) throw InputError(target, "cannot open for writing: " + systemError(errno));
        return;
    }
    for (int attempt = 0; attempt < 100; ++attempt) {
        const std::string candidate = written_ + ".kvtier-" + randomSuffix();
        const int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST) continue;
        if (fd < 0) throw InputError(target, "cannot create a file in '" + folder.string() + "': " + systemError(errno));
        // Replacing a file keeps its permissions: a private file stays private.
        if (fs::exists(st)) ::fchmod(fd, static_cast<mode_t>(st.permissions()) & 07777);
        ::close(fd);
        temporary_ = candidate;
        return;
    }
    throw InputError(target, "cannot create a unique temporary file in '" + folder.string() + "'");
}

AtomicFile::~AtomicFile()
{
    if (committed_ || direct_) return;
    if (out_.is_open()) out_.close();
    ::unlink(temporary_.c_str());
}

std::ostream& AtomicFile::stream()
{
    if (!out_.is_open()) {
        out_.open(temporary_, std::ios::binary | std::ios::trunc);
        if (!out_) throw InputError(target_, "cannot write: " + systemError(errno));
    }
    return out_;
}

void AtomicFile::finishWriting()
{
    if (committed_) throw InputError(target_, "written twice");
    if (out_.is_open()) {
        errno = 0;
        out_.flush();
        out_.close();
        if (!out_) throw InputError(target_, "write failed: " + systemError(errno));
    }
    if (direct_) {
        committed_ = true;
        return;
    }
    // Data first, then the name: after a crash the target is the old file or the new one.
    const int fd = ::open(temporary_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw InputError(target_, "write failed: " + systemError(errno));
    const int synced = ::fsync(fd);
    const int syncError = errno;
    ::close(fd);
    if (synced != 0) throw InputError(target_, "write failed: " + systemError(syncError));
}

void AtomicFile::commit()
{
    finishWriting();
    if (direct_) return;
    if (std::rename(temporary_.c_str(), written_.c_str()) != 0)
        throw InputError(target_, "cannot replace the file: " + systemError(errno));
    committed_ = true;
    syncFolder(folderOf(written_));
}

bool AtomicFile::commitIfAbsent()
{
    if (direct_) return false;   // the target exists: it is not a regular file
    finishWriting();
    // A hard link is created only if the name is free, atomically; then the temporary
    // name goes. File systems without hard links: rename unless the name is taken.
    int done = ::link(temporary_.c_str(), written_.c_str());
    if (done != 0 && errno != EEXIST)
        done = ::renameat2(AT_FDCWD, temporary_.c_str(), AT_FDCWD, written_.c_str(), RENAME_NOREPLACE);
    if (done != 0) return false;
    ::unlink(temporary_.c_str());   // gone already after renameat2
    committed_ = true;
    syncFolder(folderOf(written_));
    return true;
}

} // namespace kvtier
