#pragma once
// Sweeps over scenario keys (the CLI's `--vary key.path=...`, the GUI's sweep view): the
// axes name JSON paths of a scenario file (e.g. hardware.tiers.0.capacity_bytes); every
// point is that scenario with the keys set, read and checked like a file, then run by the
// engine's typed sweep (engine/sweep.hpp). Plus the sweep's CSV report.
#include "core/engine/sweep.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace kvtier {

class PresetLibrary;

// "key=start:stop:step" (inclusive of stop within 1e-9 of a step) or "key=v1,v2,v3"; a
// list with an item that is not a number is a categorical axis of its items (for a key
// holding text, e.g. trace.name=a,b,c).
SweepAxis parseSweepAxis(const std::string& spec);
// A categorical axis over these labels (e.g. the traces of a database).
SweepAxis categoricalSweepAxis(const std::string& key, const std::vector<std::string>& labels);
// How the CSV and messages show axis k's value x: the number, or the label.
std::string sweepAxisValueText(const SweepAxis& axis, double x);

// Checks the axes against `scenario` before any work: every key exists (InputError(where,
// "--vary KEY: the scenario has no such key")), a categorical axis names a key holding text,
// then the grid's size (sweepGridSize).
void checkSweepAxes(const nlohmann::json& scenario, const std::vector<SweepAxis>& axes, const std::string& where);

// `scenario` is the scenario JSON with presets expanded and the trace db resolved.
SweepResult runSweep(Pipeline& pipeline, const nlohmann::json& scenario, const std::string& where,
                     const PresetLibrary& presets, const std::vector<SweepAxis>& axes, const JobControl& job = {},
                     const SweepPointSink& onPoint = {}, const std::vector<size_t>& only = {});

// The scenario JSON of one grid point: `scenario` with every axis's key set to x[k]
// (a key holding an integer stays an integer when x[k] is whole; a categorical axis sets
// its label).
nlohmann::json sweepPointScenario(const nlohmann::json& scenario, const std::vector<SweepAxis>& axes,
                                  const std::vector<double>& x);
// The axis values of grid point `index` (last axis fastest).
std::vector<double> sweepPointValues(const std::vector<SweepAxis>& axes, size_t index);

// CSV: axis columns, then balanced_s, paper_s, (when the scenario enables them)
// migration_bound_s, schedule_s and annealed_s, then per policy <name>_time_s,
// <name>_throughput_tok_s, <name>_hbm_hit_ratio, <name>_migrated_bytes, then error.
std::string sweepToCsv(const SweepResult& r);

// The long CSV (a 2-D sweep's usual form; any number of axes): one row per point per
// policy. Axis columns, then policy, time_s, throughput_tok_s, hbm_hit_ratio,
// migrated_bytes, balanced_s, paper_s, error; an infeasible point has one row per policy
// with the numbers empty and its reason in error.
std::string sweepToLongCsv(const SweepResult& r);

} // namespace kvtier
