// The Slurm scheduler: this process is the coordinator. Stage instances that compute (train,
// finetune, evaluate, image decoding) become Slurm jobs, chained with afterok; cheap instances run
// here when nothing remote is upstream of them, or are fused into the jobs that need them (the
// worker computes what the shared cache does not hold). An evaluate that reads only one job's
// model joins that job. Jobs write their outputs to the shared cache and a result and exit marker
// to their job directory; the coordinator reads those markers as the truth and asks squeue once
// per interval only to notice jobs Slurm lost. docs/scale-out.md has the whole story.
#include <sys/statfs.h>
#include <csignal>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "pipeline/io.hpp"
#include "pipeline/json.hpp"
#include "plan/plan_json.hpp"
#include "run/cache.hpp"
#include "run/schedulers.hpp"
#include "run/slurm_client.hpp"
#include "run/stage_worker.hpp"
#include "run/stage_runner.hpp"

namespace pipeline {
namespace fs = std::filesystem;
namespace {

enum class Mode {
  cached,  // its entry is in the cache already
  local,   // cheap, nothing remote upstream: runs in the coordinator before anything is submitted
  job,     // computes: the target of a Slurm job
  fused,   // cheap, downstream of a job: computed inside the jobs that need it
  post,    // fused, but also needed here (a sink, or read by a local stage): runs in the coordinator
};

struct Group {
  std::vector<std::size_t> targets;  // plan indices the job runs and reports
  std::set<std::size_t> needs;       // job-mode instances of other groups it reads
  std::set<std::size_t> depends;     // those instances' groups
  enum class State { waiting, submitted, finished } state = State::waiting;
  std::string name;
  std::string job_id;
  fs::path job_dir;
  int attempts = 0;
  bool adopted = false;
  double submitted_at = 0;
  double missing_since = 0;  // when squeue first no longer listed it without a marker
  std::string node;
};

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string read_text(const fs::path& file, std::size_t limit = 1 << 20) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "";
  std::string text(limit, '\0');
  in.read(text.data(), static_cast<std::streamsize>(limit));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

// The last lines of a job's stderr, for the failure message.
std::string tail_lines(const fs::path& file, int lines) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in) return "";
  const auto size = static_cast<std::streamoff>(in.tellg());
  const std::streamoff from = std::max<std::streamoff>(0, size - 8192);
  in.seekg(from);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> all;
  std::istringstream split(text);
  for (std::string line; std::getline(split, line);)
    if (!line.empty()) all.push_back(line);
  std::string out;
  for (std::size_t i = all.size() > static_cast<std::size_t>(lines) ? all.size() - lines : 0; i < all.size(); ++i)
    out += "\n    | " + all[i];
  return out;
}

std::string safe_name(const std::string& id) {
  std::string out;
  for (char c : id) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  return out.substr(0, 80);
}

class SlurmRun {
 public:
  SlurmRun(const Plan& plan, RunObserver& observer, const std::atomic<bool>& stop, const RunOptions& options)
      : plan_(plan), observer_(observer), stop_(stop), options_(options), cache_(*options.cache),
        exchange_(options.run_dir / "slurm" / "exchange"), journal_(cache_.root() / "jobs") {
    result_.stages.resize(plan.stages.size());
    for (std::size_t i = 0; i < plan.stages.size(); ++i) result_.stages[i].id = plan.stages[i].id;
    consumers_.resize(plan.stages.size());
    for (std::size_t i = 0; i < plan.stages.size(); ++i) index_of_[plan.stages[i].id] = i;
    for (std::size_t i = 0; i < plan.stages.size(); ++i)
      for (auto p : producers_of(plan.stages[i])) consumers_[p].push_back(i);
  }

  RunResult run() {
    fs::create_directories(options_.run_dir / "slurm" / "jobs");
    fs::create_directories(journal_);
    // The whole plan, for the record; each job gets the part it can need (below).
    write_plan_file(options_.run_dir / "slurm" / "plan.json", plan_);
    assign_modes();
    form_groups();
    adopt_running_jobs();
    observer_.log("slurm", std::to_string(groups_.size()) + " job(s) for " + std::to_string(count(Mode::job)) +
                               " computing instance(s); " + std::to_string(count(Mode::cached)) + " cached, " +
                               std::to_string(count(Mode::local) + count(Mode::post)) + " run here, " +
                               std::to_string(count(Mode::fused)) + " fused into jobs");
    loop();
    finish_unresolved();
    std::error_code ec;
    fs::remove_all(exchange_.root(), ec);  // the run's hand-overs: the cache keeps what lasts
    observer_.log("slurm", std::to_string(submitted_) + " job(s) submitted, " + std::to_string(slurm_.calls()) +
                               " squeue call(s)");
    result_.interrupted = stop_.load();
    return std::move(result_);
  }

