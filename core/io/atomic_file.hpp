#pragma once
// Writing a file so that it appears complete or not at all. The bytes go to a temporary
// file beside the target with a fresh unique name (TARGET.kvtier-XXXXXX, created
// exclusively: never a name a user may own, such as TARGET.part), which commit() renames
// over the target. Until then the target keeps its old content; a failure, an exception
// or a cancel removes the temporary file. No Qt.
#include <fstream>
#include <ostream>
#include <string>

namespace kvtier {

class AtomicFile {
public:
    // Checks the target before any work is done (not a directory, its folder exists and
    // can be written) and creates the temporary file. Errors: InputError(target, problem),
    // e.g. "out.csv: is a directory", "runs/out.csv: folder 'runs' does not exist".
    // An existing target that is not a regular file (/dev/stdout, a pipe) is written
    // directly: there is nothing to replace atomically.
    explicit AtomicFile(const std::string& target);
    ~AtomicFile();   // without commit(): removes the temporary file, leaves the target alone
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    const std::string& target() const { return target_; }
    // The file to write, for writers that open files by name (the stream is not used then).
    const std::string& temporaryPath() const { return temporary_; }
    // A stream on the temporary file, opened on first use.
    std::ostream& stream();
    // Flushes, checks every write succeeded, syncs the data to disk and renames the file
    // over the target. Throws InputError(target, problem) and leaves the target untouched
    // when any of that fails.
    void commit();
    // Like commit(), but never replaces anything: when the target exists by now (someone
    // else created it meanwhile, or the file system cannot link without replacing) it
    // returns false and keeps the temporary file until destruction, for the caller to
    // merge its content another way.
    bool commitIfAbsent();

private:
    void finishWriting();   // flush, close, check, fsync the temporary file

    std::string target_;      // as the user wrote it, for messages
    std::string written_;     // the file finally replaced (a symbolic link's destination)
    std::string temporary_;   // == written_ when writing directly
    std::ofstream out_;
    bool direct_ = false;
    bool committed_ = false;
};

} // namespace kvtier
