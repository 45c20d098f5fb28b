// The worker side of distributed runs (`pipeline run-stage`): one process, started by a Slurm job
// on any node, runs some instances of a written-out plan. Their inputs come from the shared cache
// (or the run's exchange); an input found in neither is computed here too, from its own inputs,
// so cheap stages fused into a job need no job of their own. Outputs go to the cache as in any
// run; what happened to each instance goes to JOB_DIR/result.json, written atomically, which the
// coordinator reads as the truth.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "plan/plan.hpp"
#include "run/executor.hpp"

namespace pipeline {

class Cache;

struct WorkerJob {
  std::vector<std::string> targets;  // stage ids of the plan to run
  std::filesystem::path job_dir;     // result.json goes here
  std::filesystem::path run_dir;     // the run record the stages' work dirs belong to
};

// The instances to run for `targets`: the targets and, walking up, every producer whose outputs
// neither store holds (a producer that is held is included, to be read). Plan indices, in order.
std::vector<std::size_t> instances_to_run(const Plan& plan, const std::vector<std::size_t>& targets,
                                          const Cache& cache, const Cache* exchange);

// The sub-plan of those instances, inputs renumbered.
Plan sub_plan(const Plan& plan, const std::vector<std::size_t>& members);

// Runs the job and writes result.json. Returns 0 when every target is done, 1 when one failed,
// 130 when interrupted.
int run_worker(const Plan& plan, const WorkerJob& job, const Cache& cache, const Cache* exchange,
               const std::atomic<bool>& stop);

// Writes result.json for a job that could not start (another build on this node, an unreadable
// plan): every target failed with `message`.
void write_worker_failure(const WorkerJob& job, const std::string& message);

}  // namespace pipeline
