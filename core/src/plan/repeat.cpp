#include "plan/repeat.hpp"

#include "util/glob.hpp"

#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace pipeline {
namespace {

// Bounds, so a hostile file cannot ask for billions of stages.
constexpr std::int64_t max_values_per_variable = 10000;
constexpr std::size_t max_expanded_entries = 2000000;  // keys at every depth
constexpr std::size_t max_expanded_stages = 20000;

struct Binding {
  std::string name;
  Value value;  // an integer, or a scalar from a list
};
using Bindings = std::vector<Binding>;

struct Variable {
  std::string name;
  std::vector<Value> values;
};

bool is_identifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

const Binding* find_binding(const Bindings& bindings, const std::string& name) {
  for (auto it = bindings.rbegin(); it != bindings.rend(); ++it)
    if (it->name == name) return &*it;
  return nullptr;
}

std::string bound_names(const Bindings& bindings) {
  std::string out;
  for (const auto& b : bindings) out += (out.empty() ? "" : ", ") + b.name;
  return out;
}

class Expander {
 public:
  explicit Expander(Diagnostics& diag) : diag_(diag) {}
  bool failed() const { return failed_; }  // the bound was hit

  // A map being filled, with its keys in a hash set: finding a duplicate stays O(1) per key.
  struct Target {
    Value& map;
    std::unordered_set<std::string> keys;
    bool stage_level;
  };

  // Copies `map`'s entries into `out`, expanding the groups among them.
  void expand_map(const Value& map, const Bindings& bindings, Target& out) {
    const bool stage_level = out.stage_level;
    for (std::size_t i = 0; i < map.entries().size(); ++i) {
      const auto& [key, value] = map.entries()[i];
      const Location& key_location = map.key_location_at(i);
      if (const Value* repeat = value.is_map() ? value.find("repeat") : nullptr) {
        if (repeat->is_map()) {
          expand_group(value, *repeat, bindings, out);
          continue;
        }
        if (stage_level) {
          diag_.error(repeat->location().known() ? repeat->location() : key_location,
                      "'" + key + "': 'repeat' takes a map of variables to values, e.g. {round: 1..5, client: 10}");
          continue;
        }
      }
      if (!add(out, substitute_key(key, key_location, bindings), substitute(value, bindings), key_location,
               !bindings.empty()))
        return;
    }
  }

 private:
  void expand_group(const Value& group, const Value& repeat, const Bindings& bindings, Target& out) {
    const bool stage_level = out.stage_level;
    std::vector<Variable> variables;
    bool ok = true;
    for (const auto& [name, range] : repeat.entries()) {
      const Location& where = repeat.key_location(name);
      if (!is_identifier(name)) {
        diag_.error(where, "repeat variable '" + name + "' must be a name of letters, digits and '_'");
        ok = false;
      } else if (find_binding(bindings, name)) {
        diag_.error(where, "repeat variable '" + name + "' is already set by an enclosing repeat");
        ok = false;
      } else if (auto values = range_values(range, name, where)) {
        variables.push_back({name, std::move(*values)});
      } else {
        ok = false;
      }
    }
    if (repeat.size() == 0) {
      diag_.error(repeat.location(), "'repeat' needs at least one variable, e.g. {round: 1..5}");
      ok = false;
    }
    if (group.size() < 2) {
      diag_.error(repeat.location(), "a repeat group needs entries to repeat beside 'repeat'");
      ok = false;
    }
    if (stage_level && group.find("plugin")) {
      diag_.error(group.key_location("plugin"),
                  "a repeat group holds the stages it repeats, not 'plugin': nest the stage, as "
                  "GROUP: {repeat: {i: 3}, stage_<i>: {plugin: ...}}");
      ok = false;
    }
    if (!ok) return;
    Value body = Value::map().at(group.location());
    for (std::size_t i = 0; i < group.entries().size(); ++i)
      if (group.entries()[i].first != "repeat")
        body.append(group.entries()[i].first, group.entries()[i].second, group.key_location_at(i));
    Bindings current = bindings;
    combine(variables, 0, current, body, out);
  }

