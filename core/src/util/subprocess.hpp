// Running a helper program (sbatch, squeue, scancel, sinfo) and reading what it printed, with a
// time limit and a cap on the output kept: a hung or chatty tool cannot hang or bloat the caller.
#pragma once

#include <string>
#include <vector>

namespace pipeline {

struct ProcessResult {
  bool started = false;  // false: not found or not executable (`output` says why)
  int exit_code = -1;    // 128 + signal when killed; -1 when it timed out
  bool timed_out = false;
  std::string output;    // stdout and stderr together, at most 1 MiB
};

// Runs argv[0] (looked up in PATH) with its stdin from /dev/null.
ProcessResult run_process(const std::vector<std::string>& argv, double timeout_seconds = 60);

// Whether `program` is an executable file in PATH.
bool on_path(const std::string& program);

// The first line of a tool's output, for a one-line message.
std::string first_line(const std::string& text);

}  // namespace pipeline
