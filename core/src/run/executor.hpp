// Runs a Plan on a oneTBB flow graph: one node per stage, edges from inputs. Independent stages run
// concurrently; compute stages (oneDNN) take turns so they do not oversubscribe the cores. A failing
// stage skips only its dependents; a stop request lets running stages finish or abort and starts
// nothing new.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "plan/plan.hpp"
#include "run/run_observer.hpp"

namespace pipeline {

enum class StageStatus { not_run, done, failed, skipped, cancelled };
const char* to_string(StageStatus status);

struct StageOutcome {
  std::string id;
  StageStatus status = StageStatus::not_run;
  double seconds = 0;
  double started = 0;   // when it started, in seconds since the Unix epoch (0: it did not start)
  int thread = 0;       // which of this process's threads ran it (1, 2, ...; 0: none), for the timeline
  std::string message;  // why it failed or was skipped
  Value metrics = Value::map();
  Value timings = Value::map();
  std::vector<std::pair<std::string, ArtifactPtr>> outputs;
  std::vector<std::string> logs;  // what the stage logged, for its log file in the run record
  std::vector<std::string> results;  // StageContext::result texts: stdout and results.txt; cached with the outputs
  bool from_cache = false;
  Value placement;  // where it ran when not in this process: Slurm job id, node (for lock.json)
};

class Cache;

// How the Slurm scheduler submits (pipeline run --executor slurm; docs/scale-out.md).
struct SlurmOptions {
  std::string partition;               // empty: the cluster's default
  int max_jobs = 100;                  // jobs in flight at once
  std::vector<std::string> sbatch_args;  // passed to every sbatch (account, time, memory, ...)
  std::vector<std::string> worker;     // the worker command: this binary and its plugin options
  double poll_seconds = 1.0;           // the longest wait between reads of the jobs' markers
  double queue_seconds = 5.0;          // how often squeue is asked (only to notice lost jobs)
};

struct RunOptions {
  std::filesystem::path run_dir;  // where stages' work dirs go; empty: no run record
  int max_parallel_stages = 0;    // 0: hardware threads + 1
  const Cache* cache = nullptr;   // reuse and store stage outputs by content key
  // The run's own store for outputs the shared cache does not keep (stages that write files,
  // results that used undeclared extensions), so that separate processes of one run can hand
  // them on. Only the Slurm scheduler and its workers set it.
  const Cache* exchange = nullptr;
  bool keep_outputs = false;      // keep every artifact to the end (else dropped after its last reader)
  std::string scheduler = "local";  // "local" (oneTBB flow graph), "serial" or "slurm"
  // Where each finished instance is appended as a JSON line (status, metrics) as it finishes, so
  // a crash or a failed record loses none of them; empty: nowhere.
  std::filesystem::path progress_file;
  SlurmOptions slurm;
};

struct RunResult {
  std::vector<StageOutcome> stages;  // in plan order
  bool interrupted = false;
  int failed() const;
  int exit_code() const;  // 0 ok, 1 a stage failed, 130 interrupted
  const StageOutcome* find(const std::string& id) const;
};

RunResult execute(const Plan& plan, RunObserver& observer, const std::atomic<bool>& stop,
                  const RunOptions& options = {});

}  // namespace pipeline
