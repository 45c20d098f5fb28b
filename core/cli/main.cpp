// The `pipeline` command: run, validate, graph, plugins, inspect.
// Exit codes: 0 ok, 1 a stage failed, 2 config or usage error, 3 plugin load error, 130 interrupted.
#include <oneapi/tbb/version.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "check_plugin.hpp"
#include "record_commands.hpp"
#include "report/html_report.hpp"
#include "report/run_record.hpp"
#include "plan/dot.hpp"
#include "plan/file_hashes.hpp"
#include "plan/explain.hpp"
#include "plan/sweep.hpp"
#include "plan/plan.hpp"
#include "plugin/describe.hpp"
#include "plugin/plugin_set.hpp"
#include "run/executor.hpp"
#include "run/cache.hpp"
#include "run/record.hpp"
#include "run/crash_report.hpp"
#include "run/reporter.hpp"
#include "run/schedulers.hpp"
#include "run/slurm_client.hpp"
#include "run/stage_worker.hpp"
#include "plan/plan_json.hpp"
#include "util/sha256.hpp"

#include <oneapi/dnnl/dnnl.h>
#include <thread>

namespace fs = std::filesystem;
using namespace pipeline;

namespace {

enum Exit { ok = 0, stage_failed = 1, config_error = 2, plugin_error = 3, interrupted = 130 };

constexpr const char* main_help = R"(usage: pipeline [--plugin-path PATH]... COMMAND [ARGS]

Runs transfer-learning experiments described in YAML: a DAG of stages, each from a plugin.

Commands:
  run FILE        run an experiment
  validate FILE   check an experiment without running it
  graph FILE      print the experiment's stage graph as Graphviz DOT
  explain FILE    say which stages will run and which come from the cache, and why
  cache ls|rm|gc  list, remove or clean the stage cache
  runs [EXPERIMENT]     list the run records, newest first
  diff RUN_A RUN_B      parameters and metrics that differ between two runs
  report RUN            write report.html for a run record (every run writes one too)
  plugins         list the loaded plugins and what they register
  inspect NAME    describe a stage type, layer type, optimizer or codec
  check-plugin FILE.so  check every type a plugin registers (schemas, shapes, gradients, runs)
  run-stage PLAN ID...  run instances of a written plan (what a Slurm job runs)

Options:
  --plugin-path PATH   look for plugins here first (a directory or a .so file; repeatable,
                       colon-separated lists allowed); then PIPELINE_PLUGIN_PATH, then the
                       built-in plugin directory
  --version            print version and build information
  -h, --help           this help; `pipeline COMMAND --help` for a command's

Exit codes: 0 ok, 1 a stage failed, 2 config or usage error, 3 plugin load error, 130 interrupted.
)";

