#include "core/io/csv_reader.hpp"

#include "core/io/import_limits.hpp"
#include "core/io/input_text.hpp"
#include "core/model/error.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

namespace kvtier {

CsvReader::CsvReader(const std::string& path, const std::string& shownAs)
    : shown_(shownAs.empty() ? path : shownAs), buf_(size_t{1} << 16)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(path, ec)) throw InputError(shown_, "no such file");
    if (fs::is_directory(path, ec)) throw InputError(shown_, "is a directory");
    regular_ = fs::is_regular_file(path, ec);
    in_.open(path, std::ios::binary);
    if (!in_) throw InputError(shown_, "cannot open for reading");
    const auto sz = regular_ ? fs::file_size(path, ec) : 0;
    size_ = ec ? 0 : static_cast<int64_t>(sz);
}

bool CsvReader::readLine()
{
    line_.clear();
    bool any = false;
    while (true) {
        if (pos_ == end_) {
            if (eof_) return any;
            in_.read(buf_.data(), static_cast<std::streamsize>(buf_.size()));
            end_ = static_cast<size_t>(in_.gcount());
            pos_ = 0;
            if (end_ < buf_.size()) {
                if (in_.bad()) throw InputError(shown_ + ":" + std::to_string(lineNo_ + 1), "read error");
                eof_ = true;
            }
            if (end_ == 0) return any;
        }
        any = true;
        const char* start = buf_.data() + pos_;
        const auto* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - pos_));
        const size_t take = nl ? static_cast<size_t>(nl - start) : end_ - pos_;
        if (static_cast<int64_t>(line_.size() + take) > limits::kMaxLineBytes)
            throw InputError(shown_ + ":" + std::to_string(lineNo_ + 1),
                             "line longer than " + std::to_string(limits::kMaxLineBytes >> 20) +
                                 " MiB (the limit); is this really a CSV file?");
        line_.append(start, take);
        pos_ += take;
        if (nl) {
            ++pos_;
            bytes_ += 1;
            return true;
        }
    }
}

void CsvReader::seek(int64_t offset, int64_t lineNumber)
{
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(offset));
    if (!in_) throw InputError(shown_ + ":" + std::to_string(lineNumber), "cannot seek in the file");
    pos_ = end_ = 0;
    eof_ = false;
    bytes_ = offset;
    lineNo_ = lineNumber - 1;
    split_ = false;
    line_.clear();
}

bool CsvReader::next()
{
    while (readLine()) {
        ++lineNo_;
        bytes_ += static_cast<int64_t>(line_.size());
        if (lineNo_ == 1) {
            // UTF-16 puts a NUL beside every ASCII character, which a byte-wise reader
            // would split into garbage fields: say what the file is instead.
            if (line_.rfind("\xFF\xFE", 0) == 0 || line_.rfind("\xFE\xFF", 0) == 0)
                throw InputError(where(), "the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8");
            if (line_.rfind("\xEF\xBB\xBF", 0) == 0) line_.erase(0, 3);
        }
        if (line_.find('\0') != std::string::npos)
            throw InputError(where(), lineNo_ == 1 ? "the file holds NUL bytes: it looks UTF-16 (or binary); save it as UTF-8"
                                                   : "NUL byte in the line (a binary or UTF-16 file?)");
        if (!line_.empty() && line_.back() == '\r') line_.pop_back();
        if (line_.find('\r') != std::string::npos)
            throw InputError(where(), "lines end with CR only (old Mac line ends); save the file with LF or CRLF line ends");
        if (trim(line_).empty()) continue;
        split_ = false;
        return true;
    }
    line_.clear();
    return false;
}

const std::vector<std::string_view>& CsvReader::fields()
{
    if (split_) return fields_;
    fields_.clear();
    // Unescaped quoted fields go to unquoted_; reserve so views into it stay valid.
    unquoted_.clear();
    unquoted_.reserve(line_.size());
    const std::string_view s = line_;
    size_t i = 0;
    while (true) {
        // Spaces before an opening quote are allowed (", \"[1, 2]\"" style).
        size_t j = i;
        while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
        if (j < s.size() && s[j] == '"') {
            const size_t start = unquoted_.size();
            size_t k = j + 1;
            bool closed = false;
            while (k < s.size()) {
                if (s[k] == '"') {
                    if (k + 1 < s.size() && s[k + 1] == '"') {
                        unquoted_.push_back('"');
                        k += 2;
                        continue;
                    }
                    closed = true;
                    ++k;
                    break;
                }
                unquoted_.push_back(s[k++]);
            }
            if (!closed)
                throw InputError(where(), "unterminated quoted field (a quote opened in column " +
                                              std::to_string(j + 1) + " never closes on this line)");
            fields_.emplace_back(unquoted_.data() + start, unquoted_.size() - start);
            while (k < s.size() && (s[k] == ' ' || s[k] == '\t')) ++k;
            if (k == s.size()) break;
            if (s[k] != ',')
                throw InputError(where(), "unexpected text after a quoted field in column " + std::to_string(k + 1));
            i = k + 1;
            continue;
        }
        const size_t comma = s.find(',', i);
        const std::string_view f = s.substr(i, comma == std::string_view::npos ? std::string_view::npos : comma - i);
        if (f.find('"') != std::string_view::npos)
            throw InputError(where(), "stray quote inside an unquoted field '" + excerpt(f) + "'");
        fields_.push_back(f);
        if (comma == std::string_view::npos) break;
        i = comma + 1;
    }
    split_ = true;
    return fields_;
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool parseInt(std::string_view s, int64_t& out)
{
    s = trim(s);
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

bool parseFloat(std::string_view s, float& out)
{
    s = trim(s);
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    if (s.empty()) return false;
    const char* end = s.data() + s.size();
    auto [p, ec] = std::from_chars(s.data(), end, out);
    if (p != end) return false;
    if (ec == std::errc()) return true;
    if (ec != std::errc::result_out_of_range) return false;
    // Out of float range: tiny values flush to zero (what a float32 score would hold),
    // huge ones become inf (which the importers reject with the line number).
    double d = 0;
    auto [p2, ec2] = std::from_chars(s.data(), end, d);
    if (p2 != end) return false;
    if (ec2 == std::errc::result_out_of_range) {
        // Beyond double too: the exponent's sign says whether it under- or overflowed.
        const size_t e = s.find_first_of("eE");
        const bool tiny = e != std::string_view::npos && e + 1 < s.size() && s[e + 1] == '-';
        d = tiny ? 0.0 : HUGE_VAL;
        if (s.front() == '-') d = -d;
    }
    if (std::fabs(d) > static_cast<double>(std::numeric_limits<float>::max()))
        out = std::copysign(std::numeric_limits<float>::infinity(), static_cast<float>(d > 0 ? 1 : -1));
    else
        out = static_cast<float>(d);   // below FLT_MIN: a subnormal or zero
    return true;
}

} // namespace kvtier
