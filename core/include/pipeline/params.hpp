// The typed parameter schema a stage declares, and the checked Params it receives. The core validates
// YAML against the schema before any plugin code runs; stages never see YAML.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/value.hpp"

namespace pipeline {

enum class ParamType { integer, real, boolean, string, path, list, map, enumeration, any };
const char* to_string(ParamType type);

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::string;
  std::string doc;                     // one line
  std::optional<Value> default_value;  // none: the parameter is required (unless optional)
  bool optional = false;               // may be left out with no default; Params::has() tells
  std::optional<double> min, max;      // inclusive range for numbers, and for each item of a list
  std::vector<std::string> choices;    // for enumeration
  ParamType item_type = ParamType::any;  // for lists: the type of every item
  bool must_exist = false;             // for paths read by the stage: checked before running
  // For enumerations whose choices are the names of a registered extension kind ("optimizer",
  // "layer"): the choices are those loaded when the config is checked, and the content key
  // covers the plugin that registered the chosen one.
  std::string registered;

  bool required() const { return !default_value && !optional; }
};

// Builders that read like a schema table:
//   param_int("per_class", "samples kept per class; 0 keeps all", 0).range(0, 1e9)
struct ParamBuilder {
  ParamSpec spec;
  ParamBuilder& range(std::optional<double> lo, std::optional<double> hi);
  ParamBuilder& items(ParamType t);
  ParamBuilder& existing();  // path must exist when the run starts
  ParamBuilder& optional_value();
  operator ParamSpec() const { return spec; }
};
ParamBuilder param(std::string name, ParamType type, std::string doc);
ParamBuilder param_int(std::string name, std::string doc, std::optional<std::int64_t> def = {});
ParamBuilder param_float(std::string name, std::string doc, std::optional<double> def = {});
ParamBuilder param_bool(std::string name, std::string doc, std::optional<bool> def = {});
ParamBuilder param_string(std::string name, std::string doc, std::optional<std::string> def = {});
ParamBuilder param_path(std::string name, std::string doc);
ParamBuilder param_enum(std::string name, std::string doc, std::vector<std::string> choices,
                        std::optional<std::string> def = {});
ParamBuilder param_list(std::string name, std::string doc, ParamType item_type,
                        std::optional<Value> def = {});
// A name of a registered extension of `kind` (see extensions.hpp), e.g. an optimizer.
ParamBuilder param_registered(std::string name, std::string doc, std::string kind,
                              std::optional<std::string> def = {});

// Checked parameters of one stage instance: every declared parameter with a value or default has
// one, of the declared type, in range; paths are resolved against the config file's directory.
class Params {
 public:
  Params() = default;
  explicit Params(Value map) : values_(std::move(map)) {}

  bool has(std::string_view name) const;
  const Value& get(std::string_view name) const;  // throws Error(internal) if absent
  std::int64_t get_int(std::string_view name) const { return get(name).as_int(); }
  double get_float(std::string_view name) const { return get(name).as_float(); }
  bool get_bool(std::string_view name) const { return get(name).as_bool(); }
  const std::string& get_string(std::string_view name) const { return get(name).as_string(); }
  std::filesystem::path get_path(std::string_view name) const { return get(name).as_string(); }
  std::vector<std::int64_t> get_int_list(std::string_view name) const;
  std::vector<double> get_float_list(std::string_view name) const;
  std::vector<std::string> get_string_list(std::string_view name) const;
  const Location& location(std::string_view name) const { return get(name).location(); }

  const Value& all() const { return values_; }  // a map, in schema order

 private:
  Value values_ = Value::map();
};

}  // namespace pipeline
