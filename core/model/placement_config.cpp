#include "core/model/placement_config.hpp"

#include "core/model/error.hpp"

namespace kvtier {

const char* toString(ObserveScores o)
{
    return o == ObserveScores::All ? "all" : "read";
}

ObserveScores observeScoresFromString(const std::string& s)
{
    for (auto o : {ObserveScores::Read, ObserveScores::All})
        if (s == toString(o)) return o;
    throw InputError("placement.observe_scores", "unknown value '" + s + "' (expected read or all)");
}

} // namespace kvtier
