#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "config/yaml_reader.hpp"
#include "plan/param_check.hpp"
#include "plan/plan.hpp"
#include "plan/repeat.hpp"
#include "util/glob.hpp"
#include "pipeline/rng.hpp"
#include "plan/file_hashes.hpp"
#include "plugin/extension_registry.hpp"
#include "util/sha256.hpp"

namespace pipeline {

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j)
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
      std::swap(prev, cur);
    }
    return prev[b.size()];
  };
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    std::size_t d = distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  return best;
}

Override parse_override(const std::string& text) {
  const auto eq = text.find('=');
  const auto dot = text.find('.');
  if (eq == std::string::npos || dot == std::string::npos || dot > eq || dot == 0 || dot + 1 == eq)
    throw Error(ErrorCode::usage, "--set expects STAGE.PARAM=VALUE, got '" + text + "'");
  Override o;
  o.stage = text.substr(0, dot);
  o.param = text.substr(dot + 1, eq - dot - 1);
  std::vector<Error> errors;
  const std::string label = "--set " + text.substr(0, eq);
  o.value = config::parse_yaml(text.substr(eq + 1), label, errors);
  if (!errors.empty())
    throw Error(ErrorCode::usage, "--set " + text + ": value is not valid YAML: " + errors[0].message());
  // Locate every node at the command line: a bad override is reported as "--set a.b: error: ...".
  std::function<void(Value&)> relocate = [&](Value& v) {
    v.at(Location{label});
    if (v.is_list())
      for (auto& item : v.items()) relocate(item);
  };
  relocate(o.value);
  return o;
}

namespace {

class ErrorList : public Diagnostics {
 public:
  explicit ErrorList(std::vector<Error>& out) : out_(out) {}
  void error(const Location& where, const std::string& message) override {
    out_.emplace_back(ErrorCode::config_schema, message, where);
  }
  void error(ErrorCode code, const Location& where, const std::string& message) {
    out_.emplace_back(code, message, where);
  }

 private:
  std::vector<Error>& out_;
};

// Puts the stage in front of what a plugin's check reports, and the stage's location where a
// problem has none of its own (a defaulted parameter).
class PrefixedDiagnostics : public Diagnostics {
 public:
  PrefixedDiagnostics(Diagnostics& inner, std::string prefix, Location fallback)
      : inner_(inner), prefix_(std::move(prefix)), fallback_(std::move(fallback)) {}
  void error(const Location& where, const std::string& message) override {
    inner_.error(where.known() ? where : fallback_, prefix_ + message);
  }

 private:
  Diagnostics& inner_;
  std::string prefix_;
  Location fallback_;
};

std::string join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::vector<std::string> port_names(const std::vector<PortSpec>& ports) {
  std::vector<std::string> names;
  for (const auto& p : ports) names.push_back(p.name);
  return names;
}

const PortSpec* find_port(const std::vector<PortSpec>& ports, const std::string& name) {
  for (const auto& p : ports)
    if (p.name == name && !p.variadic) return &p;
  for (const auto& p : ports)
    if (p.variadic) return &p;  // any other name is one of the variadic inputs
  return nullptr;
}

std::string hint(const std::string& word, const std::vector<std::string>& candidates) {
  std::string h = did_you_mean(word, candidates);
  return h.empty() ? "" : "; did you mean '" + h + "'?";
}

// One `inputs:` entry before its reference is resolved.
struct RawInput {
  std::string port;
  std::string stage;
  std::string stage_port;  // empty: the producer's only output
  Location location;       // of the reference value
};

struct StageDraft {
  std::string id;
  Location location;
  const RegisteredStage* type = nullptr;
  Params params;
  bool params_ok = true;
  std::vector<RawInput> inputs;
};

}  // namespace

