#include <catch2/catch.hpp>

#include <cmath>

#include "config/yaml_reader.hpp"

using namespace pipeline;
using config::parse_yaml;

TEST_CASE("scalars are typed by the YAML 1.2 core schema", "[yaml]") {
  std::vector<Error> errors;
  Value v = parse_yaml("i: 42\nn: -7\nh: 0x1F\nf: 0.5\ne: 1e-3\nb: true\nB: False\nz: ~\ns: hello\n"
                       "q: '42'\ninf: .inf\nv: 1.2.3\n",
                       "t.yaml", errors);
  REQUIRE(errors.empty());
  CHECK(v.find("i")->as_int() == 42);
  CHECK(v.find("n")->as_int() == -7);
  CHECK(v.find("h")->as_int() == 31);
  CHECK(v.find("f")->as_float() == 0.5);
  CHECK(v.find("e")->kind() == Value::Kind::real);
  CHECK(v.find("b")->as_bool());
  CHECK_FALSE(v.find("B")->as_bool());
  CHECK(v.find("z")->is_null());
  CHECK(v.find("s")->as_string() == "hello");
  CHECK(v.find("q")->as_string() == "42");  // quoted: a string
  CHECK(std::isinf(v.find("inf")->as_float()));
  CHECK(v.find("v")->as_string() == "1.2.3");
}

TEST_CASE("every node and key carries its 1-based location", "[yaml]") {
  std::vector<Error> errors;
  Value v = parse_yaml("stages:\n  a:\n    params: {x: [1, 2]}\n", "t.yaml", errors);
  REQUIRE(errors.empty());
  const Value& a = *v.find("stages")->find("a");
  CHECK(v.find("stages")->key_location("a").str() == "t.yaml:2:3");
  CHECK(a.key_location("params").str() == "t.yaml:3:5");
  const Value& x = *a.find("params")->find("x");
  CHECK(x.items()[1].location().str() == "t.yaml:3:21");
}

TEST_CASE("duplicate keys are reported at the second key, the first definition kept", "[yaml]") {
  std::vector<Error> errors;
  Value v = parse_yaml("a: 1\nb:\n  c: 2\n  c: 3\na: 4\n", "t.yaml", errors);
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].formatted() == "t.yaml:4:3: error: duplicate key 'c' (first defined at line 3)");
  CHECK(errors[1].formatted() == "t.yaml:5:1: error: duplicate key 'a' (first defined at line 1)");
  CHECK(v.find("a")->as_int() == 1);
  CHECK(v.find("b")->find("c")->as_int() == 2);
}

TEST_CASE("syntax errors carry yaml-cpp's position", "[yaml]") {
  std::vector<Error> errors;
  Value v = parse_yaml("a: [1, 2\nb: 3\n", "t.yaml", errors);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code() == ErrorCode::config_syntax);
  CHECK(errors[0].location().file == "t.yaml");
  CHECK(errors[0].location().line >= 1);
  CHECK(errors[0].message().rfind("invalid YAML: ", 0) == 0);
  CHECK(v.is_null());
}

TEST_CASE("an empty document is null", "[yaml]") {
  std::vector<Error> errors;
  CHECK(parse_yaml("", "t.yaml", errors).is_null());
  CHECK(parse_yaml("# only a comment\n", "t.yaml", errors).is_null());
  CHECK(errors.empty());
}

TEST_CASE("regression: text yaml-cpp's LoadAll never finishes on ends in an error at once", "[yaml][hardening]") {
  // Found by fuzz_override: a value of ", 2" made LoadAll yield empty documents forever.
  for (const std::string text : {", 2", ",", "a: 1\n, 2"}) {
    std::vector<Error> errors;
    parse_yaml(text, "t.yaml", errors);
    INFO(text);
    REQUIRE(errors.size() >= 1);
    CHECK(errors[0].formatted().find("error: ") != std::string::npos);
  }
  std::vector<Error> errors;
  parse_yaml("a: 1\n---\nb: 2\n---\nc: 3\n", "t.yaml", errors);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].formatted() == "t.yaml:2:1: error: expected one YAML document, found 3");
}
