// The stage runner: one planned instance, given its producers' outcomes: cache lookup, create,
// run, verify its outputs, store. No threads and no scheduling: every scheduler calls it.
#include "run/stage_runner.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <set>

#include "pipeline/json.hpp"
#include "plugin/extension_registry.hpp"
#include "run/cache.hpp"
#include "run/crash_report.hpp"

namespace pipeline {


const char* to_string(StageStatus status) {
  switch (status) {
    case StageStatus::not_run: return "not run";
    case StageStatus::done: return "done";
    case StageStatus::failed: return "FAILED";
    case StageStatus::skipped: return "skipped";
    case StageStatus::cancelled: return "cancelled";
  }
  return "?";
}

int RunResult::failed() const {
  int n = 0;
  for (const auto& s : stages) n += s.status == StageStatus::failed;
  return n;
}

int RunResult::exit_code() const {
  if (interrupted) return 130;
  return failed() > 0 ? 1 : 0;
}

const StageOutcome* RunResult::find(const std::string& id) const {
  for (const auto& s : stages)
    if (s.id == id) return &s;
  return nullptr;
}


std::vector<std::size_t> producers_of(const PlannedStage& stage) {
  std::vector<std::size_t> producers;
  for (const auto& in : stage.inputs)
    if (std::find(producers.begin(), producers.end(), in.producer) == producers.end()) producers.push_back(in.producer);
  return producers;
}

bool inputs_ready(const Plan& plan, std::size_t i, std::vector<StageOutcome>& outcomes, RunObserver& reporter,
                  const std::atomic<bool>& stop) {
  const PlannedStage& stage = plan.stages[i];
  StageOutcome& outcome = outcomes[i];
  for (const auto& in : stage.inputs) {
    const StageOutcome& producer = outcomes[in.producer];
    if (producer.status != StageStatus::done) {
      outcome.status = producer.status == StageStatus::cancelled ? StageStatus::cancelled : StageStatus::skipped;
      outcome.message = "needs stage '" + producer.id + "', which " +
                        (producer.status == StageStatus::failed ? "failed" : "did not run");
      if (outcome.status == StageStatus::skipped) reporter.stage_finished(stage.id, "skipped", 0, outcome.message);
      return false;
    }
  }
  if (stop.load()) {
    outcome.status = StageStatus::cancelled;
    outcome.message = "not started: the run was interrupted";
    return false;
  }
  return true;
}

namespace {

class Context : public StageContext {
 public:
  Context(const Plan& plan, std::size_t index, StageOutcome& outcome,
          const std::vector<StageOutcome>& all, RunObserver& reporter,
          const std::atomic<bool>& stop, const RunOptions& options)
      : plan_(plan), stage_(plan.stages[index]), outcome_(outcome), all_(all),
        reporter_(reporter), stop_(stop), options_(options) {}

  const std::string& stage_id() const override { return stage_.id; }
  std::uint64_t seed() const override { return stage_.seed; }
  // Stage ids hold no ':', so no shared seed equals a stage's seed.
  std::uint64_t shared_seed(std::string_view name) const override {
    return stage_seed(plan_.seed, plan_.trial_seed, "shared:" + std::string(name));
  }

  bool has_input(std::string_view port) const override { return find_input(port) != nullptr; }
  std::vector<std::string> input_names() const override {
    std::vector<std::string> names;
    for (const auto& in : stage_.inputs) names.push_back(in.port);
    return names;
  }

  ArtifactPtr input(std::string_view port) const override {
    const PlannedInput* in = find_input(port);
    if (!in) throw Error(ErrorCode::missing_input, "input '" + std::string(port) + "' is not connected");
    for (const auto& [name, artifact] : all_[in->producer].outputs)
      if (name == in->producer_port) return artifact;
    throw Error(ErrorCode::missing_input, "stage '" + plan_.stages[in->producer].id +
                                              "' produced no output '" + in->producer_port + "'");
  }