const std::map<std::string, std::string> command_help = {
    {"run", R"(usage: pipeline run FILE [--set STAGE.PARAM=VALUE]... [--seed N] [--trial N] [--runs-dir DIR]
                    [--cache-dir DIR] [--no-cache] [--executor local|serial|slurm] [--quiet]
                    [--slurm-partition P] [--slurm-max-jobs N] [--slurm-args "..."] [--slurm-poll S]

Validates FILE (every trial of its sweep), then runs its stages on a oneTBB flow graph:
independent stages at the same time, compute stages one at a time with all cores. Stage
instances that trials share run once; outputs found in the cache by content key are reused, so a
rerun or an interrupted sweep runs only what is missing. A failing stage stops only the stages
that need it. Ctrl-C stops the run cleanly (exit 130); a second Ctrl-C ends it at once.

  --set STAGE.PARAM=VALUE   override a parameter (VALUE is YAML: 5, 0.1, [1, 2], text); repeatable
  --seed N                  override the experiment's seed (every stage seed derives from it)
  --trial N                 run only trial N (0-based) of the sweep
  --cache-dir DIR           the stage cache (default: $PIPELINE_CACHE_DIR or ./.pipeline-cache)
  --no-cache                neither read nor write the cache
  --max-trials N            refuse a sweep of more than N trials (default 100000)
  --executor local|serial|slurm
                            local (default): independent stages at once on a oneTBB flow graph;
                            serial: one instance at a time in plan order (for debugging);
                            slurm: computing stages as Slurm jobs, results through the cache
                            (docs/scale-out.md). The results are the same with each
  --slurm-partition P       submit to partition P (default: the cluster's default)
  --slurm-max-jobs N        at most N jobs queued or running at once (default 100)
  --slurm-args "..."        more sbatch options for every job, e.g. "--account=A --time=2:00:00"
  --slurm-poll SECONDS      how often squeue is asked, only to notice lost jobs (default 5);
                            jobs report through marker files in the run record, read sooner
  --runs-dir DIR            where run records go (default: $PIPELINE_RUNS_DIR or ./runs); the
                            record is DIR/EXPERIMENT/RUN_ID with plan.json, metrics.json, timings.json
  --quiet                   nothing on stderr but errors; the results (stdout) stay
)"},
    {"run-stage", R"(usage: pipeline run-stage PLAN.json --job-dir DIR --run-dir DIR --cache-dir DIR
                          [--exchange-dir DIR] ID...

What a Slurm job of `pipeline run --executor slurm` runs: instances ID... of a plan the
coordinator wrote. Inputs come from the cache (or the run's exchange); one that neither holds is
computed here from its own inputs. Refuses (exit 3) when this node's plugins or core library are
not the build the plan was made with. Writes DIR/result.json with each instance's status and
metrics. Exit 0 when every ID is done, 1 when one failed.
)"},
    {"validate", R"(usage: pipeline validate FILE [--set STAGE.PARAM=VALUE]...

Checks everything that can be known before running (YAML syntax, duplicate keys, stage types,
parameters, inputs, port types, cycles) and reports every error as FILE:LINE:COL: error: MESSAGE.
Exit code 0 when valid, 2 otherwise.
)"},
    {"graph", R"(usage: pipeline graph FILE [--set STAGE.PARAM=VALUE]...

Prints the validated stage graph in Graphviz DOT, e.g. `pipeline graph x.yaml | dot -Tpng > x.png`.
)"},
    {"explain", R"(usage: pipeline explain FILE [--set STAGE.PARAM=VALUE]... [--seed N] [--trial N] [--cache-dir DIR]

For each stage instance of the experiment (every trial of its sweep): whether it will run or
come from the cache, and if it will run, which parameter, input or seed changed since the latest
cached run of that stage.
)"},
    {"runs", R"(usage: pipeline runs [EXPERIMENT] [--runs-dir DIR]

Lists the run records under the runs dir ($PIPELINE_RUNS_DIR or ./runs), of one experiment when
given, newest first: run (EXPERIMENT/RUN_ID), start time (UTC), seed, status (done, failed,
interrupted; incomplete for a run that ended before its record, such as a crash), wall time,
and the headline metrics (the `report:` paths, or every accuracy and macro-F1).
)"},
    {"diff", R"(usage: pipeline diff RUN_A RUN_B [--runs-dir DIR]

Prints the parameters (the seed, each stage's type, version, parameters and inputs) and the
metrics (each stage's status and metrics, numbers with b - a) that differ between two run
records, side by side. A run is a record directory, EXPERIMENT/RUN_ID or a RUN_ID under the
runs dir. Exit 0 whether or not they differ; 2 when a record is not found.
)"},
    {"report", R"(usage: pipeline report RUN [-o FILE] [--runs-dir DIR]

Writes report.html for a run record (default: inside it; every run writes one when it ends):
one self-contained page (inline SVG and CSS, no script, no external URL) with the stages by
status, the results, comparisons, a sweep's metrics against each grid parameter with mean ± std
over seeds and its trials, learning curves, confusion matrices and per-class precision and
recall, a timeline of when each stage ran, and the lock information. A record of a run that
crashed, failed or was interrupted gives a report of what finished. Prints the file's path.
)"},
    {"cache", R"(usage: pipeline cache ls|rm|gc [--cache-dir DIR]

  ls                 every entry: key, stage, type, size
  rm KEY...|--all    remove entries by key (a unique prefix will do), or all
  gc [--older-than DAYS]  remove unfinished and corrupt entries (checksums), and entries not
                     written for DAYS days
)"},
    {"plugins", R"(usage: pipeline plugins

Lists every loaded plugin with its version, file and stage types.
)"},
    {"inspect", R"(usage: pipeline inspect NAME

Describes stage type NAME (its inputs, outputs and every parameter with type, default, range and
doc), layer type NAME or optimizer NAME (its parameters), or the codec for artifact type NAME,
each with the plugin and file that provide it.
)"},
    {"check-plugin", R"(usage: pipeline check-plugin FILE.so [--layer NAME]... [--stage NAME]... [--verbose]

Loads one plugin (with the built-in plugins beside it) and checks everything it registers, as the
testkit (pipeline/testing.hpp) does:
  schemas    no reserved or duplicate parameter names, docs, defaults of the declared type and
             in range, choices, well-formed ports
  layers     at LayerInfo::examples (or conventional shapes): forward shapes against
             output_shape, a deep clone() that keeps spec, train and eval agreeing where the layer
             says so, backward against central finite differences for the input and every
             trainable parameter (tolerances printed with --verbose)
  stages     at StageInfo::examples (or the defaults), on synthetic inputs (dataset, model,
             metrics): outputs present and typed, each through its codec and back, the same
             metrics on a second run with the same seed
  optimizers descend a quadratic, leave frozen parameters and buffers alone, repeat exactly
Prints PASS or FAIL per type and one line per failure naming it, then 'N passed, M failed'.
Exit 0 when all pass, 1 on a failure, 3 when the plugin does not load.

  --layer NAME, --stage NAME   check only these types (repeatable)
  --verbose                    also say what was checked and skipped
)"},
};

std::atomic<bool> g_stop{false};

void on_interrupt(int) {
  if (g_stop.exchange(true)) {
    // A second Ctrl-C: the user wants out now.
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
  }
  const char msg[] = "\ninterrupt: stopping running stages (Ctrl-C again to abort)\n";
  ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)ignored;
}

struct Args {
  std::vector<std::string> argv;  // as given, for the run record
  std::string command;
  std::vector<std::string> positional;
  std::vector<std::string> plugin_path;
  std::vector<std::string> sets;
  std::vector<std::string> layers, stages;  // check-plugin filters
  std::string executor = "local";
  std::string slurm_partition;
  std::optional<int> slurm_max_jobs;
  std::optional<double> slurm_poll;
  std::optional<std::string> slurm_args;
  std::optional<std::string> job_dir, run_dir, exchange_dir;  // run-stage
  std::uint64_t max_trials = default_max_trials;
  bool verbose = false;
  std::optional<std::string> runs_dir;
  std::string output;  // report -o
  std::optional<std::uint64_t> seed;
  std::optional<std::size_t> trial;
  std::optional<std::string> cache_dir;
  bool no_cache = false;
  bool all = false;
  std::optional<double> older_than_days;
  bool quiet = false;
  bool help = false;
  bool version = false;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "pipeline: error: " << message << "\nTry 'pipeline --help'.\n";
  std::exit(config_error);
}

// A decimal number that fits 64 bits; anything else is a usage error, never an exception.
std::uint64_t parse_count(const std::string& text, const std::string& option, const std::string& what) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    usage_error(option + " expects " + what + " below 2^64, got '" + text + "'");
  return value;
}

// A non-negative number of days ("30", "0.5"); "abc", "-1" or "1w" must not become 0 and delete
// every entry.
double parse_days(const std::string& text) {
  double days = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), days);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !(days >= 0) || !std::isfinite(days))
    usage_error("--older-than expects a non-negative number of days, got '" + text + "'");
  return days;
}

