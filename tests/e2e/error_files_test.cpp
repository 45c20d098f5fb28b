// Every file in pipelines/errors states the exact messages and exit code `pipeline validate` must
// give for it, in its leading comments:
//   # expect-exit: 2
//   # expect: name.yaml:5:13: error: ...
#include <catch2/catch.hpp>

#include <fstream>

#include "support/cli.hpp"

namespace fs = std::filesystem;

namespace {
struct Expectation {
  int exit_code = -1;
  std::string messages;
};

Expectation read_expectation(const fs::path& file) {
  Expectation e;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# expect-exit: ", 0) == 0) e.exit_code = std::stoi(line.substr(15));
    else if (line.rfind("# expect: ", 0) == 0) e.messages += line.substr(10) + "\n";
  }
  return e;
}
}  // namespace

TEST_CASE("each file in pipelines/errors gives exactly its expected messages and exit code", "[errors]") {
  const fs::path dir = test::source_dir() / "pipelines" / "errors";
  std::vector<fs::path> files;
  for (const auto& f : fs::directory_iterator(dir))
    if (f.path().extension() == ".yaml") files.push_back(f.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 15);
  for (const auto& file : files) {
    DYNAMIC_SECTION(file.filename().string()) {
      const Expectation want = read_expectation(file);
      REQUIRE(want.exit_code >= 0);
      REQUIRE_FALSE(want.messages.empty());
      auto r = test::run_cli({"validate", file.filename().string()}, dir);
      CHECK(r.err == want.messages);
      CHECK(r.exit_code == want.exit_code);
      CHECK(r.out.empty());
    }
  }
}
