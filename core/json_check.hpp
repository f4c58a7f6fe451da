#pragma once
// Strict reading of user JSON (presets, generator parameters): every problem becomes an
// InputError naming the file and the JSON path, "file: presets[2].tiers[1].bandwidth:
// must be > 0". Unknown keys are errors, never ignored: a typo must not silently fall
// back to a default.
#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace kvtier::jsoncheck {

inline std::string join(const std::string& path, const std::string& key)
{
    return path.empty() ? key : path + "." + key;
}

inline std::string item(const std::string& path, size_t i)
{
    return (path.empty() ? std::string("[") : path + "[") + std::to_string(i) + "]";
}

[[noreturn]] inline void fail(const std::string& where, const std::string& path,
                              const std::string& problem)
{
    throw InputError(where, path.empty() ? problem : path + ": " + problem);
}

inline const char* typeName(const nlohmann::json& v)
{
    return v.type_name();
}

inline void requireObject(const nlohmann::json& j, const std::string& where, const std::string& path)
{
    if (!j.is_object())
        fail(where, path, std::string("must be a JSON object, not ") + typeName(j));
}

inline void checkKeys(const nlohmann::json& j, const std::string& where, const std::string& path,
                      std::initializer_list<const char*> allowed)
{
    requireObject(j, where, path);
    for (auto it = j.begin(); it != j.end(); ++it) {
        bool ok = false;
        for (const char* a : allowed)
            if (it.key() == a) ok = true;
        if (!ok) {
            std::string list;
            for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
            fail(where, join(path, it.key()), "unknown key (allowed: " + list + ")");
        }
    }
}

inline const nlohmann::json& require(const nlohmann::json& j, const char* key,
                                     const std::string& where, const std::string& path)
{
    auto it = j.find(key);
    if (it == j.end()) fail(where, join(path, key), "missing");
    return *it;
}

inline bool present(const nlohmann::json& j, const char* key)
{
    auto it = j.find(key);
    return it != j.end() && !it->is_null();
}

inline double number(const nlohmann::json& v, const std::string& where, const std::string& path)
{
    if (!v.is_number()) fail(where, path, std::string("must be a number, not ") + typeName(v));
    const double d = v.get<double>();
    if (!std::isfinite(d)) fail(where, path, "must be finite");
    return d;
}

inline double positive(const nlohmann::json& v, const std::string& where, const std::string& path)
{
    const double d = number(v, where, path);
    if (!(d > 0)) fail(where, path, "must be > 0");
    return d;
}

inline double nonNegative(const nlohmann::json& v, const std::string& where, const std::string& path)
{
    const double d = number(v, where, path);
    if (d < 0) fail(where, path, "must be >= 0");
    return d;
}

// A number within [lo, hi]; `unit` follows the limits in messages ("B/s", "s", "(1 EB)").
inline double between(const nlohmann::json& v, const std::string& where, const std::string& path, double lo,
                      double hi, const std::string& unit = "")
{
    const double d = number(v, where, path);
    const std::string u = unit.empty() ? "" : " " + unit;
    if (d < lo) fail(where, path, "must be at least " + readableNumber(lo) + u + ", got " + readableNumber(d));
    if (d > hi) fail(where, path, "must be at most " + readableNumber(hi) + u + ", got " + readableNumber(d));
    return d;
}

inline int64_t integer(const nlohmann::json& v, const std::string& where, const std::string& path)
{
    // JSON integers above INT64_MAX parse as unsigned; get<int64_t> would wrap them negative.
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
        fail(where, path, "must be an integer of at most 9223372036854775807, not " + v.dump());
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_number_float()) {
        const double d = v.get<double>();
        if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e15)
            return static_cast<int64_t>(d);
    }
    fail(where, path, std::string("must be an integer, not ") +
                          (v.is_number() ? v.dump() : std::string(typeName(v))));
}

inline std::string string(const nlohmann::json& v, const std::string& where, const std::string& path)
{
    if (!v.is_string()) fail(where, path, std::string("must be a string, not ") + typeName(v));
    return v.get<std::string>();
}

inline bool boolean(const nlohmann::json& v, const std::string& where, const std::string& path)
{
    if (!v.is_boolean()) fail(where, path, std::string("must be true or false, not ") + typeName(v));
    return v.get<bool>();
}

} // namespace kvtier::jsoncheck
