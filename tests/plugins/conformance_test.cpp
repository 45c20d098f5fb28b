// Every registered type passes the testkit's conformance checks, and `pipeline inspect` describes
// each stage and layer type as the SDK's describe functions do.
#include <catch2/catch.hpp>

#include <regex>
#include <set>

#include "plan/param_check.hpp"
#include "plugin/describe.hpp"
#include "pipeline/testing.hpp"
#include "plugin/plugin_set.hpp"
#include "plugin/schema_lint.hpp"
#include "support/cli.hpp"

using namespace pipeline;

namespace {
class Collect : public Diagnostics {
 public:
  void error(const Location&, const std::string& message) override { messages.push_back(message); }
  std::vector<std::string> messages;
};

void check_ports(const std::vector<PortSpec>& ports, bool inputs) {
  static const std::regex name_re("[a-z][a-z0-9_]*");
  std::set<std::string> names;
  for (const auto& p : ports) {
    INFO("port " << p.name);
    CHECK(std::regex_match(p.name, name_re));
    CHECK(names.insert(p.name).second);
    CHECK_FALSE(p.type.empty());
    CHECK_FALSE(p.doc.empty());
    if (!inputs) {
      CHECK(p.type != "any");
      CHECK_FALSE(p.optional);
    }
  }
}
}  // namespace

TEST_CASE("every built-in type passes the testkit's conformance checks", "[conformance]") {
  // The kit that plugin authors use and `pipeline check-plugin` runs: schemas, layer shapes, clones
  // and gradients, stage runs on synthetic inputs with codecs and determinism, optimizers.
  testing::Harness kit;
  REQUIRE(kit.load_errors().empty());
  int plugins = 0;
  for (const auto& plugin : kit.plugins()) {
    INFO("plugin " << plugin.name);
    const testing::CheckResult result = kit.check_plugin(plugin.name);
    INFO(result.text());
    CHECK(result.ok());
    ++plugins;
  }
  CHECK(plugins == 6);
}

TEST_CASE("the test kit plugin's stage types have well-formed schemas", "[conformance]") {
  // They block, sleep or fail by design, so only their declarations are checked.
  PluginSet plugins;
  plugins.load_file(TESTKIT_PLUGIN);
  REQUIRE(plugins.errors().empty());
  for (const auto& name : plugins.stage_names()) {
    INFO("stage type " << name);
    for (const auto& problem : stage_schema_problems(plugins.find_stage(name)->info)) FAIL_CHECK(problem.message);
  }
}

TEST_CASE("every stage type's schema is well formed and inspectable", "[conformance]") {
  PluginSet plugins;
  plugins.load_search_path({std::filesystem::path(PIPELINE_BUILD_DIR) / PIPELINE_PLUGIN_DIR_RELATIVE_TEST,
                            TESTKIT_PLUGIN});
  REQUIRE(plugins.errors().empty());
  const auto names = plugins.stage_names();
  for (const char* expected : {"idx_dataset", "dataset_stats", "subset", "barrier"})
    CHECK(std::find(names.begin(), names.end(), expected) != names.end());

  static const std::regex name_re("[a-z][a-z0-9_]*");
  for (const auto& name : names) {
    INFO("stage type " << name);
    const RegisteredStage& stage = *plugins.find_stage(name);
    const StageInfo& info = stage.info;
    CHECK(std::regex_match(info.name, name_re));
    CHECK_FALSE(info.doc.empty());
    CHECK(info.doc.find('\n') == std::string::npos);
    CHECK(info.create);
    check_ports(info.inputs, true);
    check_ports(info.outputs, false);

    std::set<std::string> params;
    for (const auto& p : info.params) {
      INFO("parameter " << p.name);
      CHECK(std::regex_match(p.name, name_re));
      CHECK(params.insert(p.name).second);
      CHECK_FALSE(p.doc.empty());
      if (p.type == ParamType::enumeration) CHECK((!p.choices.empty() || !p.registered.empty()));
      if (p.min && p.max) CHECK(*p.min <= *p.max);
      if (p.default_value) {
        // A default must pass the parameter's own checks.
        Collect diag;
        Value v = check_value(p, *p.default_value, "default", "/", diag);
        CHECK(diag.messages.empty());
        CHECK_FALSE(v.is_null());
      }
    }

    const std::string text = describe_stage(stage);
    for (const auto& p : info.params) CHECK(text.find(p.name) != std::string::npos);
    for (const auto& p : info.inputs) CHECK(text.find(p.name) != std::string::npos);
    for (const auto& p : info.outputs) CHECK(text.find(p.name) != std::string::npos);
    auto cli = test::run_cli({"--plugin-path", TESTKIT_PLUGIN, "inspect", name});
    CHECK(cli.exit_code == 0);
    CHECK(cli.out == text);
  }
}

TEST_CASE("every layer type's schema is well formed and inspectable", "[conformance]") {
  PluginSet plugins;
  plugins.load_search_path({std::filesystem::path(PIPELINE_BUILD_DIR) / PIPELINE_PLUGIN_DIR_RELATIVE_TEST});
  REQUIRE(plugins.errors().empty());
  const auto names = layer_type_names();
  for (const char* expected : {"conv2d", "linear", "lstm", "batchnorm2d", "dropout"})
    CHECK(std::find(names.begin(), names.end(), expected) != names.end());
  static const std::regex name_re("[a-z][a-z0-9_]*");
  for (const auto& name : names) {
    INFO("layer type " << name);
    const LayerInfo* info = find_layer_type(name);
    REQUIRE(info);
    CHECK(std::regex_match(info->name, name_re));
    CHECK_FALSE(info->doc.empty());
    CHECK(info->create);
    for (const auto& p : info->params) {
      INFO("parameter " << p.name);
      CHECK(p.name != "name");  // reserved: the model builder takes it
      CHECK_FALSE(p.doc.empty());
      if (p.default_value) {
        Collect diag;
        CHECK_FALSE(check_value(p, *p.default_value, "default", "/", diag).is_null());
        CHECK(diag.messages.empty());
      }
    }
    auto cli = test::run_cli({"inspect", name});
    CHECK(cli.exit_code == 0);
    for (const auto& p : info->params) CHECK(cli.out.find(p.name) != std::string::npos);
  }
}
