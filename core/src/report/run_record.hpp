// Reading a run record back (runs/EXPERIMENT/RUN_ID/): for `pipeline runs`, `pipeline diff` and
// `pipeline report`. Every file is optional, since a record may be from a run that crashed (only
// progress.jsonl), was interrupted, or could not write everything (a full disk): what is there
// is read, what is missing or unreadable is listed in `problems`, nothing throws past a record
// that is not one at all.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "pipeline/value.hpp"

namespace pipeline::report {

struct RunRecord {
  std::filesystem::path dir;
  std::string experiment;  // the parent directory's name
  std::string run_id;      // the directory's name: UTC time and a counter
  Value plan;      // plan.json (null when absent)
  Value metrics;   // metrics.json
  Value timings;   // timings.json
  Value lock;      // lock.json
  Value run;       // run.json: written last, so its absence marks a run that ended early
  std::vector<Value> progress;  // progress.jsonl: a line per finished stage, as it finished
  std::string results;          // results.txt
  std::string summary_csv;      // summary.csv (sweeps)
  std::vector<std::string> problems;  // files missing or unreadable, each with the reason

  // The status of the run: run.json's ("done", "failed", "interrupted"), else "incomplete".
  std::string status() const;
  // Each stage's status and metrics: metrics.json's, else the finished stages of progress.jsonl.
  Value stage_results() const;
};

// Whether `dir` holds a run record (any of plan.json, metrics.json, progress.jsonl, run.json).
bool is_run_record(const std::filesystem::path& dir);

// Reads the record in `dir`; throws Error(usage) naming `dir` when it is not one. `summary_only`:
// run.json alone (and progress.jsonl when run.json is missing), for listings.
RunRecord read_run_record(const std::filesystem::path& dir, bool summary_only = false);

// The run records under `runs_root` (of `experiment` only, when given), newest first.
std::vector<std::filesystem::path> list_run_records(const std::filesystem::path& runs_root, const std::string& experiment = {});

// `name` as a record directory: a path to one, or EXPERIMENT/RUN_ID or RUN_ID under runs_root.
// Throws Error(usage) saying what was looked for.
std::filesystem::path find_run_record(const std::string& name, const std::filesystem::path& runs_root);

// The leaves of a JSON value as "a.b[2].c" -> text, in document order (for diffs).
std::vector<std::pair<std::string, Value>> flatten(const Value& v, const std::string& prefix = {});

}  // namespace pipeline::report