  void combine(const std::vector<Variable>& variables, std::size_t v, Bindings& current, const Value& body,
               Target& out) {
    if (v == variables.size()) {
      expand_map(body, current, out);
      return;
    }
    for (const auto& value : variables[v].values) {
      if (failed_) return;
      current.push_back({variables[v].name, value});
      combine(variables, v + 1, current, body, out);
      current.pop_back();
    }
  }

  // N: 0..N-1; "A..B": A to B inclusive; a list: its scalars.
  std::optional<std::vector<Value>> range_values(const Value& range, const std::string& name, const Location& key_at) {
    const Location& where = range.location().known() ? range.location() : key_at;
    const std::string expected = "repeat variable '" + name +
                                 "' takes a count N (0..N-1), a range \"A..B\" (inclusive) or a list of values";
    std::vector<Value> values;
    auto integers = [&](std::int64_t first, std::int64_t last) -> bool {
      if (last - first + 1 > max_values_per_variable) {
        diag_.error(where, "repeat variable '" + name + "' has more than " + std::to_string(max_values_per_variable) +
                               " values");
        return false;
      }
      for (std::int64_t i = first; i <= last; ++i) values.push_back(Value::integer(i).at(where));
      return true;
    };
    if (range.is_int()) {
      if (range.as_int() < 0) {
        diag_.error(where, "repeat variable '" + name + "': a count must be >= 0, got " + range.str());
        return std::nullopt;
      }
      if (!integers(0, range.as_int() - 1)) return std::nullopt;
      return values;
    }
    if (range.is_string()) {
      const std::string& text = range.as_string();
      const auto dots = text.find("..");
      std::int64_t first = 0, last = 0;
      if (dots == std::string::npos || !parse_int(text.substr(0, dots), first) ||
          !parse_int(text.substr(dots + 2), last)) {
        diag_.error(where, expected + ", got '" + text + "'");
        return std::nullopt;
      }
      if (last < first) {
        diag_.error(where, "repeat variable '" + name + "': the range " + text + " is empty (it is inclusive: A..B with A <= B)");
        return std::nullopt;
      }
      if (!integers(first, last)) return std::nullopt;
      return values;
    }
    if (range.is_list()) {
      if (range.items().size() > static_cast<std::size_t>(max_values_per_variable)) {
        diag_.error(where, "repeat variable '" + name + "' has more than " + std::to_string(max_values_per_variable) +
                               " values");
        return std::nullopt;
      }
      for (const auto& item : range.items()) {
        if (item.is_list() || item.is_map() || item.is_null()) {
          diag_.error(item.location().known() ? item.location() : where,
                      "repeat variable '" + name + "': list values must be scalars, got " + item.str());
          return std::nullopt;
        }
        values.push_back(item);
      }
      return values;
    }
    diag_.error(where, expected + ", got " + range.str());
    return std::nullopt;
  }

  static bool parse_int(const std::string& text, std::int64_t& out) {
    if (text.empty() || text.size() > 12) return false;
    std::size_t i = text[0] == '-' ? 1 : 0;
    if (i == text.size()) return false;
    std::int64_t v = 0;
    for (; i < text.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
      v = v * 10 + (text[i] - '0');
    }
    out = text[0] == '-' ? -v : v;
    return true;
  }

  Value substitute(const Value& value, const Bindings& bindings) {
    if (bindings.empty() && !value.is_map() && !value.is_list()) return value;
    if (value.is_string()) return substitute_string(value, bindings);
    if (value.is_list()) {
      Value list = Value::list().at(value.location());
      for (const auto& item : value.items()) list.push_back(substitute(item, bindings));
      return list;
    }
    if (value.is_map()) {
      Value map = Value::map().at(value.location());
      Target target{map, {}, false};
      expand_map(value, bindings, target);
      return map;
    }
    return value;
  }

  std::string substitute_key(const std::string& key, const Location& where, const Bindings& bindings) {
    if (bindings.empty()) return key;
    Value v = substitute_string(Value::string(key).at(where), bindings);
    return v.is_string() ? v.as_string() : v.str();
  }

