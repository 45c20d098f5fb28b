#include "pipeline/params.hpp"

namespace pipeline {

const char* to_string(ParamType type) {
  switch (type) {
    case ParamType::integer: return "int";
    case ParamType::real: return "float";
    case ParamType::boolean: return "bool";
    case ParamType::string: return "string";
    case ParamType::path: return "path";
    case ParamType::list: return "list";
    case ParamType::map: return "map";
    case ParamType::enumeration: return "enum";
    case ParamType::any: return "any";
  }
  return "?";
}

ParamBuilder& ParamBuilder::range(std::optional<double> lo, std::optional<double> hi) {
  spec.min = lo;
  spec.max = hi;
  return *this;
}
ParamBuilder& ParamBuilder::items(ParamType t) {
  spec.item_type = t;
  return *this;
}
ParamBuilder& ParamBuilder::existing() {
  spec.must_exist = true;
  return *this;
}
ParamBuilder& ParamBuilder::optional_value() {
  spec.optional = true;
  return *this;
}

ParamBuilder param(std::string name, ParamType type, std::string doc) {
  ParamBuilder b;
  b.spec.name = std::move(name);
  b.spec.type = type;
  b.spec.doc = std::move(doc);
  return b;
}
ParamBuilder param_int(std::string name, std::string doc, std::optional<std::int64_t> def) {
  auto b = param(std::move(name), ParamType::integer, std::move(doc));
  if (def) b.spec.default_value = Value::integer(*def);
  return b;
}
ParamBuilder param_float(std::string name, std::string doc, std::optional<double> def) {
  auto b = param(std::move(name), ParamType::real, std::move(doc));
  if (def) b.spec.default_value = Value::real(*def);
  return b;
}
ParamBuilder param_bool(std::string name, std::string doc, std::optional<bool> def) {
  auto b = param(std::move(name), ParamType::boolean, std::move(doc));
  if (def) b.spec.default_value = Value::boolean(*def);
  return b;
}
ParamBuilder param_string(std::string name, std::string doc, std::optional<std::string> def) {
  auto b = param(std::move(name), ParamType::string, std::move(doc));
  if (def) b.spec.default_value = Value::string(*def);
  return b;
}
ParamBuilder param_path(std::string name, std::string doc) {
  return param(std::move(name), ParamType::path, std::move(doc));
}
ParamBuilder param_enum(std::string name, std::string doc, std::vector<std::string> choices,
                        std::optional<std::string> def) {
  auto b = param(std::move(name), ParamType::enumeration, std::move(doc));
  b.spec.choices = std::move(choices);
  if (def) b.spec.default_value = Value::string(*def);
  return b;
}
ParamBuilder param_list(std::string name, std::string doc, ParamType item_type,
                        std::optional<Value> def) {
  auto b = param(std::move(name), ParamType::list, std::move(doc));
  b.spec.item_type = item_type;
  b.spec.default_value = std::move(def);
  return b;
}

ParamBuilder param_registered(std::string name, std::string doc, std::string kind,
                              std::optional<std::string> def) {
  auto b = param(std::move(name), ParamType::enumeration, std::move(doc));
  b.spec.registered = std::move(kind);
  if (def) b.spec.default_value = Value::string(*def);
  return b;
}

bool Params::has(std::string_view name) const {
  const Value* v = values_.find(name);
  return v && !v->is_null();
}

const Value& Params::get(std::string_view name) const {
  const Value* v = values_.find(name);
  if (!v || v->is_null())
    throw Error(ErrorCode::internal, "parameter '" + std::string(name) + "' has no value");
  return *v;
}

std::vector<std::int64_t> Params::get_int_list(std::string_view name) const {
  std::vector<std::int64_t> out;
  for (const Value& v : get(name).items()) out.push_back(v.as_int());
  return out;
}
std::vector<double> Params::get_float_list(std::string_view name) const {
  std::vector<double> out;
  for (const Value& v : get(name).items()) out.push_back(v.as_float());
  return out;
}
std::vector<std::string> Params::get_string_list(std::string_view name) const {
  std::vector<std::string> out;
  for (const Value& v : get(name).items()) out.push_back(v.as_string());
  return out;
}

}  // namespace pipeline
