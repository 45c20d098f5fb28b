#include "support/cli.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/temp_dir.hpp"

namespace test {

std::filesystem::path source_dir() { return PIPELINE_SOURCE_DIR; }

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string results_of(const std::string& run_stdout) {
  const std::size_t last = run_stdout.rfind("run record");
  if (last == std::string::npos || (last > 0 && run_stdout[last - 1] != '\n')) return run_stdout;
  return run_stdout.substr(0, last);
}

std::vector<std::string> example_test_args(const std::filesystem::path& example, const std::filesystem::path& scratch) {
  std::ifstream in(example);
  std::vector<std::string> args;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("# test:", 0) == 0) {
      std::istringstream words(line.substr(7));
      for (std::string w; words >> w;) {
        for (auto at = w.find("{tmp}"); at != std::string::npos; at = w.find("{tmp}")) w.replace(at, 5, scratch.string());
        args.push_back(w);
      }
      break;
    }
  return args;
}

namespace {
pid_t start(const std::vector<std::string>& args, const std::filesystem::path& out_file,
            const std::filesystem::path& err_file, const std::filesystem::path& cwd) {
  std::vector<std::string> argv_storage = {PIPELINE_CLI};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int out = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || in < 0) _exit(126);
    dup2(out, 1);
    dup2(err, 2);
    dup2(in, 0);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    // Each CLI call gets a cache of its own unless a test chooses one: runs stay independent.
    if (!getenv("PIPELINE_CACHE_DIR")) setenv("PIPELINE_CACHE_DIR", (out_file.parent_path() / "cache").c_str(), 1);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}
}  // namespace

int wait_exit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

pid_t spawn_cli(const std::vector<std::string>& args, const std::filesystem::path& out_file,
                const std::filesystem::path& err_file) {
  return start(args, out_file, err_file, {});
}

CliResult run_cli(const std::vector<std::string>& args, const std::filesystem::path& cwd) {
  TempDir tmp;
  const auto out = tmp.path() / "stdout", err = tmp.path() / "stderr";
  CliResult r;
  r.exit_code = wait_exit(start(args, out, err, cwd));
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

}  // namespace test
