// Sweeps: a `sweep:` block expands one experiment into trials (explicit trials x grid x seeds),
// each a set of STAGE.PARAM overrides and a seed; all trials merge into one plan in which stage
// instances with equal content keys are one instance, run once.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plan/plan.hpp"

namespace pipeline {

struct Trial {
  std::size_t index = 0;
  std::vector<Override> overrides;   // located at their values in the sweep block
  std::optional<std::uint64_t> seed;
  Value labels = Value::map();       // "stage.param" → value, for summaries (seed apart)
};

struct SweepSpec {
  bool present = false;
  std::vector<Trial> trials;         // one trial without overrides when there is no sweep
  std::vector<std::string> report;   // "stage.metric" paths for the summary; empty: defaults
};

// The default cap on a sweep's trials (pipeline run --max-trials raises it).
inline constexpr std::uint64_t default_max_trials = 100000;

// Reads and expands `sweep:`; problems go to `errors`. A sweep of more than max_trials trials is
// an error before any trial is built.
SweepSpec expand_sweep(const Value& config, const std::string& label, std::vector<Error>& errors,
                       std::uint64_t max_trials = default_max_trials);

struct TrialPlan {
  Trial trial;
  Plan plan;                                   // the trial on its own (for its record)
  std::map<std::string, std::size_t> instance;  // stage id → index in SweepPlan::merged.stages
};

struct SweepPlan {
  SweepSpec spec;
  Plan merged;                   // every distinct stage instance once, in a topological order
  std::vector<TrialPlan> trials;
  std::vector<Error> errors;     // of every trial, each message once; empty when valid
  bool ok() const { return errors.empty(); }
};

// Validates every trial before anything runs (a bad value in trial 7 is reported with its
// location) and merges them. `only_trial` keeps one trial.
SweepPlan plan_sweep(const std::filesystem::path& file, const PluginSet& plugins,
                     const std::vector<Override>& overrides, std::optional<std::uint64_t> seed_override = std::nullopt,
                     std::optional<std::size_t> only_trial = std::nullopt,
                     std::uint64_t max_trials = default_max_trials);

}  // namespace pipeline
