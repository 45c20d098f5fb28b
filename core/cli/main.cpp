// The `pipeline` command: run, validate, graph, plugins, inspect.
// Exit codes: 0 ok, 1 a stage failed, 2 config or usage error, 3 plugin load error, 130 interrupted.
#include <oneapi/tbb/version.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plan/dot.hpp"
#include "plan/plan.hpp"
#include "plugin/describe.hpp"
#include "plugin/plugin_set.hpp"
#include "run/executor.hpp"
#include "run/record.hpp"

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
  plugins         list the loaded plugins and their stage types
  inspect NAME    describe a stage type: ports and every parameter

Options:
  --plugin-path PATH   look for plugins here first (a directory or a .so file; repeatable,
                       colon-separated lists allowed); then PIPELINE_PLUGIN_PATH, then the
                       built-in plugin directory
  --version            print version and build information
  -h, --help           this help; `pipeline COMMAND --help` for a command's

Exit codes: 0 ok, 1 a stage failed, 2 config or usage error, 3 plugin load error, 130 interrupted.
)";

const std::map<std::string, std::string> command_help = {
    {"run", R"(usage: pipeline run FILE [--set STAGE.PARAM=VALUE]... [--seed N] [--runs-dir DIR] [--quiet]

Validates FILE, then runs its stages on a oneTBB flow graph: independent stages at the same time,
compute stages one at a time with all cores. A failing stage stops only the stages that need it.
Ctrl-C stops the run cleanly (exit 130); a second Ctrl-C ends it at once.

  --set STAGE.PARAM=VALUE   override a parameter (VALUE is YAML: 5, 0.1, [1, 2], text); repeatable
  --seed N                  override the experiment's seed (every stage seed derives from it)
  --runs-dir DIR            where run records go (default: $PIPELINE_RUNS_DIR or ./runs); the
                            record is DIR/EXPERIMENT/RUN_ID with plan.json, metrics.json, timings.json
  --quiet                   no start/done lines, only results and errors
)"},
    {"validate", R"(usage: pipeline validate FILE [--set STAGE.PARAM=VALUE]...

Checks everything that can be known before running (YAML syntax, duplicate keys, stage types,
parameters, inputs, port types, cycles) and reports every error as FILE:LINE:COL: error: MESSAGE.
Exit code 0 when valid, 2 otherwise.
)"},
    {"graph", R"(usage: pipeline graph FILE [--set STAGE.PARAM=VALUE]...

Prints the validated stage graph in Graphviz DOT, e.g. `pipeline graph x.yaml | dot -Tpng > x.png`.
)"},
    {"plugins", R"(usage: pipeline plugins

Lists every loaded plugin with its version, file and stage types.
)"},
    {"inspect", R"(usage: pipeline inspect NAME

Describes stage type NAME: its inputs, outputs and every parameter with type, default, range and doc.
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
  std::string command;
  std::vector<std::string> positional;
  std::vector<std::string> plugin_path;
  std::vector<std::string> sets;
  std::optional<std::string> runs_dir;
  std::optional<std::uint64_t> seed;
  bool quiet = false;
  bool help = false;
  bool version = false;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "pipeline: error: " << message << "\nTry 'pipeline --help'.\n";
  std::exit(config_error);
}

Args parse_args(int argc, char** argv) {
  Args a;
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
    else if (is(arg, "--runs-dir")) a.runs_dir = value_of(i, arg, "--runs-dir");
    else if (is(arg, "--seed")) {
      const std::string v = value_of(i, arg, "--seed");
      if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
        usage_error("--seed expects a non-negative integer, got '" + v + "'");
      a.seed = std::stoull(v);
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

// Validates FILE with the overrides; on errors prints them all and exits 2.
Plan plan_or_exit(const Args& args, const PluginSet& plugins) {
  if (args.positional.size() != 1)
    usage_error("'" + args.command + "' takes exactly one experiment file");
  std::vector<Override> overrides;
  try {
    for (const auto& s : args.sets) overrides.push_back(parse_override(s));
  } catch (const Error& e) {
    usage_error(e.message());
  }
  PlanResult result = plan_file(args.positional[0], plugins, overrides);
  if (result.ok()) {
    if (args.seed) reseed(result.plan, *args.seed);
    return std::move(result.plan);
  }
  for (const auto& e : result.errors) std::cerr << e.formatted() << "\n";
  std::exit(config_error);
}

int run_command(const Args& args, const PluginSet& plugins) {
  Plan plan = plan_or_exit(args, plugins);
  fs::path runs_root = args.runs_dir ? fs::path(*args.runs_dir)
                       : std::getenv("PIPELINE_RUNS_DIR") ? fs::path(std::getenv("PIPELINE_RUNS_DIR"))
                                                          : fs::path("runs");
  fs::path run_dir;
  try {
    run_dir = create_run_dir(runs_root, plan.experiment);
  } catch (const std::exception& e) {
    std::cerr << "pipeline: error: cannot create the run record under " << runs_root << ": "
              << e.what() << "\n";
    return stage_failed;
  }

  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);

  Reporter reporter = Reporter::for_stderr(args.quiet);
  reporter.line("experiment '" + plan.experiment + "': " + std::to_string(plan.stages.size()) +
                " stages, seed " + std::to_string(plan.seed));
  const auto start = std::chrono::steady_clock::now();
  RunResult result = execute(plan, reporter, g_stop, RunOptions{run_dir});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  try {
    write_run_record(run_dir, plan, result);
  } catch (const std::exception& e) {
    reporter.line(std::string("pipeline: error: writing the run record failed: ") + e.what());
    return stage_failed;
  }

  std::map<StageStatus, int> counts;
  for (const auto& s : result.stages) ++counts[s.status];
  std::string summary;
  for (auto status : {StageStatus::done, StageStatus::failed, StageStatus::skipped,
                      StageStatus::cancelled, StageStatus::not_run})
    if (counts[status])
      summary += (summary.empty() ? "" : ", ") + std::to_string(counts[status]) + " " +
                 (status == StageStatus::failed ? "failed" : to_string(status));
  char time[32];
  std::snprintf(time, sizeof time, "%.2fs", seconds);
  reporter.line(std::string(result.interrupted ? "interrupted" : "finished") + " in " + time + ": " +
                summary);
  reporter.line("run record: " + run_dir.string());
  return result.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
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

  try {
    PluginSet plugins;
    load_plugins(plugins, args, argv[0]);
    if (args.command == "plugins") {
      std::cout << describe_plugins(plugins);
      return ok;
    }
    if (args.command == "inspect") {
      if (args.positional.size() != 1) usage_error("'inspect' takes one stage type name");
      const auto* stage = plugins.find_stage(args.positional[0]);
      if (!stage) {
        const std::string hint = did_you_mean(args.positional[0], plugins.stage_names());
        usage_error("no stage type '" + args.positional[0] + "'" +
                    (hint.empty() ? "" : "; did you mean '" + hint + "'?") +
                    " (`pipeline plugins` lists them)");
      }
      std::cout << describe_stage(*stage);
      return ok;
    }
    if (args.command == "validate") {
      Plan plan = plan_or_exit(args, plugins);
      std::cout << plan.file << ": ok: experiment '" << plan.experiment << "', "
                << plan.stages.size() << " stages\n";
      return ok;
    }
    if (args.command == "graph") {
      std::cout << to_dot(plan_or_exit(args, plugins));
      return ok;
    }
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
