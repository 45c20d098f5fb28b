#include "run/stage_worker.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "pipeline/io.hpp"
#include "pipeline/json.hpp"
#include "run/cache.hpp"
#include "run/reporter.hpp"
#include "run/schedulers.hpp"

namespace pipeline {
namespace {

double epoch_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string host_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return "?";
  return host;
}

// Whether instance s can be read from a store rather than computed.
bool held(const PlannedStage& s, const Cache& cache, const Cache* exchange) {
  if (Cache::cacheable(s) && cache.has_valid(s.key)) return true;
  return exchange && Cache::encodable(s) && exchange->has_valid(s.key);
}

Value outcome_json(const StageOutcome& o) {
  Value j = Value::map();
  j.set("status", Value::string(to_string(o.status)));
  j.set("message", Value::string(o.message));
  j.set("metrics", o.metrics);
  j.set("timings", o.timings);
  Value logs = Value::list();
  for (const auto& line : o.logs) logs.push_back(Value::string(line));
  j.set("logs", logs);
  Value results = Value::list();
  for (const auto& text : o.results) results.push_back(Value::string(text));
  j.set("results", results);
  j.set("seconds", Value::real(o.seconds));
  j.set("started", Value::real(o.started));
  j.set("from_cache", Value::boolean(o.from_cache));
  return j;
}

void write_result(const WorkerJob& job, const Value& instances, double started, int exit_code) {
  Value r = Value::map();
  r.set("host", Value::string(host_name()));
  r.set("pid", Value::integer(::getpid()));
  r.set("started", Value::real(started));
  r.set("finished", Value::real(epoch_seconds()));
  r.set("exit", Value::integer(exit_code));
  r.set("instances", instances);
  const std::string text = to_json(r);
  std::filesystem::create_directories(job.job_dir);
  write_file_atomic(job.job_dir / "result.json", [&](std::ostream& out) { out << text; });
}

}  // namespace

std::vector<std::size_t> instances_to_run(const Plan& plan, const std::vector<std::size_t>& targets,
                                          const Cache& cache, const Cache* exchange) {
  std::set<std::size_t> members;
  std::vector<std::size_t> todo = targets;
  while (!todo.empty()) {
    const std::size_t i = todo.back();
    todo.pop_back();
    if (!members.insert(i).second) continue;
    const bool is_target = std::find(targets.begin(), targets.end(), i) != targets.end();
    if (!is_target && held(plan.stages[i], cache, exchange)) continue;  // read, not computed
    for (const auto& in : plan.stages[i].inputs) todo.push_back(in.producer);
  }
  return {members.begin(), members.end()};
}

Plan sub_plan(const Plan& plan, const std::vector<std::size_t>& members) {
  Plan sub;
  sub.experiment = plan.experiment;
  sub.file = plan.file;
  sub.seed = plan.seed;
  sub.trial_seed = plan.trial_seed;
  std::vector<std::size_t> index(plan.stages.size(), SIZE_MAX);
  for (std::size_t m : members) {
    index[m] = sub.stages.size();
    PlannedStage s = plan.stages[m];
    // A member whose producers are not members is read from a store, not computed: it needs no
    // inputs (its key, computed from them, stays).
    bool read_only = false;
    for (const auto& in : s.inputs) read_only = read_only || index[in.producer] == SIZE_MAX;
    if (read_only) s.inputs.clear();
    for (auto& in : s.inputs) {
      if (index[in.producer] == SIZE_MAX)
        throw Error(ErrorCode::internal, "sub_plan: stage '" + s.id + "' needs '" + plan.stages[in.producer].id +
                                             "', which is not a member");
      in.producer = index[in.producer];
    }
    sub.stages.push_back(std::move(s));
  }
  return sub;
}

void write_worker_failure(const WorkerJob& job, const std::string& message) {
  Value instances = Value::map();
  for (const auto& id : job.targets) {
    StageOutcome o;
    o.id = id;
    o.status = StageStatus::failed;
    o.message = message;
    instances.set(id, outcome_json(o));
  }
  write_result(job, instances, epoch_seconds(), 3);
}

int run_worker(const Plan& plan, const WorkerJob& job, const Cache& cache, const Cache* exchange,
               const std::atomic<bool>& stop) {
  const double started = epoch_seconds();
  std::vector<std::size_t> targets;
  for (const auto& id : job.targets) {
    std::size_t found = SIZE_MAX;
    for (std::size_t i = 0; i < plan.stages.size(); ++i)
      if (plan.stages[i].id == id) found = i;
    if (found == SIZE_MAX) throw Error(ErrorCode::usage, "the plan has no stage instance '" + id + "'");
    targets.push_back(found);
  }
  const std::vector<std::size_t> members = instances_to_run(plan, targets, cache, exchange);
  const Plan sub = sub_plan(plan, members);

  Reporter reporter = Reporter::for_stderr(false);
  reporter.line("job on " + host_name() + ": " + std::to_string(targets.size()) + " target(s), " +
                std::to_string(sub.stages.size()) + " instance(s) with the inputs it reads or computes");
  RunOptions options;
  options.run_dir = job.run_dir;
  options.cache = &cache;
  options.exchange = exchange;
  const RunResult result = run_on_tbb(sub, reporter, stop, options);

  Value instances = Value::map();
  int exit_code = 0;
  for (const auto& o : result.stages) {
    const bool is_target = std::find(job.targets.begin(), job.targets.end(), o.id) != job.targets.end();
    if (is_target && o.status != StageStatus::done) exit_code = 1;
    instances.set(o.id, outcome_json(o));
  }
  if (result.interrupted) exit_code = 130;
  write_result(job, instances, started, exit_code);
  return exit_code;
}

}  // namespace pipeline
