// Sweeps, content keys and the cache, as users rely on them: every trial validated first, shared
// stages run once, reruns come from the cache, a killed sweep resumes, a corrupt entry is
// recomputed, a failed trial does not sink the others, and equal runs give identical files.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <functional>
#include <sstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "plan/sweep.hpp"
#include "util/sha256.hpp"
#include "support/cli.hpp"
#include "support/idx_files.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A small image set and a sweep over it: 2 learning rates x 2 seeds of a tiny classifier.
struct SweepFixture {
  test::TempDir dir;
  explicit SweepFixture(const std::string& sweep = "  grid: {fit.lr: [0.1, 0.05]}\n  seeds: [0, 1]\n",
                        const std::string& extra_stages = "") {
    test::write_small_image_files(dir.path(), 60);
    test::write_text(dir / "s.yaml", R"(experiment: tiny-sweep
seed: 3
stages:
)" + test::small_data_and_model_yaml() + R"(  fit:
    plugin: train
    inputs: {model: net, data: data.train}
    params: {epochs: 3, batch_size: 8, lr: 0.1}
  score:
    plugin: evaluate
    inputs: {model: fit, data: data.test}
)" + extra_stages + "sweep:\n" + sweep);
  }
  test::CliResult run(const std::string& runs, std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"run", (dir / "s.yaml").string(), "--runs-dir", (dir / runs).string(),
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

json read_json(const fs::path& file) { return json::parse(test::read_file(file)); }

}  // namespace

TEST_CASE("a sweep shares the stages its trials have in common and runs them once", "[sweep]") {
  SweepFixture f;
  auto r = f.run("runs");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto rec = f.record("runs");
  const json plan = read_json(rec / "plan.json");
  // 4 trials of 4 stages; data and net depend on the seed only (2 each), fit and score on both (4 each).
  std::map<std::string, int> instances;
  for (auto it = plan["stages"].begin(); it != plan["stages"].end(); ++it) ++instances[it.value()["plugin"]];
  CHECK(instances["idx_dataset"] == 2);
  CHECK(instances["model"] == 2);
  CHECK(instances["train"] == 4);
  CHECK(instances["evaluate"] == 4);
  for (int t = 0; t < 4; ++t) {
    char name[8];
    std::snprintf(name, sizeof name, "%03d", t);
    CHECK(fs::exists(rec / "trials" / name / "config.json"));
    CHECK(read_json(rec / "trials" / name / "metrics.json")["status"] == "done");
  }
  const std::string summary = test::read_file(rec / "summary.md");
  CHECK(summary.find("| fit.lr |") != std::string::npos);
  CHECK(summary.find("score.accuracy (mean ± std)") != std::string::npos);
  CHECK(test::read_file(rec / "summary.csv").rfind("trial,fit.lr,seed,status,score.accuracy", 0) == 0);
  const json lock = read_json(rec / "lock.json");
  CHECK(lock["plugins"].size() >= 3);
  CHECK(lock["plugins"][0]["sha256"].get<std::string>().size() == 64);
  CHECK(lock["stage_keys"].size() == 12);
}

TEST_CASE("a rerun comes from the cache and gives bit-identical metrics", "[sweep][cache]") {
  SweepFixture f;
  REQUIRE(f.run("first").exit_code == 0);
  auto second = f.run("second");
  REQUIRE(second.exit_code == 0);
  CHECK(second.err.find("12 done (12 from cache)") != std::string::npos);
  CHECK(second.err.find("start (train)") == std::string::npos);  // no training at all
  CHECK(test::read_file(f.record("first") / "metrics.json") == test::read_file(f.record("second") / "metrics.json"));
  CHECK(test::read_file(f.record("first") / "summary.csv") == test::read_file(f.record("second") / "summary.csv"));
  // And without the cache, everything is computed again, to the same numbers.
  auto fresh = f.run("fresh", {"--no-cache"});
  REQUIRE(fresh.exit_code == 0);
  CHECK(fresh.err.find("from cache") == std::string::npos);
  CHECK(test::read_file(f.record("first") / "metrics.json") == test::read_file(f.record("fresh") / "metrics.json"));
}

TEST_CASE("explain says what will run and why", "[sweep][cache]") {
  SweepFixture f("  seeds: [0]\n");
  REQUIRE(f.run("runs").exit_code == 0);
  auto same = test::run_cli({"explain", (f.dir / "s.yaml").string(), "--cache-dir", (f.dir / "cache").string()});
  CHECK(same.out.find("4 from cache, 0 to run") != std::string::npos);
  auto changed = test::run_cli({"explain", (f.dir / "s.yaml").string(), "--cache-dir", (f.dir / "cache").string(),
                                "--set", "fit.lr=0.2"});
  CHECK(changed.out.find("fit (train, key ") != std::string::npos);
  CHECK(changed.out.find("runs (parameter lr 0.1 -> 0.2)") != std::string::npos);
  CHECK(changed.out.find("runs (input model from fit, which runs)") != std::string::npos);
  CHECK(changed.out.find("2 from cache, 2 to run") != std::string::npos);
}

TEST_CASE("content keys ignore formatting and follow every relevant change", "[sweep][keys]") {
  SweepFixture f("  seeds: [0]\n");
  pipeline::PluginSet plugins;
  plugins.load_search_path({fs::path(PIPELINE_BUILD_DIR) / PIPELINE_PLUGIN_DIR_RELATIVE_TEST});
  auto keys = [&](const std::vector<std::string>& sets) {
    std::vector<pipeline::Override> o;
    for (const auto& s : sets) o.push_back(pipeline::parse_override(s));
    auto sweep = pipeline::plan_sweep(f.dir / "s.yaml", plugins, o);
    REQUIRE(sweep.ok());
    std::map<std::string, std::string> out;
    for (const auto& s : sweep.trials[0].plan.stages) out[s.id] = s.key;
    return out;
  };
  const auto base = keys({});
  CHECK(keys({}) == base);                                       // stable
  CHECK(keys({"fit.lr=1e-1"}) == base);                          // number spelling
  const auto lr = keys({"fit.lr=0.2"});
  CHECK(lr.at("data") == base.at("data"));
  CHECK(lr.at("fit") != base.at("fit"));
  CHECK(lr.at("score") != base.at("score"));                     // through its input
  const auto seeded = keys({"data.test_fraction=0.5"});
  CHECK(seeded.at("net") == base.at("net"));
  CHECK(seeded.at("data") != base.at("data"));
  // Key order inside a map parameter, and how a list is spelled, do not matter.
  CHECK(keys({"net.layers=[flatten, {linear: {out: 3, name: fc}}]"}) == base);
  CHECK(keys({"net.layers=[flatten, {linear: {name: fc, out: 4}}]"}).at("net") != base.at("net"));}

TEST_CASE("a killed sweep resumes and runs only what is missing", "[sweep][cache]") {
  SweepFixture f("  grid: {fit.epochs: [40, 41, 42, 43]}\n  seeds: [0]\n");
  const pid_t pid = test::spawn_cli({"run", (f.dir / "s.yaml").string(), "--runs-dir", (f.dir / "killed").string(),
                                     "--cache-dir", (f.dir / "cache").string()},
                                    f.dir / "out1", f.dir / "err1");
  // Kill it hard as soon as a training stage has reached the cache.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto trained_entries = [&] {
    int n = 0;
    // The run writes and renames entries meanwhile: errors while walking end the walk, never
    // throw (regression: a range-for's ++ threw "cannot increment recursive directory iterator").
    std::error_code ec;
    for (fs::recursive_directory_iterator it(f.dir / "cache", ec), end; !ec && it != end; it.increment(ec))
      n += it->path().filename() == "model.json";
    return n;
  };
  while (trained_entries() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  kill(pid, SIGKILL);
  test::wait_exit(pid);
  const int before = trained_entries();
  REQUIRE(before >= 2);  // the model and at least one trained model
  auto resumed = f.run("resumed");
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  const json timings = read_json(f.record("resumed") / "timings.json");
  int cached = 0;
  for (auto it = timings.begin(); it != timings.end(); ++it) cached += it.value()["from_cache"].get<bool>();
  CHECK(cached >= before);
  CHECK(cached < 10);  // 4 trials: 1 data, 1 net, 4 fit, 4 score
  // The same numbers as an uninterrupted run.
  auto clean = f.run("clean", {"--no-cache"});
  CHECK(test::read_file(f.record("resumed") / "metrics.json") == test::read_file(f.record("clean") / "metrics.json"));
}

TEST_CASE("a corrupt cache entry is detected and recomputed", "[sweep][cache]") {
  SweepFixture f("  seeds: [0]\n");
  REQUIRE(f.run("first").exit_code == 0);
  int corrupted = 0;
  for (const auto& e : fs::recursive_directory_iterator(f.dir / "cache"))
    if (e.path().filename() == "model.safetensors" && corrupted++ == 0) {
      std::string bytes = test::read_file(e.path());
      bytes[bytes.size() - 1] ^= 0x01;  // one bit of the last weight
      test::write_text(e.path(), bytes);
    }
  REQUIRE(corrupted > 0);
  auto second = f.run("second");
  REQUIRE(second.exit_code == 0);
  CHECK(second.err.find("corrupt cache entry") != std::string::npos);
  CHECK(second.err.find("checksum mismatch") != std::string::npos);
  CHECK(test::read_file(f.record("first") / "metrics.json") == test::read_file(f.record("second") / "metrics.json"));
}

TEST_CASE("every trial is validated before anything runs", "[sweep]") {
  SweepFixture f("  grid: {fit.lr: [0.1, 0.05, -1], fit.optimizer: [sgd, adamm]}\n");
  auto r = f.run("runs");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("s.yaml:18:30: error: stage 'fit' (train): parameter 'lr' must be in [0, 100], got -1") != std::string::npos);
  CHECK(r.err.find("parameter 'optimizer' names no registered optimizer 'adamm'; did you mean 'adam'? (registered: adam, adamw, sgd)") !=
        std::string::npos);
  CHECK_FALSE(fs::exists(f.dir / "runs"));
}

