// Every example in pipelines/ runs, shrunk by the `# test:` arguments in its header, so the
// examples cannot drift from the code.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "support/browser.hpp"
#include "support/cli.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {
// A `# requires: PATH` header line names a file outside the repository the example needs (e.g.
// ../shared's PyTorch weights); without it the example is skipped with a warning.
std::vector<fs::path> requirements(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::vector<fs::path> out;
  while (std::getline(in, line))
    if (line.rfind("# requires:", 0) == 0) {
      std::istringstream words(line.substr(11));
      for (std::string w; words >> w;) out.push_back(file.parent_path() / w);
    }
  return out;
}

}  // namespace

// Hidden from test discovery: tests/CMakeLists.txt registers one CTest per example
// (PIPELINE_EXAMPLE), so the examples run in parallel and a failure names its file.
TEST_CASE("every example pipeline validates and runs", "[.pipelines]") {
  std::vector<fs::path> files;
  // PIPELINE_EXAMPLE=FILE.yaml: that example only (one CTest per example), which must exist.
  const char* only = std::getenv("PIPELINE_EXAMPLE");
  for (const auto& f : fs::directory_iterator(test::source_dir() / "pipelines"))
    if (f.path().extension() == ".yaml" && (!only || f.path().filename() == only)) files.push_back(f.path());
  std::sort(files.begin(), files.end());
  INFO("PIPELINE_EXAMPLE=" << (only ? only : "(all)"));
  REQUIRE_FALSE(files.empty());
  for (const auto& file : files) {
    DYNAMIC_SECTION(file.filename().string()) {
      bool missing = false;
      for (const auto& r : requirements(file))
        if (!fs::exists(r)) {
          WARN(file.filename().string() << " skipped: it needs " << r.string());
          missing = true;
        }
      if (missing) {
        SUCCEED("skipped");  // CTest marks it skipped (SKIP_REGULAR_EXPRESSION), not passed
        continue;
      }
      auto valid = test::run_cli({"validate", file.string()});
      CHECK(valid.exit_code == 0);
      CHECK(valid.err.empty());

      test::TempDir runs;
      std::vector<std::string> args = {"run", file.string(), "--runs-dir", runs.path().string()};
      // `{tmp}` in a test line stands for a scratch directory, for examples that write files.
      test::TempDir scratch;
      for (const auto& arg : test::example_test_args(file, scratch.path())) args.push_back(arg);
      auto r = test::run_cli(args);
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      CHECK(r.err.find("error") == std::string::npos);
      // One run record with every stage done.
      std::vector<fs::path> records;
      for (const auto& exp : fs::directory_iterator(runs.path()))
        for (const auto& run : fs::directory_iterator(exp.path())) records.push_back(run.path());
      REQUIRE(records.size() == 1);
      // The results on stdout, ending with where the record is; the same results in results.txt.
      CHECK(r.out.find("run record: " + records[0].string() + "\n") != std::string::npos);
      CHECK(test::read_file(records[0] / "results.txt") == test::results_of(r.out));
      const std::string metrics = test::read_file(records[0] / "metrics.json");
      CHECK(metrics.find("\"status\": \"done\"") != std::string::npos);
      CHECK(metrics.find("\"status\": \"FAILED\"") == std::string::npos);
      CHECK(metrics.find("\"status\": \"skipped\"") == std::string::npos);
      // Its report.html renders in Chromium with the charts its results call for.
      const fs::path report = records[0] / "report.html";
      CHECK(test::xml_parse_error(report) == "");
      const auto page = test::render_page(report);
      CHECK(page.exit_code == 0);
      CHECK(page.log.find("CONSOLE") == std::string::npos);
      CHECK(test::count_of(page.dom, "class=\"node\"") == test::count_of(metrics, "\"status\": \"done\""));
      if (metrics.find("\"epochs\": [") != std::string::npos) CHECK(page.dom.find("data-chart=\"learning-curve\"") != std::string::npos);
      if (metrics.find("\"confusion\"") != std::string::npos) CHECK(page.dom.find("data-chart=\"confusion\"") != std::string::npos);
      if (fs::exists(records[0] / "summary.csv")) CHECK(page.dom.find("data-chart=\"sweep\"") != std::string::npos);
    }
  }
}
