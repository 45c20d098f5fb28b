// The one Value <-> JSON text conversion. Writing is ours (so numbers and non-finite reals are
// spelled one way everywhere); reading goes through nlohmann's SAX parser into an explicit stack,
// so a deeply nested file cannot overflow the C++ stack.
#include "pipeline/json.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace pipeline {
namespace {

void write_string(const std::string& s, std::string& out) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void write_real(double d, bool canonical, std::string& out) {
  // Canonically a real with an integral value is spelled as the integer: 1.0 and 1 are one
  // parameter value, so they must give one content key.
  if (canonical && std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) {
    out += std::to_string(static_cast<std::int64_t>(d));
    return;
  }
  if (!std::isfinite(d)) {
    out += std::isnan(d) ? "\"nan\"" : d > 0 ? "\"inf\"" : "\"-inf\"";
    return;
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d);  // the shortest text that reads back exactly
  std::string text(buf, res.ptr);
  if (text.find_first_of(".eE") == std::string::npos) text += ".0";  // still a real when read back
  out += text;
}

// indent < 0: one line; canonical (content keys): one line, no spaces, map keys sorted.
struct Style {
  int indent = -1;
  bool canonical = false;
};

void newline(int indent, int depth, std::string& out) {
  if (indent < 0) return;
  out += '\n';
  out.append(static_cast<std::size_t>(indent * depth), ' ');
}

void write(const Value& v, const Style& style, int depth, std::string& out) {
  const int indent = style.indent;
  const char* comma = style.canonical ? "," : indent < 0 ? ", " : ",";
  const char* colon = style.canonical ? ":" : ": ";
  switch (v.kind()) {
    case Value::Kind::null: out += "null"; return;
    case Value::Kind::boolean: out += v.as_bool() ? "true" : "false"; return;
    case Value::Kind::integer: out += std::to_string(v.as_int()); return;
    case Value::Kind::real: write_real(v.as_float(), style.canonical, out); return;
    case Value::Kind::string: write_string(v.as_string(), out); return;
    case Value::Kind::list: {
      if (v.items().empty()) {
        out += "[]";
        return;
      }
      out += '[';
      bool first = true;
      for (const Value& item : v.items()) {
        if (!first) out += comma;
        first = false;
        newline(indent, depth + 1, out);
        write(item, style, depth + 1, out);
      }
      newline(indent, depth, out);
      out += ']';
      return;
    }
    case Value::Kind::map: {
      if (v.entries().empty()) {
        out += "{}";
        return;
      }
      std::vector<const std::pair<std::string, Value>*> entries;
      for (const auto& e : v.entries()) entries.push_back(&e);
      if (style.canonical)
        std::sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
      out += '{';
      bool first = true;
      for (const auto* e : entries) {
        if (!first) out += comma;
        first = false;
        newline(indent, depth + 1, out);
        write_string(e->first, out);
        out += colon;
        write(e->second, style, depth + 1, out);
      }
      newline(indent, depth, out);
      out += '}';
      return;
    }
  }
}

constexpr std::size_t max_depth = 512;

// Builds a Value from SAX events on an explicit stack.
class Builder : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit Builder(const std::string& what) : what_(what) {}
  Value result;

  bool null() override { return put(Value()); }
  bool boolean(bool b) override { return put(Value::boolean(b)); }
  bool number_integer(number_integer_t i) override { return put(Value::integer(i)); }
  bool number_unsigned(number_unsigned_t u) override {
    if (u > static_cast<number_unsigned_t>(INT64_MAX)) return put(Value::real(static_cast<double>(u)));
    return put(Value::integer(static_cast<std::int64_t>(u)));
  }
  bool number_float(number_float_t d, const string_t&) override { return put(Value::real(d)); }
  bool string(string_t& s) override { return put(Value::string(std::move(s))); }
  bool binary(binary_t&) override { return fail("binary values are not JSON"); }
  bool start_object(std::size_t) override { return open(Value::map()); }
  bool key(string_t& k) override {
    keys_.back() = std::move(k);
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(Value::list()); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
    error_ = "invalid JSON at byte " + std::to_string(position) + ": " + e.what();
    return false;
  }
  const std::string& error() const { return error_; }

 private:
  bool fail(const std::string& message) {
    error_ = message;
    return false;
  }
  bool put(Value v) {
    if (stack_.empty()) {
      result = std::move(v);
      return true;
    }
    Value& top = stack_.back();
    if (top.is_map()) top.set(keys_.back(), std::move(v));
    else top.push_back(std::move(v));
    return true;
  }
  bool open(Value container) {
    if (stack_.size() >= max_depth) return fail(what_ + " nests deeper than " + std::to_string(max_depth) + " levels");
    stack_.push_back(std::move(container));
    keys_.emplace_back();
    return true;
  }
  bool close() {
    Value done = std::move(stack_.back());
    stack_.pop_back();
    keys_.pop_back();
    return put(std::move(done));
  }
  std::string what_;
  std::vector<Value> stack_;
  std::vector<std::string> keys_;
  std::string error_;
};

}  // namespace

std::string to_json(const Value& value, int indent) {
  std::string out;
  write(value, Style{indent, false}, 0, out);
  return out;
}

std::string Value::canonical_json() const {
  std::string out;
  write(*this, Style{-1, true}, 0, out);
  return out;
}

Value parse_json(std::string_view text, const std::string& what) {
  Builder builder(what);
  bool ok = false;
  try {
    ok = nlohmann::json::sax_parse(text.begin(), text.end(), &builder);
  } catch (const std::exception& e) {
    throw Error(ErrorCode::data_format, what + ": invalid JSON: " + e.what());
  }
  if (!ok) throw Error(ErrorCode::data_format, what + ": " + (builder.error().empty() ? "invalid JSON" : builder.error()));
  return std::move(builder.result);
}

}  // namespace pipeline
