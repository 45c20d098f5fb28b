// The loader refuses broken plugins with precise messages naming the file, and the CLI exits 3.
#include <catch2/catch.hpp>

#include "plugin/plugin_set.hpp"
#include "support/cli.hpp"

using namespace pipeline;

namespace {
const std::filesystem::path broken = BROKEN_PLUGIN_DIR;

std::vector<std::string> refusals(const std::filesystem::path& entry) {
  PluginSet plugins;
  plugins.load_search_path({entry});
  std::vector<std::string> out;
  for (const auto& e : plugins.errors()) out.push_back(e.formatted());
  return out;
}
}  // namespace

TEST_CASE("a file that is not a shared library is refused", "[loader]") {
  const auto file = broken / "not_a_library" / "not_a_library.so";
  auto errors = refusals(file);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].rfind(file.string() + ": error: not a loadable library: ", 0) == 0);
  // regression: the dynamic loader's reason, without Boost's stale errno text after it
  CHECK(errors[0] == file.string() + ": error: not a loadable library: file too short");
}

TEST_CASE("a library without the entry point is refused", "[loader]") {
  const auto file = broken / "no_entry" / "no_entry.so";
  CHECK(refusals(file) == std::vector<std::string>{
      file.string() + ": error: no entry point 'pipeline_plugin_info': not a pipeline plugin "
                      "(define one with PIPELINE_PLUGIN)"});
}

TEST_CASE("a wrong plugin API version is refused, naming both versions", "[loader]") {
  const auto file = broken / "wrong_api" / "wrong_api.so";
  CHECK(refusals(file) == std::vector<std::string>{
      file.string() + ": error: plugin API version 999, but this pipeline supports version " +
      std::to_string(PIPELINE_PLUGIN_API_VERSION)});
}

TEST_CASE("a build id mismatch is refused, naming both ids", "[loader]") {
  const auto file = broken / "wrong_build" / "wrong_build.so";
  CHECK(refusals(file) == std::vector<std::string>{
      file.string() + ": error: build id 'pipeline-0.0.0/msvc-19/msvcrt' differs from this pipeline's '" +
      PIPELINE_BUILD_ID + "'; rebuild the plugin against this SDK"});
}

TEST_CASE("two plugins registering one stage type are refused, naming both files", "[loader]") {
  const auto a = broken / "dup_a" / "dup_a.so", b = broken / "dup_a" / "dup_b.so";
  CHECK(refusals(broken / "dup_a") == std::vector<std::string>{
      b.string() + ": error: stage type 'dup_stage' is registered by both " + a.string() + " and " + b.string()});
}

TEST_CASE("a register function that throws is refused with its message", "[loader]") {
  const auto file = broken / "throws_on_register" / "throws_on_register.so";
  CHECK(refusals(file) == std::vector<std::string>{
      file.string() + ": error: registering plugin 'throws_on_register' failed: cannot find my model zoo"});
}

TEST_CASE("the CLI exits 3 on a plugin refusal, from --plugin-path or PIPELINE_PLUGIN_PATH", "[loader]") {
  const auto file = broken / "wrong_api" / "wrong_api.so";
  auto r = test::run_cli({"--plugin-path", file.string(), "plugins"});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find(file.string() + ": error: plugin API version 999") == 0);

  setenv("PIPELINE_PLUGIN_PATH", (broken / "no_entry").c_str(), 1);
  auto env = test::run_cli({"plugins"});
  unsetenv("PIPELINE_PLUGIN_PATH");
  CHECK(env.exit_code == 3);
  CHECK(env.err.find("no entry point") != std::string::npos);
}

TEST_CASE("search path order: --plugin-path, then PIPELINE_PLUGIN_PATH, then built-in", "[loader]") {
  const auto path = plugin_search_path({"/first:/second", "/third"}, "/opt/p/bin/pipeline");
  setenv("PIPELINE_PLUGIN_PATH", "/env1:/env2", 1);
  const auto with_env = plugin_search_path({"/first"}, "/opt/p/bin/pipeline");
  unsetenv("PIPELINE_PLUGIN_PATH");
  CHECK(path == std::vector<std::filesystem::path>{"/first", "/second", "/third",
                                                   std::filesystem::path("/opt/p") / PIPELINE_PLUGIN_DIR_RELATIVE_TEST});
  CHECK(with_env == std::vector<std::filesystem::path>{"/first", "/env1", "/env2",
                                                       std::filesystem::path("/opt/p") / PIPELINE_PLUGIN_DIR_RELATIVE_TEST});
}

TEST_CASE("objects made by a plugin keep its library loaded", "[loader]") {
  ArtifactPtr survivor;
  std::weak_ptr<const LoadedPlugin> plugin;
  {
    PluginSet plugins;
    plugins.load_file(TESTKIT_PLUGIN);
    REQUIRE(plugins.errors().empty());
    const RegisteredStage* emit = plugins.find_stage("emit");
    REQUIRE(emit);
    plugin = emit->plugin;
    // An artifact created by plugin code (its vtable and deleter live in the library).
    class Capture : public StageContext {
     public:
      const std::string& stage_id() const override { return id; }
      std::uint64_t seed() const override { return 1; }
      bool has_input(std::string_view) const override { return false; }
      std::vector<std::string> input_names() const override { return {}; }
      ArtifactPtr input(std::string_view) const override { return nullptr; }
      void set_output(std::string_view, ArtifactPtr a) override { out = std::move(a); }
      void metric(std::string_view, Value) override {}
      void timing(std::string_view, Value) override {}
      void progress(std::string_view) override {}
      void log(std::string_view) override {}
      bool stop_requested() const override { return false; }
      std::filesystem::path work_dir() override { return "/tmp"; }
      std::string id = "e";
      ArtifactPtr out;
    } ctx;
    emit->info.create(Params())->run(ctx);
    survivor = keep_plugin_alive(ctx.out, emit->plugin);
  }
  // The plugin set is gone; the artifact still holds the library, and its code still runs.
  CHECK_FALSE(plugin.expired());
  CHECK(survivor->type() == "token");
  survivor.reset();
  CHECK(plugin.expired());
}
