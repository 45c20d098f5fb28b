// Faults a run must survive without losing what finished: a stage or plugin that crashes is named
// and the finished stages are kept; a write that fails (a full disk) at any point where a record
// file or a cache entry is published still leaves the results printed, the error naming the path
// and the system's reason, and a rerun correct; a read-only cache or runs directory is reported.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <regex>

#include "support/cli.hpp"
#include "support/idx_files.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Sets an environment variable for the lifetime of the object (the CLI inherits it).
struct ScopedEnv {
  std::string name;
  ScopedEnv(std::string n, const std::string& value) : name(std::move(n)) { ::setenv(name.c_str(), value.c_str(), 1); }
  ~ScopedEnv() { ::unsetenv(name.c_str()); }
};

struct Experiment {
  test::TempDir dir;
  explicit Experiment(const std::string& extra_stages = "", const std::string& sweep = "  grid: {fit.lr: [0.1, 0.05]}\n") {
    test::write_small_image_files(dir.path(), 60);
    test::write_text(dir / "x.yaml", R"(experiment: faults
seed: 1
stages:
)" + test::small_data_and_model_yaml() + R"(  fit:
    plugin: train
    inputs: {model: net, data: data.train}
    params: {epochs: 2, batch_size: 8, lr: 0.1}
  score:
    plugin: evaluate
    inputs: {model: fit, data: data.test}
)" + extra_stages + (sweep.empty() ? "" : "sweep:\n" + sweep));
  }
  test::CliResult run(const std::string& runs, const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> args = {"run", (dir / "x.yaml").string(), "--runs-dir", (dir / runs).string(),
                                     "--cache-dir", (dir / "cache").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_cli(args);
  }
  fs::path record(const std::string& runs) const {
    for (const auto& exp : fs::directory_iterator(dir / runs))
      for (const auto& r : fs::directory_iterator(exp.path())) return r.path();
    return {};
  }
};

}  // namespace

TEST_CASE("regression: a stage that segfaults is named with its plugin, and the finished stages are kept", "[fault][hardening]") {
  Experiment e("  boom:\n    plugin: crash\n    inputs: {after: score}\n", "");
  const std::string plugin = std::string(BROKEN_PLUGIN_DIR) + "/crashing_stage/crashing_stage.so";
  const auto r = e.run("runs", {"--plugin-path", plugin});
  INFO(r.err);
  CHECK(r.exit_code == 128 + SIGSEGV);  // the usual death, not a hang or a silent exit
  CHECK(r.err.find("pipeline: fatal: SIGSEGV (invalid memory access) while running stage 'boom' (") != std::string::npos);
  CHECK(r.err.find("type crash from plugin 'crashing', " + plugin + ")") != std::string::npos);
  CHECK(r.err.find("the same command again resumes after them") != std::string::npos);
  // What finished before it: its lines in progress.jsonl, its entries in the cache.
  const std::string progress = test::read_file(e.record("runs") / "progress.jsonl");
  CHECK(progress.find(R"({"id": "score", "status": "done")") != std::string::npos);
  CHECK(progress.find("\"accuracy\"") != std::string::npos);
  const auto again = test::run_cli({"explain", (e.dir / "x.yaml").string(), "--cache-dir", (e.dir / "cache").string(),
                                    "--plugin-path", plugin});
  CHECK(std::regex_search(again.out, std::regex(R"(score \(evaluate, key \w+\): from cache)")));
  CHECK(again.out.find("boom (crash, key") != std::string::npos);
}

TEST_CASE("regression: a stage that overflows its stack is named too", "[fault][hardening]") {
  // The stage runs on a oneTBB worker thread or the main thread; either needs its own alternate
  // signal stack, or the handler cannot run on the overflowed one and the death is nameless.
  Experiment e("  boom:\n    plugin: crash\n    inputs: {after: score}\n    params: {overflow: true}\n", "");
  const std::string plugin = std::string(BROKEN_PLUGIN_DIR) + "/crashing_stage/crashing_stage.so";
  const auto r = e.run("runs", {"--plugin-path", plugin});
  INFO(r.err);
  CHECK(r.exit_code == 128 + SIGSEGV);
  CHECK(r.err.find("pipeline: fatal: SIGSEGV (invalid memory access) while running stage 'boom' (") != std::string::npos);
}

TEST_CASE("regression: a plugin that aborts while registering is named, for every command", "[fault][hardening]") {
  const std::string plugin = std::string(BROKEN_PLUGIN_DIR) + "/aborts_on_register/aborts_on_register.so";
  for (const std::vector<std::string>& args : {std::vector<std::string>{"plugins"}, std::vector<std::string>{"inspect", "train"}}) {
    std::vector<std::string> a = {"--plugin-path", plugin};
    a.insert(a.end(), args.begin(), args.end());
    const auto r = test::run_cli(a);
    INFO(r.err);
    CHECK(r.exit_code == 128 + SIGABRT);
    CHECK(r.err.find("pipeline: fatal: SIGABRT (aborted) while running the load of plugin file " + plugin) != std::string::npos);
  }
}

