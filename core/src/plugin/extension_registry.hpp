// The process-wide tables of registered extensions (layer types, optimizers, codecs), filled as
// plugins load. Extensions must be visible to every plugin (a model stage builds layers that other
// plugins registered), hence one table per kind, each entry remembering the plugin that owns it so
// content keys can cover that plugin's binary.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pipeline/codec.hpp"
#include "pipeline/extensions.hpp"
#include "pipeline/layer.hpp"
#include "pipeline/optimizer.hpp"

namespace pipeline {

// Who registered an extension: what a content key records of it.
struct ExtensionOwner {
  std::string id;       // the plugin file, or "<built-in NAME>": clashes are judged by it
  std::string plugin;   // the plugin's name
  std::string version;  // the plugin's version string
  std::string sha256;   // of the plugin file (of the core library for the core's own codecs)
};

template <class Info>
class ExtensionTable {
 public:
  explicit ExtensionTable(std::string kind) : kind_(std::move(kind)) {}
  const std::string& kind() const { return kind_; }
  // The extension, or null; records the lookup for the stage running on this thread.
  const Info* find(const std::string& name) const;
  std::vector<std::string> names() const;
  std::optional<ExtensionOwner> owner(const std::string& name) const;
  // Adds an extension; returns the existing owner's id on a clash with another owner (the same
  // owner again, as when two PluginSets load one file, only counts a user).
  std::string add(const std::string& name, Info info, const ExtensionOwner& owner);
  void remove_owned_by(const std::string& owner_id);

 private:
  struct Entry {
    Info info;
    ExtensionOwner owner;
    int users = 0;
  };
  std::string kind_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

class ExtensionRegistry {
 public:
  static ExtensionRegistry& instance();
  ExtensionTable<LayerInfo> layers{std::string(layer_kind)};
  ExtensionTable<OptimizerInfo> optimizers{std::string(optimizer_kind)};
  ExtensionTable<CodecInfo> codecs{std::string(codec_kind)};

  std::optional<ExtensionOwner> owner(const ExtensionRef& ref) const;
  std::vector<std::string> names(std::string_view kind) const;

 private:
  ExtensionRegistry();
};

// The extensions looked up on this thread while the scope lives: the runner compares them with
// what a stage declared, so a stage whose key misses one is not cached.
class ExtensionUsageScope {
 public:
  ExtensionUsageScope();
  ~ExtensionUsageScope();
  ExtensionUsageScope(const ExtensionUsageScope&) = delete;
  ExtensionUsageScope& operator=(const ExtensionUsageScope&) = delete;
  const std::set<ExtensionRef>& used() const { return used_; }
  static void record(const std::string& kind, const std::string& name);

 private:
  std::set<ExtensionRef> used_;
  ExtensionUsageScope* outer_;
};

// SHA-256 of the core library file (libpipeline.so): its code (Model, the codecs) shapes results.
const std::string& core_library_sha256();

}  // namespace pipeline
