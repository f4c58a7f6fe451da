#pragma once
// Small helpers shared by the core test suites: scratch files and a compact way to
// build traces by hand.
#include "core/model/trace.hpp"
#include "core/store/trace_store.hpp"

#include <QByteArray>
#include <QString>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace kvtier::test {

// A fresh path inside a per-process temporary folder (removed at exit).
std::string scratchPath(const std::string& fileName);
// Writes `text` to a scratch file and returns its path.
std::string writeScratch(const std::string& fileName, const std::string& text);
// An aggregated score trace from dense rows; row t must have P + t entries.
Trace denseTrace(int64_t prefill, const std::vector<std::vector<float>>& rows, int32_t layers = 1,
                 const std::string& name = "t");

// An aggregated selection trace: reads[t] lists the tokens step t reads (score 1 each).
Trace selectionTrace(int64_t prefill, const std::vector<std::vector<uint32_t>>& reads, const std::string& name = "sel");

// The message of the InputError `f` throws, or "<no error>".
QString errorOf(const std::function<void()>& f);
// SHA-256 of a file's bytes (empty when unreadable): "the file did not change".
QByteArray sha256(const std::string& path);
// A new, empty trace database in the scratch folder (an old one of that name is removed).
std::unique_ptr<TraceStore> freshStore(const std::string& name);

// Writes an in-memory trace (any layer mode, any number of sequences) into a store as
// sparse f32 records, replacing a trace of that name, with `experts` (default: the
// trace's own expert sets) when there are any.
void storeTrace(TraceStore& store, const Trace& trace, const ExpertSets* experts = nullptr);
void storeTrace(const std::string& db, const Trace& trace, const ExpertSets* experts = nullptr);

} // namespace kvtier::test
