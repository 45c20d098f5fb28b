#include "config/yaml_reader.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

namespace pipeline::config {
namespace {

// Counts documents (and where the second starts) without building them.
constexpr std::size_t max_documents = 100;
struct DocumentCounter : YAML::EventHandler {
  std::size_t started = 0;
  YAML::Mark second = YAML::Mark::null_mark();
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++started == 2) second = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

Location location_of(const YAML::Mark& mark, const std::string& label, const Location& fallback) {
  if (mark.is_null() || mark.line < 0) return fallback;
  return Location{label, mark.line + 1, mark.column + 1};
}

bool is_quoted(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  return tag == "!" || tag == "tag:yaml.org,2002:str" || tag == "!!str";
}

// What a config may expand to: aliases can make a 500-byte file a tree of billions of nodes (or
// refer to themselves), so conversion stops at these documented limits with a located error.
constexpr int max_depth = 64;
constexpr std::size_t max_nodes = 250'000;

struct Budget {
  std::size_t nodes = 0;
  bool exceeded = false;
};

Value convert(const YAML::Node& node, const std::string& label, const Location& fallback,
              std::vector<Error>& errors, Budget& budget, int depth) {
  const Location here = location_of(node.Mark(), label, fallback);
  if (budget.exceeded) return Value().at(here);
  if (depth > max_depth || ++budget.nodes > max_nodes) {
    budget.exceeded = true;
    errors.emplace_back(ErrorCode::config_syntax,
                        depth > max_depth ? "nesting deeper than " + std::to_string(max_depth) +
                                                " levels (an alias that refers to itself?)"
                                          : "the document expands to more than " + std::to_string(max_nodes) +
                                                " nodes (aliases of aliases?)",
                        here);
    return Value().at(here);
  }
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null: return Value().at(here);
    case YAML::NodeType::Scalar: return typed_scalar(node.Scalar(), is_quoted(node)).at(here);
    case YAML::NodeType::Sequence: {
      Value list = Value::list();
      for (const auto& item : node) list.push_back(convert(item, label, here, errors, budget, depth + 1));
      return list.at(here);
    }
    case YAML::NodeType::Map: {
      Value map = Value::map();
      std::map<std::string, Location> seen;
      for (const auto& kv : node) {
        const Location key_loc = location_of(kv.first.Mark(), label, here);
        if (!kv.first.IsScalar()) {
          errors.emplace_back(ErrorCode::config_syntax, "map keys must be plain strings", key_loc);
          continue;
        }
        const std::string key = kv.first.Scalar();
        if (auto it = seen.find(key); it != seen.end()) {
          errors.emplace_back(ErrorCode::config_syntax,
                              "duplicate key '" + key + "' (first defined at line " +
                                  std::to_string(it->second.line) + ")",
                              key_loc);
          continue;  // the first definition wins, as yaml-cpp's lookup would have it
        }
        seen.emplace(key, key_loc);
        map.set(key, convert(kv.second, label, key_loc, errors, budget, depth + 1), key_loc);
      }
      return map.at(here);
    }
  }
  return Value().at(here);
}

// The YAML 1.2 core schema's number forms, matched by hand: std::regex recurses per character and
// overflows the stack on a 50,000-digit scalar.
bool digits(const std::string& t, std::size_t& i, bool (*is)(char)) {
  const std::size_t start = i;
  while (i < t.size() && is(t[i])) ++i;
  return i > start;
}
bool decimal(char c) { return c >= '0' && c <= '9'; }
bool hexadecimal(char c) { return decimal(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool is_int(const std::string& t) {  // [-+]?[0-9]+
  std::size_t i = !t.empty() && (t[0] == '-' || t[0] == '+') ? 1 : 0;
  return digits(t, i, decimal) && i == t.size();
}
bool is_hex(const std::string& t) {  // 0x[0-9a-fA-F]+
  std::size_t i = 2;
  return t.size() > 2 && t[0] == '0' && t[1] == 'x' && digits(t, i, hexadecimal) && i == t.size();
}
bool is_float(const std::string& t) {  // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  std::size_t i = !t.empty() && (t[0] == '-' || t[0] == '+') ? 1 : 0;
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digits(t, i, decimal)) return false;
  } else {
    if (!digits(t, i, decimal)) return false;
    if (i < t.size() && t[i] == '.') {
      ++i;
      digits(t, i, decimal);
    }
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '-' || t[i] == '+')) ++i;
    if (!digits(t, i, decimal)) return false;
  }
  return i == t.size();
}

}  // namespace

