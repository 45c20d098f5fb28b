// report.html for real: rendered in headless Chromium (the DOM after load, no console messages,
// a screenshot kept under the build directory), parsed by a strict XML parser, and read back for
// the charts it must hold: SVG elements with the expected series and points. Sizes: 2 and 50
// classes, 1 and 100 trials. And `pipeline report`, `runs` and `diff` on records of every kind.
#include <catch2/catch.hpp>

#include <regex>

#include "support/browser.hpp"
#include "support/cli.hpp"
#include "support/idx_files.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

fs::path only_record(const fs::path& runs) {
  for (const auto& exp : fs::directory_iterator(runs))
    for (const auto& r : fs::directory_iterator(exp.path())) return r.path();
  return {};
}

// The page rendered, checked for what every report must be, and a screenshot kept for people.
std::string rendered(const fs::path& report, const std::string& screenshot_name) {
  REQUIRE(fs::exists(report));
  const std::string html = test::read_file(report);
  // Self-contained: no script, nothing fetched (the SVG namespace is a name, not a URL to load).
  CHECK(html.find("<script") == std::string::npos);
  CHECK(std::regex_search(html, std::regex(R"((src|href)\s*=\s*"(https?:)?//)")) == false);
  std::string without_namespace = html;
  for (auto at = without_namespace.find("http://www.w3.org/2000/svg"); at != std::string::npos; at = without_namespace.find("http://www.w3.org/2000/svg"))
    without_namespace.erase(at, 26);
  CHECK(without_namespace.find("http:") == std::string::npos);
  CHECK(without_namespace.find("https:") == std::string::npos);
  CHECK(test::xml_parse_error(report) == "");  // strict: well-formed as XML, so as HTML too
  REQUIRE_FALSE(test::chromium().empty());     // install-deps.sh --test installs it
  const auto page = test::render_page(report);
  const auto console = page.log.find("CONSOLE");
  INFO((console == std::string::npos ? page.log.substr(0, 2000) : page.log.substr(console > 200 ? console - 200 : 0, 1200)));
  CHECK(page.exit_code == 0);
  CHECK(page.log.find("CONSOLE") == std::string::npos);  // nothing the page complained about
  CHECK(page.dom.find("</footer>") != std::string::npos);  // parsed to the end
  const fs::path shots = fs::path(PIPELINE_BUILD_DIR) / "test-screenshots";
  fs::create_directories(shots);
  CHECK(test::screenshot(report, shots / (screenshot_name + ".png"), 1280, 2400));
  CHECK(fs::file_size(shots / (screenshot_name + ".png")) > 20000);
  return page.dom;
}

// The SVG of each chart of a kind, from the rendered DOM.
std::vector<std::string> charts(const std::string& dom, const std::string& kind) {
  std::vector<std::string> out;
  const std::string open = "data-chart=\"" + kind + "\"";
  for (auto at = dom.find(open); at != std::string::npos; at = dom.find(open, at + 1)) out.push_back(dom.substr(at, dom.find("</svg>", at) - at));
  return out;
}

// The points of one series of a chart.
std::size_t points_of(const std::string& chart, const std::string& series) {
  const auto at = chart.find("data-series=\"" + series + "\"");
  if (at == std::string::npos) return 0;
  // Elements whose class list ends with "point" (circle, bar, cell), attributes following.
  return test::count_of(chart.substr(at, chart.find("</g>", at) - at), "point\" ");
}

// A small experiment over `classes` classes, optionally swept over `lrs` x `seeds`.
struct SizedExperiment {
  test::TempDir dir;
  SizedExperiment(int classes, const std::string& sweep = "") {
    std::vector<std::uint8_t> labels;
    for (int i = 0; i < std::max(60, classes * 8); ++i) labels.push_back(static_cast<std::uint8_t>(i % classes));
    const auto files = test::small_images(labels);
    test::write_bytes(dir / "images.gz", files.images_idx, true);
    test::write_bytes(dir / "labels.gz", files.labels_idx, true);
    test::write_text(dir / "e.yaml", "experiment: sized\nseed: 2\nstages:\n" + test::small_data_and_model_yaml() +
                                         "  fit: {plugin: train, inputs: {model: net, data: data.train}, params: {epochs: 2, batch_size: 16, lr: 0.1}}\n"
                                         "  score: {plugin: evaluate, inputs: {model: fit, data: data.test}}\n" +
                                         (sweep.empty() ? "" : "sweep:\n" + sweep));
    // The model's head has as many outputs as there are classes.
    std::string yaml = test::read_file(dir / "e.yaml");
    yaml.replace(yaml.find("out: 3"), 6, "out: " + std::to_string(classes));
    test::write_text(dir / "e.yaml", yaml);
  }
  fs::path run() const {
    const auto r = test::run_cli({"run", (dir / "e.yaml").string(), "--runs-dir", (dir / "runs").string(), "--quiet"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return only_record(dir / "runs");
  }
};

const fs::path fashion_mnist = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";

// Runs pipelines/NAME shrunk by its `# test:` line; returns its record.
fs::path run_example(const std::string& name, const fs::path& tmp) {
  const fs::path example = test::source_dir() / "pipelines" / name;
  std::vector<std::string> args = {"run", example.string(), "--runs-dir", (tmp / "runs").string(), "--quiet"};
  for (const auto& a : test::example_test_args(example)) args.push_back(a);
  const auto r = test::run_cli(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return only_record(tmp / "runs");
}

}  // namespace

TEST_CASE("the flagship's report renders in Chromium with its DAG, comparison, curves, matrices, bars, timeline and lock", "[report]") {
  if (!fs::exists(fashion_mnist)) {
    WARN("not run: needs dataset-fashion-mnist");
    return;
  }
  test::TempDir tmp;
  const std::string dom = rendered(run_example("fashion_transfer.yaml", tmp.path()) / "report.html", "flagship");
  // The DAG: all 17 stages, done, with the edges between them.
  const auto dag = charts(dom, "dag");
  REQUIRE(dag.size() == 1);
  CHECK(test::count_of(dag[0], "class=\"node\"") == 17);
  CHECK(test::count_of(dag[0], "data-status=\"done\"") == 17);
  CHECK(test::count_of(dag[0], "class=\"edge\"") >= 16);
  CHECK(dag[0].find("data-from=\"pretrain\" data-to=\"new_head\"") != std::string::npos);
  // The comparison: the three arms, accuracy and macro-F1 each.
  const auto comparison = charts(dom, "comparison");
  REQUIRE(comparison.size() == 1);
  for (const char* series : {"accuracy", "macro_f1"}) CHECK(points_of(comparison[0], series) == 3);
  for (const char* arm : {"scratch", "feature_extraction", "finetune"}) CHECK(comparison[0].find("data-x=\"" + std::string(arm) + "\"") != std::string::npos);
  // Learning curves: loss and accuracy per epoch of each of the four trainings.
  const auto curves = charts(dom, "learning-curve");
  CHECK(curves.size() == 8);
  for (const auto& c : curves) CHECK(points_of(c, "training") >= 1);
  CHECK(std::any_of(curves.begin(), curves.end(), [](const std::string& c) { return c.find("finetune: loss per epoch") != std::string::npos && points_of(c, "training") == 2; }));
  // Each evaluation: its confusion matrix and per-class bars.
  const auto matrices = charts(dom, "confusion");
  CHECK(matrices.size() == 4);
  std::size_t cells = 0;
  for (const auto& m : matrices) cells += test::count_of(m, "class=\"cell point\"");
  CHECK(cells == 4 * 25);  // five classes each: the source's 0-4, the target's 5-9
  const auto bars = charts(dom, "per-class");
  CHECK(bars.size() == 4);
  for (const auto& b : bars) CHECK(points_of(b, "precision") == points_of(b, "recall"));
  // When each stage ran, on which thread.
  const auto timeline = charts(dom, "timeline");
  REQUIRE(timeline.size() == 1);
  CHECK(test::count_of(timeline[0], "class=\"stage-bar point\"") == 17);
  CHECK(timeline[0].find("thread 1") != std::string::npos);
  CHECK(dom.find("id=\"lock\"") != std::string::npos);
  CHECK(dom.find("onednn.version") != std::string::npos);
}

TEST_CASE("the sweep's report shows accuracy against K with error bars for the three arms, and every trial", "[report]") {
  if (!fs::exists(fashion_mnist)) {
    WARN("not run: needs dataset-fashion-mnist");
    return;
  }
  test::TempDir tmp;
  const std::string dom = rendered(run_example("fashion_transfer_sweep.yaml", tmp.path()) / "report.html", "sweep");
  const auto k = charts(dom, "sweep");
  REQUIRE(k.size() == 1);
  CHECK(k[0].find("accuracy against target.per_class") != std::string::npos);
  for (const char* arm : {"scratch", "feature_extraction", "finetune"}) {
    INFO(arm);
    CHECK(points_of(k[0], arm) == 4);  // K = 5, 20, 50, 200
  }
  CHECK(test::count_of(k[0], "data-error=") >= 9);  // error bars where the seeds disagree
  CHECK(test::count_of(k[0], "class=\"error-bar\"") >= 9);
  for (const char* x : {"data-x=\"5\"", "data-x=\"20\"", "data-x=\"50\"", "data-x=\"200\""}) CHECK(k[0].find(x) != std::string::npos);
  const auto table = dom.substr(dom.find("class=\"trials\""));
  CHECK(test::count_of(table.substr(0, table.find("</table>")), "<tr>") == 13);  // header + 12 trials
}

TEST_CASE("report sizes adapt: 2 and 50 classes, 1 and 100 trials", "[report]") {
  SECTION("2 classes") {
    SizedExperiment e(2);
    const std::string dom = rendered(e.run() / "report.html", "classes-2");
    const auto m = charts(dom, "confusion");
    REQUIRE(m.size() == 1);
    CHECK(test::count_of(m[0], "class=\"cell point\"") == 4);
  }
  SECTION("50 classes") {
    SizedExperiment e(50);
    const std::string dom = rendered(e.run() / "report.html", "classes-50");
    const auto m = charts(dom, "confusion");
    REQUIRE(m.size() == 1);
    CHECK(test::count_of(m[0], "class=\"cell point\"") == 2500);
    for (int c : {0, 17, 49}) CHECK(m[0].find(">" + std::to_string(c) + "</text>") != std::string::npos);  // every class named
    const auto bars = charts(dom, "per-class");
    REQUIRE(bars.size() == 1);
    CHECK(points_of(bars[0], "recall") == 50);
    // The chart grows with the classes instead of squeezing them: at least 12 px per class.
    std::smatch size;
    REQUIRE(std::regex_search(m[0], size, std::regex(R"re(height="([0-9.]+)")re")));
    CHECK(std::stod(size[1]) >= 50 * 12);
  }
  SECTION("1 trial") {
    SizedExperiment e(3, "  grid: {fit.lr: [0.1]}\n");
    const std::string dom = rendered(e.run() / "report.html", "trials-1");
    const auto k = charts(dom, "sweep");
    REQUIRE(k.size() == 2);  // accuracy and macro_f1 against fit.lr
    CHECK(points_of(k[0], "score") == 1);
  }
  SECTION("100 trials") {
    SizedExperiment e(3, "  grid: {fit.lr: [0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5]}\n  seeds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n");
    const std::string dom = rendered(e.run() / "report.html", "trials-100");
    const auto k = charts(dom, "sweep");
    REQUIRE(k.size() == 2);
    CHECK(points_of(k[0], "score") == 10);
    CHECK(test::count_of(k[0], "data-error=") >= 5);
    const auto table = dom.substr(dom.find("class=\"trials\""));
    CHECK(test::count_of(table.substr(0, table.find("</table>")), "<tr>") == 101);
    // Learning curves of 100 trainings in one chart per stage, capped, never 100 charts.
    CHECK(charts(dom, "learning-curve").size() == 2);
  }
}

TEST_CASE("pipeline report: not a record is a clear error; failed and crashed runs give a report of what finished", "[report]") {
  test::TempDir tmp;
  const auto none = test::run_cli({"report", (tmp / "nowhere").string()});
  CHECK(none.exit_code == 2);
  CHECK(none.err.find("pipeline: error: no run record '") != std::string::npos);
  fs::create_directories(tmp / "empty");
  const auto empty = test::run_cli({"report", (tmp / "empty").string()});
  CHECK(empty.exit_code == 2);
  CHECK(empty.err.find("is not a run record (no plan.json, metrics.json, progress.jsonl or run.json)") != std::string::npos);

  // A failed run writes its report itself: the failed stage and the skipped ones marked.
  SizedExperiment e(3);
  test::write_text(e.dir / "bad.gz", "not an IDX file");
  const auto failed = test::run_cli({"run", (e.dir / "e.yaml").string(), "--runs-dir", (e.dir / "failed").string(), "--set", "data.images=bad.gz"});
  REQUIRE(failed.exit_code == 1);
  const std::string failed_dom = rendered(only_record(e.dir / "failed") / "report.html", "failed");
  CHECK(failed_dom.find("status-failed") != std::string::npos);
  // Why, in words: the failed stage with its error, and how many stages it took with it.
  CHECK(failed_dom.find("<b>data</b> (idx_dataset): ") != std::string::npos);
  CHECK(failed_dom.find("bad.gz") != std::string::npos);
  CHECK(failed_dom.find("2 stages were skipped: they needed a stage that failed.") != std::string::npos);
  const auto dag = charts(failed_dom, "dag");
  REQUIRE(dag.size() == 1);
  CHECK(test::count_of(dag[0], "data-status=\"failed\"") == 1);
  CHECK(test::count_of(dag[0], "data-status=\"skipped\"") == 2);

  // A crashed run leaves only progress.jsonl: `pipeline report` makes a report of what finished.
  std::string yaml = test::read_file(e.dir / "e.yaml");
  yaml.insert(yaml.find("sweep:") == std::string::npos ? yaml.size() : yaml.find("sweep:"), "  boom: {plugin: crash, inputs: {after: score}}\n");
  test::write_text(e.dir / "crash.yaml", yaml);
  const std::string plugin = std::string(BROKEN_PLUGIN_DIR) + "/crashing_stage/crashing_stage.so";
  const auto crashed = test::run_cli({"run", (e.dir / "crash.yaml").string(), "--runs-dir", (e.dir / "crashed").string(), "--plugin-path", plugin});
  REQUIRE(crashed.exit_code >= 128);
  const fs::path record = only_record(e.dir / "crashed");
  CHECK_FALSE(fs::exists(record / "report.html"));
  const auto made = test::run_cli({"report", record.string(), "-o", (e.dir / "crash-report.html").string()});
  INFO(made.err);
  CHECK(made.exit_code == 0);
  CHECK(made.out == (e.dir / "crash-report.html").string() + "\n");
  CHECK(made.err.find("the run is incomplete; the report shows what finished and marks the rest") != std::string::npos);
  const std::string dom = rendered(e.dir / "crash-report.html", "crashed");
  CHECK(dom.find("It ended before writing its record") != std::string::npos);
  CHECK(test::count_of(charts(dom, "dag").at(0), "data-status=\"done\"") == 4);  // data, net, fit, score finished
  CHECK(charts(dom, "confusion").size() == 1);  // the evaluation that finished, from progress.jsonl
}

TEST_CASE("pipeline runs lists records newest first; pipeline diff shows what differs side by side", "[report][records]") {
  SizedExperiment e(3);
  const auto runs = (e.dir / "runs").string();
  const auto first = test::run_cli({"run", (e.dir / "e.yaml").string(), "--runs-dir", runs, "--quiet"});
  const auto second = test::run_cli({"run", (e.dir / "e.yaml").string(), "--runs-dir", runs, "--quiet", "--set", "fit.lr=0.2", "--seed", "5"});
  REQUIRE(first.exit_code == 0);
  REQUIRE(second.exit_code == 0);
  const std::string a = first.out.substr(first.out.rfind("run record: ") + 12, first.out.size() - first.out.rfind("run record: ") - 13);
  const std::string b = second.out.substr(second.out.rfind("run record: ") + 12, second.out.size() - second.out.rfind("run record: ") - 13);

  const auto listing = test::run_cli({"runs", "--runs-dir", runs});
  INFO(listing.out << listing.err);
  CHECK(listing.exit_code == 0);
  const auto at_a = listing.out.find("sized/" + fs::path(a).filename().string()), at_b = listing.out.find("sized/" + fs::path(b).filename().string());
  REQUIRE(at_a != std::string::npos);
  REQUIRE(at_b != std::string::npos);
  CHECK(at_b < at_a);  // newest first
  CHECK(listing.out.find("RUN") == 0);
  CHECK(std::regex_search(listing.out, std::regex(R"(sized/\S+ +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +5 +done +[0-9.]+s +score.accuracy 0\.\d+, score.macro_f1 0\.\d+)")));
  CHECK(test::run_cli({"runs", "sized", "--runs-dir", runs}).out == listing.out);
  CHECK(test::run_cli({"runs", "other", "--runs-dir", runs}).err.find("no run records under") != std::string::npos);

  const auto diff = test::run_cli({"diff", a, b});
  INFO(diff.out << diff.err);
  CHECK(diff.exit_code == 0);
  CHECK(std::regex_search(diff.out, std::regex(R"(\n  seed +2 +5\n)")));
  CHECK(std::regex_search(diff.out, std::regex(R"(\n  fit\.params\.lr +0\.1 +0\.2\n)")));
  CHECK(std::regex_search(diff.out, std::regex(R"(\n  score\.loss +[0-9.]+ +[0-9.]+ +[-+][0-9.e-]+\n)")));  // with b - a
  CHECK(diff.out.find("fit.params.epochs") == std::string::npos);  // only what differs
  CHECK(diff.out.find(" parameters and ") != std::string::npos);
  // By run id under the runs dir, and the same run twice: nothing differs.
  const auto same = test::run_cli({"diff", fs::path(a).filename().string(), "sized/" + fs::path(a).filename().string(), "--runs-dir", runs});
  CHECK(same.exit_code == 0);
  CHECK(same.out.find("parameters: identical") != std::string::npos);
  CHECK(same.out.find("metrics: identical") != std::string::npos);
  const auto missing = test::run_cli({"diff", a, "20990101-000000-1", "--runs-dir", runs});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("no run record '20990101-000000-1'") != std::string::npos);
}

TEST_CASE("report.html stays well-formed whatever a record holds: markup, quotes, non-ASCII, invalid UTF-8, extreme numbers", "[report][hardening]") {
  // A record written by hand, as a damaged or hostile one could be: names with markup and quotes,
  // class names in other scripts cut at odd lengths, invalid UTF-8 and a non-character in the
  // results, numbers at the edge of double, a negative count, a CSV whose columns are off.
  test::TempDir tmp;
  const fs::path dir = tmp / "runs" / "hostile" / "20260101-000000-1";
  fs::create_directories(dir);
  const std::string evil = "<script>alert(\\\"x\\\")</script>&amp;'";
  test::write_text(dir / "plan.json", R"({"experiment": "x", "seed": 1, "stages": {")" + evil + R"(": {"plugin": "evaluate", "inputs": {"data": "nowhere.data"}}}})");
  std::string classes, confusion = "[";
  for (int c = 0; c < 3; ++c) {
    classes += std::string(c ? ", " : "") + "\"Ελληνικά-" + std::to_string(c) + "-日本語のクラス名はとても長い" + evil + "\": {\"precision\": 1e308, \"recall\": -1e308, \"f1\": 0.5}";
    confusion += std::string(c ? ", " : "") + "[1e308, -5, 3]";
  }
  confusion += "]";
  test::write_text(dir / "metrics.json", R"({"experiment": "x", "seed": 1, "stages": {")" + evil + R"(": {"status": "done", "metrics": {"accuracy": 1e-320, "loss": 1.7e308, "per_class": {)" +
                                             classes + R"(}, "confusion": )" + confusion +
                                             R"(, "epochs": [{"epoch": 1, "loss": 1e308, "accuracy": -1e308}, {"epoch": 2, "loss": -1e308, "accuracy": 0.5}]}}}})");
  test::write_text(dir / "timings.json", R"({")" + evil + R"(": {"seconds": 1e308, "started": 1e9, "slurm_job": ")" + evil + R"(", "node": "nœud-日本"}})");
  test::write_text(dir / "results.txt", std::string("bad bytes: \xff\xfe \xc3 \xed\xa0\x80 non-character \xef\xbf\xbf control \x01 ") + evil + "\n");
  test::write_text(dir / "summary.csv", "trial,lr,status,seed,score.accuracy\n0,\"1,2\",done,0,1e-320\n1,4e-320,done\n2\n");
  test::write_text(dir / "lock.json", R"({"note": ")" + evil + R"("})");
  const auto r = test::run_cli({"report", dir.string()});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  const std::string html = test::read_file(dir / "report.html");
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(html.find("nan") == std::string::npos);
  const std::string dom = rendered(dir / "report.html", "hostile");  // strict XML, Chromium, no console messages
  CHECK(dom.find("Ελληνικά-0") != std::string::npos);
}
