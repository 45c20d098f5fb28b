#include "plan/plan_json.hpp"

#include <fstream>
#include <sstream>

#include "pipeline/io.hpp"
#include "pipeline/json.hpp"
#include "plugin/extension_registry.hpp"

namespace pipeline {
namespace {

constexpr const char* format_name = "pipeline-plan 1";

Value text(const std::string& s) { return Value::string(s); }

Value stage_to_json(const PlannedStage& s) {
  Value j = Value::map();
  j.set("id", text(s.id));
  j.set("type", text(s.type->info.name));
  Value plugin = Value::map();
  plugin.set("name", text(s.type->plugin->name));
  plugin.set("version", text(s.type->plugin->version));
  plugin.set("file", text(s.type->plugin->file.string()));
  plugin.set("sha256", text(s.type->plugin->sha256));
  j.set("plugin", plugin);
  j.set("params", s.params.all());
  Value where = Value::map();
  where.set("file", text(s.location.file));
  where.set("line", Value::integer(s.location.line));
  where.set("column", Value::integer(s.location.column));
  j.set("location", where);
  Value inputs = Value::list();
  for (const auto& in : s.inputs) {
    Value e = Value::map();
    e.set("port", text(in.port));
    e.set("producer", Value::integer(static_cast<std::int64_t>(in.producer)));
    e.set("producer_port", text(in.producer_port));
    inputs.push_back(e);
  }
  j.set("inputs", inputs);
  j.set("seed", text(std::to_string(s.seed)));  // unsigned 64-bit: as text
  Value extensions = Value::list();
  for (const auto& ref : s.extensions) {
    Value e = Value::map();
    e.set("kind", text(ref.kind));
    e.set("name", text(ref.name));
    if (auto owner = ExtensionRegistry::instance().owner(ref)) {
      e.set("plugin", text(owner->plugin));
      e.set("sha256", text(owner->sha256));
    }
    extensions.push_back(e);
  }
  j.set("extensions", extensions);
  j.set("files", s.files);
  j.set("key", text(s.key));
  return j;
}

const Value& field(const Value& map, const char* name, const std::string& where) {
  const Value* v = map.is_map() ? map.find(name) : nullptr;
  if (!v) throw Error(ErrorCode::data_format, where + " lacks '" + name + "'");
  return *v;
}
const std::string& string_field(const Value& map, const char* name, const std::string& where) {
  const Value& v = field(map, name, where);
  if (!v.is_string()) throw Error(ErrorCode::data_format, where + ": '" + name + "' is not a string");
  return v.as_string();
}
std::uint64_t seed_field(const Value& map, const char* name, const std::string& where) {
  const std::string& s = string_field(map, name, where);
  try {
    std::size_t used = 0;
    const unsigned long long v = std::stoull(s, &used);
    if (used != s.size()) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    throw Error(ErrorCode::data_format, where + ": '" + name + "' is not a seed");
  }
}

// The binaries this process loaded must be the ones the plan was made with.
void check_same_binaries(const PlannedStage& s, const Value& j) {
  const Value& plugin = field(j, "plugin", "stage '" + s.id + "'");
  const std::string& planned = string_field(plugin, "sha256", "stage '" + s.id + "'");
  if (planned != s.type->plugin->sha256)
    throw Error(ErrorCode::plugin_abi,
                "stage '" + s.id + "': plugin '" + s.type->plugin->name + "' here (" + s.type->plugin->file.string() +
                    ", SHA-256 " + s.type->plugin->sha256.substr(0, 12) + ") is not the build the plan was made with (" +
                    string_field(plugin, "file", "stage '" + s.id + "'") + ", SHA-256 " + planned.substr(0, 12) +
                    "): install the same build on every node");
  for (const auto& e : field(j, "extensions", "stage '" + s.id + "'").items()) {
    const Value* sha = e.find("sha256");
    if (!sha || !sha->is_string()) continue;
    const ExtensionRef ref{string_field(e, "kind", "extension"), string_field(e, "name", "extension")};
    const auto owner = ExtensionRegistry::instance().owner(ref);
    if (!owner)
      throw Error(ErrorCode::plugin_abi, "stage '" + s.id + "': " + describe_extension(ref) +
                                             " is not registered here; the plan was made with it from plugin '" +
                                             string_field(e, "plugin", "extension") + "'");
    if (owner->sha256 != sha->as_string())
      throw Error(ErrorCode::plugin_abi, "stage '" + s.id + "': " + describe_extension(ref) + " comes from plugin '" +
                                             owner->plugin + "' (SHA-256 " + owner->sha256.substr(0, 12) +
                                             ") here, not from the build the plan was made with (SHA-256 " +
                                             sha->as_string().substr(0, 12) + ")");
  }
}

PlannedStage stage_from_json(const Value& j, std::size_t index, const PluginSet& plugins) {
  const std::string where = "stage " + std::to_string(index) + " of the plan";
  PlannedStage s;
  s.id = string_field(j, "id", where);
  const std::string& type = string_field(j, "type", where);
  s.type = plugins.find_stage(type);
  if (!s.type)
    throw Error(ErrorCode::plugin_abi, "stage '" + s.id + "': no plugin here registers stage type '" + type +
                                           "' (the plan was made with plugin '" +
                                           string_field(field(j, "plugin", where), "name", where) + "')");
  const Value& params = field(j, "params", where);
  if (!params.is_map()) throw Error(ErrorCode::data_format, where + ": 'params' is not a map");
  s.params = Params(params);
  const Value& loc = field(j, "location", where);
  s.location.file = string_field(loc, "file", where);
  s.location.line = static_cast<int>(field(loc, "line", where).as_int());
  s.location.column = static_cast<int>(field(loc, "column", where).as_int());
  for (const auto& in : field(j, "inputs", where).items()) {
    PlannedInput p;
    p.port = string_field(in, "port", where);
    const std::int64_t producer = field(in, "producer", where).as_int();
    if (producer < 0 || static_cast<std::size_t>(producer) >= index)
      throw Error(ErrorCode::data_format, where + ": input '" + p.port + "' names no earlier stage");
    p.producer = static_cast<std::size_t>(producer);
    p.producer_port = string_field(in, "producer_port", where);
    s.inputs.push_back(std::move(p));
  }
  s.seed = seed_field(j, "seed", where);
  for (const auto& e : field(j, "extensions", where).items())
    s.extensions.push_back({string_field(e, "kind", where), string_field(e, "name", where)});
  s.files = field(j, "files", where);
  s.key = string_field(j, "key", where);
  check_same_binaries(s, j);
  return s;
}

}  // namespace

Value plan_to_json(const Plan& plan) {
  Value j = Value::map();
  j.set("format", text(format_name));
  j.set("experiment", text(plan.experiment));
  j.set("file", text(plan.file));
  j.set("seed", text(std::to_string(plan.seed)));
  j.set("trial_seed", plan.trial_seed ? text(std::to_string(*plan.trial_seed)) : Value());
  j.set("core_sha256", text(core_library_sha256()));
  Value stages = Value::list();
  for (const auto& s : plan.stages) stages.push_back(stage_to_json(s));
  j.set("stages", stages);
  return j;
}

void write_plan_file(const std::filesystem::path& file, const Plan& plan) {
  const std::string json = to_json(plan_to_json(plan));
  write_file_atomic(file, [&](std::ostream& out) { out << json; });
}

Plan plan_from_json(const Value& j, const PluginSet& plugins) {
  if (!j.is_map() || !j.find("format") || !j.find("format")->is_string() || j.find("format")->as_string() != format_name)
    throw Error(ErrorCode::data_format, "not a plan file (format '" + std::string(format_name) + "')");
  const std::string& core = string_field(j, "core_sha256", "the plan");
  if (core != core_library_sha256())
    throw Error(ErrorCode::plugin_abi, "the core library here (SHA-256 " + core_library_sha256().substr(0, 12) +
                                           ") is not the build the plan was made with (SHA-256 " + core.substr(0, 12) +
                                           "): install the same build on every node");
  Plan plan;
  plan.experiment = string_field(j, "experiment", "the plan");
  plan.file = string_field(j, "file", "the plan");
  plan.seed = seed_field(j, "seed", "the plan");
  if (const Value* t = j.find("trial_seed"); t && t->is_string()) plan.trial_seed = seed_field(j, "trial_seed", "the plan");
  const auto& stages = field(j, "stages", "the plan").items();
  for (std::size_t i = 0; i < stages.size(); ++i) {
    plan.stages.push_back(stage_from_json(stages[i], i, plugins));
    // Everything else the key covers (versions, build ids, parameters as read back) must agree too.
    const PlannedStage& s = plan.stages.back();
    if (stage_key(plan, s) != s.key)
      throw Error(ErrorCode::plugin_abi, "stage '" + s.id + "': its content key differs here (plugin '" +
                                             s.type->plugin->name + "' version " + s.type->plugin->version +
                                             ", build " + s.type->plugin->build_id +
                                             "): this node does not run the build the plan was made with");
  }
  return plan;
}

Plan read_plan_file(const std::filesystem::path& file, const PluginSet& plugins) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorCode::io, "cannot read the plan " + file.string());
  std::ostringstream textual;
  textual << in.rdbuf();
  return plan_from_json(parse_json(textual.str(), file.string()), plugins);
}

}  // namespace pipeline
