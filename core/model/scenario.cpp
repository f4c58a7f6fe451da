#include "core/model/scenario.hpp"

namespace kvtier {

TimingConfig Scenario::timingConfig() const
{
    TimingConfig c;
    c.model = model;
    c.hardware = hardware;
    c.batch = batch;
    c.weights_in_fast_tier = weights_in_fast_tier;
    c.route = route;
    c.compute_floor_s = compute_floor_s;
    c.experts = experts;
    return c;
}

} // namespace kvtier
