// The run record on disk: runs/EXPERIMENT/RUN_ID/ with the resolved config and the metrics.
#pragma once

#include <filesystem>

#include "plan/plan.hpp"
#include "run/executor.hpp"

namespace pipeline {

// Creates runs_root/EXPERIMENT/RUN_ID (RUN_ID: UTC time and a counter, unique and sortable).
std::filesystem::path create_run_dir(const std::filesystem::path& runs_root,
                                     const std::string& experiment);

// metrics.json: {"experiment", "seed", "interrupted", "stages": {id: {"status", "metrics"}}};
// timings.json: {id: {"seconds", ...stage timings}}; plan.json: every stage's type, checked parameters, inputs and seed.
// Written atomically.
void write_run_record(const std::filesystem::path& run_dir, const Plan& plan, const RunResult& result);

// Value → JSON text (nested, 2-space indent).
std::string to_json(const Value& value, int indent = 2);

}  // namespace pipeline
