#include "plan/sweep.hpp"

#include <algorithm>
#include <set>

#include "config/yaml_reader.hpp"

namespace pipeline {
namespace {

// "stage.param" as written in a sweep: split, or report where it is malformed.
bool split_path(const std::string& path, const Location& where, std::string& stage, std::string& param,
                std::vector<Error>& errors) {
  const auto dot = path.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == path.size()) {
    errors.emplace_back(ErrorCode::config_schema, "sweep: '" + path + "' must be STAGE.PARAM", where);
    return false;
  }
  stage = path.substr(0, dot);
  param = path.substr(dot + 1);
  return true;
}

// One trial's overrides from a map of "stage.param" → value.
bool overrides_of(const Value& map, std::vector<Override>& out, Value& labels, std::vector<Error>& errors) {
  bool ok = true;
  for (const auto& [path, value] : map.entries()) {
    Override o;
    o.origin = "sweep";
    if (!split_path(path, map.key_location(path), o.stage, o.param, errors)) {
      ok = false;
      continue;
    }
    o.value = value;
    out.push_back(o);
    labels.set(path, value);
  }
  return ok;
}

}  // namespace

SweepSpec expand_sweep(const Value& config, const std::string& label, std::vector<Error>& errors, std::uint64_t max_trials) {
  SweepSpec spec;
  const Value* sweep = config.is_map() ? config.find("sweep") : nullptr;
  if (!sweep || sweep->is_null()) {
    spec.trials.push_back(Trial{});
    return spec;
  }
  spec.present = true;
  if (!sweep->is_map()) {
    errors.emplace_back(ErrorCode::config_schema, "'sweep' must be a map with 'grid', 'trials', 'seeds' or 'report'",
                        sweep->location());
    spec.trials.push_back(Trial{});
    return spec;
  }
  static const std::vector<std::string> keys = {"grid", "trials", "seeds", "report"};
  for (const auto& [key, _] : sweep->entries())
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      const std::string hint = did_you_mean(key, keys);
      errors.emplace_back(ErrorCode::config_schema,
                          "sweep: unknown key '" + key + "'" + (hint.empty() ? "" : "; did you mean '" + hint + "'?") +
                              " (expected grid, trials, seeds, report)",
                          sweep->key_location(key));
    }

  // Explicit trials (or one empty one).
  std::vector<std::pair<std::vector<Override>, Value>> base;
  if (const Value* trials = sweep->find("trials")) {
    if (!trials->is_list() || trials->items().empty()) {
      errors.emplace_back(ErrorCode::config_schema, "sweep: 'trials' must be a non-empty list of maps of STAGE.PARAM: value",
                          trials->location());
    } else {
      for (const auto& t : trials->items()) {
        if (!t.is_map()) {
          errors.emplace_back(ErrorCode::config_schema, "sweep: each trial must be a map of STAGE.PARAM: value", t.location());
          continue;
        }
        std::vector<Override> o;
        Value labels = Value::map();
        overrides_of(t, o, labels, errors);
        base.emplace_back(std::move(o), std::move(labels));
      }
    }
  }
  if (base.empty()) base.emplace_back(std::vector<Override>{}, Value());

  // The size before the product is built: a 384-byte grid can ask for a million trials.
  constexpr std::uint64_t ceiling = std::uint64_t(1) << 40;  // counted no further
  std::uint64_t count = base.size();
  auto times = [&](std::uint64_t n) { count = n != 0 && count > ceiling / n ? ceiling : count * n; };
  if (const Value* grid = sweep->find("grid"); grid && grid->is_map())
    for (const auto& [path, values] : grid->entries())
      if (values.is_list() && !values.items().empty()) times(values.items().size());
  if (const Value* s = sweep->find("seeds"); s && s->is_list() && !s->items().empty()) times(s->items().size());
  if (count > max_trials) {
    errors.emplace_back(ErrorCode::config_schema,
                        "sweep expands to " + (count >= ceiling ? std::string("over 10^12") : std::to_string(count)) +
                            " trials; the limit is " + std::to_string(max_trials) + " (--max-trials)",
                        config.key_location("sweep"));
    spec.trials.push_back(Trial{});
    return spec;
  }

  // The grid: the cartesian product, the last key varying fastest.
  std::vector<std::pair<std::vector<Override>, Value>> combos = base;
  if (const Value* grid = sweep->find("grid")) {
    if (!grid->is_map() || grid->size() == 0) {
      errors.emplace_back(ErrorCode::config_schema, "sweep: 'grid' must map STAGE.PARAM to a list of values",
                          grid->location());
    } else {
      for (const auto& [path, values] : grid->entries()) {
        Override proto;
        proto.origin = "sweep";
        if (!split_path(path, grid->key_location(path), proto.stage, proto.param, errors)) continue;
        if (!values.is_list() || values.items().empty()) {
          errors.emplace_back(ErrorCode::config_schema, "sweep: grid '" + path + "' needs a non-empty list of values",
                              values.location().known() ? values.location() : grid->key_location(path));
          continue;
        }
        std::vector<std::pair<std::vector<Override>, Value>> next;
        for (const auto& c : combos)
          for (const auto& v : values.items()) {
            auto o = c.first;
            Override ov = proto;
            ov.value = v;
            o.push_back(ov);
            Value labels = c.second.is_null() ? Value::map() : c.second;
            labels.set(path, v);
            next.emplace_back(std::move(o), std::move(labels));
          }
        combos = std::move(next);
      }
    }
  }

  std::vector<std::optional<std::uint64_t>> seeds = {std::nullopt};
  if (const Value* s = sweep->find("seeds")) {
    if (!s->is_list() || s->items().empty()) {
      errors.emplace_back(ErrorCode::config_schema, "sweep: 'seeds' must be a non-empty list of integers", s->location());
    } else {
      seeds.clear();
      for (const auto& v : s->items()) {
        if (!v.is_int() || v.as_int() < 0) {
          errors.emplace_back(ErrorCode::config_schema, "sweep: a seed must be a non-negative integer, got " + v.str(),
                              v.location());
          continue;
        }
        seeds.push_back(static_cast<std::uint64_t>(v.as_int()));
      }
    }
  }
  if (const Value* r = sweep->find("report")) {
    if (!r->is_list()) {
      errors.emplace_back(ErrorCode::config_schema, "sweep: 'report' must be a list of STAGE.METRIC paths", r->location());
    } else {
      for (const auto& v : r->items()) {
        if (!v.is_string() || v.as_string().find('.') == std::string::npos)
          errors.emplace_back(ErrorCode::config_schema, "sweep: a report entry must be STAGE.METRIC, got " + v.str(),
                              v.location());
        else
          spec.report.push_back(v.as_string());
      }
    }
  }
  for (const auto& c : combos)
    for (const auto& seed : seeds) {
      Trial t;
      t.index = spec.trials.size();
      t.overrides = c.first;
      t.labels = c.second.is_null() ? Value::map() : c.second;
      t.seed = seed;
      spec.trials.push_back(std::move(t));
    }
  (void)label;
  return spec;
}

