#include "core/engine/view_sweep2d.hpp"

#include "core/model/error.hpp"

#include <cmath>
#include <limits>
#include <sstream>

namespace kvtier {

namespace {

std::string axisText(const SweepAxis& a, double v)
{
    if (!a.labels.empty()) {
        std::string l = a.labels.at(static_cast<size_t>(v)), q = "\"";
        if (l.find_first_of(",\"\n\r") == std::string::npos)
            return l;
        for (char c : l) q += c == '"' ? std::string("\"\"") : std::string(1, c);
        return q + "\"";
    }
    std::ostringstream o;
    o.precision(10);
    o << v;
    return o.str();
}

} // namespace

SweepGrid2d sweepGrid2d(const SweepResult& r, int policy, const std::string& where)
{
    if (r.axes.size() != 2)
        throw InputError(where, "a heat map needs exactly two axes, the sweep has " + std::to_string(r.axes.size()));
    if (policy >= static_cast<int>(r.policies.size()) || policy < -1)
        throw InputError(where, "no policy " + std::to_string(policy) + " in the sweep");
    const double nan = std::numeric_limits<double>::quiet_NaN();
    SweepGrid2d g;
    g.x = r.axes[0].values;
    g.y = r.axes[1].values;
    const size_t n = sweepGridSize(r.axes, where);
    g.best_time_s.assign(n, nan);
    g.best_policy.assign(n, -1);
    g.policy_time_s.assign(n, nan);
    g.error.assign(n, std::string());
    g.done.assign(n, false);
    bool any = false;
    for (const SweepPoint& p : r.points) {
        if (p.index >= n)
            throw InputError(where, "point " + std::to_string(p.index) + " is outside the " + std::to_string(n) +
                                        "-point grid");
        const size_t c = p.index;
        if (!g.done[c])
            ++g.finished;
        g.done[c] = true;
        g.error[c] = p.error;
        if (!p.error.empty())
            continue;
        for (size_t k = 0; k < p.policies.size(); ++k) {
            const double t = p.policies[k].total_time_s;
            if (!std::isfinite(t))
                continue;
            if (g.best_policy[c] < 0 || t < g.best_time_s[c]) {
                g.best_time_s[c] = t;
                g.best_policy[c] = static_cast<int>(k);
            }
        }
        if (policy >= 0 && static_cast<size_t>(policy) < p.policies.size())
            g.policy_time_s[c] = p.policies[static_cast<size_t>(policy)].total_time_s;
        if (g.best_policy[c] >= 0) {
            g.min_time_s = any ? std::min(g.min_time_s, g.best_time_s[c]) : g.best_time_s[c];
            g.max_time_s = any ? std::max(g.max_time_s, g.best_time_s[c]) : g.best_time_s[c];
            any = true;
        }
    }
    return g;
}

std::string sweepGrid2dToCsv(const SweepResult& r, const SweepGrid2d& g)
{
    std::ostringstream o;
    o.precision(10);
    o << "\"" << r.axes.at(1).key << " \\ " << r.axes.at(0).key << " (best policy time, s)\"";
    for (double x : g.x) o << ',' << axisText(r.axes[0], x);
    o << '\n';
    for (size_t j = 0; j < g.y.size(); ++j) {
        o << axisText(r.axes[1], g.y[j]);
        for (size_t i = 0; i < g.x.size(); ++i) {
            o << ',';
            const double t = g.best_time_s[g.cell(i, j)];
            if (std::isfinite(t))
                o << t;
        }
        o << '\n';
    }
    return o.str();
}

} // namespace kvtier