Args parse_args(int argc, char** argv) {
  Args a;
  a.argv.assign(argv, argv + argc);
  auto value_of = [&](int& i, const std::string& arg, const std::string& name) -> std::string {
    if (arg.size() > name.size() && arg[name.size()] == '=') return arg.substr(name.size() + 1);
    if (i + 1 >= argc) usage_error(name + " needs a value");
    return argv[++i];
  };
  auto is = [](const std::string& arg, const std::string& name) {
    return arg == name || (arg.rfind(name + "=", 0) == 0);
  };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") a.help = true;
    else if (arg == "--version") a.version = true;
    else if (arg == "--quiet" || arg == "-q") a.quiet = true;
    else if (is(arg, "--plugin-path")) a.plugin_path.push_back(value_of(i, arg, "--plugin-path"));
    else if (is(arg, "--set")) a.sets.push_back(value_of(i, arg, "--set"));
    else if (is(arg, "--executor")) {
      a.executor = value_of(i, arg, "--executor");
      const auto names = scheduler_names();
      if (std::find(names.begin(), names.end(), a.executor) == names.end())
        usage_error("--executor must be local, serial or slurm, got '" + a.executor + "'");
    }
    else if (is(arg, "--slurm-partition")) a.slurm_partition = value_of(i, arg, "--slurm-partition");
    else if (is(arg, "--slurm-args")) a.slurm_args = value_of(i, arg, "--slurm-args");
    else if (is(arg, "--slurm-poll")) {
      const std::string v = value_of(i, arg, "--slurm-poll");
      double seconds = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
      if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !(seconds >= 0.1) || seconds > 3600)
        usage_error("--slurm-poll expects seconds between 0.1 and 3600, got '" + v + "'");
      a.slurm_poll = seconds;
    }
    else if (is(arg, "--slurm-max-jobs")) {
      const std::uint64_t n = parse_count(value_of(i, arg, "--slurm-max-jobs"), "--slurm-max-jobs", "a number of jobs");
      if (n < 1 || n > 1000000) usage_error("--slurm-max-jobs must be between 1 and 1000000, got " + std::to_string(n));
      a.slurm_max_jobs = static_cast<int>(n);
    }
    else if (is(arg, "--job-dir")) a.job_dir = value_of(i, arg, "--job-dir");
    else if (is(arg, "--run-dir")) a.run_dir = value_of(i, arg, "--run-dir");
    else if (is(arg, "--exchange-dir")) a.exchange_dir = value_of(i, arg, "--exchange-dir");
    else if (is(arg, "--max-trials")) a.max_trials = parse_count(value_of(i, arg, "--max-trials"), "--max-trials", "a number of trials");
    else if (is(arg, "--layer")) a.layers.push_back(value_of(i, arg, "--layer"));
    else if (is(arg, "--stage")) a.stages.push_back(value_of(i, arg, "--stage"));
    else if (arg == "--verbose" || arg == "-v") a.verbose = true;
    else if (is(arg, "--runs-dir")) a.runs_dir = value_of(i, arg, "--runs-dir");
    else if (arg == "-o" || is(arg, "--output")) a.output = value_of(i, arg, arg == "-o" ? "-o" : "--output");
    else if (arg == "--no-cache") a.no_cache = true;
    else if (arg == "--all") a.all = true;
    else if (is(arg, "--cache-dir")) a.cache_dir = value_of(i, arg, "--cache-dir");
    else if (is(arg, "--older-than")) a.older_than_days = parse_days(value_of(i, arg, "--older-than"));
    else if (is(arg, "--trial")) {
      const std::string v = value_of(i, arg, "--trial");
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
        usage_error("--trial expects a trial number, got '" + v + "'");
      a.trial = parse_count(v, "--trial", "a trial number");
    }
    else if (is(arg, "--seed")) {
      const std::string v = value_of(i, arg, "--seed");
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
        usage_error("--seed expects a non-negative integer, got '" + v + "'");
      a.seed = parse_count(v, "--seed", "a non-negative integer");
    }
    else if (arg.size() > 1 && arg[0] == '-') usage_error("unknown option '" + arg + "'");
    else if (a.command.empty()) a.command = arg;
    else a.positional.push_back(arg);
  }
  return a;
}

