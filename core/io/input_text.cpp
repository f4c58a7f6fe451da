#include "core/io/input_text.hpp"

#include "core/io/csv_reader.hpp"

#include <cstdio>

namespace kvtier {

std::string notAnInteger(std::string_view field)
{
    std::string_view s = trim(field);
    std::string_view digits = s;
    if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) digits.remove_prefix(1);
    const bool allDigits = !digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos;
    if (allDigits) {   // parseInt refused it, so it does not fit 64 bits
        // Appended piece by piece: `" " + std::string&&` trips GCC 12's -Wrestrict at -O3.
        std::string out = " ";
        out += excerpt(s, 12);
        if (digits.size() > 12) out += " (" + std::to_string(digits.size()) + " digits)";
        out += s.front() == '-' ? " is out of range" : " is too large";
        return out;
    }
    return " is not an integer: '" + excerpt(s, 40) + "'";
}

std::string readableBytes(uint64_t bytes)
{
    if (bytes < 1000) return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
    static const char* units[] = {"kB", "MB", "GB", "TB", "PB", "EB"};
    double v = static_cast<double>(bytes);
    int u = -1;
    while (v >= 1000 && u < 5) {
        v /= 1000;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}

} // namespace kvtier
