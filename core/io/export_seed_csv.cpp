#include "core/io/export_seed_csv.hpp"

#include "core/io/atomic_file.hpp"
#include "core/model/error.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iostream>
#include <numeric>

namespace kvtier {

namespace {

void appendInt(std::string& buf, int64_t v)
{
    char num[24];
    auto [p, ec] = std::to_chars(num, num + sizeof num, v);
    buf.append(num, p);
}

// Python's str(list) as the csv module writes it: `[]`, `[3]`, `"[5, 0, 17]"`.
void appendList(std::string& buf, std::span<const uint32_t> items)
{
    const bool quote = items.size() > 1;
    if (quote) buf.push_back('"');
    buf.push_back('[');
    for (size_t k = 0; k < items.size(); ++k) {
        if (k > 0) buf.append(", ");
        appendInt(buf, items[k]);
    }
    buf.push_back(']');
    if (quote) buf.push_back('"');
}

// Runs `body(out)` into a file written atomically, or stdout for "-"; places errors.
template <class Body>
int64_t toFile(const std::string& outPath, Body body)
{
    if (outPath == "-") {
        try {
            return body(std::cout);
        } catch (const InputError& e) {
            if (!e.where().empty()) throw;
            throw InputError("<stdout>", e.problem());
        }
    }
    AtomicFile file(outPath);
    try {
        const int64_t rows = body(file.stream());
        file.commit();
        return rows;
    } catch (const InputError& e) {
        if (!e.where().empty()) throw;
        throw InputError(outPath, e.problem());
    }
}

} // namespace

std::vector<uint32_t> rankedOrder(RecordKind kind, int64_t n, std::span<const uint32_t> index,
                                  std::span<const float> value)
{
    if (kind == RecordKind::Ranked) return orderFromRankScores(index, value);
    std::vector<uint32_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0u);
    // Scored entries first, by score descending, ties by index; then the zero tail by index.
    std::vector<size_t> pos(index.size());
    std::iota(pos.begin(), pos.end(), size_t{0});
    std::stable_sort(pos.begin(), pos.end(), [&](size_t a, size_t b) { return value[a] > value[b]; });
    std::vector<uint8_t> scored(static_cast<size_t>(n), 0);
    size_t k = 0;
    for (size_t p : pos) {
        order[k++] = index[p];
        scored[index[p]] = 1;
    }
    for (uint32_t i = 0; i < static_cast<uint32_t>(n); ++i)
        if (!scored[i]) order[k++] = i;
    return order;
}

int64_t exportSeedCsv(const TraceStore& store, const std::string& name, std::ostream& out, const JobControl& control)
{
    const TraceSummary s = store.get(name);
    const TraceMeta& m = s.meta;
    if (m.kind == RecordKind::Selection)
        throw InputError("trace '" + name + "'", "holds selections, which have no attention order; the seed CSV lists "
                                                 "every context index by attention (export --paper-csv instead)");
    // X[t][l] (MODEL.md §9), written for every query of the step: the seed lists each token's
    // own experts, kvtier keeps only their union over the batch.
    const ExpertSets experts = store.loadExperts(name);
    auto reader = store.reader(name);
    out << "query_id,token_id,layer_id,experts,attention\n";
    const int32_t copies = m.layer_mode == LayerMode::Aggregated ? m.layers : 1;
    const double total = static_cast<double>(std::max<int64_t>(m.recordCount(), 1));
    int64_t rows = 0, done = 0;
    Record rec;
    std::string buf;
    // Records come in (step, sequence, layer) order; the seed writes each query's rows together.
    // Sequences are written one after another: the reader is restarted per sequence.
    for (int32_t q = 0; q < m.sequenceCount(); ++q) {
        if (q > 0) reader = store.reader(name);
        while (reader->next(rec)) {
            if (rec.sequence != q) continue;
            const std::vector<uint32_t> order = rankedOrder(m.kind, m.contextAt(q, rec.step), rec.index, rec.value);
            for (int32_t c = 0; c < copies; ++c) {
                buf.clear();
                appendInt(buf, q);
                buf.push_back(',');
                appendInt(buf, m.contextAt(q, rec.step));
                buf.push_back(',');
                const int32_t layer = copies > 1 ? c : std::max(rec.layer, 0);
                appendInt(buf, layer);
                buf.push_back(',');
                if (experts.empty()) {
                    buf.append("[]");
                } else {
                    const std::vector<uint16_t> ids = experts.ids(rec.step, layer);
                    appendList(buf, std::vector<uint32_t>(ids.begin(), ids.end()));
                }
                buf.push_back(',');
                appendList(buf, order);
                buf.push_back('\n');
                out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
                ++rows;
            }
            control.check();
            control.report(static_cast<double>(++done) / total);
        }
    }
    out.flush();
    if (!out) throw InputError("", "write error while exporting trace '" + name + "'");
    return rows;
}

