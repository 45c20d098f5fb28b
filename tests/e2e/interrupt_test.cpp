// SIGINT stops a run cleanly: running stages are told to stop, no half-written file is left, and
// the exit code is 130.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <thread>

#include "support/browser.hpp"
#include "support/cli.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;

TEST_CASE("SIGINT stops the run with exit code 130 and no partial files", "[interrupt]") {
  test::TempDir dir;
  const auto out = dir / "out" / "result.txt";
  fs::create_directories(out.parent_path());
  const auto started = dir / "started";
  test::write_text(dir / "i.yaml", "experiment: interrupted\nstages:\n  slow:\n    plugin: wait_for_stop\n"
                                   "    params: {path: " + out.string() + ", started: " + started.string() + "}\n"
                                   "  later: {plugin: emit, inputs: {after: slow}}\n");
  const pid_t pid = test::spawn_cli({"--plugin-path", TESTKIT_PLUGIN, "run", (dir / "i.yaml").string(),
                                     "--runs-dir", (dir / "runs").string()},
                                    dir / "stdout", dir / "stderr");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!fs::exists(started) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(fs::exists(started));
  // The stage is now writing its file through a temporary.
  bool temp_seen = false;
  for (const auto& f : fs::directory_iterator(out.parent_path())) temp_seen = temp_seen || f.path().filename().string()[0] == '.';
  CHECK(temp_seen);

  kill(pid, SIGINT);
  const int code = test::wait_exit(pid);
  const std::string err = test::read_file(dir / "stderr");
  INFO(err);
  CHECK(code == 130);
  CHECK(err.find("[slow] cancelled") != std::string::npos);
  CHECK(err.find("interrupted in ") != std::string::npos);
  // Neither the target nor its temporary exists.
  CHECK(fs::is_empty(out.parent_path()));
  // The run record says what happened.
  std::string metrics, report;
  for (const auto& exp : fs::directory_iterator(dir / "runs"))
    for (const auto& run : fs::directory_iterator(exp.path())) {
      metrics = test::read_file(run.path() / "metrics.json");
      report = test::read_file(run.path() / "report.html");
    }
  CHECK(metrics.find("\"interrupted\": true") != std::string::npos);
  CHECK(metrics.find("\"status\": \"cancelled\"") != std::string::npos);
  // So does its report: the run marked interrupted, both stages cancelled in the graph.
  CHECK(report.find("status-interrupted") != std::string::npos);
  CHECK(test::count_of(report, "data-status=\"cancelled\"") == 2);
}
