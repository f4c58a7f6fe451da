#include "core/io/export_csv.hpp"

#include "core/io/atomic_file.hpp"
#include "core/io/trace_comment.hpp"
#include "core/model/error.hpp"

#include <charconv>
#include <iostream>

namespace kvtier {

int64_t exportLongCsv(const TraceStore& store, const std::string& name, std::ostream& out,
                      const JobControl& control)
{
    const TraceSummary s = store.get(name);
    // A batch of several sequences (MODEL.md §8) gets the sequence column; the comment lists
    // their P_s, so the import restores them.
    const bool sequences = s.meta.sequenceCount() > 1;
    auto reader = store.reader(name);
    out << formatTraceComment(s) << (sequences ? "\nstep,sequence,layer,token,score\n" : "\nstep,layer,token,score\n");
    const bool selection = s.meta.kind == RecordKind::Selection;
    const int64_t total = std::max<int64_t>(s.meta.recordCount(), 1);
    int64_t rows = 0;
    int64_t done = 0;
    Record rec;
    std::string buf;
    char num[64];
    auto append = [&](auto v) {
        auto [p, ec] = std::to_chars(num, num + sizeof num, v);
        buf.append(num, p);
    };
    while (reader->next(rec)) {
        buf.clear();
        for (size_t k = 0; k < rec.index.size(); ++k) {
            append(rec.step);
            buf.push_back(',');
            if (sequences) {
                append(rec.sequence);
                buf.push_back(',');
            }
            append(rec.layer);
            buf.push_back(',');
            append(rec.index[k]);
            buf.push_back(',');
            if (selection) buf.push_back('1');
            else append(rec.value[k]);   // shortest round-trip form of the float
            buf.push_back('\n');
        }
        out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
        rows += static_cast<int64_t>(rec.index.size());
        control.check();
        control.report(static_cast<double>(++done) / static_cast<double>(total));
    }
    out.flush();
    if (!out) throw InputError("", "write error while exporting trace '" + name + "'");
    return rows;
}

int64_t exportLongCsv(const TraceStore& store, const std::string& name, const std::string& outPath,
                      const JobControl& control)
{
    if (outPath == "-") {
        try {
            return exportLongCsv(store, name, std::cout, control);
        } catch (const InputError& e) {
            if (!e.where().empty()) throw;
            throw InputError("<stdout>", e.problem());
        }
    }
    // Checked and created before any record is read; a failed or cancelled export leaves
    // the target as it was and no temporary file behind.
    AtomicFile file(outPath);
    try {
        const int64_t rows = exportLongCsv(store, name, file.stream(), control);
        file.commit();
        return rows;
    } catch (const InputError& e) {
        if (!e.where().empty()) throw;
        throw InputError(outPath, e.problem());
    }
}

} // namespace kvtier
