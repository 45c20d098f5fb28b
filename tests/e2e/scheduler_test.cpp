// The scheduler: independent stages run at the same time (proved with barriers that fail when
// their stages run one after another), compute stages take turns, a failure stops only what
// depends on it, and the error names the stage and its location.
#include <catch2/catch.hpp>

#include "config/yaml_reader.hpp"
#include "plan/plan.hpp"
#include "run/executor.hpp"
#include "run/reporter.hpp"
#include "support/cli.hpp"
#include "support/temp_dir.hpp"

using namespace pipeline;

namespace {

const PluginSet& testkit() {
  static PluginSet plugins;
  static bool loaded = [] {
    plugins.load_file(TESTKIT_PLUGIN);
    return plugins.errors().empty();
  }();
  REQUIRE(loaded);
  return plugins;
}

RunResult run_text(const std::string& yaml, int parallel = 0, const std::string& scheduler = "local") {
  std::vector<Error> errors;
  Value config = config::parse_yaml(yaml, "s.yaml", errors);
  REQUIRE(errors.empty());
  PlanResult planned = build_plan(config, "s.yaml", "/", testkit());
  for (const auto& e : planned.errors) FAIL(e.formatted());
  std::FILE* sink = std::fopen("/dev/null", "w");
  Reporter reporter(sink, false, true);
  std::atomic<bool> stop{false};
  RunOptions options;
  options.max_parallel_stages = parallel;
  options.scheduler = scheduler;
  RunResult r = execute(planned.plan, reporter, stop, options);
  std::fclose(sink);
  return r;
}

StageStatus status(const RunResult& r, const std::string& id) {
  const StageOutcome* s = r.find(id);
  REQUIRE(s);
  return s->status;
}

}  // namespace

TEST_CASE("independent stages run concurrently", "[scheduler]") {
  // Each barrier waits for the other: both pass only if they are running at the same time.
  const std::string yaml = R"(stages:
  left: {plugin: barrier, params: {group: pair, parties: 2, timeout_ms: 20000}}
  right: {plugin: barrier, params: {group: pair, parties: 2, timeout_ms: 20000}}
  join: {plugin: emit, inputs: {after: left}}
)";
  RunResult r = run_text(yaml);
  CHECK(status(r, "left") == StageStatus::done);
  CHECK(status(r, "right") == StageStatus::done);
  CHECK(status(r, "join") == StageStatus::done);
  CHECK(r.exit_code() == 0);
}

TEST_CASE("the serial scheduler runs one stage at a time (the barrier fails there too)", "[scheduler]") {
  const std::string yaml = R"(stages:
  left: {plugin: barrier, params: {group: serial2, parties: 2, timeout_ms: 300}}
  right: {plugin: barrier, params: {group: serial2, parties: 2, timeout_ms: 300}}
)";
  RunResult r = run_text(yaml, 4, "serial");
  CHECK(status(r, "left") == StageStatus::failed);  // the first in plan order waits alone
  CHECK(r.exit_code() == 1);
}

TEST_CASE("the barrier detects serial execution (negative control)", "[scheduler]") {
  const std::string yaml = R"(stages:
  left: {plugin: barrier, params: {group: serial, parties: 2, timeout_ms: 300}}
  right: {plugin: barrier, params: {group: serial, parties: 2, timeout_ms: 300}}
)";
  RunResult r = run_text(yaml, /*parallel=*/1);
  // Run one at a time, the first to start cannot meet the other (which one starts first is up to
  // the scheduler).
  CHECK((status(r, "left") == StageStatus::failed) != (status(r, "right") == StageStatus::failed));
  CHECK(r.exit_code() == 1);
}

TEST_CASE("compute stages never overlap, other stages overlap them", "[scheduler]") {
  const std::string yaml = R"(stages:
  c1: {plugin: exclusive}
  c2: {plugin: exclusive}
  c3: {plugin: exclusive}
)";
  for (const char* scheduler : {"local", "serial"}) {
    INFO(scheduler);
    RunResult r = run_text(yaml, 3, scheduler);
    for (const char* id : {"c1", "c2", "c3"}) {
      REQUIRE(status(r, id) == StageStatus::done);
      CHECK(r.find(id)->metrics.find("max_overlap")->as_int() == 1);
    }
  }
}

// The semantics every scheduler shares, each at 1 and 4 threads.
struct Config {
  const char* scheduler;
  int parallel;
};
const Config every_scheduler[] = {{"local", 1}, {"local", 4}, {"serial", 1}, {"serial", 4}};

TEST_CASE("a failing stage stops only its dependents", "[scheduler]") {
  const std::string yaml = R"(stages:
  bad: {plugin: fail, params: {message: "input file is corrupt"}}
  after_bad: {plugin: emit, inputs: {after: bad}}
  after_after: {plugin: emit, inputs: {after: after_bad}}
  good: {plugin: emit}
  after_good: {plugin: emit, inputs: {after: good}}
)";
  for (const auto& c : every_scheduler) {
  INFO(c.scheduler << " at " << c.parallel);
  RunResult r = run_text(yaml, c.parallel, c.scheduler);
  CHECK(status(r, "bad") == StageStatus::failed);
  CHECK(r.find("bad")->message == "input file is corrupt [data_format]");
  CHECK(status(r, "after_bad") == StageStatus::skipped);
  CHECK(r.find("after_bad")->message == "needs stage 'bad', which failed");
  CHECK(status(r, "after_after") == StageStatus::skipped);
  CHECK(status(r, "good") == StageStatus::done);
  CHECK(status(r, "after_good") == StageStatus::done);
  CHECK(r.exit_code() == 1);
  }
}

TEST_CASE("the CLI names the failing stage and its location, and exits 1", "[scheduler]") {
  test::TempDir dir;
  test::write_text(dir / "f.yaml", R"(experiment: failing
stages:
  good: {plugin: emit}
  bad:
    plugin: fail
    params: {message: "no such column"}
  downstream: {plugin: emit, inputs: {after: bad}}
)");
  auto r = test::run_cli({"--plugin-path", TESTKIT_PLUGIN, "run", "f.yaml", "--runs-dir", "runs"}, dir.path());
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("[bad] f.yaml:4:3: error: stage 'bad' (fail) failed in ") != std::string::npos);
  CHECK(r.err.find("s: no such column [data_format]") != std::string::npos);
  CHECK(r.err.find("[downstream] skipped in 0.00s: needs stage 'bad', which failed") != std::string::npos);
  CHECK(r.err.find("1 done, 1 failed, 1 skipped") != std::string::npos);
}

TEST_CASE("stage seeds are derived from the experiment seed and stage id", "[scheduler]") {
  auto seed_of = [](const std::string& experiment_seed, const std::string& id, const char* scheduler = "local") {
    RunResult r = run_text("seed: " + experiment_seed + "\nstages:\n  " + id + ": {plugin: emit}\n", 0, scheduler);
    return r.find(id)->metrics.find("seed")->as_string();
  };
  CHECK(seed_of("1", "a", "serial") == seed_of("1", "a", "local"));
  CHECK(seed_of("1", "a") == seed_of("1", "a"));
  CHECK(seed_of("1", "a") != seed_of("2", "a"));
  CHECK(seed_of("1", "a") != seed_of("1", "b"));
}