namespace {

// Errors in file order; command-line (--set) errors, which have no line, first and in the order
// given. A stage written once in a repeat group and wrong in each of its copies is reported once
// per message, and for the first few copies only.
void sort_errors(std::vector<Error>& errors) {
  std::stable_sort(errors.begin(), errors.end(), [](const Error& a, const Error& b) {
    return std::tie(a.location().line, a.location().column) <
           std::tie(b.location().line, b.location().column);
  });
  // The same message at the same place (a template's copies) once.
  std::set<std::tuple<std::string, int, int, std::string>> seen;
  errors.erase(std::remove_if(errors.begin(), errors.end(),
                              [&](const Error& e) {
                                const Location& l = e.location();
                                return !seen.emplace(l.file, l.line, l.column, e.message()).second;
                              }),
               errors.end());
  constexpr std::size_t kept_per_location = 3;
  std::vector<Error> out;
  for (std::size_t i = 0; i < errors.size();) {
    std::size_t j = i;
    const Location& at = errors[i].location();
    while (j < errors.size() && errors[j].location().file == at.file && errors[j].location().line == at.line &&
           errors[j].location().column == at.column && at.line > 0)
      ++j;
    if (j == i) j = i + 1;
    const std::size_t n = j - i;
    for (std::size_t k = i; k < j && k < i + kept_per_location; ++k) out.push_back(errors[k]);
    if (n > kept_per_location)
      out.back() = Error(out.back().code(), out.back().message() + " (and " + std::to_string(n - kept_per_location) +
                                                " more errors at this place, from its other repeats)",
                         out.back().location());
    i = j;
  }
  errors = std::move(out);
}

void plan_into(PlanResult& result, const Value& config, const std::string& label,
               const std::filesystem::path& base_dir, const PluginSet& plugins,
               const std::vector<Override>& overrides);
void compute_keys(Plan& plan);

}  // namespace

PlanResult build_plan(const Value& config, const std::string& label,
                      const std::filesystem::path& base_dir, const PluginSet& plugins,
                      const std::vector<Override>& overrides) {
  PlanResult result;
  plan_into(result, config, label, base_dir, plugins, overrides);
  sort_errors(result.errors);
  return result;
}

