// The loaded plugins and the stage types they registered. Loading checks each library's entry
// point (API version, build id) and refuses what does not fit, with the file named in every error.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/error.hpp"
#include "pipeline/plugin.hpp"

namespace boost::dll {
class shared_library;
}

namespace pipeline {

struct LoadedPlugin {
  std::string name;
  std::string version;
  std::string build_id;
  std::filesystem::path file;  // empty for stage types registered in-process (tests)
  std::string sha256;          // of the file: part of every content key of its stages
  std::shared_ptr<boost::dll::shared_library> library;
  std::vector<std::string> stage_types;
  std::vector<std::string> layer_types;
  std::vector<std::string> optimizers;
  std::vector<std::string> codecs;
};

// What a plugin's register function adds.
struct Registrations {
  std::vector<StageInfo> stages;
  std::vector<LayerInfo> layers;
  std::vector<OptimizerInfo> optimizers;
  std::vector<CodecInfo> codecs;
};

struct RegisteredStage {
  // Declared first so it is destroyed last: `info` holds code from the plugin's library.
  std::shared_ptr<const LoadedPlugin> plugin;
  StageInfo info;
};

class PluginSet {
 public:
  PluginSet();
  ~PluginSet();
  PluginSet(const PluginSet&) = delete;
  PluginSet& operator=(const PluginSet&) = delete;

  // Loads one plugin file. Refusals are recorded in errors() and the file is skipped.
  void load_file(const std::filesystem::path& file);
  // Loads every *.so in each directory (a file entry is loaded as it is). A plugin whose name was
  // already loaded from an earlier entry is skipped: earlier entries take precedence.
  void load_search_path(const std::vector<std::filesystem::path>& entries);
  // Registers stage types in-process, as a plugin without a library would.
  void add_builtin(const std::string& plugin_name, const std::vector<StageInfo>& stages,
                   const std::vector<LayerInfo>& layers = {});
  void add_builtin(const std::string& plugin_name, Registrations registrations);

  const RegisteredStage* find_stage(const std::string& name) const;
  std::vector<std::string> stage_names() const;  // sorted
  const std::vector<std::shared_ptr<LoadedPlugin>>& plugins() const { return plugins_; }
  const std::vector<Error>& errors() const { return errors_; }

 private:
  void register_all(const std::shared_ptr<LoadedPlugin>& plugin, Registrations registrations);
  template <class Info, class Table>
  void register_extensions(LoadedPlugin& plugin, std::vector<Info>& infos, Table& table,
                           std::vector<std::string>& names, const char* what);

  std::vector<std::shared_ptr<LoadedPlugin>> plugins_;
  std::map<std::string, std::unique_ptr<RegisteredStage>> stages_;
  std::vector<Error> errors_;
};

// The plugin search path: --plugin-path entries, then PIPELINE_PLUGIN_PATH (colon-separated),
// then the built-in directory beside the executable (<exe>/../lib/pipeline/plugins).
std::vector<std::filesystem::path> plugin_search_path(
    const std::vector<std::string>& command_line_entries, const std::filesystem::path& executable);

// Wraps an artifact made by a plugin so that the plugin's library stays loaded while it lives.
ArtifactPtr keep_plugin_alive(ArtifactPtr artifact, std::shared_ptr<const LoadedPlugin> plugin);

}  // namespace pipeline
