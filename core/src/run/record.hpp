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
//   run.json       when and how it ran: start (UTC), wall time, status, stage counts, command,
//                  executor, the headline metrics (written last: its absence marks a run that
//                  ended before its record, such as a crash)
//   stages/ID/log.txt  what each stage logged
// and for sweeps trials/NNN/{config,metrics}.json and summary.{csv,md}. Returns the results a
// person reads (also in results.txt): a sweep's summary table (Markdown); otherwise the stages'
// StageContext::result texts, or the headline metrics when no stage gave one. A file that cannot
// be written (each names its path and the system's reason in `problems`) does not stop the
// others or the results.
// How the run went, for run.json (what `pipeline runs` lists).
struct RunInfo {
  double started = 0;         // seconds since the Unix epoch
  double wall_seconds = 0;
  std::string executor;
  std::vector<std::string> command;  // argv
};

std::string write_run_record(const std::filesystem::path& run_dir, const SweepPlan& sweep, const RunResult& result,
                             const Value& lock, const RunInfo& info, std::vector<std::string>& problems);

// plan.json alone, written when the run starts: a run that crashes still has its plan, so its
// report shows what did not finish. Throws Error(io) naming the file.
void write_plan(const std::filesystem::path& run_dir, const Plan& plan);

// "done", "failed" or "interrupted": what a run's outcome amounts to.
std::string run_status(const RunResult& result);

}  // namespace pipeline
