#include "core/io/import_db.hpp"

#include "core/model/error.hpp"

#include <filesystem>

namespace kvtier {

std::vector<TraceSummary> importKvtierDb(TraceStore& store, const std::string& path, const ImportOptions& opt)
{
    if (opt.prefill || opt.layer_mode || opt.layers)
        throw InputError(path, "--prefill, --layers-mode and --layers do not apply when copying from a kvtier database");
    auto source = TraceStore::open(path, TraceStore::Mode::ReadOnly);
    std::error_code ec;
    if (std::filesystem::equivalent(path, store.path(), ec))
        throw InputError(path, "source and destination are the same database");

    std::vector<TraceSummary> todo;
    if (!opt.trace.empty()) {
        todo.push_back(source->get(opt.trace));
    } else {
        todo = source->list();
        if (todo.empty()) throw InputError(path, "the database holds no traces");
        if (!opt.name.empty() && todo.size() > 1)
            throw InputError(path, "renaming (--name) needs one trace (--trace NAME); the database holds " +
                                       std::to_string(todo.size()));
    }
    std::vector<std::string> targets;
    for (const auto& s : todo) {
        const std::string target = opt.name.empty() ? s.meta.name : opt.name;
        if (!opt.replace && store.find(target))
            throw InputError(store.path(), "trace '" + target + "' already exists (use --replace to overwrite it)");
        targets.push_back(target);
    }

    int64_t total = 0;
    for (const auto& s : todo) total += std::max<int64_t>(s.records, 0);
    int64_t done = 0;
    auto tx = store.transaction();
    for (size_t k = 0; k < todo.size(); ++k) {
        TraceMeta meta = todo[k].meta;
        meta.name = targets[k];
        if (opt.description) meta.description = *opt.description;
        if (opt.model_name) meta.model_name = *opt.model_name;
        if (opt.head_reduction) meta.head_reduction = *opt.head_reduction;
        if (opt.notes) meta.notes = *opt.notes;
        const Encoding enc = opt.encoding.value_or(todo[k].encoding);
        auto reader = source->reader(todo[k].meta.name);
        // A step-delta copy keeps the source's key interval unless told otherwise.
        const int32_t keyInterval = opt.key_interval > 0 || enc != todo[k].encoding ? opt.key_interval : todo[k].key_interval;
        auto writer = store.beginTrace(meta, enc, opt.replace, keyInterval);
        Record rec;
        while (reader->next(rec)) {
            writer->add(rec);
            opt.control.check();
            opt.control.report(static_cast<double>(++done) / static_cast<double>(std::max<int64_t>(total, 1)));
        }
        writer->setExperts(source->loadExperts(todo[k].meta.name));   // MODEL.md §9, when it has any
        writer->commit();
    }
    tx->commit();
    std::vector<TraceSummary> out;
    for (const auto& t : targets) out.push_back(store.get(t));
    return out;
}

} // namespace kvtier