 private:
  std::size_t count(Mode m) const { return static_cast<std::size_t>(std::count(mode_.begin(), mode_.end(), m)); }
  bool resolved(std::size_t i) const { return result_.stages[i].status != StageStatus::not_run; }

  // --- planning -------------------------------------------------------------------------------
  void assign_modes() {
    mode_.assign(plan_.stages.size(), Mode::local);
    for (std::size_t i = 0; i < plan_.stages.size(); ++i) {
      const PlannedStage& s = plan_.stages[i];
      bool remote_upstream = false;
      for (auto p : producers_of(s)) remote_upstream = remote_upstream || mode_[p] == Mode::job || mode_[p] == Mode::fused;
      if (Cache::cacheable(s) && cached_metrics(i)) mode_[i] = Mode::cached;
      else if (s.type->info.compute && Cache::encodable(s)) mode_[i] = Mode::job;
      else if (remote_upstream) mode_[i] = Mode::fused;
      else mode_[i] = Mode::local;
    }
    // A fused instance that nothing remote reads, or that a local one reads, runs here (too).
    for (std::size_t i = plan_.stages.size(); i-- > 0;) {
      if (mode_[i] != Mode::fused) continue;
      bool here = consumers_[i].empty();
      for (auto c : consumers_[i]) here = here || mode_[c] == Mode::local || mode_[c] == Mode::post;
      if (here) mode_[i] = Mode::post;
    }
    local_readers_.assign(plan_.stages.size(), 0);
    for (std::size_t i = 0; i < plan_.stages.size(); ++i)
      if (mode_[i] == Mode::local || mode_[i] == Mode::post)
        for (auto p : producers_of(plan_.stages[i])) ++local_readers_[p];
    for (std::size_t i = 0; i < plan_.stages.size(); ++i)
      if (mode_[i] == Mode::cached) observer_.stage_finished(plan_.stages[i].id, "cached", 0, "key " + plan_.stages[i].key.substr(0, 12));
  }

