#define BOOST_DLL_USE_STD_FS
#include "plugin/plugin_set.hpp"
#include "plugin/extension_registry.hpp"
#include "plugin/schema_lint.hpp"
#include "run/crash_report.hpp"
#include "util/sha256.hpp"

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace pipeline {
namespace {

// Collects what a plugin's register function adds.
class CollectingRegistry : public Registry {
 public:
  void add_stage(StageInfo info) override { added.stages.push_back(std::move(info)); }
  void add_layer(LayerInfo info) override { added.layers.push_back(std::move(info)); }
  void add_optimizer(OptimizerInfo info) override { added.optimizers.push_back(std::move(info)); }
  void add_codec(CodecInfo info) override { added.codecs.push_back(std::move(info)); }
  Registrations added;
};

const std::string& name_of(const LayerInfo& i) { return i.name; }
const std::string& name_of(const OptimizerInfo& i) { return i.name; }
const std::string& name_of(const CodecInfo& i) { return i.type; }
std::vector<SchemaProblem> problems_of(const LayerInfo& i) { return layer_schema_problems(i); }
std::vector<SchemaProblem> problems_of(const OptimizerInfo& i) { return optimizer_schema_problems(i); }
std::vector<SchemaProblem> problems_of(const CodecInfo& i) { return codec_problems(i); }

// Every layer made through the registry remembers its checked parameters, so a model can be
// rebuilt from its description (the cache), whichever plugin or stage made it.
void remember_spec(LayerInfo& info) {
  info.create = [create = std::move(info.create)](const std::string& layer_name, const Params& params,
                                                  const Shape& input) {
    std::unique_ptr<Layer> layer = create(layer_name, params, input);
    if (layer) layer->set_spec(params.all());
    return layer;
  };
}
void remember_spec(OptimizerInfo&) {}
void remember_spec(CodecInfo&) {}

bool is_shared_library(const std::filesystem::path& p) {
  return p.extension() == ".so" || p.filename().string().find(".so.") != std::string::npos;
}

}  // namespace

PluginSet::PluginSet() = default;
namespace {
std::string owner_of(const LoadedPlugin& plugin) {
  return plugin.file.empty() ? "<built-in " + plugin.name + ">" : plugin.file.string();
}
}  // namespace

PluginSet::~PluginSet() {
  // Stage and layer infos hold code from the libraries: drop them before the last library
  // reference.
  stages_.clear();
  auto& registry = ExtensionRegistry::instance();
  for (const auto& p : plugins_) {
    if (!p->layer_types.empty()) registry.layers.remove_owned_by(owner_of(*p));
    if (!p->optimizers.empty()) registry.optimizers.remove_owned_by(owner_of(*p));
    if (!p->codecs.empty()) registry.codecs.remove_owned_by(owner_of(*p));
  }
}

void PluginSet::load_file(const std::filesystem::path& file) {
  const std::string where = file.string();
  auto refuse = [&](ErrorCode code, const std::string& message) {
    errors_.emplace_back(code, message, Location{where});
  };

  // A plugin that crashes in its static initialisers or its register function is named.
  CrashContext loading("the load of plugin file " + where);
  auto library = std::make_shared<boost::dll::shared_library>();
  try {
    library->load(file, boost::dll::load_mode::rtld_lazy | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    // Boost wraps dlerror()'s text and appends a stale errno ("...): Bad file descriptor"):
    // the dynamic loader's own words are the reason.
    std::string reason = e.what();
    const std::string marker = "dlerror system message: ";
    if (const auto at = reason.find(marker); at != std::string::npos) {
      reason = reason.substr(at + marker.size());
      if (const auto end = reason.rfind("): "); end != std::string::npos) reason = reason.substr(0, end);
      const std::string prefix = file.string() + ": ";
      if (reason.rfind(prefix, 0) == 0) reason = reason.substr(prefix.size());
    }
    refuse(ErrorCode::plugin_load, "not a loadable library: " + reason);
    return;
  }
  // A loaded plugin stays mapped until the process ends. Objects cross plugins (a model from the
  // layers plugin is trained by the train plugin and output by it), and a virtual destructor or
  // deleter in unmapped code crashes; tracking every such owner is fragile, so nothing unloads.
  static auto* never_unloaded = new std::vector<std::shared_ptr<boost::dll::shared_library>>;
  static std::mutex never_unloaded_mutex;
  {
    std::lock_guard lock(never_unloaded_mutex);
    never_unloaded->push_back(library);
  }
  if (!library->has(PIPELINE_PLUGIN_ENTRY_SYMBOL)) {
    refuse(ErrorCode::plugin_load, std::string("no entry point '") + PIPELINE_PLUGIN_ENTRY_SYMBOL +
                                       "': not a pipeline plugin (define one with PIPELINE_PLUGIN)");
    return;
  }
  const auto& info = library->get<const PipelinePluginInfo>(PIPELINE_PLUGIN_ENTRY_SYMBOL);
  if (info.api_version != PIPELINE_PLUGIN_API_VERSION) {
    refuse(ErrorCode::plugin_abi, "plugin API version " + std::to_string(info.api_version) +
                                      ", but this pipeline supports version " +
                                      std::to_string(PIPELINE_PLUGIN_API_VERSION));
    return;
  }
  const std::string name = info.name ? info.name : "";
  const std::string build_id = info.build_id ? info.build_id : "";
  if (build_id != PIPELINE_BUILD_ID) {
    refuse(ErrorCode::plugin_abi, "build id '" + build_id + "' differs from this pipeline's '" +
                                      PIPELINE_BUILD_ID + "'; rebuild the plugin against this SDK");
    return;
  }
  if (name.empty() || !info.register_plugin) {
    refuse(ErrorCode::plugin_load, "entry point has no plugin name or register function");
    return;
  }
  for (const auto& p : plugins_) {
    if (p->name == name) return;  // shadowed by an earlier search path entry
  }

  auto plugin = std::make_shared<LoadedPlugin>();
  plugin->name = name;
  plugin->version = info.version ? info.version : "";
  plugin->build_id = build_id;
  plugin->file = file;
  plugin->library = library;
  plugin->sha256 = sha256_file(file);

  CollectingRegistry registry;
  try {
    info.register_plugin(registry);
  } catch (const std::exception& e) {
    refuse(ErrorCode::plugin_load, "registering plugin '" + name + "' failed: " + e.what());
    return;
  } catch (...) {
    refuse(ErrorCode::plugin_load, "registering plugin '" + name + "' failed: it threw a non-standard exception");
    return;
  }
  register_all(plugin, std::move(registry.added));
}

void PluginSet::add_builtin(const std::string& plugin_name, const std::vector<StageInfo>& stages,
                            const std::vector<LayerInfo>& layers) {
  add_builtin(plugin_name, Registrations{stages, layers, {}, {}});
}

void PluginSet::add_builtin(const std::string& plugin_name, Registrations registrations) {
  auto plugin = std::make_shared<LoadedPlugin>();
  plugin->name = plugin_name;
  plugin->version = PIPELINE_VERSION_STRING;
  plugin->build_id = PIPELINE_BUILD_ID;
  register_all(plugin, std::move(registrations));
}

template <class Info, class Table>
void PluginSet::register_extensions(LoadedPlugin& plugin, std::vector<Info>& infos, Table& table,
                                    std::vector<std::string>& names, const char* what) {
  const std::string where = owner_of(plugin);
  const ExtensionOwner owner{where, plugin.name, plugin.version, plugin.sha256};
  for (auto& info : infos) {
    const std::string name = name_of(info);
    bool refused = false;
    for (const auto& problem : problems_of(info))
      if (problem.fatal) {
        errors_.emplace_back(ErrorCode::plugin_load, std::string(what) + " '" + name + "': " + problem.message,
                             Location{where});
        refused = true;
      }
    if (refused) continue;
    remember_spec(info);
    const std::string other = table.add(name, std::move(info), owner);
    if (!other.empty()) {
      errors_.emplace_back(ErrorCode::plugin_load,
                           std::string(what) + " '" + name + "' is registered by both " + other + " and " + where,
                           Location{where});
      continue;
    }
    names.push_back(name);
  }
}

void PluginSet::register_all(const std::shared_ptr<LoadedPlugin>& plugin, Registrations r) {
  const std::string where = owner_of(*plugin);
  const bool nothing = r.stages.empty() && r.layers.empty() && r.optimizers.empty() && r.codecs.empty();
  auto& registry = ExtensionRegistry::instance();
  // Extensions first: a stage's schema may name them (an optimizer's default, say).
  register_extensions(*plugin, r.layers, registry.layers, plugin->layer_types, "layer type");
  register_extensions(*plugin, r.optimizers, registry.optimizers, plugin->optimizers, "optimizer");
  register_extensions(*plugin, r.codecs, registry.codecs, plugin->codecs, "codec for type");
  for (auto& info : r.stages) {
    bool refused = false;
    for (const auto& problem : stage_schema_problems(info))
      if (problem.fatal) {
        errors_.emplace_back(ErrorCode::plugin_load, "stage type '" + info.name + "': " + problem.message,
                             Location{where});
        refused = true;
      }
    if (refused) continue;
    if (auto it = stages_.find(info.name); it != stages_.end()) {
      const auto& other = it->second->plugin;
      errors_.emplace_back(ErrorCode::plugin_load,
                           "stage type '" + info.name + "' is registered by both " +
                               (other->file.empty() ? other->name : other->file.string()) +
                               " and " + where,
                           Location{where});
      continue;
    }
    plugin->stage_types.push_back(info.name);
    auto entry = std::make_unique<RegisteredStage>();
    entry->plugin = plugin;
    entry->info = std::move(info);
    stages_.emplace(entry->info.name, std::move(entry));
  }
  const bool any = !plugin->stage_types.empty() || !plugin->layer_types.empty() || !plugin->optimizers.empty() ||
                   !plugin->codecs.empty();
  if (any || nothing) plugins_.push_back(plugin);
}

void PluginSet::load_search_path(const std::vector<std::filesystem::path>& entries) {
  namespace fs = std::filesystem;
  for (const auto& entry : entries) {
    std::error_code ec;
    if (fs::is_directory(entry, ec)) {
      std::vector<fs::path> files;
      for (const auto& f : fs::directory_iterator(entry, ec))
        if (f.is_regular_file(ec) && is_shared_library(f.path())) files.push_back(f.path());
      std::sort(files.begin(), files.end());  // a stable order, whatever the file system's
      for (const auto& f : files) load_file(f);
    } else if (fs::exists(entry, ec)) {
      load_file(entry);
    }
    // A search path entry that does not exist is not an error, as with PATH.
  }
}

const RegisteredStage* PluginSet::find_stage(const std::string& name) const {
  auto it = stages_.find(name);
  return it == stages_.end() ? nullptr : it->second.get();
}

std::vector<std::string> PluginSet::stage_names() const {
  std::vector<std::string> names;
  for (const auto& [name, _] : stages_) names.push_back(name);
  return names;
}

std::vector<std::filesystem::path> plugin_search_path(
    const std::vector<std::string>& command_line_entries, const std::filesystem::path& executable) {
  std::vector<std::filesystem::path> path;
  auto add_list = [&](const std::string& list) {
    std::size_t start = 0;
    while (start <= list.size()) {
      std::size_t end = list.find(':', start);
      if (end == std::string::npos) end = list.size();
      if (end > start) path.emplace_back(list.substr(start, end - start));
      start = end + 1;
    }
  };
  for (const auto& e : command_line_entries) add_list(e);
  if (const char* env = std::getenv("PIPELINE_PLUGIN_PATH")) add_list(env);
  path.push_back(executable.parent_path().parent_path() / PIPELINE_PLUGIN_DIR_RELATIVE);
  return path;
}

namespace {
// Destroys the artifact (plugin code) before releasing the library that holds that code.
struct PluginArtifactHolder {
  std::shared_ptr<const LoadedPlugin> plugin;
  ArtifactPtr artifact;
};
}  // namespace

ArtifactPtr keep_plugin_alive(ArtifactPtr artifact, std::shared_ptr<const LoadedPlugin> plugin) {
  if (!artifact || !plugin || !plugin->library) return artifact;
  const Artifact* raw = artifact.get();
  auto holder = std::make_shared<PluginArtifactHolder>(PluginArtifactHolder{std::move(plugin), std::move(artifact)});
  return ArtifactPtr(holder, raw);
}

}  // namespace pipeline
