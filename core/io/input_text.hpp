#pragma once
// How importer messages quote what a file holds. An error is one line, so quoted bytes are
// capped (a 100 MB line must not become a 100 MB message), control bytes are shown as \xNN
// (a NUL or CR in a message would break the line), and long digit strings are shortened.
// excerpt() itself is in core/model/text.hpp: every layer quotes input with it.
#include "core/model/text.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace kvtier {

// Why `field` is not an int64, as the rest of a sentence that names the field:
// " is not an integer: 'x'" or " 123456789012… (300 digits) is too large" (negative: "is
// out of range").
std::string notAnInteger(std::string_view field);

// A byte count for people: "512 bytes", "1.5 MB", "1.1 TB" (decimal units, as the UI).
std::string readableBytes(uint64_t bytes);

} // namespace kvtier
