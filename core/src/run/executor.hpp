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
  std::string message;  // why it failed or was skipped
  Value metrics = Value::map();
  Value timings = Value::map();
  std::vector<std::pair<std::string, ArtifactPtr>> outputs;
  std::vector<std::string> logs;  // what the stage logged, for its log file in the run record
  bool from_cache = false;
};

class Cache;

struct RunOptions {
  std::filesystem::path run_dir;  // where stages' work dirs go; empty: no run record
  int max_parallel_stages = 0;    // 0: hardware threads + 1
  const Cache* cache = nullptr;   // reuse and store stage outputs by content key
  bool keep_outputs = false;      // keep every artifact to the end (else dropped after its last reader)
  std::string scheduler = "local";  // "local" (oneTBB flow graph) or "serial"
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
