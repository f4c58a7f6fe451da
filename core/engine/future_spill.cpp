#include "core/engine/future_spill.hpp"

#include "core/model/error.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace kvtier {

namespace {

// The problem behind an errno, in plain words.
std::string ioProblem(int err)
{
    switch (err) {
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
        return "no space left on the device";
    case EACCES:
    case EPERM: return "permission denied";
    case ENOENT:
    case ENOTDIR: return "the directory does not exist";
    case EROFS: return "the file system is read-only";
    case EFBIG: return "larger than this process may write a file (ulimit -f)";
    default: return std::strerror(err);
    }
}

std::string spillDirectory(const std::string& dir)
{
    if (!dir.empty()) return dir;
    std::error_code ec;
    const std::filesystem::path tmp = std::filesystem::temp_directory_path(ec);
    return ec ? std::string("/tmp") : tmp.string();
}

constexpr int64_t kWord = 4;

// One oracle's feed: the steps it may still ask for, read ahead a chunk at a time.
class SpilledReads final : public FutureReads {
public:
    explicit SpilledReads(const FutureSpill& spill) : spill_(spill), off_(spill.offsets()) {}

    int64_t steps() const override { return static_cast<int64_t>(off_.size()) - 1; }
    std::span<const uint32_t> reads(int64_t t) override
    {
        load(t);
        return {units_.data() + (off_[static_cast<size_t>(t)] - base_), count(t)};
    }
    std::span<const uint32_t> nextReads(int64_t t) override
    {
        load(t);
        return {next_.data() + (off_[static_cast<size_t>(t)] - base_), count(t)};
    }
    const std::vector<uint32_t>& firstReads() override { return spill_.firstReads(); }
    void advance(int64_t t) override { lo_ = std::max(lo_, t); }

private:
    size_t count(int64_t t) const
    {
        return static_cast<size_t>(off_[static_cast<size_t>(t) + 1] - off_[static_cast<size_t>(t)]);
    }
    // Makes step t held: drops the steps before the last advance(), then reads on from the
    // last step held to at least t + 1 and at least a chunk of entries.
    void load(int64_t t)
    {
        if (t < lo_ || t >= steps())
            throw std::logic_error("future reads: step " + std::to_string(t) + " asked for outside steps " +
                                   std::to_string(lo_) + " .. " + std::to_string(steps() - 1));
        if (t < hi_) return;
        if (lo_ >= hi_) {   // nothing held is wanted
            units_.clear();
            next_.clear();
            hi_ = lo_;
        } else {
            const int64_t drop = off_[static_cast<size_t>(lo_)] - base_;
            units_.erase(units_.begin(), units_.begin() + drop);
            next_.erase(next_.begin(), next_.begin() + drop);
        }
        base_ = off_[static_cast<size_t>(lo_)];
        const int64_t from = off_[static_cast<size_t>(hi_)];
        // Up to the first step end at or past a chunk of entries (or as many as are held, so
        // a long look-ahead moves its held steps once per doubling), and at least t + 1.
        const int64_t want = from + std::max<int64_t>(spill_.chunkEntries(), from - base_);
        const auto it = std::lower_bound(off_.begin() + hi_ + 1, off_.end(), want);
        const int64_t end = std::max<int64_t>(t + 1, std::min<int64_t>(it - off_.begin(), steps()));
        const int64_t n = off_[static_cast<size_t>(end)] - from;
        const size_t at = units_.size();
        units_.resize(at + static_cast<size_t>(n));
        next_.resize(at + static_cast<size_t>(n));
        spill_.readWords(from, n, units_.data() + at);
        spill_.readWords(spill_.reads() + from, n, next_.data() + at);
        hi_ = end;
    }

    const FutureSpill& spill_;
    const std::vector<int64_t>& off_;
    int64_t lo_ = 0;     // steps before lo_ are not asked for again
    int64_t hi_ = 0;     // steps before hi_ have been read
    int64_t base_ = 0;   // the entry units_[0] and next_[0] hold
    std::vector<uint32_t> units_, next_;
};

} // namespace

