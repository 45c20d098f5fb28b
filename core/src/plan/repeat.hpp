// Repeat groups: rounds of federated learning or active learning written once in `stages:`.
//
//   rounds:
//     repeat: {round: 1..5, client: 10}
//     local_<round>_<client>: {plugin: finetune, inputs: {model: global_<round-1>, ...}}
//
// A map entry whose value is a map with a `repeat` key is replaced, in the map that holds it, by
// the group's other entries, once for each combination of the variables' values (the first
// variable outermost), with `<var>`, `<var+K>` and `<var-K>` filled in, in keys and strings
// (angle brackets, because braces would need quotes in YAML's flow maps).
// Groups nest and may stand in any map below `stages:` (an `inputs:` map gathering every
// client's model, say). The expansion happens before anything is checked, so `validate`,
// `graph`, `explain`, the cache and the executors see plain stages with their own ids and keys.
#pragma once

#include <optional>

#include "pipeline/stage.hpp"
#include "pipeline/value.hpp"

namespace pipeline {

// The map `stages` with every repeat group below it expanded; problems go to `diagnostics`,
// located at the group or the placeholder. Nothing when the groups ask for more stages than the
// bound: there is no point checking a partial expansion.
std::optional<Value> expand_repeats(const Value& stages, Diagnostics& diagnostics);

// `--set GROUP.VAR=VALUE`: sets variable VAR of every repeat group whose label matches GROUP (a
// label or a pattern such as "*"), anywhere below `stages`, before expansion (fewer rounds for a quick test, or a sweep over the number of
// rounds). False when no group has that label and variable.
bool set_repeat_variable(Value& stages, const std::string& group, const std::string& variable, const Value& value);

}  // namespace pipeline
