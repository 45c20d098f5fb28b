// `pipeline run --executor slurm` against a real single-node cluster (slurmctld + slurmd + munged,
// started by the slurm.cluster fixture: tests/slurm/cluster.sh). The same results as a local run
// byte for byte, failures as local runs have them, Ctrl-C cancels every job, a coordinator killed
// with -9 resumes without duplicating a job, a job lost by Slurm is submitted once more, and bad
// cluster settings are refused before anything is submitted.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "support/cli.hpp"
#include "support/idx_files.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path cluster_dir() {
  const char* conf = std::getenv("SLURM_CONF");
  REQUIRE(conf != nullptr);  // set by CTest for these tests (tests/CMakeLists.txt)
  return fs::path(conf).parent_path();
}

std::string shell(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

// Our jobs Slurm still lists, "ID STATE NAME" per line.
std::string queue() { return shell("squeue -h -o '%i %T %j' 2>&1"); }

json read_json(const fs::path& file) { return json::parse(test::read_file(file)); }

bool wait_for(const std::function<bool()>& condition, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return condition();
}

// A small sweep of its own experiment name (so jobcomp lines are told apart): data, a model, a
// training and an evaluation per trial.
struct Sweep {
  test::TempDir dir;
  std::string name;
  explicit Sweep(const std::string& experiment, const std::string& sweep, int epochs = 3, const std::string& extra_stages = "")
      : name(experiment) {
    test::write_small_image_files(dir.path(), 240);
    test::write_text(dir / "s.yaml", "experiment: " + experiment + R"(
seed: 3
stages:
)" + test::small_data_and_model_yaml(16) + R"(  fit:
    plugin: train
    inputs: {model: net, data: data.train}
    params: {epochs: )" + std::to_string(epochs) + R"(, batch_size: 8, lr: 0.1}
  score:
    plugin: evaluate
    inputs: {model: fit, data: data.test}
)" + extra_stages + "sweep:\n" + sweep);
  }
  std::vector<std::string> args(const std::string& runs, const std::string& executor,
                                const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> a = {"run", (dir / "s.yaml").string(), "--runs-dir", (dir / runs).string(),
                                  "--cache-dir", (dir / ("cache-" + runs)).string(), "--executor", executor};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  test::CliResult run(const std::string& runs, const std::string& executor, const std::vector<std::string>& extra = {}) const {
    return test::run_cli(args(runs, executor, extra));
  }
  fs::path record(const std::string& runs) const {
    fs::path newest;
    for (const auto& exp : fs::directory_iterator(dir / runs))
      for (const auto& r : fs::directory_iterator(exp.path()))
        if (newest.empty() || r.path() > newest) newest = r.path();
    return newest;
  }
};

// Starts `pipeline run --executor slurm` on the sweep and waits until one of its jobs runs; returns
// the coordinator's pid and that job's id.
pid_t start_until_running(const Sweep& s, std::string& job, const std::vector<std::string>& extra = {}) {
  const pid_t pid = test::spawn_cli(s.args("slurm", "slurm", extra), s.dir / "out", s.dir / "err");
  const bool running = wait_for([&] {
    std::istringstream lines(queue());
    for (std::string line; std::getline(lines, line);)
      if (line.find("RUNNING pipeline:" + s.name + ":") != std::string::npos) job = line.substr(0, line.find(' '));
    return !job.empty();
  }, 60);
  INFO(test::read_file(s.dir / "err"));
  REQUIRE(running);
  return pid;
}

void check_same_results(const fs::path& a, const fs::path& b) {
  CHECK(test::read_file(a / "summary.csv") == test::read_file(b / "summary.csv"));
  CHECK(test::read_file(a / "metrics.json") == test::read_file(b / "metrics.json"));
  for (const auto& trial : fs::directory_iterator(a / "trials"))
    CHECK(test::read_file(trial.path() / "metrics.json") ==
          test::read_file(b / "trials" / trial.path().filename() / "metrics.json"));
}

}  // namespace

TEST_CASE("the reduced transfer sweep on Slurm gives the local run's summary byte for byte", "[slurm]") {
  const fs::path yaml = test::source_dir() / "pipelines" / "fashion_transfer_sweep.yaml";
  std::vector<std::string> reduced;
  {
    std::istringstream lines(test::read_file(yaml));
    for (std::string line; std::getline(lines, line);)
      if (line.rfind("# test:", 0) == 0) {
        std::istringstream words(line.substr(7));
        for (std::string w; words >> w;) reduced.push_back(w);
      }
  }
  REQUIRE(!reduced.empty());
  test::TempDir dir;
  auto run = [&](const std::string& name, const std::string& executor) {
    std::vector<std::string> args = {"run", yaml.string(), "--runs-dir", (dir / name).string(), "--cache-dir",
                                     (dir / ("cache-" + executor)).string(), "--executor", executor};
    args.insert(args.end(), reduced.begin(), reduced.end());
    return test::run_cli(args);
  };
  const auto local = run("local", "local");
  REQUIRE(local.exit_code == 0);
  const auto slurm = run("slurm", "slurm");
  INFO(slurm.err);
  REQUIRE(slurm.exit_code == 0);
  auto record = [&](const std::string& name) {
    fs::path newest;
    for (const auto& e : fs::recursive_directory_iterator(dir / name))
      if (e.path().filename() == "summary.csv" && (newest.empty() || e.path().parent_path() > newest)) newest = e.path().parent_path();
    return newest;
  };
  check_same_results(record("local"), record("slurm"));
  CHECK(test::results_of(slurm.out) == test::results_of(local.out));  // the summary tables on stdout too

  // What ran where: jobs in the cluster's completion log, the run's lock and timings.
  const json lock = read_json(record("slurm") / "lock.json");
  CHECK(lock["executor"] == "slurm");
  REQUIRE(lock["slurm_jobs"].contains("pretrain@0"));
  const std::string job = lock["slurm_jobs"]["pretrain@0"]["slurm_job"];
  CHECK(!lock["slurm_jobs"]["pretrain@0"]["node"].get<std::string>().empty());
  const std::string jobcomp = test::read_file(cluster_dir() / "jobcomp.log");
  CHECK(jobcomp.find("JobId=" + job + " ") != std::string::npos);
  CHECK(std::regex_search(jobcomp, std::regex("JobId=" + job + " .*Name=pipeline:fashion-transfer-sweep:pretrain_0 JobState=COMPLETED")));
  const json timings = read_json(record("slurm") / "timings.json");
  CHECK(timings["scratch@0"].contains("queue_seconds"));
  CHECK(timings["scratch@0"]["started"].get<double>() > 0);  // when it started in its job, for the timeline
  // The report's timeline has a lane per job, named with its node.
  const std::string report = test::read_file(record("slurm") / "report.html");
  CHECK(report.find(">Slurm job " + job + " (") != std::string::npos);
  // Cheap stages cost no job of their own; evaluations ride along with their training.
  std::smatch m;
  REQUIRE(std::regex_search(slurm.err, m, std::regex(R"((\d+) job\(s\) submitted)")));
  CHECK(std::stoi(m[1]) == 39);  // 3 pretrain + 12 x (scratch, features, finetune)
  CHECK(slurm.err.find("[source@0] done") != std::string::npos);  // data loading ran in the coordinator

  // A rerun on the same cache submits nothing.
  const auto again = run("slurm-again", "slurm");
  REQUIRE(again.exit_code == 0);
  CHECK(again.err.find("0 job(s) submitted") != std::string::npos);
  check_same_results(record("local"), record("slurm-again"));
}

TEST_CASE("federated clients on Slurm are separate jobs, and the rounds give the local run's metrics", "[slurm]") {
  test::TempDir dir;
  test::write_small_image_files(dir.path(), 120);
  test::write_text(dir / "f.yaml", "experiment: federation-on-slurm\nseed: 3\nstages:\n" + test::small_data_and_model_yaml(8) + R"(  parts:
    repeat: {client: 3}
    part_<client>: {plugin: federated_split, inputs: {data: data.train}, params: {clients: 3, client: <client>}}
  global_0: {plugin: fedavg, inputs: {start: net}, params: {weighting: uniform}}
  rounds:
    repeat: {round: 1..2}
    clients:
      repeat: {client: 3}
      local_<round>_<client>:
        plugin: finetune
        inputs: {model: global_<round-1>, data: part_<client>}
        params: {epochs: 5, batch_size: 4, lr: 0.05}
    global_<round>:
      plugin: fedavg
      inputs: {models: {repeat: {client: 3}, c<client>: local_<round>_<client>}}
  score: {plugin: evaluate, inputs: {model: global_2, data: data.test}}
)");
  auto run = [&](const std::string& executor) {
    return test::run_cli({"run", (dir / "f.yaml").string(), "--runs-dir", (dir / executor).string(), "--cache-dir",
                          (dir / ("cache-" + executor)).string(), "--executor", executor});
  };
  const auto local = run("local");
  REQUIRE(local.exit_code == 0);
  const auto slurm = run("slurm");
  INFO(slurm.err);
  REQUIRE(slurm.exit_code == 0);
  auto record = [&](const std::string& name) {
    for (const auto& exp : fs::directory_iterator(dir / name))
      for (const auto& r : fs::directory_iterator(exp.path())) return r.path();
    return fs::path();
  };
  CHECK(test::read_file(record("local") / "metrics.json") == test::read_file(record("slurm") / "metrics.json"));
  // Each client's local training of each round is a job of its own.
  const json lock = read_json(record("slurm") / "lock.json");
  std::set<std::string> jobs;
  for (const char* id : {"local_1_0", "local_1_1", "local_1_2", "local_2_0", "local_2_1", "local_2_2"}) {
    INFO(id);
    REQUIRE(lock["slurm_jobs"].contains(id));
    jobs.insert(lock["slurm_jobs"][id]["slurm_job"].get<std::string>());
  }
  CHECK(jobs.size() == 6);
}

TEST_CASE("a failing trial on Slurm fails its stage with the job's stderr, and the other trials finish", "[slurm]") {
  // A model whose input does not fit the images fails in its training job at run time; a second
  // training after it is a job of its own, queued after the first with afterok.
  Sweep s("slurm-failing", "  grid: {net.input: [[1, 4, 3], [1, 3, 5]]}\n", 3,
          "  refit:\n    plugin: train\n    inputs: {model: fit, data: data.train}\n    params: {epochs: 2, lr: 0.05}\n");
  const auto local = s.run("local", "local");
  const auto slurm = s.run("slurm", "slurm");
  INFO(slurm.err);
  CHECK(local.exit_code == 1);
  CHECK(slurm.exit_code == 1);
  const fs::path a = s.record("local"), b = s.record("slurm");
  CHECK(test::read_file(a / "trials" / "000" / "metrics.json") == test::read_file(b / "trials" / "000" / "metrics.json"));
  const std::string local_status = read_json(a / "trials" / "001" / "metrics.json")["status"];
  const std::string slurm_status = read_json(b / "trials" / "001" / "metrics.json")["status"];
  CHECK(local_status.rfind("failed: fit: ", 0) == 0);
  CHECK(slurm_status.substr(0, 40) == local_status.substr(0, 40));
  // The failure names the job and shows the end of its stderr; its evaluation is skipped.
  CHECK(std::regex_search(slurm.err, std::regex(R"(stage 'fit@1' \(train\) failed .*\[Slurm job \d+ on \S+; .*stderr.txt\])")));
  CHECK(slurm.err.find("    | ") != std::string::npos);
  CHECK(slurm.err.find("[score@1] skipped") != std::string::npos);
  CHECK(slurm.err.find("[refit@1] skipped") != std::string::npos);
  CHECK(slurm.err.find("submitting it once more") == std::string::npos);  // withdrawn, not lost
  CHECK(slurm.err.find("[refit@0] done") != std::string::npos);
  const json metrics = read_json(b / "metrics.json");
  CHECK(metrics["stages"]["score@1"]["status"] == "skipped");
  CHECK(metrics["stages"]["score@0"]["status"] == "done");
}

TEST_CASE("Ctrl-C in the coordinator cancels every job it submitted and exits 130", "[slurm]") {
  Sweep s("slurm-interrupted", "  grid: {fit.lr: [0.1, 0.05, 0.02]}\n", 4000);
  std::string job;
  const pid_t pid = start_until_running(s, job);
  ::kill(pid, SIGINT);
  CHECK(test::wait_exit(pid) == 130);
  const std::string err = test::read_file(s.dir / "err");
  CHECK(err.find("cancelled 3 job(s) with scancel") != std::string::npos);
  CHECK(wait_for([] { return queue().find("pipeline:slurm-interrupted") == std::string::npos; }, 20));
  const json metrics = read_json(s.record("slurm") / "metrics.json");
  CHECK(metrics["interrupted"] == true);
  CHECK(metrics["stages"]["fit@0"]["status"] == "cancelled");
}

TEST_CASE("a coordinator killed with -9 resumes: finished work from the cache, running jobs adopted, none twice", "[slurm]") {
  Sweep s("slurm-killed", "  grid: {fit.lr: [0.1, 0.05, 0.02, 0.01]}\n", 300);
  std::string job;
  const pid_t pid = start_until_running(s, job);
  ::kill(pid, SIGKILL);
  test::wait_exit(pid);
  REQUIRE(queue().find("pipeline:slurm-killed") != std::string::npos);  // its jobs live on
  const auto resumed = s.run("slurm", "slurm");
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  CHECK(resumed.err.find("adopted Slurm job") != std::string::npos);
  // Each trial's job was submitted once over both coordinators; the results are the local ones.
  const std::string both = test::read_file(s.dir / "err") + resumed.err;
  for (int trial = 0; trial < 4; ++trial) {
    const std::regex submitted("submitted job \\d+ for fit@" + std::to_string(trial) + ",");
    CHECK(std::distance(std::sregex_iterator(both.begin(), both.end(), submitted), std::sregex_iterator()) == 1);
  }
  const auto local = s.run("local", "local");
  REQUIRE(local.exit_code == 0);
  check_same_results(s.record("local"), s.record("slurm"));
  CHECK(test::run_cli({"cache", "ls", "--cache-dir", (s.dir / "cache-slurm").string()}).out.find("corrupt") == std::string::npos);
}

TEST_CASE("a job Slurm loses (cancelled from outside) is submitted once more", "[slurm]") {
  Sweep s("slurm-lost", "  grid: {fit.lr: [0.1]}\n", 300);
  std::string id;
  const pid_t pid = start_until_running(s, id, {"--slurm-poll", "1"});
  shell("scancel " + id);
  const int code = test::wait_exit(pid);
  const std::string err = test::read_file(s.dir / "err");
  INFO(err);
  CHECK(code == 0);
  CHECK(err.find("Slurm job " + id) != std::string::npos);
  CHECK(err.find("submitting it once more") != std::string::npos);
  const auto local = s.run("local", "local");
  check_same_results(s.record("local"), s.record("slurm"));
}

TEST_CASE("bad Slurm settings are refused in one line before anything is submitted", "[slurm]") {
  Sweep s("slurm-refused", "  grid: {fit.lr: [0.1]}\n");
  auto refused = [&](const std::vector<std::string>& extra, const std::string& message) {
    const auto r = s.run("runs", "slurm", extra);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(message) != std::string::npos);
    CHECK_FALSE(fs::exists(s.dir / "runs"));
  };
  refused({"--slurm-partition", "gpu"}, "--slurm-partition: the cluster has no partition 'gpu' (it has: debug, batch)");
  refused({"--slurm-max-jobs", "0"}, "--slurm-max-jobs must be between 1 and 1000000, got 0");
  refused({"--slurm-poll", "0"}, "--slurm-poll expects seconds between 0.1 and 3600, got '0'");
  refused({"--no-cache"}, "--executor slurm passes results between jobs through the cache");
  refused({"--slurm-args", "--account='unclosed"}, "--slurm-args has an unmatched quote");
  test::write_text(s.dir / "a-file", "x");
  refused({"--cache-dir", (s.dir / "a-file" / "cache").string()}, "cannot be shared between jobs");
  {
    // No Slurm commands on PATH.
    const std::string path = std::getenv("PATH");
    ::setenv("PATH", (s.dir / "empty").c_str(), 1);
    const auto r = s.run("runs", "slurm");
    ::setenv("PATH", path.c_str(), 1);
    CHECK(r.exit_code == 2);
    CHECK(r.err == "pipeline: error: --executor slurm: 'sbatch' is not on PATH (install Slurm's client commands, or load its module)\n");
  }
  {
    // A controller that does not answer: the config names a port nothing listens on.
    std::string conf = test::read_file(cluster_dir() / "slurm.conf");
    conf = std::regex_replace(conf, std::regex("SlurmctldPort=\\d+"), "SlurmctldPort=9");
    test::write_text(s.dir / "slurm.conf", conf);
    const std::string real = std::getenv("SLURM_CONF");
    ::setenv("SLURM_CONF", (s.dir / "slurm.conf").c_str(), 1);
    const auto r = s.run("runs", "slurm");
    ::setenv("SLURM_CONF", real.c_str(), 1);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("pipeline: error: --executor slurm: cannot reach the Slurm controller (sinfo: ") == 0);
  }
  CHECK(s.run("runs", "local", {"--slurm-max-jobs", "3"}).exit_code == 2);  // a Slurm option without Slurm
}

TEST_CASE("a worker with another build of a plugin refuses the plan, naming the plugin", "[slurm]") {
  Sweep s("slurm-other-build", "  grid: {fit.lr: [0.1]}\n", 1);
  REQUIRE(s.run("slurm", "slurm").exit_code == 0);
  const fs::path plan_file = s.record("slurm") / "slurm" / "plan.json";
  json plan = read_json(plan_file);
  std::string& sha = plan["stages"][2]["plugin"]["sha256"].get_ref<std::string&>();
  sha = std::string(64, 'a');
  test::write_text(s.dir / "other.json", plan.dump());
  const auto r = test::run_cli({"run-stage", (s.dir / "other.json").string(), "--job-dir", (s.dir / "job").string(),
                                "--run-dir", (s.dir / "run").string(), "--cache-dir", (s.dir / "cache-x").string(),
                                plan["stages"][2]["id"].get<std::string>()});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("is not the build the plan was made with") != std::string::npos);
  CHECK(r.err.find("install the same build on every node") != std::string::npos);
  const json result = read_json(s.dir / "job" / "result.json");
  const std::string status = result["instances"][plan["stages"][2]["id"].get<std::string>()]["status"];
  CHECK(status == "FAILED");
}
