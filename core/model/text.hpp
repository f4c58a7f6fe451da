#pragma once
// Quoting input in a message. An error is one line, so quoted bytes are capped (a 100 MB
// line must not become a 100 MB message) and control bytes are shown as \xNN (a NUL or CR
// in a message would break the line). Used by the importers (io/input_text.hpp) and by any
// layer that quotes what a file or a library said.
#include <cstddef>
#include <string>
#include <string_view>

namespace kvtier {

// At most `maxBytes` bytes of `s` (never cutting a UTF-8 sequence), control bytes as \xNN,
// then "…" when something was left out.
std::string excerpt(std::string_view s, size_t maxBytes = 80);

} // namespace kvtier
