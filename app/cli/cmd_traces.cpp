// kvtier-cli traces: the traces in a trace database, one line each.
#include "args.hpp"
#include "command.hpp"

#include "core/store/trace_store.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace kvtier::cli {

namespace {

// Decimal units, as everywhere in kvtier's UI (1 MB = 1e6 B).
std::string humanBytes(int64_t b)
{
    const char* units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = static_cast<double>(b);
    int u = 0;
    while (v >= 1000.0 && u < 4) {
        v /= 1000.0;
        ++u;
    }
    char buf[32];
    if (u == 0) std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(b));
    else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
}

std::string usage()
{
    return "usage: kvtier-cli traces DB [--json]\n"
           "\n"
           "Lists the traces stored in the kvtier trace database DB: name, layer mode\n"
           "(aggregated or per-layer), kind (scores or selection), prefill length P, decode\n"
           "steps T, layers L, stored records, stored size and description.\n"
           "\n"
           "  --json   print a JSON array instead of the table\n";
}

int run(const std::vector<std::string>& argv)
{
    Args a(argv, {}, {"json"});
    if (a.positional().size() != 1) throw UsageError("expected one argument, the database file");
    auto store = TraceStore::open(a.positional()[0], TraceStore::Mode::ReadOnly);
    const auto traces = store->list();

    if (a.has("json")) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& s : traces)
            out.push_back({{"name", s.meta.name},
                           {"layer_mode", toString(s.meta.layer_mode)},
                           {"kind", toString(s.meta.kind)},
                           {"prefill", s.meta.prefill},
                           {"steps", s.meta.steps},
                           {"layers", s.meta.layers},
                           {"records", s.records},
                           {"bytes", s.blob_bytes},
                           {"encoding", encodingText(s)},
                           {"description", s.meta.description}});
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    if (traces.empty()) {
        std::cout << "no traces in " << store->path() << "\n";
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"name", "mode", "kind", "P", "T", "L", "records", "size", "description"});
    for (const auto& s : traces)
        rows.push_back({s.meta.name, toString(s.meta.layer_mode), toString(s.meta.kind),
                        std::to_string(s.meta.prefill), std::to_string(s.meta.steps), std::to_string(s.meta.layers),
                        std::to_string(s.records), humanBytes(s.blob_bytes), s.meta.description});
    std::vector<size_t> width(rows[0].size(), 0);
    for (const auto& r : rows)
        for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
    for (const auto& r : rows) {
        std::string line;
        for (size_t c = 0; c < r.size(); ++c) {
            const bool numeric = c >= 3 && c <= 7;
            const std::string pad(width[c] - r[c].size(), ' ');
            if (c + 1 == r.size()) line += r[c];   // description: no trailing padding
            else line += (numeric ? pad + r[c] : r[c] + pad) + "  ";
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        std::cout << line << "\n";
    }
    return 0;
}

const Registration reg("traces", Command{"list the traces in a trace database", usage(), run});

} // namespace

} // namespace kvtier::cli