fs::path executable_path(const char* argv0) {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::absolute(argv0) : self;
}

// Loads plugins; on any refusal prints every error and exits 3.
void load_plugins(PluginSet& plugins, const Args& args, const char* argv0) {
  plugins.load_search_path(plugin_search_path(args.plugin_path, executable_path(argv0)));
  if (plugins.errors().empty()) return;
  for (const auto& e : plugins.errors()) std::cerr << e.formatted() << "\n";
  std::exit(plugin_error);
}

// Validates FILE (every trial) with the overrides; on errors prints them all and exits 2.
SweepPlan plan_or_exit(const Args& args, const PluginSet& plugins) {
  // Input files' digests are remembered beside the cache, so reruns hash nothing again.
  if (!args.no_cache) remember_file_hashes_in(args.cache_dir ? fs::path(*args.cache_dir) : default_cache_dir());
  if (args.positional.size() != 1)
    usage_error("'" + args.command + "' takes exactly one experiment file");
  std::vector<Override> overrides;
  try {
    for (const auto& s : args.sets) overrides.push_back(parse_override(s));
  } catch (const Error& e) {
    usage_error(e.message());
  }
  SweepPlan sweep = plan_sweep(args.positional[0], plugins, overrides, args.seed, args.trial, args.max_trials);
  if (sweep.ok()) return sweep;
  for (const auto& e : sweep.errors) std::cerr << (e.location().known() ? "" : "pipeline: ") << e.formatted() << "\n";
  std::exit(config_error);
}

std::optional<Cache> cache_of(const Args& args) {
  if (args.no_cache) return std::nullopt;
  return Cache(fs::absolute(args.cache_dir ? fs::path(*args.cache_dir) : default_cache_dir()));
}

// The Slurm options, checked against the cluster before anything is submitted; exits 2 when the
// cluster, the partition or the cache will not do.
void configure_slurm(const Args& args, RunOptions& options) {
  if (args.executor != "slurm") {
    if (!args.slurm_partition.empty() || args.slurm_max_jobs || args.slurm_args || args.slurm_poll)
      usage_error("--slurm-partition, --slurm-max-jobs, --slurm-args and --slurm-poll need --executor slurm");
    return;
  }
  options.slurm.partition = args.slurm_partition;
  if (args.slurm_max_jobs) options.slurm.max_jobs = *args.slurm_max_jobs;
  if (args.slurm_poll) options.slurm.queue_seconds = *args.slurm_poll;
  try {
    if (args.slurm_args) options.slurm.sbatch_args = split_shell_words(*args.slurm_args);
  } catch (const Error& e) {
    usage_error(e.message());
  }
  // Every job runs this same binary with the same plugins (docs/scale-out.md).
  options.slurm.worker = {executable_path("pipeline").string()};
  for (const auto& p : args.plugin_path) {
    options.slurm.worker.push_back("--plugin-path");
    options.slurm.worker.push_back(fs::absolute(p).string());
  }
  try {
    check_slurm_ready(options);
  } catch (const Error& e) {
    std::cerr << "pipeline: error: " << e.message() << "\n";
    std::exit(config_error);
  }
}

