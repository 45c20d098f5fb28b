// The run record on disk: runs/EXPERIMENT/RUN_ID/ with the plan, the metrics, the lock file, the
// stages' logs and, for sweeps, each trial's resolved config and metrics and a summary across trials.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "plan/sweep.hpp"
#include "run/executor.hpp"

namespace pipeline {

// Creates runs_root/EXPERIMENT/RUN_ID (RUN_ID: UTC time and a counter, unique and sortable).
std::filesystem::path create_run_dir(const std::filesystem::path& runs_root,
                                     const std::string& experiment);

// Writes, atomically:
//   plan.json      every stage instance: type, checked parameters, inputs, seed, content key
//   metrics.json   {"experiment", "seed", "interrupted", "stages": {id: {"status", "metrics"}}}:
//                  a function of the config and seeds only, bit-identical between equal runs
//   timings.json   {id: {"seconds", "from_cache", ...stage timings}}
//   lock.json      `lock` as given (plugins with SHA-256, oneDNN, threads, seeds, keys)
//   stages/ID/log.txt  what each stage logged
// and for sweeps trials/NNN/{config,metrics}.json and summary.{csv,md}. Returns the results a
// person reads (also in results.txt): a sweep's summary table (Markdown); otherwise the stages'
// StageContext::result texts, or the headline metrics when no stage gave one. A file that cannot
// be written (each names its path and the system's reason in `problems`) does not stop the
// others or the results.
std::string write_run_record(const std::filesystem::path& run_dir, const SweepPlan& sweep, const RunResult& result,
                             const Value& lock, std::vector<std::string>& problems);

}  // namespace pipeline
