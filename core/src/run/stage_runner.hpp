// The stage runner: runs one planned instance given its producers' outcomes (cache lookup, create,
// run, verify its outputs, store), with no threads and no scheduling of its own. Schedulers
// (schedulers.hpp) decide when and where it runs.
#pragma once

#include <atomic>
#include <vector>

#include "run/executor.hpp"
#include "run/run_observer.hpp"

namespace pipeline {

// The instances whose outputs stage reads, each once.
std::vector<std::size_t> producers_of(const PlannedStage& stage);

// Whether instance i can run: every producer done and no stop requested. Otherwise marks it
// skipped (a producer failed or was skipped) or cancelled, and returns false.
bool inputs_ready(const Plan& plan, std::size_t i, std::vector<StageOutcome>& outcomes, RunObserver& observer,
                  const std::atomic<bool>& stop);

// Runs instance i into outcomes[i], reading its producers' outcomes; reports to `observer`.
void run_instance(const Plan& plan, std::size_t i, std::vector<StageOutcome>& outcomes, RunObserver& observer,
                  const std::atomic<bool>& stop, const RunOptions& options);

// Appends the outcome to options.progress_file (one JSON line; best effort: a full disk loses the
// line, not the run).
void record_progress(const RunOptions& options, const StageOutcome& outcome);

}  // namespace pipeline