TEST_CASE("a failed trial does not sink the sweep", "[sweep]") {
  // per_class 30 exceeds the 15 test samples a class: the trial fails at run time.
  SweepFixture f("  grid: {data.per_class: [5, 30]}\n");
  auto r = f.run("runs");
  CHECK(r.exit_code == 1);
  const auto rec = f.record("runs");
  CHECK(read_json(rec / "trials" / "000" / "metrics.json")["status"] == "done");
  const std::string failed = read_json(rec / "trials" / "001" / "metrics.json")["status"];
  CHECK(failed.rfind("failed: data: ", 0) == 0);
  CHECK(failed.find("fewer than per_class = 30") != std::string::npos);
  CHECK(test::read_file(rec / "summary.md").find("failed: data") != std::string::npos);
}

TEST_CASE("regression: the summary counts the seeds a mean is over, not the trials of the point", "[sweep][hardening]") {
  // A point whose trials all fail averages nothing; the table says "0 of 2", not "2".
  SweepFixture g("  grid: {data.per_class: [5, 30]}\n  seeds: [0, 1]\n");
  g.run("runs");
  const std::string md2 = test::read_file(g.record("runs") / "summary.md");
  INFO(md2);
  CHECK(md2.find("| 0 of 2 |") != std::string::npos);  // per_class 30 fails for both seeds
  CHECK(md2.find("| 2 |") != std::string::npos);       // per_class 5 finishes for both
}

