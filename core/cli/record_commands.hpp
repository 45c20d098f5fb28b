// Commands over run records: `pipeline runs` (a listing), `pipeline diff` (what differs between
// two runs) and `pipeline report` (report.html for an existing record).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace pipeline::cli {

// The records under runs_root (of one experiment when given), newest first: run, start time,
// seed, status, wall time and the headline metrics. Returns the exit code.
int list_runs(const std::filesystem::path& runs_root, const std::string& experiment);

// Parameters and metrics that differ between two records, side by side. Returns the exit code.
int diff_runs(const std::string& a, const std::string& b, const std::filesystem::path& runs_root);

// Writes report.html for the record `run` (a path or a run id under runs_root) to `output`
// (default: inside the record). Returns the exit code.
int report_run(const std::string& run, const std::filesystem::path& runs_root, const std::filesystem::path& output);

}  // namespace pipeline::cli
