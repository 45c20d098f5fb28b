#include "run/executor.hpp"

#include "run/schedulers.hpp"

namespace pipeline {

RunResult execute(const Plan& plan, RunObserver& observer, const std::atomic<bool>& stop, const RunOptions& options) {
  if (options.scheduler == "serial") return run_serially(plan, observer, stop, options);
  if (options.scheduler == "local" || options.scheduler.empty()) return run_on_tbb(plan, observer, stop, options);
  if (options.scheduler == "slurm") return run_on_slurm(plan, observer, stop, options);
  throw Error(ErrorCode::usage, "unknown scheduler '" + options.scheduler + "' (local, serial, slurm)");
}

}  // namespace pipeline
