#include "core/io/import_dsa_topk.hpp"

#include "core/io/csv_reader.hpp"
#include "core/io/import_limits.hpp"
#include "core/io/input_text.hpp"
#include "core/model/error.hpp"
#include "core/support/json_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <unordered_map>

namespace kvtier {

namespace {

// A JSON integer in min .. max, or an error naming it: `label` is "'layer'" or "'topk' element".
int64_t intValue(const nlohmann::json& v, const std::string& label, int64_t min, int64_t max, const std::string& where)
{
    const std::string shown = label + (label.back() == '\'' ? " = " : " ");
    if (!v.is_number_integer()) throw InputError(where, label + " must be an integer, found " + excerpt(v.dump(), 40));
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        throw InputError(where, shown + excerpt(v.dump(), 40) + " is too large");
    const auto x = v.get<int64_t>();
    if (x < min) throw InputError(where, shown + std::to_string(x) + " is below " + std::to_string(min));
    if (x > max) throw InputError(where, shown + std::to_string(x) + " exceeds the limit of " + std::to_string(max));
    return x;
}

const nlohmann::json& required(const nlohmann::json& j, const char* key, const std::string& where)
{
    const auto it = j.find(key);
    if (it == j.end()) throw InputError(where, std::string("no '") + key + "' key (required: request, layer, step, topk)");
    return *it;
}

// Where each request's lines start and what it says about its prefill (the first pass).
struct Request {
    std::string id;      // JSON text
    int64_t prefill = 0; // P_s
    int64_t line = 0;    // its first line
};

} // namespace

void parseDsaTopkLine(const std::string& text, const std::string& where, DsaTopkLine& out)
{
    nlohmann::json j;
    try {
        j = parseJsonText(text, where);
    } catch (const InputError& e) {
        // one line of JSON: "line 1, column C: ..." says the column only
        const std::string& p = e.problem();
        throw InputError(where, p.rfind("line 1, ", 0) == 0 ? p.substr(8) : p);
    }
    if (!j.is_object()) throw InputError(where, "expected one JSON object per line, found '" + excerpt(text, 40) + "'");
    const nlohmann::json& request = required(j, "request", where);
    if (!request.is_string() && !request.is_number_integer())
        throw InputError(where, "'request' must be a string or an integer, found " + excerpt(request.dump(), 40));
    out.request = request.dump();
    out.layer = intValue(required(j, "layer", where), "'layer'", 0, kMaxLayers - 1, where);
    out.step = intValue(required(j, "step", where), "'step'", 0, kMaxContextTokens - 1, where);
    out.context = -1;
    out.prefill = -1;
    if (const auto it = j.find("context"); it != j.end()) out.context = intValue(*it, "'context'", 1, kMaxContextTokens, where);
    if (const auto it = j.find("prefill"); it != j.end()) out.prefill = intValue(*it, "'prefill'", 0, kMaxContextTokens - 1, where);
    const nlohmann::json& topk = required(j, "topk", where);
    if (!topk.is_array()) throw InputError(where, "'topk' must be a list of token positions, found " + excerpt(topk.dump(), 40));
    out.topk.clear();
    out.topk.reserve(topk.size());
    for (const nlohmann::json& v : topk) {
        const int64_t i = intValue(v, "'topk' element", -1, kMaxContextTokens - 1, where);
        if (i >= 0) out.topk.push_back(i);   // -1: an unfilled slot (context shorter than k)
    }
}

TraceSummary importDsaTopk(TraceStore& store, const std::string& path, const ImportOptions& opt)
{
    const std::string& shown = opt.shown_name.empty() ? path : opt.shown_name;
    if (opt.encoding && *opt.encoding != Encoding::IndexU32 && *opt.encoding != Encoding::IndexVarint &&
        *opt.encoding != Encoding::IndexStepDelta)
        throw InputError(shown, std::string("DSA top-k traces are selections and are stored as index_u32, not ") +
                                    toString(*opt.encoding) + " (index_varint is the compact alternative)");
    if (opt.layer_mode && *opt.layer_mode != LayerMode::PerLayer)
        throw InputError(shown, "DSA top-k traces are per layer (each line is one layer's selection)");

    // ---- pass 1: requests, P_s, T, L; every line checked on its own ----------------------
    CsvReader scan(path, shown);
    if (!scan.isRegularFile())
        throw InputError(shown, "is a pipe; the DSA top-k importer needs two passes over a file (save it to a file)");
    std::vector<Request> requests;
    std::unordered_map<std::string, int32_t> number;   // request id -> sequence
    int64_t step = 0, layers = 0, lastLine = 0;
    DsaTopkLine line;
    while (scan.next()) {
        const std::string where = scan.where();
        parseDsaTopkLine(std::string(scan.line()), where, line);
        if (line.step < step)
            throw InputError(where, "step " + std::to_string(line.step) + " after step " + std::to_string(step) +
                                        " (lines must come grouped by step, steps ascending)");
        if (line.step > step + (requests.empty() ? 0 : 1))
            throw InputError(where, "step " + std::to_string(line.step) + " after step " + std::to_string(step) + ": step " +
                                        std::to_string(step + (requests.empty() ? 0 : 1)) + " has no lines");
        step = line.step;
        auto it = number.find(line.request);
        if (it == number.end()) {
            if (line.step != 0)
                throw InputError(where, "request " + excerpt(line.request, 40) + " first appears at step " +
                                            std::to_string(line.step) + "; every request starts at step 0 (the sequences "
                                            "of a batch share their decode steps)");
            if (static_cast<int64_t>(requests.size()) >= kMaxSequences)
                throw InputError(where, "more than " + std::to_string(kMaxSequences) + " requests (the limit of one trace)");
            int64_t p = -1;
            if (line.prefill >= 0) p = line.prefill;
            else if (line.context >= 0) p = line.context - 1;
            else if (opt.prefill) p = *opt.prefill;
            else
                throw InputError(where, "the first line of request " + excerpt(line.request, 40) +
                                            " gives neither 'context' nor 'prefill' (or use --prefill)");
            it = number.emplace(line.request, static_cast<int32_t>(requests.size())).first;
            requests.push_back({line.request, p, scan.lineNumber()});
        }
        const Request& r = requests[static_cast<size_t>(it->second)];
        const int64_t self = r.prefill + line.step;   // the decoded token's position, P_s + t
        if (line.prefill >= 0 && line.prefill != r.prefill)
            throw InputError(where, "'prefill' = " + std::to_string(line.prefill) + ", but request " + excerpt(r.id, 40) +
                                        " has P = " + std::to_string(r.prefill) + " (line " + std::to_string(r.line) + ")");
        if (line.context >= 0 && line.context != self + 1)
            throw InputError(where, "'context' = " + std::to_string(line.context) + " at step " + std::to_string(line.step) +
                                        ", expected P + t + 1 = " + std::to_string(self + 1) + " for request " +
                                        excerpt(r.id, 40) + " (P = " + std::to_string(r.prefill) + ")");
        for (int64_t i : line.topk)
            if (i > self)
                throw InputError(where, "position " + std::to_string(i) + " is beyond the decoded token " + std::to_string(self) +
                                            " (context 0.." + std::to_string(self) + ")");
        layers = std::max(layers, line.layer + 1);
        lastLine = scan.lineNumber();
        opt.control.check();
    }
    if (requests.empty()) throw InputError(shown, "no lines (expected one JSON object per line)");
    const int64_t steps = step + 1;
    const auto S = static_cast<int64_t>(requests.size());
    if (steps * S * layers > limits::kMaxRecords)
        throw InputError(shown, "T = " + std::to_string(steps) + " steps x S = " + std::to_string(S) + " requests x L = " +
                                    std::to_string(layers) + " layers = " + std::to_string(steps * S * layers) +
                                    " records exceeds the limit of " + std::to_string(limits::kMaxRecords));

    TraceMeta meta;
    meta.name = opt.name.empty() ? traceNameFromPath(shown) : opt.name;
    meta.source = "dsa-topk " + shown;
    meta.description = opt.description.value_or("");
    meta.model_name = opt.model_name.value_or("");
    meta.head_reduction = opt.head_reduction.value_or("dsa-indexer");
    meta.notes = opt.notes.value_or("");
    meta.kind = RecordKind::Selection;
    meta.layer_mode = LayerMode::PerLayer;
    meta.layers = static_cast<int32_t>(layers);
    meta.steps = steps;
    meta.prefill = requests.front().prefill;
    if (S > 1)
        for (const Request& r : requests) meta.sequence_prefill.push_back(r.prefill);

    // ---- pass 2: one step at a time --------------------------------------------------------
    const auto slots = static_cast<size_t>(S * layers);   // (sequence, layer) of one step
    std::vector<std::vector<uint32_t>> sel(slots);
    std::vector<int64_t> lineOf(slots, 0);                // 0: no line yet this step
    auto writer = store.beginTrace(meta, opt.encoding.value_or(Encoding::IndexU32), opt.replace, opt.key_interval);
    CsvReader in(path, shown);
    Record rec;
    int64_t t = 0, stepLine = 0;
    auto flush = [&](int64_t endLine) {
        for (size_t k = 0; k < slots; ++k)
            if (lineOf[k] == 0)
                throw InputError(shown + ":" + std::to_string(endLine),
                                 "step " + std::to_string(t) + " has no line for request " +
                                     excerpt(requests[k / static_cast<size_t>(layers)].id, 40) + ", layer " +
                                     std::to_string(k % static_cast<size_t>(layers)) + " (every request has L = " +
                                     std::to_string(layers) + " layers at every step)");
        for (size_t k = 0; k < slots; ++k) {
            rec.step = t;
            rec.sequence = static_cast<int32_t>(k / static_cast<size_t>(layers));
            rec.layer = static_cast<int32_t>(k % static_cast<size_t>(layers));
            rec.index = std::move(sel[k]);
            sel[k].clear();
            rec.value.clear();
            try {
                writer->add(rec);
            } catch (const InputError& e) {
                throw InputError(shown + ":" + std::to_string(lineOf[k]), e.problem());
            }
            lineOf[k] = 0;
        }
        opt.control.check();
        opt.control.report(static_cast<double>(t + 1) / static_cast<double>(steps));
    };
    while (in.next()) {
        const std::string where = in.where();
        parseDsaTopkLine(std::string(in.line()), where, line);
        if (line.step != t) {
            if (line.step != t + 1) throw InputError(where, "the file changed while it was imported");
            flush(stepLine);
            t = line.step;
        }
        const auto it = number.find(line.request);
        if (it == number.end()) throw InputError(where, "the file changed while it was imported");
        const int32_t s = it->second;
        const size_t k = static_cast<size_t>(s) * static_cast<size_t>(layers) + static_cast<size_t>(line.layer);
        if (lineOf[k] != 0)
            throw InputError(where, "a second line for request " + excerpt(line.request, 40) + ", layer " +
                                        std::to_string(line.layer) + ", step " + std::to_string(t) + " (the first is line " +
                                        std::to_string(lineOf[k]) + ")");
        lineOf[k] = in.lineNumber();
        // A selection is a set: sorted, repeats merged; the decoded token itself is dropped
        // (its KV is written, not read: MODEL.md §1).
        const int64_t self = meta.prefillOf(s) + t;
        std::vector<uint32_t>& out = sel[k];
        for (int64_t i : line.topk)
            if (i < self) out.push_back(static_cast<uint32_t>(i));
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        stepLine = in.lineNumber();
    }
    if (t != steps - 1) throw InputError(shown, "the file changed while it was imported");
    flush(lastLine);
    writer->commit();
    opt.control.report(1.0);
    return store.get(meta.name);
}

} // namespace kvtier
