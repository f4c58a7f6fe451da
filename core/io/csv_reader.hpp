#pragma once
// A streaming CSV reader for the trace importers: one line at a time, RFC 4180 quoting
// ("" inside a quoted field is a quote), fields as views into the current line.
// A quoted field must end on its line (trace CSVs never span lines); an unterminated
// quote is an error naming the line. Strips a UTF-8 BOM and CR of CRLF line ends.
// Refuses, naming the reason, what is not a UTF-8 text file with LF/CRLF lines: UTF-16
// (byte-order mark or NUL bytes), CR-only line ends, lines beyond limits::kMaxLineBytes.
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace kvtier {

class CsvReader {
public:
    // Messages name the file `shownAs` (default: `path`; "stdin" for data spooled from a pipe).
    // Throws InputError(shownAs, ...) when unreadable.
    explicit CsvReader(const std::string& path, const std::string& shownAs = {});

    // Moves to the next line that is not blank; false at the end of the file. Comment
    // lines (first character '#') are returned too: check isComment() before fields().
    bool next();
    bool isComment() const { return !line_.empty() && line_[0] == '#'; }
    std::string_view line() const { return line_; }   // the raw line, without its end
    // The fields of the current line (split on demand; throws on an unterminated quote).
    const std::vector<std::string_view>& fields();

    int64_t lineNumber() const { return lineNo_; }
    const std::string& path() const { return shown_; }   // the name messages use
    std::string where() const { return shown_ + ":" + std::to_string(lineNo_); }
    // False for pipes and devices: such a file cannot be opened again for a second pass.
    bool isRegularFile() const { return regular_; }
    // Bytes consumed so far and the file size, for progress reports.
    int64_t bytesRead() const { return bytes_; }
    // Continues reading at byte `offset` of a regular file, where line `lineNumber` starts
    // (a value of bytesRead() and lineNumber() + 1 seen before a next()).
    void seek(int64_t offset, int64_t lineNumber);
    int64_t fileSize() const { return size_; }

private:
    bool readLine();   // the next raw line into line_ (without '\n'); false at the end

    std::string shown_;
    std::ifstream in_;
    std::vector<char> buf_;
    size_t pos_ = 0, end_ = 0;
    bool eof_ = false;
    bool regular_ = true;
    std::string line_;
    std::string unquoted_;   // storage for fields that needed unescaping
    std::vector<std::string_view> fields_;
    bool split_ = false;
    int64_t lineNo_ = 0;
    int64_t bytes_ = 0;
    int64_t size_ = 0;
};

// Parses a whole field as a number (no spaces, nothing after). False when it is not one.
bool parseInt(std::string_view s, int64_t& out);
bool parseFloat(std::string_view s, float& out);
// Without leading and trailing spaces and tabs.
std::string_view trim(std::string_view s);

} // namespace kvtier