namespace {

void plan_into(PlanResult& result, const Value& config, const std::string& label,
               const std::filesystem::path& base_dir, const PluginSet& plugins,
               const std::vector<Override>& overrides) {
  ErrorList diag(result.errors);
  Plan& plan = result.plan;
  plan.file = label;
  const Location top{label, 1, 1};

  if (config.is_null()) {
    diag.error(top, "empty experiment file; expected keys 'experiment', 'seed' and 'stages'");
    return;
  }
  if (!config.is_map()) {
    diag.error(config.location(),
               "an experiment must be a map with keys 'experiment', 'seed' and 'stages'");
    return;
  }

  static const std::vector<std::string> top_keys = {"experiment", "description", "seed", "stages", "sweep"};
  for (const auto& [key, value] : config.entries()) {
    if (std::find(top_keys.begin(), top_keys.end(), key) != top_keys.end()) continue;  // sweep: see sweep.cpp
    diag.error(config.key_location(key), "unknown top-level key '" + key + "'" + hint(key, top_keys) +
                                             " (expected experiment, description, seed, stages, sweep)");
  }

  // The name becomes a directory of the run record, so it must be one plain path component.
  auto plain = [](const std::string& n) {
    if (n.empty() || n.size() > 200 || n[0] == '.' || n[0] == '-') return false;
    for (char c : n)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
    return true;
  };
  // Without an `experiment:` key, the file's stem, unless it is no plain name ("...yaml" has the
  // stem "..", which would put the record beside the runs directory).
  const std::string stem = std::filesystem::path(label).stem().string();
  plan.experiment = plain(stem) ? stem : std::string("experiment");
  if (const Value* name = config.find("experiment")) {
    if (!name->is_string() || !plain(name->as_string()))
      diag.error(name->location(), "'experiment' must be a name of letters, digits, '_', '-' and '.' (at most 200), got '" +
                                       name->str().substr(0, 80) + (name->str().size() > 80 ? "...'" : "'"));
    else
      plan.experiment = name->as_string();
  }
  if (const Value* seed = config.find("seed")) {
    if (!seed->is_int() || seed->as_int() < 0)
      diag.error(seed->location(), "'seed' must be a non-negative integer, got " + seed->str());
    else
      plan.seed = static_cast<std::uint64_t>(seed->as_int());
  }

  const Value* stages = config.find("stages");
  if (!stages) {
    diag.error(top, "missing 'stages': an experiment needs at least one stage");
    return;
  }
  if (!stages->is_map() || stages->size() == 0) {
    diag.error(stages->is_null() ? config.key_location("stages") : stages->location(),
               "'stages' must be a map of stage ids to stages, with at least one stage");
    return;
  }

  // Repeat groups are expanded first, then overrides apply to the config before anything is
  // checked, so both are checked like the file.
  Value unexpanded = *stages;
  std::vector<bool> sets_variable(overrides.size(), false);
  for (std::size_t i = 0; i < overrides.size(); ++i)
    sets_variable[i] = set_repeat_variable(unexpanded, overrides[i].stage, overrides[i].param, overrides[i].value);
  std::optional<Value> expanded = expand_repeats(unexpanded, diag);
  if (!expanded) return;
  Value stages_with_overrides = std::move(*expanded);
  for (std::size_t i = 0; i < overrides.size(); ++i) {
    if (sets_variable[i]) continue;
    const Override& o = overrides[i];
    // A pattern ("local_*") sets the parameter of every stage whose id it matches.
    std::vector<Value*> targets;
    if (o.stage.find_first_of("*?") != std::string::npos) {
      for (std::size_t entry = 0; entry < stages_with_overrides.entries().size(); ++entry) {
        const auto& [id, spec] = stages_with_overrides.entries()[entry];
        if (glob_match(o.stage, id) && spec.is_map()) targets.push_back(&stages_with_overrides.value_at(entry));
      }
    } else if (Value* stage = stages_with_overrides.find(o.stage); stage && stage->is_map()) {
      targets.push_back(stage);
    }
    if (targets.empty()) {
      std::vector<std::string> ids;
      for (const auto& [id, _] : stages_with_overrides.entries()) ids.push_back(id);
      diag.error(ErrorCode::usage, o.value.location(),
                 o.origin + " names unknown stage '" + o.stage + "'" + hint(o.stage, ids));
      continue;
    }
    for (Value* stage : targets) {
      Value* params = stage->find("params");
      if (!params || params->is_null()) {
        params = &stage->set("params", Value::map());
      }
      if (params->is_map()) params->set(o.param, o.value, o.value.location());
    }
  }

  auto valid_id = [](const std::string& id) {
    if (id.empty() || !(std::isalpha(static_cast<unsigned char>(id[0])) || id[0] == '_')) return false;
    for (char c : id)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
    return true;
  };
  static const std::vector<std::string> stage_keys = {"plugin", "params", "inputs", "doc"};
  std::vector<StageDraft> drafts;
  std::map<std::string, std::size_t> index;
  for (std::size_t entry = 0; entry < stages_with_overrides.entries().size(); ++entry) {
    const auto& [id, spec] = stages_with_overrides.entries()[entry];
    StageDraft d;
    d.id = id;
    d.location = stages_with_overrides.key_location_at(entry);
    const std::string ctx = "stage '" + id + "'";
    if (!valid_id(id))
      diag.error(d.location, ctx + ": a stage id must start with a letter or '_' and contain only "
                                   "letters, digits, '_' and '-'");
    index.emplace(id, drafts.size());
    if (!spec.is_map()) {
      diag.error(spec.location().known() ? spec.location() : d.location,
                 ctx + ": expected a map with 'plugin', 'params' and 'inputs'");
      d.params_ok = false;
      drafts.push_back(std::move(d));
      continue;
    }
    const Value* plugin = spec.find("plugin");
    if (!plugin || plugin->is_null()) {
      diag.error(d.location, ctx + ": missing 'plugin' (the stage type to run)");
    } else if (!plugin->is_string()) {
      diag.error(plugin->location(), ctx + ": 'plugin' must be a stage type name, got " + plugin->str());
    } else if (!(d.type = plugins.find_stage(plugin->as_string()))) {
      diag.error(ErrorCode::unknown_plugin, plugin->location(),
                 ctx + ": unknown plugin '" + plugin->as_string() + "'" +
                     hint(plugin->as_string(), plugins.stage_names()));
    }

    const std::string tctx = d.type ? ctx + " (" + d.type->info.name + ")" : ctx;
    for (const auto& [key, _] : spec.entries())
      if (std::find(stage_keys.begin(), stage_keys.end(), key) == stage_keys.end())
        diag.error(spec.key_location(key),
                   tctx + ": unknown key '" + key + "'" + hint(key, stage_keys) +
                       " (expected plugin, params, inputs, doc)");
    const Value* params = spec.find("params");
    if (d.type) {
      const std::size_t before = result.errors.size();
      d.params = check_params(d.type->info.params, params ? *params : Value(), tctx, d.location,
                              base_dir, diag);
      d.params_ok = result.errors.size() == before;
    } else {
      d.params_ok = false;
    }

    if (const Value* inputs = spec.find("inputs"); inputs && !inputs->is_null()) {
      if (!inputs->is_map()) {
        diag.error(inputs->location(), tctx + ": 'inputs' must be a map of input ports to 'stage' or 'stage.port'");
      } else {
        for (const auto& [port, ref] : inputs->entries()) {
          if (d.type && !find_port(d.type->info.inputs, port)) {
            const auto names = port_names(d.type->info.inputs);
            diag.error(inputs->key_location(port),
                       tctx + ": unknown input '" + port + "'" + hint(port, names) +
                           (names.empty() ? " (it takes no inputs)" : " (inputs: " + join(names) + ")"));
            continue;
          }
          if (!ref.is_string() || ref.as_string().empty()) {
            diag.error(ref.location().known() ? ref.location() : inputs->key_location(port),
                       tctx + ": input '" + port + "' must name a stage as 'stage' or 'stage.port'");
            continue;
          }
          RawInput in;
          in.port = port;
          in.location = ref.location();
          const std::string& text = ref.as_string();
          const auto dot = text.find('.');
          in.stage = text.substr(0, dot);
          if (dot != std::string::npos) in.stage_port = text.substr(dot + 1);
          d.inputs.push_back(std::move(in));
        }
      }
    }
    if (d.type) {
      for (const auto& port : d.type->info.inputs) {
        if (port.variadic) {
          if (!port.optional && d.inputs.empty())
            diag.error(ErrorCode::missing_input, d.location,
                       tctx + ": needs at least one input (" + port.type + ": " + port.doc + ")");
          continue;
        }
        bool connected = std::any_of(d.inputs.begin(), d.inputs.end(),
                                     [&](const RawInput& in) { return in.port == port.name; });
        bool listed = spec.find("inputs") && spec.find("inputs")->find(port.name);
        if (!connected && !listed && !port.optional)
          diag.error(ErrorCode::missing_input, d.location,
                     tctx + ": missing required input '" + port.name + "' (" + port.type + ": " +
                         port.doc + ")");
      }
    }
    drafts.push_back(std::move(d));
  }

  // Resolve references now that every stage id is known.
  std::vector<std::string> ids;
  for (const auto& d : drafts) ids.push_back(d.id);
  std::vector<std::vector<PlannedInput>> resolved(drafts.size());
  for (std::size_t i = 0; i < drafts.size(); ++i) {
    const StageDraft& d = drafts[i];
    const std::string ctx =
        "stage '" + d.id + "'" + (d.type ? " (" + d.type->info.name + ")" : "");
    for (const auto& in : d.inputs) {
      auto it = index.find(in.stage);
      if (it == index.end()) {
        diag.error(ErrorCode::missing_input, in.location,
                   ctx + ": input '" + in.port + "' names unknown stage '" + in.stage + "'" +
                       hint(in.stage, ids));
        continue;
      }
      const StageDraft& producer = drafts[it->second];
      if (!producer.type) continue;  // already reported
      const auto& outputs = producer.type->info.outputs;
      const std::string pctx = "stage '" + producer.id + "' (" + producer.type->info.name + ")";
      const PortSpec* out = nullptr;
      if (in.stage_port.empty()) {
        if (outputs.size() == 1) {
          out = &outputs[0];
        } else if (outputs.empty()) {
          diag.error(ErrorCode::missing_input, in.location,
                     ctx + ": input '" + in.port + "' names " + pctx + ", which has no outputs");
          continue;
        } else {
          diag.error(ErrorCode::missing_input, in.location,
                     ctx + ": input '" + in.port + "': " + pctx + " has several outputs (" +
                         join(port_names(outputs)) + "); name one, e.g. '" + producer.id + "." +
                         outputs[0].name + "'");
          continue;
        }
      } else if (!(out = find_port(outputs, in.stage_port))) {
        diag.error(ErrorCode::missing_input, in.location,
                   ctx + ": input '" + in.port + "' names unknown output '" + in.stage_port +
                       "' of " + pctx + hint(in.stage_port, port_names(outputs)) +
                       (outputs.empty() ? " (it has no outputs)"
                                        : " (outputs: " + join(port_names(outputs)) + ")"));
        continue;
      }
      if (d.type) {
        const PortSpec* want = find_port(d.type->info.inputs, in.port);
        if (want && want->type != "any" && want->type != out->type) {
          diag.error(in.location, ctx + ": input '" + in.port + "' takes " + want->type + ", but '" +
                                      producer.id + "." + out->name + "' is " + out->type);
          continue;
        }
      }
      resolved[i].push_back(PlannedInput{in.port, it->second, out->name});
    }
  }

  // Cycles: depth-first search, reporting each cycle once, starting at its first stage in the file.
  std::vector<int> state(drafts.size(), 0);  // 0 new, 1 on stack, 2 done
  std::vector<std::size_t> stack;
  std::function<void(std::size_t)> visit = [&](std::size_t i) {
    state[i] = 1;
    stack.push_back(i);
    for (const auto& in : resolved[i]) {
      if (state[in.producer] == 1) {
        auto from = std::find(stack.begin(), stack.end(), in.producer);
        std::vector<std::size_t> cycle(from, stack.end());
        // Edges run consumer -> producer on the stack; print in data-flow order.
        std::reverse(cycle.begin(), cycle.end());
        auto first = std::min_element(cycle.begin(), cycle.end());
        std::rotate(cycle.begin(), first, cycle.end());
        std::string path;
        for (auto s : cycle) path += drafts[s].id + " -> ";
        path += drafts[cycle.front()].id;
        diag.error(ErrorCode::graph_cycle, drafts[cycle.front()].location,
                   "cycle between stages: " + path);
      } else if (state[in.producer] == 0) {
        visit(in.producer);
      }
    }
    stack.pop_back();
    state[i] = 2;
  };
  for (std::size_t i = 0; i < drafts.size(); ++i)
    if (state[i] == 0) visit(i);

  // Stage-specific checks (e.g. shape inference), only where the parameters themselves are sound.
  for (const auto& d : drafts)
    if (d.type && d.params_ok && d.type->info.check) {
      PrefixedDiagnostics stage_diag(diag, "stage '" + d.id + "' (" + d.type->info.name + "): ", d.location);
      try {
        d.type->info.check(d.params, stage_diag);
      } catch (const Error& e) {
        diag.error(e.location().known() ? e.location() : d.location,
                   "stage '" + d.id + "' (" + d.type->info.name + "): " + e.message());
      } catch (const std::exception& e) {
        diag.error(d.location, "stage '" + d.id + "' (" + d.type->info.name + "): " + e.what());
      }
    }

  if (!result.ok()) return;

  // Topological order; among ready stages, file order.
  std::vector<std::size_t> order;
  std::vector<bool> placed(drafts.size(), false);
  while (order.size() < drafts.size()) {
    for (std::size_t i = 0; i < drafts.size(); ++i) {
      if (placed[i]) continue;
      bool ready = std::all_of(resolved[i].begin(), resolved[i].end(),
                               [&](const PlannedInput& in) { return placed[in.producer]; });
      if (!ready) continue;
      placed[i] = true;
      order.push_back(i);
      break;
    }
  }
  std::vector<std::size_t> position(drafts.size());
  for (std::size_t k = 0; k < order.size(); ++k) position[order[k]] = k;
  for (std::size_t i : order) {
    PlannedStage s;
    s.id = drafts[i].id;
    s.type = drafts[i].type;
    s.params = drafts[i].params;
    s.location = drafts[i].location;
    for (auto in : resolved[i]) {
      in.producer = position[in.producer];
      s.inputs.push_back(in);
    }
    s.seed = stage_seed(plan.seed, plan.trial_seed, s.id);
    plan.stages.push_back(std::move(s));
  }
  compute_keys(plan);
}

}  // namespace