// `pipeline run-stage`: a Slurm job's work (run/stage_worker.hpp).
int run_stage_command(const Args& args, const PluginSet& plugins) {
  if (args.positional.size() < 2) usage_error("'run-stage' takes a plan file and at least one stage id");
  if (!args.job_dir || !args.run_dir || !args.cache_dir) usage_error("'run-stage' needs --job-dir, --run-dir and --cache-dir");
  WorkerJob job;
  job.targets.assign(args.positional.begin() + 1, args.positional.end());
  job.job_dir = *args.job_dir;
  job.run_dir = *args.run_dir;
  const Cache cache(*args.cache_dir);
  std::optional<Cache> exchange;
  if (args.exchange_dir) exchange.emplace(*args.exchange_dir);
  Plan plan;
  try {
    plan = read_plan_file(args.positional[0], plugins);
  } catch (const Error& e) {
    // Another build on this node, or no plan: said in the result, so the coordinator shows it.
    std::cerr << "pipeline: " << e.formatted() << "\n";
    write_worker_failure(job, e.message());
    return e.code() == ErrorCode::plugin_abi ? plugin_error : stage_failed;
  }
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  try {
    return run_worker(plan, job, cache, exchange ? &*exchange : nullptr, g_stop);
  } catch (const std::exception& e) {
    std::cerr << "pipeline: error: " << e.what() << "\n";
    write_worker_failure(job, e.what());
    return stage_failed;
  }
}

// What the results depend on besides the config: plugin files, oneDNN, threads, seeds, keys.
Value lock_of(const PluginSet& plugins, const SweepPlan& sweep) {
  Value lock = Value::map();
  Value ps = Value::list();
  for (const auto& p : plugins.plugins()) {
    Value e = Value::map();
    e.set("name", Value::string(p->name));
    e.set("version", Value::string(p->version));
    e.set("build_id", Value::string(p->build_id));
    e.set("file", Value::string(p->file.string()));
    e.set("sha256", Value::string(p->sha256));
    ps.push_back(e);
  }
  lock.set("pipeline", Value::string(PIPELINE_VERSION_STRING));
  lock.set("plugins", ps);
  const dnnl_version_t* v = dnnl_version();
  Value onednn = Value::map();
  onednn.set("version", Value::string(std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                                      std::to_string(v->patch) + " (" + v->hash + ")"));
  onednn.set("cpu_runtime", Value::integer(v->cpu_runtime));
  onednn.set("isa", Value::integer(static_cast<std::int64_t>(dnnl_get_effective_cpu_isa())));
  lock.set("onednn", onednn);
  Value threads = Value::map();
  threads.set("hardware", Value::integer(std::thread::hardware_concurrency()));
  const char* omp = std::getenv("OMP_NUM_THREADS");
  threads.set("OMP_NUM_THREADS", omp ? Value::string(omp) : Value());
  lock.set("threads", threads);
  lock.set("seed", Value::integer(static_cast<std::int64_t>(sweep.merged.seed)));
  Value trials = Value::list();
  for (const auto& t : sweep.trials) {
    Value e = Value::map();
    e.set("trial", Value::integer(static_cast<std::int64_t>(t.trial.index)));
    e.set("seed", t.trial.seed ? Value::integer(static_cast<std::int64_t>(*t.trial.seed)) : Value());
    e.set("labels", t.trial.labels);
    trials.push_back(e);
  }
  lock.set("trials", trials);
  Value keys = Value::map();
  for (const auto& s : sweep.merged.stages) keys.set(s.id, Value::string(s.key));
  lock.set("stage_keys", keys);
  return lock;
}