Value typed_scalar(const std::string& text, bool quoted) {
  if (quoted) return Value::string(text);
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL")
    return Value();
  if (text == "true" || text == "True" || text == "TRUE") return Value::boolean(true);
  if (text == "false" || text == "False" || text == "FALSE") return Value::boolean(false);

  if (is_int(text)) {
    std::int64_t i = 0;
    const char* begin = text.data() + (text[0] == '+' ? 1 : 0);
    auto res = std::from_chars(begin, text.data() + text.size(), i);
    if (res.ec == std::errc() && res.ptr == text.data() + text.size()) return Value::integer(i);
    return Value::real(std::strtod(text.c_str(), nullptr));  // too large for int64
  }
  if (is_hex(text)) {
    std::uint64_t u = 0;
    auto res = std::from_chars(text.data() + 2, text.data() + text.size(), u, 16);
    if (res.ec == std::errc() && u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return Value::integer(static_cast<std::int64_t>(u));
  }
  if (is_float(text)) return Value::real(std::strtod(text.c_str(), nullptr));
  if (text == ".inf" || text == ".Inf" || text == ".INF" || text == "+.inf")
    return Value::real(std::numeric_limits<double>::infinity());
  if (text == "-.inf" || text == "-.Inf" || text == "-.INF")
    return Value::real(-std::numeric_limits<double>::infinity());
  if (text == ".nan" || text == ".NaN" || text == ".NAN")
    return Value::real(std::numeric_limits<double>::quiet_NaN());
  return Value::string(text);
}

Value parse_yaml(const std::string& text, const std::string& label, std::vector<Error>& errors) {
  std::vector<YAML::Node> docs;
  std::size_t documents = 0;
  YAML::Mark second;
  try {
    // Documents are counted with a cap before any is built: yaml-cpp 0.7's LoadAll never ends on
    // some invalid input (a value of ", 2" yields empty documents forever; found by fuzz_override).
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    DocumentCounter counter;
    while (documents <= max_documents && parser.HandleNextDocument(counter)) ++documents;
    second = counter.second;
    if (documents > 0) docs.push_back(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    errors.emplace_back(ErrorCode::config_syntax, "invalid YAML: " + e.msg,
                        location_of(e.mark, label, Location{label, 1, 1}));
    return Value();
  }
  if (docs.empty()) return Value().at(Location{label, 1, 1});
  if (documents > 1) {
    errors.emplace_back(ErrorCode::config_syntax,
                        "expected one YAML document, found " +
                            (documents > max_documents ? "more than " + std::to_string(max_documents) : std::to_string(documents)),
                        location_of(second, label, Location{label, 1, 1}));
  }
  Budget budget;
  return convert(docs[0], label, Location{label, 1, 1}, errors, budget, 0);
}

Value read_yaml_file(const std::filesystem::path& file, const std::string& label,
                     std::vector<Error>& errors) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    errors.emplace_back(ErrorCode::io, "cannot read experiment file: it is a directory",
                        Location{label});
    return Value();
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    errors.emplace_back(ErrorCode::io, "cannot read experiment file: " +
                                           std::string(std::strerror(errno)),
                        Location{label});
    return Value();
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_yaml(text.str(), label, errors);
}

}  // namespace pipeline::config

namespace pipeline {

Value parse_value(std::string_view yaml_text) {
  std::vector<Error> errors;
  Value v = config::parse_yaml(std::string(yaml_text), "<text>", errors);
  if (!errors.empty()) throw Error(ErrorCode::config_syntax, errors.front().message() + " in '" + std::string(yaml_text) + "'");
  return v;
}

Value parse_yaml_file(const std::string& file) {
  std::vector<Error> errors;
  Value v = config::read_yaml_file(file, file, errors);
  if (!errors.empty()) throw errors.front();
  return v;
}

}  // namespace pipeline