TEST_CASE("one trial of a sweep runs alone with --trial", "[sweep]") {
  SweepFixture f;
  auto r = f.run("runs", {"--trial", "3"});
  REQUIRE(r.exit_code == 0);
  const json m = read_json(f.record("runs") / "trials" / "003" / "metrics.json");
  CHECK(m["labels"]["fit.lr"] == 0.05);
  CHECK(m["seed"] == 1);
  auto bad = f.run("runs2", {"--trial", "4"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--trial 4 does not exist: the sweep has 4 trials (0-3)") != std::string::npos);
}

TEST_CASE("equal runs write bit-identical model files", "[sweep][reproducible]") {
  SweepFixture f("  seeds: [0]\n", "  save:\n    plugin: save_model\n    inputs: {model: fit}\n    params: {path: out/model.safetensors}\n");
  REQUIRE(f.run("a", {"--no-cache"}).exit_code == 0);
  const std::string first = test::read_file(f.dir / "out" / "model.safetensors");
  REQUIRE(f.run("b", {"--no-cache"}).exit_code == 0);
  CHECK_FALSE(first.empty());
  CHECK(test::read_file(f.dir / "out" / "model.safetensors") == first);
  CHECK(test::read_file(f.record("a") / "metrics.json") == test::read_file(f.record("b") / "metrics.json"));
}

TEST_CASE("the serial executor gives the local executor's results byte for byte", "[sweep][executor]") {
  SweepFixture f;
  const auto local = f.run("local", {"--no-cache"});
  REQUIRE(local.exit_code == 0);
  const auto serial = f.run("serial", {"--no-cache", "--executor", "serial"});
  REQUIRE(serial.exit_code == 0);
  const fs::path a = f.record("local"), b = f.record("serial");
  CHECK(test::read_file(a / "metrics.json") == test::read_file(b / "metrics.json"));
  CHECK(test::read_file(a / "summary.csv") == test::read_file(b / "summary.csv"));
  for (const auto& trial : fs::directory_iterator(a / "trials"))
    CHECK(test::read_file(trial.path() / "metrics.json") ==
          test::read_file(b / "trials" / trial.path().filename() / "metrics.json"));
  const auto bad = f.run("x", {"--executor", "slurmm"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--executor must be local, serial or slurm, got 'slurmm'") != std::string::npos);
}

namespace {

// Every manifest of the cache, each replaced by what `edit` makes of it; with `resign` the
// manifest's checksum is written anew, so only the field checks stand in the way.
int edit_manifests(const fs::path& cache, const std::function<std::string(const std::string&)>& edit, bool resign) {
  int edited = 0;
  for (const auto& e : fs::recursive_directory_iterator(cache))
    if (e.path().filename() == "manifest.json") {
      const std::string text = edit(test::read_file(e.path()));
      test::write_text(e.path(), text);
      if (resign) test::write_text(e.path().parent_path() / "manifest.sha256", pipeline::sha256_hex(text));
      ++edited;
    }
  return edited;
}

// A rerun after the edit: every entry recomputed as corrupt, the same metrics, and the cache
// commands survive it.
void check_recomputed(const SweepFixture& f, const std::string& runs) {
  const auto r = f.run(runs);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("corrupt cache entry") != std::string::npos);
  CHECK(test::read_file(f.record(runs) / "summary.csv") == test::read_file(f.record("first") / "summary.csv"));
  for (const char* verb : {"ls", "gc"}) CHECK(test::run_cli({"cache", verb, "--cache-dir", (f.dir / "cache").string()}).exit_code == 0);
  CHECK(test::run_cli({"explain", (f.dir / "s.yaml").string(), "--cache-dir", (f.dir / "cache").string()}).exit_code == 0);
}

}  // namespace

TEST_CASE("regression: an edited metric in a manifest is caught by its checksum", "[sweep][cache][hardening]") {
  SweepFixture f;
  REQUIRE(f.run("first").exit_code == 0);
  REQUIRE(edit_manifests(f.dir / "cache", [](std::string t) {
    const auto at = t.find("\"accuracy\": ");
    if (at != std::string::npos) t.replace(at + 12, 1, "9");
    return t;
  }, false) > 0);
  check_recomputed(f, "second");
}

TEST_CASE("regression: manifests without fields, of the wrong shape, or naming files outside their entry", "[sweep][cache][hardening]") {
  const std::vector<std::pair<std::string, std::function<std::string(const std::string&)>>> edits = {
      {"[]", [](const std::string&) { return std::string("[]"); }},
      {"no outputs", [](std::string t) { return t.replace(t.find("\"outputs\""), 9, "\"outputz\""); }},
      {"no metrics", [](std::string t) { return t.replace(t.find("\"metrics\""), 9, "\"metricz\""); }},
      {"absolute file", [](std::string t) {
         const auto at = t.find("\"files\": {\"");
         return at == std::string::npos ? t : t.insert(at + 11, "/dev/zero\": \"x\", \"");
       }},
      {"escaping file", [](std::string t) {
         const auto at = t.find("\"files\": {\"");
         return at == std::string::npos ? t : t.insert(at + 11, "../../x\": \"x\", \"");
       }},
  };
  for (const auto& [what, edit] : edits) {
    SECTION(what) {
      SweepFixture f;
      REQUIRE(f.run("first").exit_code == 0);
      REQUIRE(edit_manifests(f.dir / "cache", edit, true) > 0);
      check_recomputed(f, "second");
    }
  }
}

TEST_CASE("regression: a same-size edit with the modification time restored reruns the stage", "[sweep][keys][hardening]") {
  // cp -p, rsync -t, tar x and touch -r all leave size and mtime as they were: only the content
  // (hashed, and remembered by inode and change time) tells.
  SweepFixture f("  seeds: [0]\n");
  REQUIRE(f.run("first").exit_code == 0);
  const fs::path labels_file = f.dir / "labels.gz";
  const auto mtime = fs::last_write_time(labels_file);
  std::vector<std::uint8_t> labels;
  for (int i = 0; i < 60; ++i) labels.push_back(static_cast<std::uint8_t>((i + 1) % 3));  // other labels, same size
  auto other = test::small_images(labels);
  test::write_bytes(f.dir / "other.gz", other.labels_idx, true);
  const std::string replaced = test::read_file(f.dir / "other.gz");
  REQUIRE(replaced.size() == test::read_file(labels_file).size());
  REQUIRE(replaced != test::read_file(labels_file));
  test::write_text(labels_file, replaced);
  fs::last_write_time(labels_file, mtime);
  const auto explained = test::run_cli({"explain", (f.dir / "s.yaml").string(), "--cache-dir", (f.dir / "cache").string()});
  INFO(explained.out);
  CHECK(explained.out.find("data (idx_dataset") != std::string::npos);
  CHECK(explained.out.find("runs (input file labels changed)") != std::string::npos);
  CHECK(explained.out.find("fit (train") != std::string::npos);
  CHECK(explained.out.find("which runs") != std::string::npos);
}

TEST_CASE("two runs of one sweep at once on one cache directory both succeed with identical metrics", "[sweep][cache][shared]") {
  // What Slurm jobs on several nodes (or two users) do to a shared cache: the same keys computed
  // and published at the same time. Entries are published by renaming a complete directory into
  // place; the second publisher finds it there and keeps the first's.
  SweepFixture f("  grid: {fit.lr: [0.1, 0.05, 0.02]}\n  seeds: [0, 1]\n");
  auto args = [&](const std::string& runs) {
    return std::vector<std::string>{"run", (f.dir / "s.yaml").string(), "--runs-dir", (f.dir / runs).string(),
                                    "--cache-dir", (f.dir / "cache").string()};
  };
  const pid_t a = test::spawn_cli(args("a"), f.dir / "out-a", f.dir / "err-a");
  const pid_t b = test::spawn_cli(args("b"), f.dir / "out-b", f.dir / "err-b");
  const int code_a = test::wait_exit(a), code_b = test::wait_exit(b);
  INFO(test::read_file(f.dir / "err-a") + test::read_file(f.dir / "err-b"));
  REQUIRE(code_a == 0);
  REQUIRE(code_b == 0);
  const fs::path ra = f.record("a"), rb = f.record("b");
  CHECK(test::read_file(ra / "metrics.json") == test::read_file(rb / "metrics.json"));
  CHECK(test::read_file(ra / "summary.csv") == test::read_file(rb / "summary.csv"));
  CHECK(test::read_file(f.dir / "err-a").find("corrupt") == std::string::npos);
  CHECK(test::read_file(f.dir / "err-b").find("corrupt") == std::string::npos);
  // Every entry checks out, no temporary directory is left, and a third run is all cache hits
  // with the same numbers.
  const auto ls = test::run_cli({"cache", "ls", "--cache-dir", (f.dir / "cache").string()});
  CHECK(ls.out.find("corrupt") == std::string::npos);
  for (const auto& e : fs::recursive_directory_iterator(f.dir / "cache"))
    CHECK(e.path().filename().string().rfind(".tmp-", 0) != 0);
  const auto third = f.run("c");
  REQUIRE(third.exit_code == 0);
  CHECK(third.err.find("16 done (16 from cache)") != std::string::npos);
  CHECK(test::read_file(f.record("c") / "metrics.json") == test::read_file(ra / "metrics.json"));
}

TEST_CASE("regression: a list-valued grid label is one quoted field of summary.csv, and the report charts it", "[sweep]") {
  SweepFixture f("  grid: {fit.class_weights: [[1, 1, 1], [1, 2, 1]]}\n");
  const auto r = f.run("runs");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string csv = test::read_file(f.record("runs") / "summary.csv");
  CHECK(csv.find(",\"[1, 2, 1]\",") != std::string::npos);
  // Every row has the header's number of fields (commas outside quotes).
  std::istringstream lines(csv);
  std::vector<int> fields;
  for (std::string line; std::getline(lines, line);) {
    int n = 1;
    bool quoted = false;
    for (char c : line) {
      if (c == '"') quoted = !quoted;
      n += c == ',' && !quoted;
    }
    fields.push_back(n);
  }
  REQUIRE(fields.size() == 3);
  CHECK(fields[1] == fields[0]);
  CHECK(fields[2] == fields[0]);
  const std::string report = test::read_file(f.record("runs") / "report.html");
  CHECK(report.find("accuracy against fit.class_weights") != std::string::npos);
  CHECK(report.find("data-x=\"[1, 2, 1]\"") != std::string::npos);
}