int cache_command(const Args& args) {
  const Cache cache(args.cache_dir ? fs::path(*args.cache_dir) : default_cache_dir());
  if (args.positional.empty()) usage_error("'cache' needs ls, rm or gc");
  const std::string& verb = args.positional[0];
  auto entries = cache.entries();
  if (verb == "ls") {
    std::uintmax_t total = 0;
    for (const auto& e : entries) {
      const Value* d = e.manifest.find("stage");
      char line[256];
      const Value* stage = d && d->is_map() ? d->find("stage") : nullptr;
      const Value* type = d && d->is_map() ? d->find("type") : nullptr;
      std::snprintf(line, sizeof line, "%s  %-24s %-14s %10.1f KiB%s", e.key.substr(0, 16).c_str(),
                    stage ? stage->str().c_str() : "?", type ? type->str().c_str() : "?", e.bytes / 1024.0,
                    e.valid ? "" : "  (corrupt: gc removes it)");
      std::cout << line << "\n";
      total += e.bytes;
    }
    std::cout << entries.size() << " entries, " << total / (1024 * 1024) << " MiB in " << cache.root().string() << "\n";
    return ok;
  }
  if (verb == "rm") {
    if (args.all) {
      for (const auto& e : entries) cache.remove(e.key);
      std::cout << "removed " << entries.size() << " entries\n";
      return ok;
    }
    if (args.positional.size() < 2) usage_error("'cache rm' needs keys (or --all)");
    for (std::size_t i = 1; i < args.positional.size(); ++i) {
      std::vector<std::string> hits;
      for (const auto& e : entries)
        if (e.key.rfind(args.positional[i], 0) == 0) hits.push_back(e.key);
      if (hits.size() != 1)
        usage_error("'" + args.positional[i] + "' matches " + std::to_string(hits.size()) + " cache entries");
      cache.remove(hits[0]);
      std::cout << "removed " << hits[0] << "\n";
    }
    return ok;
  }
  if (verb == "gc") {
    // Leftovers of interrupted writes, entries whose files fail their checksums, and old entries.
    std::size_t removed = 0;
    std::error_code ec;
    // A temporary directory may be another process's store in progress (a run or a Slurm job on
    // another node): only one untouched for an hour is a leftover.
    const auto now = fs::file_time_type::clock::now();
    auto stale = [&](const fs::path& p) {
      std::error_code time_ec;
      const auto written = fs::last_write_time(p, time_ec);
      return !time_ec && std::chrono::duration<double>(now - written).count() > 3600;
    };
    if (fs::is_directory(cache.root(), ec))
      for (const auto& shard : fs::directory_iterator(cache.root(), ec))
        if (shard.is_directory() && is_shard_name(shard.path().filename().string()))
          for (const auto& e : fs::directory_iterator(shard.path(), ec))
            if ((e.path().filename().string().rfind(".tmp-", 0) == 0 || !fs::exists(e.path() / "manifest.json")) &&
                stale(e.path())) {
              fs::remove_all(e.path(), ec);
              ++removed;
            }
    for (const auto& e : entries) {
      // An entry whose manifest does not check out, or whose files fail their checksums.
      bool bad = !e.valid;
      if (e.valid)
        for (const auto& [port, out] : e.manifest.find("outputs")->entries())
          for (const auto& [file, sum] : out.find("files")->entries())
            bad = bad || sha256_file(cache.root() / e.key.substr(0, 2) / e.key / file) != sum.as_string();
      const bool old = args.older_than_days &&
                       std::chrono::duration<double>(now - e.written).count() > *args.older_than_days * 86400;
      if (bad || old) {
        cache.remove(e.key);
        ++removed;
      }
    }
    std::cout << "removed " << removed << " entries\n";
    return ok;
  }
  usage_error("unknown cache command '" + verb + "' (ls, rm, gc)");
}

fs::path runs_root_of(const Args& args) {
  if (args.runs_dir) return *args.runs_dir;
  if (const char* env = std::getenv("PIPELINE_RUNS_DIR"); env && *env) return env;
  return "runs";
}