  void set_output(std::string_view port, ArtifactPtr artifact) override {
    const auto& outputs = stage_.type->info.outputs;
    const PortSpec* spec = nullptr;
    for (const auto& p : outputs)
      if (p.name == port) spec = &p;
    if (!spec) throw Error(ErrorCode::internal, "set_output: no output port '" + std::string(port) + "'");
    if (!artifact || artifact->type() != spec->type)
      throw Error(ErrorCode::internal, "set_output '" + std::string(port) + "': expected a " +
                                           spec->type + " artifact, got " +
                                           (artifact ? artifact->type() : "null"));
    artifact = keep_plugin_alive(std::move(artifact), stage_.type->plugin);
    for (auto& [name, a] : outcome_.outputs)
      if (name == port) {
        a = std::move(artifact);
        return;
      }
    outcome_.outputs.emplace_back(std::string(port), std::move(artifact));
  }

  void metric(std::string_view key, Value value) override {
    std::lock_guard lock(mutex_);
    outcome_.metrics.set(std::string(key), std::move(value));
  }
  void timing(std::string_view key, Value value) override {
    std::lock_guard lock(mutex_);
    outcome_.timings.set(std::string(key), std::move(value));
  }
  void progress(std::string_view status) override { reporter_.progress(stage_.id, std::string(status)); }
  void log(std::string_view line) override {
    {
      std::lock_guard lock(mutex_);
      outcome_.logs.emplace_back(line);
    }
    reporter_.log(stage_.id, std::string(line));
  }
  void result(std::string_view text) override {
    std::lock_guard lock(mutex_);
    outcome_.results.emplace_back(text);
  }
  bool stop_requested() const override { return stop_.load(std::memory_order_relaxed); }

  std::filesystem::path work_dir() override {
    // Without a run record (library use, tests), a directory of this process's own.
    std::filesystem::path dir = options_.run_dir.empty()
                                    ? std::filesystem::temp_directory_path() /
                                          ("pipeline-stages-" + std::to_string(::getpid()))
                                    : options_.run_dir / "stages";
    dir /= stage_.id;
    std::filesystem::create_directories(dir);
    return dir;
  }

 private:
  const PlannedInput* find_input(std::string_view port) const {
    for (const auto& in : stage_.inputs)
      if (in.port == port) return &in;
    return nullptr;
  }