  // Fills in every `<var>`, `<var+K>`, `<var-K>`. A string that is one placeholder and nothing
  // else becomes the variable's value, so `client: <client>` is an integer parameter.
  Value substitute_string(const Value& value, const Bindings& bindings) {
    const std::string& text = value.as_string();
    if (bindings.empty() || text.find('<') == std::string::npos) return value;
    std::string out;
    std::size_t i = 0, placeholders = 0;
    std::optional<Value> only;
    while (i < text.size()) {
      const auto open = text.find('<', i);
      if (open == std::string::npos) break;
      const auto close = text.find('>', open);
      if (close == std::string::npos) break;
      out += text.substr(i, open - i);
      i = open;
      const std::string inner = text.substr(open + 1, close - open - 1);
      std::size_t sign = inner.find_first_of("+-");
      const std::string name = inner.substr(0, sign);
      std::int64_t offset = 0;
      bool arithmetic_ok = sign == std::string::npos ||
                           (parse_int(inner.substr(sign + 1), offset) && inner[sign + 1] != '-');
      if (!is_identifier(name) || !arithmetic_ok) {  // not a placeholder: "a <b> c" in a string
        out += '<';
        i = open + 1;
        continue;
      }
      if (sign != std::string::npos && inner[sign] == '-') offset = -offset;
      const Binding* b = find_binding(bindings, name);
      if (!b) {
        diag_.error(value.location(), "unknown repeat variable '<" + name + ">' in '" + text + "' (set here: " +
                                          bound_names(bindings) + ")");
        return value;
      }
      Value filled = b->value;
      if (sign != std::string::npos) {
        if (!filled.is_int()) {
          diag_.error(value.location(), "'<" + inner + ">': arithmetic needs an integer variable, '" + name +
                                            "' is " + filled.str());
          return value;
        }
        filled = Value::integer(filled.as_int() + offset);
      }
      ++placeholders;
      only = filled;
      out += filled.is_string() ? filled.as_string() : filled.str();
      i = close + 1;
    }
    out += text.substr(std::min(i, text.size()));
    if (placeholders == 1 && only && text.front() == '<' && text.back() == '>' &&
        text.find('>') == text.size() - 1)
      return only->at(value.location());
    return Value::string(out).at(value.location());
  }

  bool add(Target& out, const std::string& key, Value value, const Location& where, bool expanded) {
    if (!out.keys.insert(key).second) {
      diag_.error(where, "'" + key + "' appears more than once" +
                             (expanded ? " after the repeat groups are expanded" : ""));
      return true;
    }
    if (++entries_ > max_expanded_entries || (out.stage_level && out.keys.size() > max_expanded_stages)) {
      if (!failed_)
        diag_.error(where, "the repeat groups expand to more than " +
                               (out.stage_level && out.keys.size() > max_expanded_stages
                                    ? std::to_string(max_expanded_stages) + " stages"
                                    : std::to_string(max_expanded_entries) + " entries"));
      failed_ = true;
      return false;
    }
    out.map.append(key, std::move(value), where);
    return true;
  }

  Diagnostics& diag_;
  std::size_t entries_ = 0;
  bool failed_ = false;
};

}  // namespace

bool set_repeat_variable(Value& stages, const std::string& group, const std::string& variable, const Value& value) {
  if (!stages.is_map()) return false;
  bool found = false;
  std::vector<std::string> keys;
  for (const auto& [key, _] : stages.entries()) keys.push_back(key);
  for (const auto& key : keys) {
    Value& entry = *stages.find(key);
    if (!entry.is_map()) continue;
    Value* repeat = entry.find("repeat");
    if (glob_match(group, key) && repeat && repeat->is_map() && repeat->find(variable)) {
      repeat->set(variable, value, value.location());
      found = true;
    }
    found = set_repeat_variable(entry, group, variable, value) || found;
  }
  return found;
}

std::optional<Value> expand_repeats(const Value& stages, Diagnostics& diagnostics) {
  Value out = Value::map().at(stages.location());
  Expander::Target target{out, {}, true};
  Expander expander(diagnostics);
  expander.expand_map(stages, {}, target);
  if (expander.failed()) return std::nullopt;
  return out;
}

}  // namespace pipeline