int run_command(const Args& args, const PluginSet& plugins) {
  SweepPlan sweep = plan_or_exit(args, plugins);
  const Plan& plan = sweep.merged;
  std::optional<Cache> cache = cache_of(args);
  const fs::path runs_root = runs_root_of(args);
  RunOptions options;
  options.cache = cache ? &*cache : nullptr;
  options.scheduler = args.executor;
  options.run_dir = fs::absolute(runs_root);  // checked for Slurm; the run's own directory below
  configure_slurm(args, options);
  fs::path run_dir;
  try {
    run_dir = create_run_dir(fs::absolute(runs_root), plan.experiment);
  } catch (const std::exception& e) {
    std::cerr << "pipeline: error: cannot create the run record under " << runs_root << ": "
              << e.what() << "\n";
    return stage_failed;
  }
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  // A coordinator inside an allocation gets SIGTERM at its time limit: stop as for Ctrl-C (and
  // cancel the jobs it submitted).
  sigaction(SIGTERM, &action, nullptr);

  Reporter reporter = Reporter::for_stderr(args.quiet);
  std::size_t per_trial = sweep.trials.empty() ? 0 : sweep.trials.front().plan.stages.size();
  reporter.info("experiment '" + plan.experiment + "': " +
                (sweep.spec.present ? std::to_string(sweep.trials.size()) + " trials of " + std::to_string(per_trial) +
                                          " stages as " + std::to_string(plan.stages.size()) + " distinct stage instances"
                                    : std::to_string(plan.stages.size()) + " stages") +
                ", seed " + std::to_string(plan.seed));
  const auto start = std::chrono::steady_clock::now();
  const double started_epoch = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  options.run_dir = run_dir;
  options.progress_file = run_dir / "progress.jsonl";
  try {
    write_plan(run_dir, plan);
  } catch (const std::exception&) {
    // Written again with the rest of the record, which reports a failure.
  }
  set_crash_hint("finished stages are in " + options.progress_file.string() +
                 " and in the cache: the same command again resumes after them");
  RunResult result = execute(plan, reporter, g_stop, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // The results are printed whatever happens to the record: a full disk must not lose them.
  std::string results_table;
  std::vector<std::string> record_problems;
  Value lock = lock_of(plugins, sweep);
  lock.set("executor", Value::string(args.executor));
  Value placements = Value::map();  // where each instance ran, when not in this process
  for (const auto& s : result.stages)
    if (s.placement.is_map()) placements.set(s.id, s.placement);
  if (args.executor == "slurm") lock.set("slurm_jobs", placements);
  try {
    RunInfo info;
    info.started = started_epoch;
    info.wall_seconds = seconds;
    info.executor = args.executor;
    info.command = args.argv;
    results_table = write_run_record(run_dir, sweep, result, lock, info, record_problems);
  } catch (const std::exception& e) {
    record_problems.push_back(e.what());
  }
  // The report is made from the record as written, as `pipeline report` would.
  try {
    report::write_html_report(report::read_run_record(run_dir), run_dir / "report.html");
  } catch (const std::exception& e) {
    record_problems.push_back(std::string("report.html: ") + e.what());
  }
  std::map<StageStatus, int> counts;
  int from_cache = 0;
  for (const auto& s : result.stages) {
    ++counts[s.status];
    from_cache += s.from_cache;
  }
  std::string summary;
  for (auto status : {StageStatus::done, StageStatus::failed, StageStatus::skipped,
                      StageStatus::cancelled, StageStatus::not_run})
    if (counts[status])
      summary += (summary.empty() ? "" : ", ") + std::to_string(counts[status]) + " " +
                 (status == StageStatus::failed ? "failed" : to_string(status)) +
                 (status == StageStatus::done && from_cache ? " (" + std::to_string(from_cache) + " from cache)" : "");
  char time[32];
  std::snprintf(time, sizeof time, "%.2fs", seconds);
  // Results on stdout (`> results.txt` keeps them); how it went on stderr.
  const std::string status_line = std::string(result.interrupted ? "interrupted" : "finished") + " in " + time + ": " + summary;
  if (result.interrupted || result.failed()) reporter.line(status_line);
  else reporter.info(status_line);
  std::cout << results_table;
  if (!record_problems.empty()) {
    for (const auto& p : record_problems) reporter.line("pipeline: error: writing the run record failed: " + p);
    reporter.line("finished stages are in the cache, so a rerun recomputes nothing they did");
    std::cout << "run record (incomplete): " << run_dir.string() << std::endl;
    return std::max(result.exit_code(), static_cast<int>(stage_failed));
  }
  std::cout << "run record: " << run_dir.string() << std::endl;
  return result.exit_code();
}

}  // namespace

static int run_main(int argc, char** argv);

// Every command's failure ends as a message and an exit code, whatever was thrown.
int main(int argc, char** argv) {
  try {
    return run_main(argc, argv);
  } catch (const Error& e) {
    std::cerr << "pipeline: " << e.formatted() << "\n";
    return e.code() == ErrorCode::plugin_load || e.code() == ErrorCode::plugin_abi ? plugin_error : stage_failed;
  } catch (const std::bad_alloc&) {
    std::cerr << "pipeline: error: out of memory\n";
    return stage_failed;
  } catch (const std::exception& e) {
    std::cerr << "pipeline: error: " << e.what() << "\n";
    return stage_failed;
  } catch (...) {
    std::cerr << "pipeline: error: an unknown exception (not derived from std::exception)\n";
    return stage_failed;
  }
}

