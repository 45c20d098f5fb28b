#include "pipeline/value.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace pipeline {

const char* to_string(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::null: return "null";
    case Value::Kind::boolean: return "bool";
    case Value::Kind::integer: return "int";
    case Value::Kind::real: return "float";
    case Value::Kind::string: return "string";
    case Value::Kind::list: return "list";
    case Value::Kind::map: return "map";
  }
  return "?";
}

Value Value::boolean(bool b) {
  Value v;
  v.kind_ = Kind::boolean;
  v.bool_ = b;
  return v;
}
Value Value::integer(std::int64_t i) {
  Value v;
  v.kind_ = Kind::integer;
  v.int_ = i;
  return v;
}
Value Value::real(double d) {
  Value v;
  v.kind_ = Kind::real;
  v.real_ = d;
  return v;
}
Value Value::string(std::string s) {
  Value v;
  v.kind_ = Kind::string;
  v.string_ = std::move(s);
  return v;
}
Value Value::list(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::list;
  v.items_ = std::move(items);
  return v;
}
Value Value::map() {
  Value v;
  v.kind_ = Kind::map;
  return v;
}

namespace {
[[noreturn]] void wrong_kind(const Value& v, const char* wanted) {
  throw Error(ErrorCode::config_schema,
              std::string("expected ") + wanted + ", got " + to_string(v.kind()) + " " + v.str(),
              v.location());
}
}  // namespace

bool Value::as_bool() const {
  if (kind_ != Kind::boolean) wrong_kind(*this, "bool");
  return bool_;
}
std::int64_t Value::as_int() const {
  if (kind_ != Kind::integer) wrong_kind(*this, "int");
  return int_;
}
double Value::as_float() const {
  if (kind_ == Kind::integer) return static_cast<double>(int_);
  if (kind_ != Kind::real) wrong_kind(*this, "float");
  return real_;
}
const std::string& Value::as_string() const {
  if (kind_ != Kind::string) wrong_kind(*this, "string");
  return string_;
}
const std::vector<Value>& Value::items() const {
  if (kind_ != Kind::list) wrong_kind(*this, "list");
  return items_;
}
std::vector<Value>& Value::items() {
  if (kind_ != Kind::list) wrong_kind(*this, "list");
  return items_;
}
const std::vector<std::pair<std::string, Value>>& Value::entries() const {
  if (kind_ != Kind::map) wrong_kind(*this, "map");
  return entries_;
}
const Value* Value::find(std::string_view key) const {
  if (kind_ != Kind::map) return nullptr;
  for (const auto& [k, v] : entries_)
    if (k == key) return &v;
  return nullptr;
}
Value* Value::find(std::string_view key) {
  return const_cast<Value*>(static_cast<const Value*>(this)->find(key));
}
Value& Value::set(std::string key, Value v, Location key_location) {
  if (kind_ != Kind::map) wrong_kind(*this, "map");
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].first != key) continue;
    if (key_location.known()) key_locations_[i] = std::move(key_location);
    return entries_[i].second = std::move(v);
  }
  entries_.emplace_back(std::move(key), std::move(v));
  key_locations_.push_back(std::move(key_location));
  return entries_.back().second;
}

Value& Value::append(std::string key, Value v, Location key_location) {
  if (kind_ != Kind::map) wrong_kind(*this, "map");
  entries_.emplace_back(std::move(key), std::move(v));
  key_locations_.push_back(std::move(key_location));
  return entries_.back().second;
}

Value& Value::value_at(std::size_t entry) {
  if (kind_ != Kind::map) wrong_kind(*this, "map");
  return entries_.at(entry).second;
}

const Location& Value::key_location_at(std::size_t entry) const {
  return key_locations_.at(entry).known() ? key_locations_[entry] : entries_.at(entry).second.location();
}

const Location& Value::key_location(std::string_view key) const {
  for (std::size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].first == key)
      return key_locations_[i].known() ? key_locations_[i] : entries_[i].second.location();
  return location_;
}
void Value::push_back(Value v) {
  if (kind_ != Kind::list) wrong_kind(*this, "list");
  items_.push_back(std::move(v));
}
std::size_t Value::size() const {
  return kind_ == Kind::list ? items_.size() : kind_ == Kind::map ? entries_.size() : 0;
}

namespace {
std::string number_text(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip form
  std::string s(buf, res.ptr);
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// Display text for messages (str()); JSON is json.cpp's.
void render(const Value& v, std::string& out) {
  switch (v.kind()) {
    case Value::Kind::null: out += "null"; return;
    case Value::Kind::boolean: out += v.as_bool() ? "true" : "false"; return;
    case Value::Kind::integer: out += std::to_string(v.as_int()); return;
    case Value::Kind::real: {
      out += number_text(v.as_float());
      return;
    }
    case Value::Kind::string: out += quoted(v.as_string()); return;
    case Value::Kind::list: {
      out += "[";
      bool first = true;
      for (const Value& item : v.items()) {
        if (!first) out += ", ";
        first = false;
        render(item, out);
      }
      out += "]";
      return;
    }
    case Value::Kind::map: {
      out += "{";
      bool first = true;
      for (const auto& [key, item] : v.entries()) {
        if (!first) out += ", ";
        first = false;
        out += key + ": ";
        render(item, out);
      }
      out += "}";
      return;
    }
  }
}
}  // namespace

std::string Value::str() const {
  if (kind_ == Kind::string) return string_;
  std::string out;
  render(*this, out);
  return out;
}


bool operator==(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return a.as_float() == b.as_float();
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case Value::Kind::null: return true;
    case Value::Kind::boolean: return a.bool_ == b.bool_;
    case Value::Kind::string: return a.string_ == b.string_;
    case Value::Kind::list: return a.items_ == b.items_;
    case Value::Kind::map: return a.entries_ == b.entries_;
    default: return false;
  }
}

}  // namespace pipeline
