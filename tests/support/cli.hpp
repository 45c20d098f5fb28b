// Running the `pipeline` executable from tests, as a user would.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace test {

struct CliResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

// Runs the CLI with `args` in `cwd` (default: the current directory) and waits for it.
CliResult run_cli(const std::vector<std::string>& args, const std::filesystem::path& cwd = {});

// Starts the CLI without waiting; stdout/stderr go to the given files.
pid_t spawn_cli(const std::vector<std::string>& args, const std::filesystem::path& out_file,
                const std::filesystem::path& err_file);
// Waits for a spawned process; returns its exit code (128 + signal when killed).
int wait_exit(pid_t pid);

std::string read_file(const std::filesystem::path& file);

// A run's stdout without its last line, "run record: PATH" (which differs between runs): the
// results, comparable across runs.
std::string results_of(const std::string& run_stdout);

// The arguments of an example's `# test:` header line, which shrink it for the test suite, with
// `{tmp}` replaced by `scratch` (for examples that write files).
std::vector<std::string> example_test_args(const std::filesystem::path& example, const std::filesystem::path& scratch = {});
std::filesystem::path source_dir();

}  // namespace test