std::uint64_t stage_seed(std::uint64_t experiment_seed, std::optional<std::uint64_t> trial_seed, const std::string& id) {
  if (!trial_seed) return derive_seed(experiment_seed, id);
  return derive_seed(derive_seed(experiment_seed, "trial-seed:" + std::to_string(*trial_seed)), id);
}

std::vector<ExtensionRef> declared_extensions(const StageInfo& info, const Params& params) {
  std::vector<ExtensionRef> refs;
  if (info.extensions) {
    try {
      refs = info.extensions(params);
    } catch (const std::exception&) {
      // Parameters that validation rejects: nothing runs with them.
    }
  }
  for (const auto& spec : info.params)
    if (!spec.registered.empty() && params.has(spec.name) && params.get(spec.name).is_string())
      refs.push_back({spec.registered, params.get(spec.name).as_string()});
  for (const auto& port : info.outputs)
    if (is_registered(codec_kind, port.type)) refs.push_back({std::string(codec_kind), port.type});
  std::sort(refs.begin(), refs.end());
  refs.erase(std::unique(refs.begin(), refs.end()), refs.end());
  return refs;
}

std::string describe_extension(const ExtensionRef& ref) {
  if (ref.kind == layer_kind) return "layer type " + ref.name;
  if (ref.kind == codec_kind) return "codec for " + ref.name;
  return ref.kind + " " + ref.name;
}

