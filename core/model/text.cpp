#include "core/model/text.hpp"

#include <cstdio>

namespace kvtier {

std::string excerpt(std::string_view s, size_t maxBytes)
{
    std::string out;
    size_t k = 0;
    for (; k < s.size() && k < maxBytes; ++k) {
        const auto c = static_cast<unsigned char>(s[k]);
        if (c < 0x20 || c == 0x7F) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02X", c);
            out += hex;
        } else {
            out.push_back(s[k]);
        }
    }
    if (k == s.size()) return out;
    // Do not end inside a UTF-8 sequence: if the last sequence started is incomplete, drop it.
    size_t lead = out.size();
    while (lead > 0 && (static_cast<unsigned char>(out[lead - 1]) & 0xC0) == 0x80) --lead;
    if (lead > 0) {
        const auto c = static_cast<unsigned char>(out[lead - 1]);
        const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        if (out.size() - (lead - 1) < len) out.resize(lead - 1);
    }
    return out + "\u2026";
}

} // namespace kvtier
