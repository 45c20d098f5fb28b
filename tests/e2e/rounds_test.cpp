// Rounds written once as repeat groups, end to end: a small federation (3 clients, IID) unrolls
// into plain stages that graph and explain show one by one, and a run killed with SIGKILL after
// its second round resumes there: finished rounds come from the cache, and the final model's
// metrics equal an uninterrupted run's.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/cli.hpp"
#include "support/idx_files.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int rounds = 6;

std::string federation_yaml() {
  return "experiment: federation\nseed: 3\nstages:\n" + test::small_data_and_model_yaml() + R"(  parts:
    repeat: {client: 3}
    part_<client>: {plugin: federated_split, inputs: {data: data.train}, params: {clients: 3, client: <client>}}
  global_0: {plugin: fedavg, inputs: {start: net}, params: {weighting: uniform}}
  rounds:
    repeat: {round: 1..)" + std::to_string(rounds) + R"(}
    clients:
      repeat: {client: 3}
      local_<round>_<client>:
        plugin: finetune
        inputs: {model: global_<round-1>, data: part_<client>}
        params: {epochs: 400, batch_size: 4, lr: 0.01, proximal_mu: 0.1}
    global_<round>:
      plugin: fedavg
      inputs: {models: {repeat: {client: 3}, c<client>: local_<round>_<client>}}
  score: {plugin: evaluate, inputs: {model: global_)" + std::to_string(rounds) + R"(, data: data.test}}
)";
}

struct Federation {
  test::TempDir dir;
  Federation() {
    test::write_small_image_files(dir.path(), 60);
    test::write_text(dir / "f.yaml", federation_yaml());
  }
  std::vector<std::string> run_args(const std::string& cache) const {
    return {"run", (dir / "f.yaml").string(), "--runs-dir", (dir / "runs").string(), "--cache-dir",
            (dir / cache).string(), "--executor", "serial"};
  }
  json score_metrics(const std::string& out) const {
    const std::string record = out.substr(out.rfind("run record: ") + 12);
    return json::parse(test::read_file(fs::path(record.substr(0, record.size() - 1)) / "metrics.json"))["stages"]["score"]["metrics"];
  }
};

}  // namespace

TEST_CASE("graph and explain show every unrolled round and client", "[rounds]") {
  Federation f;
  const auto graph = test::run_cli({"graph", (f.dir / "f.yaml").string()});
  REQUIRE(graph.exit_code == 0);
  for (const char* id : {"\"part_2\"", "\"local_1_0\"", "\"local_6_2\"", "\"global_6\""})
    CHECK(graph.out.find(id) != std::string::npos);
  CHECK(graph.out.find("\"global_5\" -> \"local_6_1\"") != std::string::npos);
  const auto explain = test::run_cli({"explain", (f.dir / "f.yaml").string(), "--cache-dir", (f.dir / "c").string()});
  REQUIRE(explain.exit_code == 0);
  CHECK(explain.out.find("local_6_2 (finetune, key ") != std::string::npos);
  CHECK(explain.out.find("<round>") == std::string::npos);
}

TEST_CASE("a federated run killed after a round resumes at the last finished round", "[rounds]") {
  Federation f;
  // The uninterrupted run, in a cache of its own.
  const auto clean = test::run_cli(f.run_args("clean-cache"));
  INFO(clean.err);
  REQUIRE(clean.exit_code == 0);

  // Killed (SIGKILL: no clean-up) as soon as round 2's global model is done.
  const pid_t pid = test::spawn_cli(f.run_args("cache"), f.dir / "stdout", f.dir / "stderr");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (test::read_file(f.dir / "stderr").find("[global_2] done") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  kill(pid, SIGKILL);
  test::wait_exit(pid);
  const std::string killed = test::read_file(f.dir / "stderr");
  INFO(killed);
  REQUIRE(killed.find("[global_2] done") != std::string::npos);
  REQUIRE(killed.find("[score] done") == std::string::npos);  // it did not get to the end

  const auto resumed = test::run_cli(f.run_args("cache"));
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  for (const char* id : {"[local_1_0] cached", "[local_1_2] cached", "[global_1] cached", "[local_2_1] cached",
                         "[global_2] cached"})
    CHECK(resumed.err.find(id) != std::string::npos);
  // What was not finished runs now, the last round among it.
  CHECK(resumed.err.find("[local_" + std::to_string(rounds) + "_0] start") != std::string::npos);
  CHECK(resumed.err.find("[global_" + std::to_string(rounds) + "] start") != std::string::npos);
  CHECK(f.score_metrics(resumed.out) == f.score_metrics(clean.out));
}

TEST_CASE("data-dependent limits of the new stages fail at run time, naming the stage and the numbers", "[rounds]") {
  test::TempDir dir;
  test::write_small_image_files(dir.path(), 9);  // 3 images of each class
  std::string yaml = "experiment: limits\nseed: 1\nstages:\n" + test::small_data_and_model_yaml() + R"(  part:
    plugin: federated_split
    inputs: {data: data.train}
    params: {clients: 4, client: 0}
  start: {plugin: active_split, inputs: {data: data.train}, params: {per_class: 1}}
  pick:
    plugin: active_select
    inputs: {model: net, labelled: start.labelled, pool: start.pool}
    params: {strategy: margin, batch: 50}
)";
  yaml.replace(yaml.find("test_fraction: 0.25"), 19, "test_fraction: 0");
  test::write_text(dir / "e.yaml", yaml);
  const auto r = test::run_cli({"run", (dir / "e.yaml").string(), "--runs-dir", (dir / "runs").string(), "--cache-dir",
                                (dir / "cache").string()});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("e.yaml:10:3: error: stage 'part' (federated_split) failed") != std::string::npos);
  CHECK(r.err.find("an IID split gives every client every class, but class 0 has 3 samples for 4 clients") !=
        std::string::npos);
  CHECK(r.err.find("e.yaml:15:3: error: stage 'pick' (active_select) failed") != std::string::npos);
  CHECK(r.err.find("batch 50 is larger than the pool, which holds 6 samples") != std::string::npos);
}
