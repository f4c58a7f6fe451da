#include "core/csv_reader.hpp"

#include "core/error.hpp"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>

namespace kvtier {

CsvReader::CsvReader(const std::string& path) : path_(path)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(path, ec)) throw InputError(path, "no such file");
    if (fs::is_directory(path, ec)) throw InputError(path, "is a directory");
    in_.open(path, std::ios::binary);
    if (!in_) throw InputError(path, "cannot open for reading");
    const auto sz = fs::file_size(path, ec);
    size_ = ec ? 0 : static_cast<int64_t>(sz);
}

bool CsvReader::next()
{
    while (std::getline(in_, line_)) {
        ++lineNo_;
        bytes_ += static_cast<int64_t>(line_.size()) + 1;
        if (lineNo_ == 1 && line_.rfind("\xEF\xBB\xBF", 0) == 0) line_.erase(0, 3);
        if (!line_.empty() && line_.back() == '\r') line_.pop_back();
        if (trim(line_).empty()) continue;
        split_ = false;
        return true;
    }
    if (in_.bad()) throw InputError(where(), "read error");
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
            throw InputError(where(), "stray quote inside an unquoted field '" + std::string(f) + "'");
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
