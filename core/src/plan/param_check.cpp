#include "plan/param_check.hpp"

#include <cmath>
#include <sstream>

#include "pipeline/extensions.hpp"
#include "plan/plan.hpp"

namespace pipeline {
namespace {

std::string number(double d) {
  std::ostringstream s;
  s << d;
  return s.str();
}

std::string range_text(const std::optional<double>& lo, const std::optional<double>& hi) {
  if (lo && hi) return "in [" + number(*lo) + ", " + number(*hi) + "]";
  if (lo) return ">= " + number(*lo);
  return "<= " + number(*hi);
}

std::string describe(const Value& v) {
  if (v.is_string()) return "string \"" + v.as_string() + "\"";
  return std::string(to_string(v.kind())) + " " + v.str();
}

// Checks a scalar or container against one type; `what` names it ("parameter 'x'", "item 2 of ...").
Value check_typed(ParamType type, const ParamSpec& spec, const Value& v, const std::string& what,
                  const std::string& context, const std::filesystem::path& base_dir,
                  Diagnostics& diag) {
  auto fail = [&](const std::string& message) {
    diag.error(v.location(), context + ": " + what + " " + message);
    return Value();
  };
  auto in_range = [&](double d) {
    return !((spec.min && d < *spec.min) || (spec.max && d > *spec.max) || std::isnan(d));
  };
  switch (type) {
    case ParamType::integer: {
      if (!v.is_int()) return fail("must be int, got " + describe(v));
      if (!in_range(static_cast<double>(v.as_int())))
        return fail("must be " + range_text(spec.min, spec.max) + ", got " + v.str());
      return v;
    }
    case ParamType::real: {
      if (!v.is_number()) return fail("must be float, got " + describe(v));
      if (!in_range(v.as_float()))
        return fail("must be " + range_text(spec.min, spec.max) + ", got " + v.str());
      Value r = Value::real(v.as_float());
      return r.at(v.location());
    }
    case ParamType::boolean:
      if (!v.is_bool()) return fail("must be bool (true or false), got " + describe(v));
      return v;
    case ParamType::string: {
      if (v.is_list() || v.is_map() || v.is_null()) return fail("must be string, got " + describe(v));
      Value s = Value::string(v.str());
      return s.at(v.location());
    }
    case ParamType::path: {
      if (!v.is_string() || v.as_string().empty())
        return fail("must be a path (string), got " + describe(v));
      std::filesystem::path p = v.as_string();
      if (p.is_relative()) p = base_dir / p;
      p = p.lexically_normal();
      std::error_code ec;
      if (spec.must_exist && !std::filesystem::exists(p, ec))
        return fail("names a file that does not exist: " + v.as_string() +
                    (std::filesystem::path(v.as_string()).is_relative()
                         ? " (relative to the experiment file's directory)"
                         : ""));
      Value s = Value::string(p.string());
      return s.at(v.location());
    }
    case ParamType::enumeration: {
      // A registered kind's choices are whatever the loaded plugins registered.
      const std::vector<std::string> choices = spec.registered.empty() ? spec.choices : registered_names(spec.registered);
      std::string listed;
      for (const auto& choice : choices) listed += (listed.empty() ? "" : ", ") + choice;
      if (!v.is_string()) return fail("must be one of " + listed + "; got " + describe(v));
      for (const auto& choice : choices)
        if (choice == v.as_string()) return v;
      std::string hint = did_you_mean(v.as_string(), choices);
      if (!spec.registered.empty())
        return fail("names no registered " + spec.registered + " '" + v.as_string() + "'" +
                    (hint.empty() ? "" : "; did you mean '" + hint + "'?") + " (registered: " +
                    (listed.empty() ? "none" : listed) + ")");
      return fail("must be one of " + listed + "; got '" + v.as_string() + "'" +
                  (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
    }
    case ParamType::list: {
      if (!v.is_list()) return fail("must be a list, got " + describe(v));
      if (spec.item_type == ParamType::any) return v;
      Value out = Value::list();
      bool ok = true;
      for (std::size_t i = 0; i < v.items().size(); ++i) {
        Value item = check_typed(spec.item_type, spec, v.items()[i],
                                 "item " + std::to_string(i + 1) + " of " + what, context,
                                 base_dir, diag);
        ok = ok && !item.is_null();
        out.push_back(std::move(item));
      }
      return ok ? out.at(v.location()) : Value();
    }
    case ParamType::map:
      if (!v.is_map()) return fail("must be a map, got " + describe(v));
      return v;
    case ParamType::any: return v;
  }
  return v;
}

}  // namespace

void CountingDiagnostics::error(const Location& where, const std::string& message) {
  ++errors_;
  inner_.error(where, message);
}

void ThrowingDiagnostics::error(const Location& where, const std::string& message) {
  throw Error(ErrorCode::config_schema, message, where);
}

Value check_value(const ParamSpec& spec, const Value& value, const std::string& context,
                  const std::filesystem::path& base_dir, Diagnostics& diagnostics) {
  return check_typed(spec.type, spec, value, "parameter '" + spec.name + "'", context, base_dir,
                     diagnostics);
}

Params check_params(const std::vector<ParamSpec>& schema, const Value& given,
                    const std::string& context, const Location& where,
                    const std::filesystem::path& base_dir, Diagnostics& diagnostics) {
  Value checked = Value::map();
  if (!given.is_null() && !given.is_map()) {
    diagnostics.error(given.location(), context + ": 'params' must be a map of parameter names to values");
    return Params(checked);
  }
  std::vector<std::string> names;
  for (const auto& spec : schema) names.push_back(spec.name);
  if (given.is_map()) {
    for (const auto& [key, _] : given.entries()) {
      bool known = false;
      for (const auto& n : names) known = known || n == key;
      if (known) continue;
      std::string hint = did_you_mean(key, names);
      diagnostics.error(given.key_location(key),
                        context + ": unknown parameter '" + key + "'" +
                            (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
    }
  }
  for (const auto& spec : schema) {
    const Value* v = given.is_map() ? given.find(spec.name) : nullptr;
    if (v && !v->is_null()) {
      Value ok = check_value(spec, *v, context, base_dir, diagnostics);
      if (!ok.is_null()) checked.set(spec.name, std::move(ok), given.key_location(spec.name));
    } else if (spec.default_value) {
      checked.set(spec.name, *spec.default_value);
    } else if (!spec.optional) {
      diagnostics.error(v ? v->location() : where,
                        context + ": missing required parameter '" + spec.name + "' (" +
                            to_string(spec.type) + ": " + spec.doc + ")");
    }
  }
  return Params(checked);
}

}  // namespace pipeline
