// The serial scheduler: every instance in plan order (producers before consumers) on this thread.
// Slower, but with nothing running at the same time, so a debugger or a log reads in order.
#include "run/schedulers.hpp"
#include "run/stage_runner.hpp"

namespace pipeline {

RunResult run_serially(const Plan& plan, RunObserver& observer, const std::atomic<bool>& stop, const RunOptions& options) {
  RunResult result;
  result.stages.resize(plan.stages.size());
  for (std::size_t i = 0; i < plan.stages.size(); ++i) result.stages[i].id = plan.stages[i].id;
  std::vector<std::vector<std::size_t>> producers(plan.stages.size());
  std::vector<int> readers(plan.stages.size(), 0);
  for (std::size_t i = 0; i < plan.stages.size(); ++i) {
    producers[i] = producers_of(plan.stages[i]);
    for (auto p : producers[i]) ++readers[p];
  }
  for (std::size_t i = 0; i < plan.stages.size(); ++i) {
    if (inputs_ready(plan, i, result.stages, observer, stop)) run_instance(plan, i, result.stages, observer, stop, options);
    for (auto p : producers[i])
      if (--readers[p] == 0 && !options.keep_outputs) result.stages[p].outputs.clear();
  }
  result.interrupted = stop.load();
  return result;
}

std::vector<std::string> scheduler_names() { return {"local", "serial", "slurm"}; }

}  // namespace pipeline