  const Plan& plan_;
  const PlannedStage& stage_;
  StageOutcome& outcome_;
  const std::vector<StageOutcome>& all_;
  RunObserver& reporter_;
  const std::atomic<bool>& stop_;
  const RunOptions& options_;
  std::mutex mutex_;
};

// Extensions a stage looked up that its key does not cover: not declared, and registered by a
// plugin other than the stage's own (whose binary the key covers already).
std::vector<ExtensionRef> undeclared_extensions(const PlannedStage& stage, const std::set<ExtensionRef>& used) {
  std::vector<ExtensionRef> out;
  const std::string own = stage.type->plugin->file.empty() ? "<built-in " + stage.type->plugin->name + ">"
                                                            : stage.type->plugin->file.string();
  for (const auto& ref : used) {
    if (std::find(stage.extensions.begin(), stage.extensions.end(), ref) != stage.extensions.end()) continue;
    const auto owner = ExtensionRegistry::instance().owner(ref);
    if (owner && owner->id != own && owner->id != "<core>") out.push_back(ref);
  }
  return out;
}

// 1, 2, ... for the threads of this process in the order they first run a stage.
int thread_number() {
  static std::atomic<int> next{1};
  thread_local const int mine = next.fetch_add(1);
  return mine;
}

}  // namespace

void run_instance(const Plan& plan, std::size_t i, std::vector<StageOutcome>& outcomes, RunObserver& reporter,
                  const std::atomic<bool>& stop, const RunOptions& options) {
  const PlannedStage& stage = plan.stages[i];
  StageOutcome& outcome = outcomes[i];

  const auto start = std::chrono::steady_clock::now();
  outcome.started = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  outcome.thread = thread_number();
  // The shared cache when the stage may be cached, else the run's exchange when there is one.
  const bool shared = options.cache && Cache::cacheable(stage);
  const Cache* store = shared ? options.cache : options.exchange && Cache::encodable(stage) ? options.exchange : nullptr;
  const bool use_cache = store != nullptr;
  if (use_cache) {
    std::string problem;
    if (auto hit = store->load(stage, problem)) {
      outcome.outputs = std::move(hit->outputs);
      outcome.metrics = std::move(hit->metrics);
      outcome.results = std::move(hit->results);
      outcome.status = StageStatus::done;
      outcome.from_cache = true;
      outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      reporter.stage_finished(stage.id, "cached", outcome.seconds, "key " + stage.key.substr(0, 12));
      return;
    }
    if (!problem.empty()) reporter.warning(stage.id, problem);
  }
  reporter.stage_started(stage.id, stage.type->info.name);
  const std::string where = stage.location.str();
  std::vector<ExtensionRef> undeclared;
  try {
    Context context(plan, i, outcome, outcomes, reporter, stop, options);
    const CrashContext running("stage '" + stage.id + "' (" + where + ", type " + stage.type->info.name + " from plugin '" +
                               stage.type->plugin->name + "', " +
                               (stage.type->plugin->file.empty() ? std::string("built in") : stage.type->plugin->file.string()) + ")");
    ExtensionUsageScope usage;
    std::unique_ptr<Stage> impl = stage.type->info.create(stage.params);
    if (!impl) throw Error(ErrorCode::internal, "the stage type's create function returned nothing");
    impl->run(context);
    impl.reset();  // destroy while the plugin is certainly loaded
    undeclared = undeclared_extensions(stage, usage.used());
    for (const auto& port : stage.type->info.outputs) {
      bool set = false;
      for (const auto& [name, _] : outcome.outputs) set = set || name == port.name;
      if (!set) throw Error(ErrorCode::internal, "the stage finished without producing output '" + port.name + "'");
    }
    outcome.status = StageStatus::done;
  } catch (const Error& e) {
    if (e.code() == ErrorCode::cancelled || (stop.load() && e.code() != ErrorCode::data_format)) {
      outcome.status = StageStatus::cancelled;
      outcome.message = "interrupted";
    } else {
      outcome.status = StageStatus::failed;
      outcome.message = (e.location().known() ? e.location().str() + ": " : "") + e.message() +
                        (e.code() == ErrorCode::internal ? "" : " [" + std::string(to_string(e.code())) + "]");
    }
  } catch (const std::bad_alloc&) {
    outcome.status = StageStatus::failed;
    outcome.message = "out of memory";
  } catch (const std::exception& e) {
    outcome.status = StageStatus::failed;
    outcome.message = e.what();
  } catch (...) {
    outcome.status = StageStatus::failed;
    outcome.message = "unknown exception";
  }
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (outcome.status != StageStatus::done) outcome.outputs.clear();
  if (shared && outcome.status == StageStatus::done && !undeclared.empty()) {
    // Its key does not cover that code: a cached result could outlive a change to it.
    std::string names;
    for (const auto& ref : undeclared) names += (names.empty() ? "" : ", ") + describe_extension(ref);
    reporter.warning(stage.id, "not cached: it used " + names + " from another plugin, which stage type '" +
                               stage.type->info.name + "' does not declare (StageInfo::extensions)");
    if (options.exchange) store = options.exchange;  // other jobs of this run may still need it
    else store = nullptr;
  }
  if (store && outcome.status == StageStatus::done && (store != options.cache || undeclared.empty())) {
    try {
      store->store(stage, outcome.outputs, outcome.metrics, outcome.results, Cache::describe(plan, stage));
    } catch (const std::exception& e) {
      reporter.warning(stage.id, std::string("not cached: ") + e.what());  // the run itself succeeded
    }
  }
  const std::string status = outcome.status == StageStatus::failed
                                 ? where + ": error: stage '" + stage.id + "' (" +
                                       stage.type->info.name + ") failed"
                                 : to_string(outcome.status);
  reporter.stage_finished(stage.id, status, outcome.seconds, outcome.message);
  record_progress(options, outcome);
}

void record_progress(const RunOptions& options, const StageOutcome& outcome) {
  if (options.progress_file.empty()) return;
  Value line = Value::map();
  line.set("id", Value::string(outcome.id));
  line.set("status", Value::string(to_string(outcome.status)));
  if (!outcome.message.empty()) line.set("message", Value::string(outcome.message));
  line.set("from_cache", Value::boolean(outcome.from_cache));
  line.set("metrics", outcome.metrics);
  const std::string text = to_json(line) + "\n";
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  // One write(2) per line with O_APPEND: lines of concurrent stages never interleave.
  const int fd = ::open(options.progress_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  ssize_t ignored = ::write(fd, text.data(), text.size());
  (void)ignored;
  ::close(fd);
}


}  // namespace pipeline
