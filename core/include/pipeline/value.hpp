// Value: a parameter or metric value as written in YAML or recorded by a stage. A tree of scalars,
// lists and ordered maps, each node remembering where in the config it came from, so a stage can
// point a user at the exact spot of a bad layer or list item.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeline/error.hpp"

namespace pipeline {

class Value {
 public:
  enum class Kind { null, boolean, integer, real, string, list, map };

  Value() = default;
  static Value boolean(bool b);
  static Value integer(std::int64_t i);
  static Value real(double d);
  static Value string(std::string s);
  static Value list(std::vector<Value> items = {});
  static Value map();

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::null; }
  bool is_bool() const { return kind_ == Kind::boolean; }
  bool is_int() const { return kind_ == Kind::integer; }
  bool is_number() const { return kind_ == Kind::integer || kind_ == Kind::real; }
  bool is_string() const { return kind_ == Kind::string; }
  bool is_list() const { return kind_ == Kind::list; }
  bool is_map() const { return kind_ == Kind::map; }

  // Typed access; throws Error(config_schema) at this value's location when the kind differs.
  bool as_bool() const;
  std::int64_t as_int() const;
  double as_float() const;  // integers convert
  const std::string& as_string() const;
  const std::vector<Value>& items() const;  // list items
  std::vector<Value>& items();

  // Maps keep the order in which keys were written.
  const std::vector<std::pair<std::string, Value>>& entries() const;
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  Value& set(std::string key, Value v, Location key_location = {});  // replaces or appends
  // Appends without looking for the key, for builders that keep keys unique themselves (a linear
  // set() per key would make large maps quadratic).
  Value& append(std::string key, Value v, Location key_location = {});
  // Where the key itself was written (falls back to the value's location).
  const Location& key_location(std::string_view key) const;
  const Location& key_location_at(std::size_t entry) const;  // of entries()[entry]
  Value& value_at(std::size_t entry);                         // entries()[entry].second, to change
  void push_back(Value v);
  std::size_t size() const;

  const Location& location() const { return location_; }
  Value& at(Location where) {
    location_ = std::move(where);
    return *this;
  }

  // Compact JSON-like text for messages and summaries: 3, 0.5, "a", [1, 2], {k: v}.
  std::string str() const;
  // Canonical JSON (sorted map keys, shortest round-trip numbers); used for content keys.
  std::string canonical_json() const;

  friend bool operator==(const Value& a, const Value& b);

 private:
  Kind kind_ = Kind::null;
  bool bool_ = false;
  std::int64_t int_ = 0;
  double real_ = 0;
  std::string string_;
  std::vector<Value> items_;
  std::vector<std::pair<std::string, Value>> entries_;
  std::vector<Location> key_locations_;  // parallel to entries_
  Location location_;
};

const char* to_string(Value::Kind kind);

// Parses a YAML (or JSON) snippet such as "{out: 4, kernel: 3}" or "[1, 28, 28]" into a Value:
// for examples in a plugin's info and for tests. Throws Error(config_syntax) when it is not YAML.
Value parse_value(std::string_view yaml_text);
// Reads a YAML file into a Value whose nodes carry FILE:LINE:COL locations; throws
// Error(config_syntax) at the first syntax error, Error(io) when it cannot be read.
Value parse_yaml_file(const std::string& file);

}  // namespace pipeline
