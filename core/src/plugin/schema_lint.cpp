#include "plugin/schema_lint.hpp"

#include <set>

#include "pipeline/schema.hpp"

namespace pipeline {
namespace {

class Collect : public Diagnostics {
 public:
  void error(const Location&, const std::string& message) override { messages.push_back(message); }
  std::vector<std::string> messages;
};

void add(std::vector<SchemaProblem>& out, bool fatal, std::string message) {
  out.push_back({fatal, std::move(message)});
}

void check_doc(std::vector<SchemaProblem>& out, const std::string& what, const std::string& doc) {
  if (doc.empty()) add(out, false, what + " has no doc string");
  else if (doc.find('\n') != std::string::npos) add(out, false, what + "'s doc string is not one line");
}

void check_param(std::vector<SchemaProblem>& out, const ParamSpec& p) {
  const std::string what = "parameter '" + p.name + "'";
  if (!is_identifier(p.name)) add(out, true, what + ": not a valid name (lowercase letters, digits, '_')");
  check_doc(out, what, p.doc);
  if (p.type == ParamType::enumeration && p.choices.empty() && p.registered.empty())
    add(out, true, what + ": an enumeration without choices");
  if (!p.registered.empty() && p.type != ParamType::enumeration)
    add(out, true, what + ": a registered-name parameter must be an enumeration");
  if (p.min && p.max && *p.min > *p.max) add(out, true, what + ": range minimum above its maximum");
  if (p.default_value && p.optional) add(out, false, what + ": optional and with a default (the default wins)");
  if (!p.default_value) return;
  if (!p.registered.empty()) {
    // Registered names may come from a plugin loaded later: only the type is checked here.
    if (!p.default_value->is_string()) add(out, true, what + ": default " + p.default_value->str() + " is not a name");
    return;
  }
  Collect diag;
  ParamSpec relaxed = p;
  relaxed.must_exist = false;  // a default path need not exist where the plugin is loaded
  const Value checked = check_value(relaxed, *p.default_value, "default", "/", diag);
  for (const auto& m : diag.messages) add(out, true, what + ": its default does not pass its own checks: " + m);
  if (diag.messages.empty() && checked.is_null()) add(out, true, what + ": its default is null");
}

void check_params_list(std::vector<SchemaProblem>& out, const std::vector<ParamSpec>& params,
                       const std::vector<std::string>& reserved) {
  std::set<std::string> seen;
  for (const auto& p : params) {
    for (const auto& r : reserved)
      if (p.name == r) add(out, true, "parameter '" + p.name + "' is reserved: the model builder takes it");
    if (!seen.insert(p.name).second) add(out, true, "parameter '" + p.name + "' is declared twice");
    check_param(out, p);
  }
}

void check_ports(std::vector<SchemaProblem>& out, const std::vector<PortSpec>& ports, bool inputs) {
  std::set<std::string> seen;
  for (const auto& p : ports) {
    const std::string what = std::string(inputs ? "input" : "output") + " port '" + p.name + "'";
    if (!is_identifier(p.name)) add(out, true, what + ": not a valid name (lowercase letters, digits, '_')");
    if (!seen.insert(p.name).second) add(out, true, what + " is declared twice");
    if (p.type.empty()) add(out, true, what + " has no type");
    check_doc(out, what, p.doc);
    if (!inputs && p.type == "any") add(out, true, what + ": an output must have a definite type, not 'any'");
    if (!inputs && (p.optional || p.variadic)) add(out, true, what + ": outputs cannot be optional or variadic");
  }
}

}  // namespace

bool is_identifier(const std::string& name) {
  if (name.empty() || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

std::vector<SchemaProblem> stage_schema_problems(const StageInfo& info) {
  std::vector<SchemaProblem> out;
  if (!is_identifier(info.name)) add(out, true, "not a valid type name (lowercase letters, digits, '_')");
  if (!info.create) add(out, true, "no create function");
  check_doc(out, "the type", info.doc);
  check_ports(out, info.inputs, true);
  check_ports(out, info.outputs, false);
  check_params_list(out, info.params, {});
  return out;
}

std::vector<SchemaProblem> layer_schema_problems(const LayerInfo& info) {
  std::vector<SchemaProblem> out;
  if (!is_identifier(info.name)) add(out, true, "not a valid type name (lowercase letters, digits, '_')");
  if (!info.create) add(out, true, "no create function");
  check_doc(out, "the type", info.doc);
  check_params_list(out, info.params, {"name"});
  return out;
}

std::vector<SchemaProblem> optimizer_schema_problems(const OptimizerInfo& info) {
  std::vector<SchemaProblem> out;
  if (!is_identifier(info.name)) add(out, true, "not a valid name (lowercase letters, digits, '_')");
  if (!info.create) add(out, true, "no create function");
  check_doc(out, "the optimizer", info.doc);
  check_params_list(out, info.params, {});
  return out;
}

std::vector<SchemaProblem> codec_problems(const CodecInfo& info) {
  std::vector<SchemaProblem> out;
  if (info.type.empty()) add(out, true, "no artifact type");
  if (!info.encode || !info.decode) add(out, true, "needs both an encode and a decode function");
  check_doc(out, "the codec", info.doc);
  return out;
}

}  // namespace pipeline