FutureSpill::FutureSpill(const UnitLayout& layout, const std::string& dir, int64_t chunkEntries)
    : layout_(layout), chunk_(std::max<int64_t>(1, chunkEntries))
{
    const std::string pattern = (std::filesystem::path(spillDirectory(dir)) / "kvtier-future-XXXXXX").string();
    std::string name = pattern;
    fd_ = ::mkstemp(name.data());
    if (fd_ < 0)
        throw InputError(pattern, "cannot create the oracles' spill file: " + ioProblem(errno) +
                                   " (set TMPDIR to a writable directory)");
    path_ = name;
    ::unlink(path_.c_str());   // gone however the analysis ends; the space is freed on close
    offset_.reserve(static_cast<size_t>(layout.steps) + 1);
}

FutureSpill::~FutureSpill()
{
    if (fd_ >= 0) ::close(fd_);
}

void FutureSpill::writeWords(int64_t at, int64_t count, const uint32_t* in)
{
    const auto* p = reinterpret_cast<const char*>(in);
    int64_t left = count * kWord, pos = at * kWord;
    while (left > 0) {
        const ssize_t n = ::pwrite(fd_, p, static_cast<size_t>(left), static_cast<off_t>(pos));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            throw InputError(path_, "cannot write the oracles' future reads at byte " + std::to_string(pos) +
                                        " (the spill takes 8 B per read entry): " + ioProblem(n < 0 ? errno : ENOSPC));
        p += n;
        left -= n;
        pos += n;
    }
}

void FutureSpill::readWords(int64_t at, int64_t count, uint32_t* out) const
{
    auto* p = reinterpret_cast<char*>(out);
    int64_t left = count * kWord, pos = at * kWord;
    while (left > 0) {
        const ssize_t n = ::pread(fd_, p, static_cast<size_t>(left), static_cast<off_t>(pos));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw InputError(path_, "cannot read the oracles' future reads back: " + ioProblem(errno));
        if (n == 0) throw InputError(path_, "ended at byte " + std::to_string(pos) + " while the oracles' future reads were read back");
        p += n;
        left -= n;
        pos += n;
    }
}

void FutureSpill::add(const Selection& window, const JobControl& job)
{
    if (finished_ || window.first_step != static_cast<int64_t>(offset_.size()) - 1)
        throw std::logic_error("future spill: window from step " + std::to_string(window.first_step) +
                               " out of order");
    job.check();
    const Csr<uint32_t>& su = window.step_units;
    writeWords(reads(), static_cast<int64_t>(su.items.size()), su.items.data());
    const int64_t at = reads();
    for (size_t r = 0; r < su.rows(); ++r) offset_.push_back(at + static_cast<int64_t>(su.offset[r + 1]));
}

void FutureSpill::finish(const JobControl& job)
{
    const int64_t T = static_cast<int64_t>(offset_.size()) - 1;
    if (finished_ || T != layout_.steps)
        throw std::logic_error("future spill: finished after " + std::to_string(T) + " of " +
                               std::to_string(layout_.steps) + " steps");
    // Last entry first: a read's next read is its unit's earliest read seen so far.
    first_.assign(static_cast<size_t>(layout_.totalUnits()), FutureReads::kNever);
    const int64_t E = reads();
    std::vector<uint32_t> units, next;
    int64_t t = T - 1;
    for (int64_t end = E; end > 0;) {
        job.check();
        const int64_t begin = std::max<int64_t>(0, end - chunk_);
        const auto n = static_cast<size_t>(end - begin);
        units.resize(n);
        next.resize(n);
        readWords(begin, end - begin, units.data());
        for (int64_t k = end; k-- > begin;) {
            while (offset_[static_cast<size_t>(t)] > k) --t;
            const uint32_t u = units[static_cast<size_t>(k - begin)];
            next[static_cast<size_t>(k - begin)] = first_[u];
            first_[u] = static_cast<uint32_t>(t);
        }
        writeWords(E + begin, end - begin, next.data());
        end = begin;
    }
    finished_ = true;
}

std::unique_ptr<FutureReads> FutureSpill::feed() const
{
    if (!finished_) throw std::logic_error("future spill: a feed before finish()");
    return std::make_unique<SpilledReads>(*this);
}

} // namespace kvtier
