// Harness: plugins loaded as the CLI loads them, and one stage run with an in-memory context.
#include <dlfcn.h>
#include <unistd.h>

#include <atomic>

#include "pipeline/schema.hpp"
#include "pipeline/testing.hpp"
#include "plugin/plugin_set.hpp"
#include "testing/harness_impl.hpp"

namespace pipeline::testing {
namespace {

class HarnessContext : public StageContext {
 public:
  HarnessContext(const StageInfo& info, const std::map<std::string, ArtifactPtr>& inputs, std::uint64_t seed,
                 StageRun& run)
      : info_(info), inputs_(inputs), seed_(seed), run_(run) {}

  const std::string& stage_id() const override { return info_.name; }
  std::uint64_t seed() const override { return seed_; }
  bool has_input(std::string_view port) const override { return inputs_.count(std::string(port)) > 0; }
  std::vector<std::string> input_names() const override {
    std::vector<std::string> names;
    for (const auto& [name, _] : inputs_) names.push_back(name);
    return names;
  }
  ArtifactPtr input(std::string_view port) const override {
    auto it = inputs_.find(std::string(port));
    if (it == inputs_.end()) throw Error(ErrorCode::missing_input, "input '" + std::string(port) + "' is not connected");
    return it->second;
  }
  void set_output(std::string_view port, ArtifactPtr artifact) override {
    const PortSpec* spec = nullptr;
    for (const auto& p : info_.outputs)
      if (p.name == port) spec = &p;
    if (!spec) throw Error(ErrorCode::internal, "set_output: no output port '" + std::string(port) + "'");
    if (!artifact || artifact->type() != spec->type)
      throw Error(ErrorCode::internal, "set_output '" + std::string(port) + "': expected a " + spec->type +
                                           " artifact, got " + (artifact ? artifact->type() : "null"));
    run_.outputs[std::string(port)] = std::move(artifact);
  }
  void metric(std::string_view key, Value value) override { run_.metrics.set(std::string(key), std::move(value)); }
  void timing(std::string_view key, Value value) override { run_.timings.set(std::string(key), std::move(value)); }
  void progress(std::string_view) override {}
  void log(std::string_view line) override { run_.logs.emplace_back(line); }
  void result(std::string_view text) override { run_.results.emplace_back(text); }
  bool stop_requested() const override { return false; }
  std::filesystem::path work_dir() override {
    static std::atomic<int> counter{0};
    auto dir = std::filesystem::temp_directory_path() /
               ("pipeline-testkit-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    std::filesystem::create_directories(dir);
    return dir;
  }

 private:
  const StageInfo& info_;
  const std::map<std::string, ArtifactPtr>& inputs_;
  std::uint64_t seed_;
  StageRun& run_;
};

class Collect : public Diagnostics {
 public:
  void error(const Location&, const std::string& message) override { messages.push_back(message); }
  std::vector<std::string> messages;
};

// The built-in plugin directory: LIBDIR/pipeline/plugins beside this library in LIBDIR, in the
// build tree and the install tree alike.
std::filesystem::path builtin_plugin_dir() {
  Dl_info info{};
  if (!dladdr(reinterpret_cast<void*>(&make_metrics), &info) || !info.dli_fname) return {};
  std::error_code ec;
  const std::filesystem::path lib = std::filesystem::canonical(info.dli_fname, ec);
  return ec ? std::filesystem::path() : lib.parent_path() / "pipeline" / "plugins";
}

}  // namespace

Harness::Harness(std::vector<std::filesystem::path> plugins, bool with_builtin) : impl_(std::make_unique<Impl>()) {
  if (with_builtin) {
    const auto dir = builtin_plugin_dir();
    if (!dir.empty()) plugins.push_back(dir);
  }
  impl_->plugins.load_search_path(plugins);
}

Harness::~Harness() = default;

std::vector<std::string> Harness::load_errors() const {
  std::vector<std::string> out;
  for (const auto& e : impl_->plugins.errors()) out.push_back(e.formatted());
  return out;
}

std::vector<std::string> Harness::stage_types() const { return impl_->plugins.stage_names(); }

std::vector<Harness::PluginTypes> Harness::plugins() const {
  std::vector<PluginTypes> out;
  for (const auto& p : impl_->plugins.plugins())
    out.push_back({p->name, p->version, p->file.string(), p->stage_types, p->layer_types, p->optimizers, p->codecs});
  return out;
}

StageRun Harness::run_stage(const std::string& type, const Value& params, const std::map<std::string, ArtifactPtr>& inputs,
                            std::uint64_t seed) {
  const RegisteredStage* stage = impl_->plugins.find_stage(type);
  if (!stage) {
    const std::string hint = did_you_mean(type, impl_->plugins.stage_names());
    throw Error(ErrorCode::unknown_plugin, "no stage type '" + type + "'" + (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
  }
  const StageInfo& info = stage->info;
  Collect diag;
  const Params checked = check_params(info.params, params, "stage type " + type, {}, std::filesystem::current_path(), diag);
  if (diag.messages.empty() && info.check) info.check(checked, diag);
  if (!diag.messages.empty()) {
    std::string message;
    for (const auto& m : diag.messages) message += (message.empty() ? "" : "\n") + m;
    throw Error(ErrorCode::config_schema, message);
  }
  for (const auto& port : info.inputs)
    if (!port.optional && !port.variadic && !inputs.count(port.name))
      throw Error(ErrorCode::missing_input, "stage type " + type + ": input '" + port.name + "' (" + port.type + ") is required");
  StageRun run;
  HarnessContext context(info, inputs, seed, run);
  std::unique_ptr<Stage> impl = info.create(checked);
  if (!impl) throw Error(ErrorCode::internal, "stage type " + type + ": create returned nothing");
  impl->run(context);
  return run;
}

}  // namespace pipeline::testing