TEST_CASE("regression: a failed write at each point a record file or cache entry is published loses nothing", "[fault][hardening]") {
  Experiment e;
  const auto clean = e.run("clean", {"--no-cache"});
  REQUIRE(clean.exit_code == 0);
  const std::string expected = test::read_file(e.record("clean") / "metrics.json");
  // The record's files: the results are still printed, the other files still written, the
  // error names the file and the reason, exit 1.
  for (const char* file : {"plan.json", "metrics.json", "timings.json", "lock.json", "summary.csv", "summary.md",
                           "trials/001/metrics.json", "log.txt"}) {
    INFO(file);
    const std::string runs = std::string("runs-") + std::to_string(std::hash<std::string>()(file) % 100000);
    ScopedEnv inject("PIPELINE_FAULT_INJECT_WRITE", file);
    const auto r = e.run(runs, {"--no-cache"});
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(test::results_of(r.out) == test::results_of(clean.out));  // the summary table, printed whatever the record did
    CHECK(r.out.find("run record (incomplete): ") != std::string::npos);
    CHECK(r.err.find("pipeline: error: writing the run record failed: writing ") != std::string::npos);
    CHECK(r.err.find(std::string(file) + " failed: No space left on device (injected)") != std::string::npos);
    if (std::string(file) != "metrics.json") CHECK(test::read_file(e.record(runs) / "metrics.json") == expected);
    CHECK(fs::exists(e.record(runs) / "progress.jsonl"));
  }
  // Cache entries: the run succeeds uncached, says so, and a clean rerun computes and caches.
  for (const char* file : {"manifest.json", "manifest.sha256", "model.safetensors", "/cache/"}) {
    INFO(file);
    ScopedEnv inject("PIPELINE_FAULT_INJECT_WRITE", file);
    const auto r = e.run(std::string("cache-runs-") + std::to_string(std::hash<std::string>()(file) % 100000));
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("not cached: ") != std::string::npos);
    CHECK(r.err.find("No space left on device (injected)") != std::string::npos);
  }
  const auto rerun = e.run("rerun");
  REQUIRE(rerun.exit_code == 0);
  CHECK(test::read_file(e.record("rerun") / "metrics.json") == expected);
  const auto ls = test::run_cli({"cache", "ls", "--cache-dir", (e.dir / "cache").string()});
  CHECK(ls.out.find("corrupt") == std::string::npos);
  for (const auto& f : fs::recursive_directory_iterator(e.dir / "cache"))
    CHECK(f.path().filename().string().find(".tmp-") == std::string::npos);
}

TEST_CASE("regression: read-only cache and runs directories are reported, and the results still come", "[fault][hardening]") {
  // Root ignores permissions, so the runs go as an unprivileged user when the tests run as root.
  std::vector<std::string> as_user;
  if (::geteuid() == 0) {
    as_user = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"};
    // The build must be reachable for that user (a checkout under /root is not).
    const std::string probe = "setpriv --reuid=65534 --regid=65534 --clear-groups -- test -x '" + std::string(PIPELINE_CLI) + "'";
    if (std::system(probe.c_str()) != 0) {
      WARN("not run: the build is not reachable for an unprivileged user, and root ignores permissions");
      return;
    }
  }
  Experiment e;
  ::chmod(e.dir.path().c_str(), 0755);
  fs::create_directories(e.dir / "cache");
  fs::create_directories(e.dir / "ro-runs");
  fs::create_directories(e.dir / "rw-runs");
  ::chmod((e.dir / "cache").c_str(), 0555);
  ::chmod((e.dir / "ro-runs").c_str(), 0555);
  ::chmod((e.dir / "rw-runs").c_str(), 0777);
  auto run = [&](const std::string& runs) {
    std::vector<std::string> args = as_user;
    for (const std::string& a : {std::string(PIPELINE_CLI), std::string("run"), (e.dir / "x.yaml").string(), std::string("--runs-dir"),
                                 (e.dir / runs).string(), std::string("--cache-dir"), (e.dir / "cache").string()})
      args.push_back(a);
    std::string command;
    for (const auto& a : args) command += "'" + a + "' ";
    const std::string out = (e.dir / "out.txt").string(), err = (e.dir / "err.txt").string();
    const int status = std::system((command + "> '" + out + "' 2> '" + err + "'").c_str());
    return std::make_pair(WEXITSTATUS(status), test::read_file(err));
  };
  const auto [ro_code, ro_err] = run("ro-runs");
  INFO(ro_err);
  CHECK(ro_code == 1);
  CHECK(ro_err.find("pipeline: error: cannot create the run record under") != std::string::npos);
  CHECK(ro_err.find("Permission denied") != std::string::npos);
  const auto [code, err] = run("rw-runs");
  INFO(err);
  CHECK(code == 0);  // the run itself is fine; it only could not cache
  CHECK(err.find("not cached: ") != std::string::npos);
  CHECK(err.find("Permission denied") != std::string::npos);
  CHECK(test::read_file(e.dir / "out.txt").find("| trial |") != std::string::npos);
  ::chmod((e.dir / "cache").c_str(), 0755);
  ::chmod((e.dir / "ro-runs").c_str(), 0755);
}

