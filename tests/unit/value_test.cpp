#include <catch2/catch.hpp>

#include "config/yaml_reader.hpp"
#include "pipeline/value.hpp"

using namespace pipeline;

namespace {
Value parse(const std::string& text) {
  std::vector<Error> errors;
  Value v = config::parse_yaml(text, "t.yaml", errors);
  REQUIRE(errors.empty());
  return v;
}
}  // namespace

TEST_CASE("canonical JSON ignores key order and number spelling", "[value]") {
  CHECK(parse("{b: 1, a: [0.5, x]}").canonical_json() == parse("{a: [5e-1, 'x'], b: 1.0}").canonical_json());
  CHECK(parse("{a: 1}").canonical_json() == R"({"a":1})");
  CHECK(parse("{a: 1}").canonical_json() != parse("{a: 2}").canonical_json());
  CHECK(parse("{a: '1'}").canonical_json() != parse("{a: 1}").canonical_json());
  CHECK(parse("[0.1]").canonical_json() == "[0.1]");
}

TEST_CASE("typed access reports the value's location", "[value]") {
  Value v = parse("a: 1\nb: text\n");
  CHECK(v.find("a")->as_int() == 1);
  CHECK(v.find("a")->as_float() == 1.0);
  try {
    v.find("b")->as_int();
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.formatted() == "t.yaml:2:4: error: expected int, got string text");
  }
}

TEST_CASE("maps keep insertion order and replace on set", "[value]") {
  Value m = Value::map();
  m.set("z", Value::integer(1));
  m.set("a", Value::integer(2));
  m.set("z", Value::integer(3));
  REQUIRE(m.size() == 2);
  CHECK(m.entries()[0].first == "z");
  CHECK(m.entries()[0].second.as_int() == 3);
  CHECK(m.str() == "{z: 3, a: 2}");
}