static int run_main(int argc, char** argv) {
  install_crash_handler();
  Args args = parse_args(argc, argv);
  if (args.version) {
    std::cout << "pipeline " << PIPELINE_VERSION_STRING << "\n"
              << "plugin API " << PIPELINE_PLUGIN_API_VERSION << "\n"
              << "build id " << PIPELINE_BUILD_ID << "\n"
              << "oneTBB " << TBB_VERSION_STRING << "\n";
    return ok;
  }
  if (args.command.empty()) {
    if (args.help) {
      std::cout << main_help;
      return ok;
    }
    std::cerr << main_help;
    return config_error;
  }
  if (args.command == "help") {
    std::cout << main_help;
    return ok;
  }
  auto help = command_help.find(args.command);
  if (help == command_help.end()) {
    std::vector<std::string> names;
    for (const auto& [name, _] : command_help) names.push_back(name);
    const std::string hint = did_you_mean(args.command, names);
    usage_error("unknown command '" + args.command + "'" +
                (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
  }
  if (args.help) {
    std::cout << help->second;
    return ok;
  }

  if (!args.output.empty() && args.command != "report") usage_error("-o/--output is an option of 'report' only");
  if (args.command == "cache") return cache_command(args);
  if (args.command == "runs") {
    if (args.positional.size() > 1) usage_error("'runs' takes at most one experiment name");
    return cli::list_runs(runs_root_of(args), args.positional.empty() ? "" : args.positional[0]);
  }
  if (args.command == "diff" || args.command == "report") {
    const std::size_t want = args.command == "diff" ? 2 : 1;
    if (args.positional.size() != want) usage_error("'" + args.command + "' takes " + (want == 2 ? "two runs" : "one run"));
    try {
      if (args.command == "diff") return cli::diff_runs(args.positional[0], args.positional[1], runs_root_of(args));
      return cli::report_run(args.positional[0], runs_root_of(args), args.output);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::usage) throw;
      std::cerr << "pipeline: error: " << e.message() << "\n";
      return config_error;
    }
  }
  if (args.command == "check-plugin") {
    if (args.positional.size() != 1) usage_error("'check-plugin' takes one plugin file");
    return cli::check_plugin(args.positional[0], args.plugin_path, args.layers, args.stages, args.verbose);
  }
  try {
    PluginSet plugins;
    load_plugins(plugins, args, argv[0]);
    if (args.command == "plugins") {
      std::cout << describe_plugins(plugins);
      return ok;
    }
    if (args.command == "inspect") {
      if (args.positional.size() != 1) usage_error("'inspect' takes one name");
      const std::string& name = args.positional[0];
      const auto* stage = plugins.find_stage(name);
      if (!stage) {
        const std::string text = describe_extension_named(name);
        if (!text.empty()) {
          std::cout << text;
          return ok;
        }
      }
      if (!stage) {
        std::vector<std::string> names = plugins.stage_names();
        for (const auto& l : layer_type_names()) names.push_back(l);
        for (const auto& o : optimizer_names()) names.push_back(o);
        const std::string hint = did_you_mean(args.positional[0], names);
        usage_error("no stage type '" + args.positional[0] + "'" +
                    (hint.empty() ? "" : "; did you mean '" + hint + "'?") +
                    " (`pipeline plugins` lists them)");
      }
      std::cout << describe_stage(*stage);
      return ok;
    }
    if (args.command == "validate") {
      const SweepPlan sweep = plan_or_exit(args, plugins);
      const Plan& plan = sweep.merged;
      std::cout << plan.file << ": ok: experiment '" << plan.experiment << "', ";
      if (sweep.spec.present)
        std::cout << sweep.trials.size() << " trials, " << plan.stages.size() << " distinct stage instances\n";
      else
        std::cout << plan.stages.size() << " stages\n";
      return ok;
    }
    if (args.command == "graph") {
      std::cout << to_dot(plan_or_exit(args, plugins).merged);
      return ok;
    }
    if (args.command == "explain") {
      const SweepPlan sweep = plan_or_exit(args, plugins);
      std::optional<Cache> cache = cache_of(args);
      std::cout << explain(sweep, cache ? &*cache : nullptr);
      return ok;
    }
    if (args.command == "run-stage") return run_stage_command(args, plugins);
    return run_command(args, plugins);
  } catch (const Error& e) {
    std::cerr << "pipeline: " << e.formatted() << "\n";
    return e.code() == ErrorCode::plugin_load || e.code() == ErrorCode::plugin_abi ? plugin_error
                                                                                   : stage_failed;
  } catch (const std::exception& e) {
    std::cerr << "pipeline: error: " << e.what() << "\n";
    return stage_failed;
  }
}