int64_t exportSeedCsv(const TraceStore& store, const std::string& name, const std::string& outPath,
                      const JobControl& control)
{
    return toFile(outPath, [&](std::ostream& out) { return exportSeedCsv(store, name, out, control); });
}

int64_t exportPaperCsv(const TraceStore& store, const std::string& name, double sparsity, int32_t sequence,
                       std::ostream& out, const JobControl& control)
{
    const TraceSummary s = store.get(name);
    const TraceMeta& m = s.meta;
    const std::string where = "trace '" + name + "'";
    if (!(sparsity >= 0.0 && sparsity < 1.0))
        throw InputError("--sparsity", "must be in [0, 1), got " + std::to_string(sparsity));
    if (m.kind == RecordKind::Selection && sparsity != 0.0)
        throw InputError("--sparsity", "trace '" + name + "' holds selections, which are written as given: use 0");
    if (sequence < 0 && m.sequenceCount() > 1)
        throw InputError(where, "holds S = " + std::to_string(m.sequenceCount()) +
                                    " sequences; the paper CSV holds one: choose it with --sequence");
    const int32_t q = std::max(sequence, 0);
    if (q >= m.sequenceCount())
        throw InputError("--sequence", std::to_string(q) + " is outside 0.." + std::to_string(m.sequenceCount() - 1));
    auto reader = store.reader(name);
    out << "n,l,read_kv\n";
    const int32_t copies = m.layer_mode == LayerMode::Aggregated ? m.layers : 1;
    const double total = static_cast<double>(std::max<int64_t>(m.recordCount(), 1));
    int64_t rows = 0, done = 0;
    Record rec;
    std::string buf;
    std::vector<uint32_t> keep;
    while (reader->next(rec)) {
        ++done;
        if (rec.sequence != q) continue;
        const int64_t n = m.contextAt(q, rec.step);
        if (m.kind == RecordKind::Selection) {
            keep = rec.index;
        } else {
            const std::vector<uint32_t> order = rankedOrder(m.kind, n, rec.index, rec.value);
            const auto len = static_cast<int64_t>(order.size());
            const auto k = std::clamp<int64_t>(
                static_cast<int64_t>(std::ceil((1.0 - sparsity) * static_cast<double>(len) - 1e-9)), std::min<int64_t>(1, len), len);
            keep.assign(order.begin(), order.begin() + k);
            std::sort(keep.begin(), keep.end());
        }
        for (int32_t c = 0; c < copies; ++c) {
            buf.clear();
            appendInt(buf, n);
            buf.push_back(',');
            appendInt(buf, copies > 1 ? c : std::max(rec.layer, 0));
            buf.push_back(',');
            buf.push_back('"');
            buf.push_back('[');
            for (size_t i = 0; i < keep.size(); ++i) {
                if (i > 0) buf.append(", ");
                appendInt(buf, keep[i]);
            }
            buf.append("]\"\n");
            out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
            ++rows;
        }
        control.check();
        control.report(static_cast<double>(done) / total);
    }
    out.flush();
    if (!out) throw InputError("", "write error while exporting trace '" + name + "'");
    return rows;
}

int64_t exportPaperCsv(const TraceStore& store, const std::string& name, double sparsity, int32_t sequence,
                       const std::string& outPath, const JobControl& control)
{
    return toFile(outPath, [&](std::ostream& out) { return exportPaperCsv(store, name, sparsity, sequence, out, control); });
}

} // namespace kvtier