namespace {
// A file by size and modification time; a folder by every file below it, in name order. Folders
// are walked once per process: a sweep plans every trial, and an image folder holds many files.
Value file_fingerprint(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  static std::mutex mutex;
  static std::map<std::string, Value> walked;
  std::error_code ec;
  const std::string where = fs::absolute(path, ec).lexically_normal().string();
  {
    std::lock_guard lock(mutex);
    if (auto it = walked.find(where); it != walked.end()) return it->second;
  }
  // A file of a folder by size, modification time, inode and change time (which no user can set
  // back): cheap for thousands of images, and any rewrite shows.
  auto one = [](const fs::path& f) {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0) return std::string("?");
    return std::to_string(st.st_size) + "@" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) +
           "#" + std::to_string(st.st_ino) + "^" + std::to_string(st.st_ctim.tv_sec) + "." + std::to_string(st.st_ctim.tv_nsec);
  };
  if (!fs::is_directory(path, ec)) return Value::string("sha256:" + file_content_hash(path));
  // Symlinked class folders are read by the stage, so they are walked here too; an entry that
  // cannot be read (a dangling link) is skipped rather than ending the walk.
  std::vector<fs::path> entries;
  const auto options = fs::directory_options::skip_permission_denied | fs::directory_options::follow_directory_symlink;
  fs::recursive_directory_iterator it(path, options, ec), end;
  while (!ec && it != end) {
    std::error_code entry_ec;
    if (it->is_regular_file(entry_ec)) entries.push_back(it->path());
    it.increment(ec);
  }
  std::sort(entries.begin(), entries.end());
  std::string listing;
  for (const auto& f : entries) listing += f.lexically_relative(path).string() + "=" + one(f) + "\n";
  Value fingerprint = Value::string(sha256_hex(listing));
  std::lock_guard lock(mutex);
  walked[where] = fingerprint;
  return fingerprint;
}