TEST_CASE("regression: a full disk (a small tmpfs as cache and runs dir) loses nothing", "[fault][hardening]") {
  // A real full filesystem, not the injection hook: each size gets a tmpfs of its own in a private
  // mount namespace (gone when the script ends, whatever happens), the run fills it, then the same
  // tmpfs is grown and the same command run again. Needs root (mount); elsewhere it says so.
  if (::geteuid() != 0 || std::system("unshare --mount true 2>/dev/null") != 0) {
    WARN("not run: mounting a tmpfs needs root and unshare(1)");
    return;
  }
  Experiment e;
  const auto clean = e.run("clean", {"--no-cache"});
  REQUIRE(clean.exit_code == 0);
  const std::string expected = test::read_file(e.record("clean") / "metrics.json");
  const std::vector<std::string> sizes = {"4k", "24k", "96k"};
  std::string script = "set -u\ncd '" + e.dir.path().string() + "'\n";
  for (const auto& size : sizes) {
    // A hang is a failure too: each run gets two minutes (exit 124 from timeout).
    const std::string run = std::string("timeout 120 '") + PIPELINE_CLI + "' run x.yaml --runs-dir disk/" + size + "/runs --cache-dir disk/" + size + "/cache";
    script += "mkdir -p disk/" + size + " && mount -t tmpfs -o size=" + size + " tmpfs disk/" + size + " || exit 90\n" +
              run + " > out-" + size + " 2> err-" + size + "; echo $? > code-" + size + "\n" +
              "mount -o remount,size=64m disk/" + size + " || exit 91\n" +
              run + " > again-out-" + size + " 2> again-err-" + size + "; echo $? > again-code-" + size + "\n" +
              "mkdir -p kept/" + size + " && cp -a disk/" + size + "/. kept/" + size + "/ && umount disk/" + size + "\n";
  }
  test::write_text(e.dir / "full-disk.sh", script);
  const int status = std::system(("unshare --mount --propagation private bash '" + (e.dir / "full-disk.sh").string() + "'").c_str());
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  auto text = [&](const std::string& name) { return test::read_file(e.dir / name); };
  for (const auto& size : sizes) {
    INFO("tmpfs of " << size);
    const std::string err = text("err-" + size);
    INFO(err);
    const int code = std::stoi(text("code-" + size));
    CHECK((code == 0 || code == 1));  // never a crash or a hang
    CHECK(test::results_of(text("out-" + size)) == test::results_of(clean.out));  // the results, printed whatever the disk did
    CHECK(err.find("corrupt") == std::string::npos);
    if (size == "4k") CHECK(err.find("No space left on device") != std::string::npos);  // it did fill
    if (code == 1) {
      CHECK(err.find("No space left on device") != std::string::npos);
      CHECK(std::regex_search(err, std::regex("pipeline: error: (writing the run record failed: writing |cannot create the run record under )")));
    }
    // Grown, the same command completes: correct results, no corrupt entry, no temp dir left.
    const std::string again = text("again-err-" + size);
    INFO(again);
    CHECK(std::stoi(text("again-code-" + size)) == 0);
    CHECK(again.find("corrupt") == std::string::npos);
    fs::path record;
    for (const auto& exp : fs::directory_iterator(e.dir / "kept" / size / "runs"))
      for (const auto& r : fs::directory_iterator(exp.path()))
        if (fs::exists(r.path() / "metrics.json") && test::read_file(r.path() / "metrics.json") == expected) record = r.path();
    CHECK(!record.empty());
    const auto ls = test::run_cli({"cache", "ls", "--cache-dir", (e.dir / "kept" / size / "cache").string()});
    CHECK(ls.exit_code == 0);
    CHECK(ls.out.find("corrupt") == std::string::npos);
    for (const auto& f : fs::recursive_directory_iterator(e.dir / "kept" / size / "cache"))
      CHECK(f.path().filename().string().find(".tmp-") == std::string::npos);
  }
}