  // Marks instance i done from its cache entry's metrics; false when the entry is absent or does
  // not check out (outputs are read only when someone here needs them).
  bool cached_metrics(std::size_t i) {
    const PlannedStage& s = plan_.stages[i];
    if (!cache_.has(s.key)) return false;
    try {
      const Value manifest = cache_.read_manifest(s.key);
      StageOutcome& o = result_.stages[i];
      o.status = StageStatus::done;
      o.from_cache = true;
      o.metrics = *manifest.find("metrics");
      if (const Value* results = manifest.find("results"))  // checked by read_manifest
        for (const auto& text : results->items()) o.results.push_back(text.as_string());
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }

  void form_groups() {
    const std::size_t n = plan_.stages.size();
    // The job and local instances each instance's result depends on through fused ones: a job
    // waits for them, and is skipped when one of them fails.
    std::vector<std::set<std::size_t>> upstream(n);
    std::vector<bool> heavy_below(n, false);
    for (std::size_t i = n; i-- > 0;)
      for (auto c : consumers_[i]) heavy_below[i] = heavy_below[i] || mode_[c] == Mode::job || heavy_below[c];
    group_of_.assign(n, SIZE_MAX);
    for (std::size_t i = 0; i < n; ++i) {
      std::set<std::size_t> needs, direct;
      for (auto p : producers_of(plan_.stages[i])) {
        if (mode_[p] == Mode::job) direct.insert(p);
        if (mode_[p] != Mode::cached) needs.insert(upstream[p].begin(), upstream[p].end());
      }
      if (mode_[i] == Mode::local) upstream[i] = {i};
      if (mode_[i] != Mode::job) {
        if (mode_[i] != Mode::local) upstream[i] = std::move(needs);
        continue;
      }
      upstream[i] = {i};
      std::set<std::size_t> groups;
      for (auto j : needs)
        if (mode_[j] == Mode::job) groups.insert(group_of_[j]);
      // An evaluation (every output a metrics artifact) that nothing computing reads and that
      // reads a model straight from one job's target joins that job rather than waiting a
      // scheduling round for its own. Trainings never join: they are what runs in parallel.
      bool evaluation = !plan_.stages[i].type->info.outputs.empty();
      for (const auto& port : plan_.stages[i].type->info.outputs) evaluation = evaluation && port.type == "metrics";
      bool joins = evaluation && !heavy_below[i] && groups.size() == 1;
      if (joins) {
        bool reads_target = false;
        for (auto d : direct) reads_target = reads_target || group_of_[d] == *groups.begin();
        joins = reads_target;
      }
      if (joins) {
        Group& g = groups_[*groups.begin()];
        g.targets.push_back(i);
        group_of_[i] = *groups.begin();
        continue;
      }
      Group g;
      g.targets = {i};
      g.needs = needs;
      g.depends = groups;
      g.name = safe_name(plan_.stages[i].id);
      group_of_[i] = groups_.size();
      groups_.push_back(std::move(g));
    }
  }

  // --- resuming -------------------------------------------------------------------------------
  fs::path journal_file(const Group& g) const { return journal_ / (plan_.stages[g.targets.front()].key + ".json"); }

  // Jobs a killed coordinator submitted for the same instances and Slurm still runs: waited for,
  // never submitted twice.
  void adopt_running_jobs() {
    bool ok = false;
    std::map<std::string, SlurmJobState> alive;
    bool asked = false;
    for (auto& g : groups_) {
      const std::string text = read_text(journal_file(g), 1 << 16);
      if (text.empty()) continue;
      if (!asked) {
        alive = slurm_.alive_jobs(ok);
        asked = true;
      }
      try {
        const Value j = parse_json(text, "job journal");
        const Value* id = j.find("job");
        const Value* dir = j.find("dir");
        if (!ok || !id || !dir || !id->is_string() || !dir->is_string() || !alive.count(id->as_string())) continue;
        g.state = Group::State::submitted;
        g.job_id = id->as_string();
        g.job_dir = dir->as_string();
        g.adopted = true;
        g.attempts = 1;
        g.submitted_at = now_seconds();
        for (auto t : g.targets) observer_.log(plan_.stages[t].id, "adopted Slurm job " + g.job_id + ", still running from an earlier run");
      } catch (const std::exception&) {
        // A journal entry that does not parse: the job is submitted afresh.
      }
    }
  }

  // --- the loop -------------------------------------------------------------------------------
  void loop() {
    double last_queue = 0, last_markers = 0;
    for (;;) {
      if (stop_.load()) {
        cancel_all();
        return;
      }
      const bool ran_local = run_ready_local();
      skip_or_submit();
      // Markers are files on the shared filesystem: read at most every 10 ms per job in flight
      // (100 jobs: once a second), so a big sweep does not hammer an NFS server.
      const double now = now_seconds();
      if (now - last_markers >= std::clamp(0.01 * in_flight(), 0.1, options_.slurm.poll_seconds)) {
        check_markers();
        last_markers = now;
      }
      bool pending = false;
      for (const auto& g : groups_) pending = pending || g.state != Group::State::finished;
      for (std::size_t i = 0; i < plan_.stages.size(); ++i)
        pending = pending || ((mode_[i] == Mode::local || mode_[i] == Mode::post) && !resolved(i));
      if (!pending) return;
      if (now - last_queue >= options_.slurm.queue_seconds) {
        notice_lost_jobs();
        last_queue = now;
      }
      if (!ran_local) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  int in_flight() const {
    int n = 0;
    for (const auto& g : groups_) n += g.state == Group::State::submitted;
    return n;
  }

  // Runs local or post instances whose producers are resolved, for at most about 0.2 s, so that
  // jobs whose inputs are ready are submitted meanwhile (a 10,000-trial sweep may load data for
  // a minute here); true when one ran.
  bool run_ready_local() {
    bool any = false;
    const double until = now_seconds() + 0.2;
    for (std::size_t i = next_local_; i < plan_.stages.size() && !stop_.load() && now_seconds() < until; ++i) {
      if ((mode_[i] != Mode::local && mode_[i] != Mode::post) || resolved(i)) {
        if (i == next_local_) ++next_local_;  // everything before it is resolved: not looked at again
        continue;
      }
      bool ready = true;
      for (auto p : producers_of(plan_.stages[i])) ready = ready && resolved(p);
      if (!ready) continue;
      any = true;
      if (!inputs_ready(plan_, i, result_.stages, observer_, stop_)) {
        release_inputs_of(i);
        continue;
      }
      std::string problem;
      for (auto p : producers_of(plan_.stages[i]))
        if (problem.empty()) problem = load_outputs(p);
      if (!problem.empty()) {
        fail(i, problem);
        release_inputs_of(i);
        continue;
      }
      run_instance(plan_, i, result_.stages, observer_, stop_, local_options());
      release_inputs_of(i);
    }
    return any;
  }

  // Outputs in this process are kept only while a local instance still has to read them: jobs
  // read from the cache, and a 10,000-trial sweep's data loaders would otherwise stay in memory.
  void release_inputs_of(std::size_t i) {
    for (auto p : producers_of(plan_.stages[i]))
      if (--local_readers_[p] == 0) result_.stages[p].outputs.clear();
    if (local_readers_[i] == 0) result_.stages[i].outputs.clear();
  }

  RunOptions local_options() const {
    RunOptions o = options_;
    o.exchange = &exchange_;
    return o;
  }

  // The outputs of a finished instance, in this process: read from the cache or the exchange.
  std::string load_outputs(std::size_t p) {
    StageOutcome& o = result_.stages[p];
    if (!o.outputs.empty() || plan_.stages[p].type->info.outputs.empty()) return "";
    const PlannedStage& s = plan_.stages[p];
    std::string problem;
    for (const Cache* store : {&cache_, &exchange_}) {
      if (store == &cache_ ? !Cache::cacheable(s) : !Cache::encodable(s)) continue;
      if (auto hit = store->load(s, problem)) {
        o.outputs = std::move(hit->outputs);
        return "";
      }
    }
    return "cannot read the outputs of stage '" + s.id + "' from the cache" + (problem.empty() ? "" : ": " + problem);
  }

  void fail(std::size_t i, const std::string& message) {
    StageOutcome& o = result_.stages[i];
    o.status = StageStatus::failed;
    o.message = message;
    observer_.stage_finished(o.id, plan_.stages[i].location.str() + ": error: stage '" + o.id + "' (" +
                                       plan_.stages[i].type->info.name + ") failed",
                             0, message);
  }

  void skip(std::size_t i, const std::string& message) {
    StageOutcome& o = result_.stages[i];
    if (resolved(i)) return;
    o.status = StageStatus::skipped;
    o.message = message;
    observer_.stage_finished(o.id, "skipped", 0, message);
  }

  // A waiting group whose inputs failed is skipped; one whose inputs are done or on their way is
  // submitted, while fewer than max_jobs are in flight.
  void skip_or_submit() {
    if (stop_.load()) return;
    int in_flight = 0;
    for (const auto& g : groups_) in_flight += g.state == Group::State::submitted;
    for (std::size_t gi = 0; gi < groups_.size(); ++gi) {
      Group& g = groups_[gi];
      if (g.state != Group::State::waiting) continue;
      std::string broken;
      bool ready = true;
      for (auto n : g.needs) {
        if (resolved(n) && result_.stages[n].status != StageStatus::done && broken.empty())
          broken = "needs stage '" + plan_.stages[n].id + "', which " +
                   (result_.stages[n].status == StageStatus::failed ? "failed" : "did not run");
        // Local instances must be in the cache before a job looks for them there; jobs may
        // still be queued (afterok).
        ready = ready && (resolved(n) || (mode_[n] == Mode::job && groups_[group_of_[n]].state == Group::State::submitted));
      }
      if (!broken.empty()) {
        g.state = Group::State::finished;
        for (auto t : g.targets) skip(t, broken);
        continue;
      }
      if (!ready || in_flight >= options_.slurm.max_jobs) continue;
      try {
        submit(g);
        ++in_flight;
      } catch (const std::exception& e) {
        g.state = Group::State::finished;
        for (auto t : g.targets) fail(t, e.what());
      }
    }
  }

  void submit(Group& g) {
    ++g.attempts;
    g.job_dir = options_.run_dir / "slurm" / "jobs" / (g.name + (g.attempts > 1 ? "-retry" : ""));
    fs::create_directories(g.job_dir);
    std::error_code ec;
    for (const char* leftover : {"exit", "result.json", "stderr.txt", "stdout.txt"}) fs::remove(g.job_dir / leftover, ec);
    std::string command;
    for (const auto& w : options_.slurm.worker) command += shell_quote(w) + " ";
    // The job's own plan: its targets and everything upstream of them, so a worker reads and checks
    // a few instances, not a 10,000-trial sweep.
    const fs::path plan_file = g.job_dir / "plan.json";
    write_plan_file(plan_file, sub_plan(plan_, ancestors_of(g.targets)));
    command += "run-stage " + shell_quote(plan_file.string()) + " --job-dir " + shell_quote(g.job_dir.string()) +
               " --run-dir " + shell_quote(options_.run_dir.string()) + " --cache-dir " +
               shell_quote(cache_.root().string()) + " --exchange-dir " + shell_quote(exchange_.root().string());
    for (auto t : g.targets) command += " " + shell_quote(plan_.stages[t].id);
    const fs::path script = g.job_dir / "job.sh";
    const fs::path exit_file = g.job_dir / "exit";
    write_file_atomic(script, [&](std::ostream& out) {
      out << "#!/bin/sh\n# Stage instances of experiment '" << plan_.experiment
          << "' (pipeline run --executor slurm; see docs/scale-out.md).\n"
          << command << "\ncode=$?\n"
          << "printf '%s\\n' \"$code\" > " << shell_quote(exit_file.string() + ".tmp") << " && mv "
          << shell_quote(exit_file.string() + ".tmp") << " " << shell_quote(exit_file.string()) << "\nexit $code\n";
    });
    fs::permissions(script, fs::perms::owner_all, fs::perm_options::add);

    std::vector<std::string> args = {
        "--job-name=pipeline:" + plan_.experiment.substr(0, 60) + ":" + g.name,
        "--output=" + (g.job_dir / "stdout.txt").string(),
        "--error=" + (g.job_dir / "stderr.txt").string(),
        "--kill-on-invalid-dep=yes",
    };
    if (!options_.slurm.partition.empty()) args.push_back("--partition=" + options_.slurm.partition);
    std::string after;
    for (auto n : g.needs) {
      if (mode_[n] != Mode::job) continue;
      const Group& d = groups_[group_of_[n]];
      if (!resolved(n) && d.state == Group::State::submitted && after.find(":" + d.job_id) == std::string::npos)
        after += ":" + d.job_id;
    }
    if (!after.empty()) args.push_back("--dependency=afterok" + after);
    args.insert(args.end(), options_.slurm.sbatch_args.begin(), options_.slurm.sbatch_args.end());
    g.job_id = slurm_.submit(script.string(), args);
    g.state = Group::State::submitted;
    g.submitted_at = now_seconds();
    g.missing_since = 0;
    ++submitted_;
    Value journal = Value::map();
    journal.set("job", Value::string(g.job_id));
    journal.set("dir", Value::string(g.job_dir.string()));
    write_file_atomic(journal_file(g), [&](std::ostream& out) { out << to_json(journal); });
    std::string ids;
    for (auto t : g.targets) ids += (ids.empty() ? "" : ", ") + plan_.stages[t].id;
    observer_.log("slurm", "submitted job " + g.job_id + " for " + ids + (after.empty() ? "" : " (after" + after + ")"));
  }

  // The targets and every instance upstream of them, in plan order.
  std::vector<std::size_t> ancestors_of(const std::vector<std::size_t>& targets) const {
    std::vector<bool> in(plan_.stages.size(), false);
    std::vector<std::size_t> todo = targets;
    while (!todo.empty()) {
      const std::size_t i = todo.back();
      todo.pop_back();
      if (in[i]) continue;
      in[i] = true;
      for (const auto& p : plan_.stages[i].inputs) todo.push_back(p.producer);
    }
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < in.size(); ++i)
      if (in[i]) out.push_back(i);
    return out;
  }

  void check_markers() {
    for (auto& g : groups_) {
      if (g.state != Group::State::submitted) continue;
      const std::string exit_text = read_text(g.job_dir / "exit", 64);
      if (exit_text.empty()) continue;
      int code = -1;
      try {
        code = std::stoi(exit_text);
      } catch (const std::exception&) {
      }
      finish(g, code, false);
    }
  }

  // Jobs Slurm no longer lists and that left no marker: lost (node failure, scancel from outside).
  // The marker may lag on a network filesystem, so a job counts as lost only after a grace period.
  void notice_lost_jobs() {
    bool any = false;
    for (const auto& g : groups_) any = any || g.state == Group::State::submitted;
    if (!any) return;
    bool ok = false;
    const auto alive = slurm_.alive_jobs(ok);
    if (!ok) return;
    const double now = now_seconds();
    int running = 0, queued = 0, finished = 0;
    for (const auto& g : groups_) {
      if (g.state == Group::State::finished) ++finished;
      if (g.state != Group::State::submitted) continue;
      const auto it = alive.find(g.job_id);
      (it != alive.end() && it->second.state == "RUNNING" ? running : queued) += 1;
    }
    observer_.progress("slurm", "jobs: " + std::to_string(running) + " running, " + std::to_string(queued) +
                                    " queued, " + std::to_string(finished) + " of " + std::to_string(groups_.size()) +
                                    " finished");
    for (auto& g : groups_) {
      if (g.state != Group::State::submitted) continue;
      if (auto it = alive.find(g.job_id); it != alive.end()) {
        g.missing_since = 0;
        if (!it->second.node.empty() && it->second.node != "(null)") g.node = it->second.node;
        continue;
      }
      if (g.missing_since == 0) {
        g.missing_since = now;
        continue;
      }
      if (now - g.missing_since < std::max(5.0, 3 * options_.slurm.queue_seconds)) continue;
      if (!read_text(g.job_dir / "exit", 64).empty()) continue;  // it just arrived
      finish(g, -1, true);
    }
  }

  StageOutcome outcome_from(const Value& j, const std::string& id) const {
    StageOutcome o;
    o.id = id;
    const std::string status = j.find("status") && j.find("status")->is_string() ? j.find("status")->as_string() : "";
    o.status = status == "done" ? StageStatus::done
               : status == "skipped" ? StageStatus::skipped
               : status == "cancelled" ? StageStatus::cancelled
                                       : StageStatus::failed;
    if (const Value* m = j.find("message"); m && m->is_string()) o.message = m->as_string();
    if (const Value* m = j.find("metrics"); m && m->is_map()) o.metrics = *m;
    if (const Value* m = j.find("timings"); m && m->is_map()) o.timings = *m;
    if (const Value* m = j.find("logs"); m && m->is_list())
      for (const auto& line : m->items())
        if (line.is_string()) o.logs.push_back(line.as_string());
    if (const Value* m = j.find("results"); m && m->is_list())
      for (const auto& text : m->items())
        if (text.is_string()) o.results.push_back(text.as_string());
    if (const Value* m = j.find("seconds"); m && m->is_number()) o.seconds = m->as_float();
    if (const Value* m = j.find("started"); m && m->is_number()) o.started = m->as_float();
    if (const Value* m = j.find("from_cache"); m && m->is_bool()) o.from_cache = m->as_bool();
    return o;
  }

  // A job ended (marker `code`) or was lost: take what it reports, and decide about what it did not.
  void finish(Group& g, int code, bool lost) {
    Value result;
    try {
      const std::string text = read_text(g.job_dir / "result.json");
      if (!text.empty()) result = parse_json(text, "result.json");
    } catch (const std::exception&) {
      result = Value();  // a result that does not parse counts as none
    }
    const Value* instances = result.is_map() ? result.find("instances") : nullptr;
    if (instances && !instances->is_map()) instances = nullptr;
    std::string host = g.node;
    double started = 0, ended = 0;
    if (result.is_map()) {
      if (const Value* h = result.find("host"); h && h->is_string()) host = h->as_string();
      if (const Value* s = result.find("started"); s && s->is_number()) started = s->as_float();
      if (const Value* s = result.find("finished"); s && s->is_number()) ended = s->as_float();
    }
    Value placement = Value::map();
    placement.set("slurm_job", Value::string(g.job_id));
    placement.set("node", Value::string(host));
    placement.set("attempts", Value::integer(g.attempts));
    const double queue = started > 0 ? std::max(0.0, started - g.submitted_at) : 0;

    // Fused instances it computed on the way: their first report is as good as any.
    if (instances)
      for (const auto& [id, j] : instances->entries())
        if (auto it = index_of_.find(id); it != index_of_.end())
          if (const std::size_t i = it->second; mode_[i] == Mode::fused && (!resolved(i) || result_.stages[i].from_cache)) {
            StageOutcome o = outcome_from(j, id);
            if (o.status != StageStatus::done || (resolved(i) && o.from_cache)) continue;  // a computed report wins
            o.placement = placement;
            result_.stages[i] = std::move(o);
          }

    std::vector<std::size_t> missing;
    const std::string where = "Slurm job " + g.job_id + (host.empty() ? "" : " on " + host);
    for (auto t : g.targets) {
      const PlannedStage& s = plan_.stages[t];
      const Value* j = instances ? instances->find(s.id) : nullptr;
      if (j && j->is_map()) {
        StageOutcome o = outcome_from(*j, s.id);
        o.placement = placement;
        if (!g.adopted) {
          o.timings.set("slurm_job", Value::string(g.job_id));
          o.timings.set("node", Value::string(host));
          o.timings.set("queue_seconds", Value::real(queue));
          o.timings.set("job_seconds", Value::real(started > 0 && ended > started ? ended - started : 0));
        }
        record_progress(options_, o);
        if (o.status == StageStatus::failed) {
          o.message += " [" + where + "; " + (g.job_dir / "stderr.txt").string() + "]" +
                       tail_lines(g.job_dir / "stderr.txt", 8);
          result_.stages[t] = std::move(o);
          fail_report(t);
        } else {
          result_.stages[t] = std::move(o);
          observer_.stage_finished(s.id, to_string(result_.stages[t].status), result_.stages[t].seconds,
                                   "on " + (host.empty() ? std::string("?") : host) + " (job " + g.job_id + ")");
        }
      } else if (Cache::cacheable(s) && cached_metrics(t)) {
        // Not in its report (an adopted job planned otherwise), but in the cache.
        result_.stages[t].placement = placement;
        observer_.stage_finished(s.id, "done", 0, "by " + where);
      } else {
        missing.push_back(t);
      }
    }
    std::error_code ec;
    fs::remove(journal_file(g), ec);
    bool all_done = missing.empty();
    for (auto t : g.targets) all_done = all_done && result_.stages[t].status == StageStatus::done;
    // Jobs queued after a job that did not succeed wait for an afterok that will never come
    // (Slurm kills them): they are withdrawn and decided again, skipped if they need what failed.
    if (!all_done || code != 0) withdraw_dependents(g);
    if (missing.empty()) {
      g.state = Group::State::finished;
      return;
    }
    // Killed by SIGTERM or SIGKILL without reporting: scancel from outside, preemption, a node
    // going down or the time limit. Slurm signals the worker and the job script in any order, so
    // the script may still write that status: it counts as lost, not as the stage's failure.
    if (code == 128 + SIGTERM || code == 128 + SIGKILL) lost = true;
    if (!lost && code != 0 && code != -1) {
      // The worker died without reporting (a crash, out of memory, killed at its time limit).
      g.state = Group::State::finished;
      const std::string why = where + " exited with " + std::to_string(code) +
                              (code > 128 ? " (signal " + std::to_string(code - 128) + ")" : "") +
                              " before reporting [" + (g.job_dir / "stderr.txt").string() + "]" +
                              tail_lines(g.job_dir / "stderr.txt", 8);
      for (auto t : missing) fail(t, why);
      return;
    }
    if (g.attempts < 2) {
      observer_.warning("slurm", where + " ended without a result (" +
                                 (code > 128 ? "killed by signal " + std::to_string(code - 128)
                                  : lost     ? std::string("Slurm no longer lists it")
                                             : "exit " + std::to_string(code)) +
                                 "): submitting it once more");
      g.state = Group::State::waiting;
      g.adopted = false;
      return;
    }
    g.state = Group::State::finished;
    for (auto t : missing)
      fail(t, where + " ended twice without a result in " + g.job_dir.string() +
                  " (node failure, cancelled outside this run, its time limit, or a runs directory the nodes do not share): giving up");
  }

  void fail_report(std::size_t t) {
    const StageOutcome& o = result_.stages[t];
    observer_.stage_finished(o.id, plan_.stages[t].location.str() + ": error: stage '" + o.id + "' (" +
                                       plan_.stages[t].type->info.name + ") failed",
                             o.seconds, o.message);
  }

  // Submitted jobs that depend on `g` (directly or through each other) are cancelled and wait
  // again: skip_or_submit then skips them or submits them with fresh dependencies.
  void withdraw_dependents(const Group& g) {
    const std::size_t index = static_cast<std::size_t>(&g - groups_.data());
    std::vector<std::string> cancel;
    for (auto& h : groups_)
      if (h.state == Group::State::submitted && h.depends.count(index)) {
        cancel.push_back(h.job_id);
        h.state = Group::State::waiting;
        --h.attempts;  // not its failure
        std::error_code ec;
        fs::remove(journal_file(h), ec);
        withdraw_dependents(h);
      }
    slurm_.cancel(cancel);
  }

  void cancel_all() {
    std::vector<std::string> ids;
    for (auto& g : groups_)
      if (g.state == Group::State::submitted) {
        ids.push_back(g.job_id);
        std::error_code ec;
        fs::remove(journal_file(g), ec);
      }
    if (!ids.empty()) {
      slurm_.cancel(ids);
      observer_.log("slurm", "interrupted: cancelled " + std::to_string(ids.size()) + " job(s) with scancel");
    }
  }

  void finish_unresolved() {
    for (std::size_t i = 0; i < plan_.stages.size(); ++i) {
      if (resolved(i)) continue;
      StageOutcome& o = result_.stages[i];
      if (stop_.load()) {
        o.status = StageStatus::cancelled;
        o.message = "not finished: the run was interrupted";
        continue;
      }
      // A fused instance no job reported: the jobs that needed it did not run.
      std::string why = "its job did not run";
      for (auto p : producers_of(plan_.stages[i]))
        if (resolved(p) && result_.stages[p].status != StageStatus::done)
          why = "needs stage '" + plan_.stages[p].id + "', which " +
                (result_.stages[p].status == StageStatus::failed ? "failed" : "did not run");
      skip(i, why);
    }
  }

  const Plan& plan_;
  RunObserver& observer_;
  const std::atomic<bool>& stop_;
  const RunOptions& options_;
  const Cache& cache_;
  const Cache exchange_;
  const fs::path journal_;
  SlurmClient slurm_;
  RunResult result_;
  std::vector<std::vector<std::size_t>> consumers_;
  std::map<std::string, std::size_t> index_of_;
  std::vector<Mode> mode_;
  std::vector<Group> groups_;
  std::vector<std::size_t> group_of_;
  std::size_t next_local_ = 0;
  std::vector<int> local_readers_;  // local and post instances yet to read each instance's outputs  // local and post instances before it are all resolved
  int submitted_ = 0;
};

}  // namespace

void check_slurm_ready(const RunOptions& options) {
  if (!options.cache)
    throw Error(ErrorCode::usage, "--executor slurm passes results between jobs through the cache: drop --no-cache "
                                  "(a fresh --cache-dir gives a run that reuses nothing)");
  if (options.slurm.max_jobs < 1) throw Error(ErrorCode::usage, "--slurm-max-jobs must be at least 1");
  SlurmClient().check_cluster(options.slurm.partition);
  // The cache must take a directory published by rename, and refuse a second publish onto it:
  // what the entries' atomicity rests on (docs/scale-out.md).
  const fs::path root = options.cache->root();
  std::error_code ec;
  fs::create_directories(root, ec);
  const fs::path probe = root / (".probe-" + writer_id());
  const fs::path a = probe.string() + "-a", b = probe.string() + "-b";
  bool fine = false;
  std::string why;
  try {
    fs::create_directories(a / "x");
    fs::create_directories(b / "y");
    fs::rename(a, probe);
    std::error_code second;
    fs::rename(b, probe, second);  // must fail: the target exists and is not empty
    fine = second && fs::exists(probe / "x");
    if (!fine) why = "renaming a directory onto a published one replaced it";
  } catch (const std::exception& e) {
    why = e.what();
  }
  for (const auto& p : {a, b, probe}) fs::remove_all(p, ec);
  if (!fine)
    throw Error(ErrorCode::usage, "--executor slurm: the cache directory " + root.string() +
                                      " cannot be shared between jobs (" + why + ")");
  // A tmpfs is this machine's memory: jobs on other nodes would see another, empty directory.
  auto on_tmpfs = [](fs::path p) {
    std::error_code missing;
    while (!p.empty() && !fs::exists(p, missing) && p.has_parent_path() && p.parent_path() != p) p = p.parent_path();
    struct statfs info {};
    constexpr long tmpfs_magic = 0x01021994;
    return ::statfs(p.c_str(), &info) == 0 && static_cast<long>(info.f_type) == tmpfs_magic;
  };
  const fs::path runs = options.run_dir.empty() ? fs::path() : options.run_dir;
  const bool cache_local = on_tmpfs(root), runs_local = !runs.empty() && on_tmpfs(runs);
  if (cache_local || runs_local) {
    const int nodes = SlurmClient().node_count(options.slurm.partition);
    if (nodes > 1)
      throw Error(ErrorCode::usage, "--executor slurm: the " + std::string(cache_local ? "cache" : "runs") +
                                        " directory " + (cache_local ? root : runs).string() +
                                        " is on a tmpfs, local to this machine, and the cluster has " +
                                        std::to_string(nodes) + " nodes: put it on a shared filesystem (" +
                                        (cache_local ? "--cache-dir" : "--runs-dir") + ")");
  }
}

RunResult run_on_slurm(const Plan& plan, RunObserver& observer, const std::atomic<bool>& stop, const RunOptions& options) {
  SlurmRun run(plan, observer, stop, options);
  return run.run();
}

}  // namespace pipeline