SweepPlan plan_sweep(const std::filesystem::path& file, const PluginSet& plugins, const std::vector<Override>& overrides,
                     std::optional<std::uint64_t> seed_override, std::optional<std::size_t> only_trial,
                     std::uint64_t max_trials) {
  SweepPlan result;
  const std::string label = file.string();
  std::vector<Error> syntax;
  const Value config = config::read_yaml_file(file, label, syntax);
  const auto base_dir = std::filesystem::absolute(file).parent_path();
  std::set<std::string> seen;
  auto add_errors = [&](const std::vector<Error>& errors) {
    for (const auto& e : errors)
      if (seen.insert(e.formatted()).second) result.errors.push_back(e);
  };
  add_errors(syntax);
  if (config.is_null() && !syntax.empty()) return result;
  std::vector<Error> sweep_errors;
  result.spec = expand_sweep(config, label, sweep_errors, max_trials);
  add_errors(sweep_errors);
  if (only_trial) {
    if (!result.spec.present) {
      result.errors.emplace_back(ErrorCode::usage, "--trial " + std::to_string(*only_trial) + ": the experiment has no sweep");
      return result;
    }
    if (*only_trial >= result.spec.trials.size()) {
      result.errors.emplace_back(ErrorCode::usage, "--trial " + std::to_string(*only_trial) + " does not exist: the sweep has " +
                                                       std::to_string(result.spec.trials.size()) + " trials (0-" +
                                                       std::to_string(result.spec.trials.size() - 1) + ")");
      return result;
    }
    Trial t = result.spec.trials[*only_trial];
    result.spec.trials = {t};
  }

  // Every trial is checked, and the merged plan is built from the valid ones.
  std::map<std::string, std::size_t> by_key;
  Plan& merged = result.merged;
  // Per instance: the stage id it was made from, and how many trials use it under that id.
  std::vector<std::string> base_id;
  std::vector<std::size_t> users;
  for (const Trial& trial : result.spec.trials) {
    std::vector<Override> all = overrides;
    all.insert(all.end(), trial.overrides.begin(), trial.overrides.end());
    PlanResult pr = build_plan(config, label, base_dir, plugins, all);
    add_errors(pr.errors);
    if (!pr.ok()) continue;
    reseed(pr.plan, seed_override ? *seed_override : pr.plan.seed, trial.seed);
    merged.experiment = pr.plan.experiment;
    merged.file = pr.plan.file;
    merged.seed = pr.plan.seed;
    TrialPlan tp;
    tp.trial = trial;
    for (const auto& s : pr.plan.stages) {
      auto [it, fresh] = by_key.emplace(s.key, merged.stages.size());
      if (fresh) {
        PlannedStage instance = s;
        for (auto& in : instance.inputs) in.producer = tp.instance.at(pr.plan.stages[in.producer].id);
        if (result.spec.present && result.spec.trials.size() > 1) instance.id = s.id + "@" + std::to_string(trial.index);
        merged.stages.push_back(std::move(instance));
        base_id.push_back(s.id);
        users.push_back(0);
      }
      tp.instance[s.id] = it->second;
      if (base_id[it->second] == s.id) ++users[it->second];
    }
    tp.plan = std::move(pr.plan);
    result.trials.push_back(std::move(tp));
  }
  std::stable_sort(result.errors.begin(), result.errors.end(), [](const Error& a, const Error& b) {
    return std::tie(a.location().line, a.location().column) < std::tie(b.location().line, b.location().column);
  });
  // Instances every trial shares keep the plain stage id.
  // (Counted while merging: a search over every trial per instance is quadratic, minutes at
  // 10,000 trials.)
  if (result.trials.size() > 1)
    for (std::size_t i = 0; i < merged.stages.size(); ++i)
      if (users[i] == result.trials.size()) merged.stages[i].id = base_id[i];
  return result;
}

}  // namespace pipeline
