#include "core/model/timing_config.hpp"

#include "core/model/error.hpp"

namespace kvtier {

const char* toString(Route r) { return r == Route::Home ? "home" : "balanced"; }

Route routeFromString(const std::string& s)
{
    if (s == "home") return Route::Home;
    if (s == "balanced") return Route::Balanced;
    throw InputError("placement.route", "unknown route '" + s + "' (expected home or balanced)");
}

} // namespace kvtier
