#pragma once
// Exports a stored trace in the seed's formats, so its own scripts run on kvtier's traces
// (docs/TRACE_FORMAT.md "Seed batch CSV", "Paper CSV"):
// - the seed batch CSV `query_id,token_id,layer_id,experts,attention`: query_id = the
//   sequence s, token_id = P_s + t, experts = the step's expert set X[t][l] (the union over
//   the batch, MODEL.md §9; `[]` without expert sets) on every query's row,
//   attention = every context index in descending attention: a ranked record as ranked;
//   a score record as all n_t^s indices by score descending, ties by lower index (MODEL.md
//   §2's order, so the zero-score tail is in index order). Selection traces have no order
//   and are refused.
// - the paper CSV `n,l,read_kv` at sparsity s: each record's first
//   max(1, ceil((1 - s) * len - 1e-9)) entries of that order (MODEL.md §2 ratio rule with
//   rho = 1 - s; len = a ranked record's length or n_t), ascending; selection traces as
//   given (s must be 0). One sequence: the trace's, or the one named.
// Aggregated traces write the same list for every layer 0..L-1. Both stream record by
// record; to a file atomically (core/io/atomic_file.hpp) or "-" for stdout.
#include "core/model/cancel.hpp"
#include "core/store/trace_store.hpp"

#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <vector>

namespace kvtier {

// Every context index of one record in MODEL.md §2 order (descending relevance, ties by
// lower index); a ranked record: its ranking.
std::vector<uint32_t> rankedOrder(RecordKind kind, int64_t n, std::span<const uint32_t> index,
                                  std::span<const float> value);

// Returns the number of data rows written.
int64_t exportSeedCsv(const TraceStore& store, const std::string& name, std::ostream& out, const JobControl& control = {});
int64_t exportSeedCsv(const TraceStore& store, const std::string& name, const std::string& outPath,
                      const JobControl& control = {});
// `sequence` -1: the trace must hold one sequence.
int64_t exportPaperCsv(const TraceStore& store, const std::string& name, double sparsity, int32_t sequence,
                       std::ostream& out, const JobControl& control = {});
int64_t exportPaperCsv(const TraceStore& store, const std::string& name, double sparsity, int32_t sequence,
                       const std::string& outPath, const JobControl& control = {});

} // namespace kvtier