// What a stage's key covers from its files: content digests by parameter, folders by listing.
Value file_fingerprints(const PlannedStage& s) {
  Value files = Value::map();
  for (const auto& spec : s.type->info.params)
    if (spec.type == ParamType::path && spec.must_exist && s.params.has(spec.name)) {
      const auto path = s.params.get_path(spec.name);
      std::error_code ec;
      files.set(spec.name, Value::string(std::filesystem::is_directory(path, ec) ? file_fingerprint(path).as_string()
                                                                                  : "sha256:" + file_content_hash(path)));
    }
  if (s.type->info.files) {
    try {
      for (const auto& f : s.type->info.files(s.params)) files.set("file:" + f.string(), file_fingerprint(f));
    } catch (const std::exception&) {
      // Parameters that validation rejects: nothing runs with them.
    }
  }
  return files;
}

// Keys in topological order, so every producer's key is known before its consumers'.
void compute_keys(Plan& plan) {
  for (auto& s : plan.stages) {
    s.extensions = declared_extensions(s.type->info, s.params);
    s.files = file_fingerprints(s);
    s.key = stage_key(plan, s);
  }
}
}  // namespace

std::string stage_key(const Plan& plan, const PlannedStage& s) {
  Value k = Value::map();
  k.set("stage_type", Value::string(s.type->info.name));
  k.set("plugin", Value::string(s.type->plugin->name));
  k.set("plugin_version", Value::string(s.type->plugin->version));
  k.set("build_id", Value::string(s.type->plugin->build_id));
  // The plugin binary itself: a rebuilt plugin (same version) may compute something else.
  k.set("plugin_sha256", Value::string(s.type->plugin->sha256));
  // The core library runs part of every stage (Model, the codecs).
  k.set("core_sha256", Value::string(core_library_sha256()));
  // Every plugin whose extensions the stage runs: a rebuilt layer plugin changes the models
  // built from its layers, and through their keys everything downstream.
  Value extensions = Value::map();
  for (const auto& ref : s.extensions)
    if (auto owner = ExtensionRegistry::instance().owner(ref))
      extensions.set(ref.kind + ":" + ref.name, Value::string(owner->plugin + " " + owner->version + " " + owner->sha256));
  k.set("extensions", extensions);
  k.set("params", s.params.all());
  // Input files by content (plan/file_hashes.hpp): a changed data file invalidates its stage,
  // whatever its size and modification time say.
  k.set("files", s.files);
  Value inputs = Value::map();
  for (const auto& in : s.inputs)
    inputs.set(in.port, Value::string(plan.stages[in.producer].key + "." + in.producer_port));
  k.set("inputs", inputs);
  if (!s.type->info.uses_seed || s.type->info.uses_seed(s.params)) k.set("seed", Value::string(std::to_string(s.seed)));
  return sha256_hex(k.canonical_json());
}

void reseed(Plan& plan, std::uint64_t seed, std::optional<std::uint64_t> trial_seed) {
  plan.seed = seed;
  plan.trial_seed = trial_seed;
  for (auto& s : plan.stages) s.seed = stage_seed(seed, trial_seed, s.id);
  compute_keys(plan);
}

PlanResult plan_file(const std::filesystem::path& file, const PluginSet& plugins,
                     const std::vector<Override>& overrides) {
  const std::string label = file.string();
  std::vector<Error> syntax;
  Value config = config::read_yaml_file(file, label, syntax);
  const auto base = std::filesystem::absolute(file).parent_path();
  PlanResult result;
  if (config.is_null() && !syntax.empty()) {
    result.errors = std::move(syntax);
    return result;
  }
  plan_into(result, config, label, base, plugins, overrides);
  result.errors.insert(result.errors.begin(), syntax.begin(), syntax.end());
  sort_errors(result.errors);
  return result;
}

}  // namespace pipeline
