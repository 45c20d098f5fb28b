// Schedulers: where and when each stage instance of a plan runs, all through the same stage runner
// and observer. "local" is the oneTBB flow graph (independent stages at once, compute stages in
// turn); "slurm" submits them as Slurm jobs; "serial" runs instances one at a time in plan order, for debugging and as the
// reference the others must agree with.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "run/executor.hpp"
#include "run/run_observer.hpp"

namespace pipeline {

RunResult run_on_tbb(const Plan& plan, RunObserver& observer, const std::atomic<bool>& stop, const RunOptions& options);
RunResult run_serially(const Plan& plan, RunObserver& observer, const std::atomic<bool>& stop, const RunOptions& options);
// Stage instances as Slurm jobs (slurm_scheduler.cpp); options.cache is required, options.run_dir
// must be on a filesystem every node sees.
RunResult run_on_slurm(const Plan& plan, RunObserver& observer, const std::atomic<bool>& stop, const RunOptions& options);
// Before anything is submitted: Slurm's commands on PATH, the controller reachable, the partition
// known, the cache able to publish entries atomically. Throws Error(usage) with a one-line message.
void check_slurm_ready(const RunOptions& options);

// The names RunOptions::scheduler accepts.
std::vector<std::string> scheduler_names();

}  // namespace pipeline
