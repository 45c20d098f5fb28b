#include "plugin/extension_registry.hpp"

#include <dlfcn.h>

#include "pipeline/version.hpp"
#include "run/codecs.hpp"
#include "util/sha256.hpp"

namespace pipeline {

template <class Info>
const Info* ExtensionTable<Info>::find(const std::string& name) const {
  const Info* found = nullptr;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(name);
    if (it != entries_.end()) found = &it->second.info;
  }
  if (found) ExtensionUsageScope::record(kind_, name);
  return found;
}

template <class Info>
std::vector<std::string> ExtensionTable<Info>::names() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [name, _] : entries_) out.push_back(name);
  return out;
}

template <class Info>
std::optional<ExtensionOwner> ExtensionTable<Info>::owner(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(name);
  if (it == entries_.end()) return std::nullopt;
  return it->second.owner;
}

template <class Info>
std::string ExtensionTable<Info>::add(const std::string& name, Info info, const ExtensionOwner& owner) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(name);
  if (it != entries_.end()) {
    if (it->second.owner.id != owner.id) return it->second.owner.id;
    ++it->second.users;
    return {};
  }
  entries_.emplace(name, Entry{std::move(info), owner, 1});
  return {};
}

template <class Info>
void ExtensionTable<Info>::remove_owned_by(const std::string& owner_id) {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end();)
    it = it->second.owner.id == owner_id && --it->second.users == 0 ? entries_.erase(it) : std::next(it);
}

template class ExtensionTable<LayerInfo>;
template class ExtensionTable<OptimizerInfo>;
template class ExtensionTable<CodecInfo>;

ExtensionRegistry::ExtensionRegistry() {
  // The core's own codecs (dataset, model, metrics): owned by the core library.
  const ExtensionOwner core{"<core>", "core", PIPELINE_VERSION_STRING, core_library_sha256()};
  for (auto& codec : core_codecs()) {
    const std::string type = codec.type;
    codecs.add(type, std::move(codec), core);
  }
}

ExtensionRegistry& ExtensionRegistry::instance() {
  // Never destroyed: PluginSets that live until exit (tests keep static ones) still remove their
  // extensions from it after other statics are gone, and plugin code is never unloaded anyway.
  static ExtensionRegistry* registry = new ExtensionRegistry;
  return *registry;
}

std::optional<ExtensionOwner> ExtensionRegistry::owner(const ExtensionRef& ref) const {
  if (ref.kind == layer_kind) return layers.owner(ref.name);
  if (ref.kind == optimizer_kind) return optimizers.owner(ref.name);
  if (ref.kind == codec_kind) return codecs.owner(ref.name);
  return std::nullopt;
}

std::vector<std::string> ExtensionRegistry::names(std::string_view kind) const {
  if (kind == layer_kind) return layers.names();
  if (kind == optimizer_kind) return optimizers.names();
  if (kind == codec_kind) return codecs.names();
  return {};
}

namespace {
thread_local ExtensionUsageScope* current_scope = nullptr;
}

ExtensionUsageScope::ExtensionUsageScope() : outer_(current_scope) { current_scope = this; }
ExtensionUsageScope::~ExtensionUsageScope() { current_scope = outer_; }

void ExtensionUsageScope::record(const std::string& kind, const std::string& name) {
  if (current_scope) current_scope->used_.insert(ExtensionRef{kind, name});
}

const std::string& core_library_sha256() {
  static const std::string sum = [] {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&core_library_sha256), &info) && info.dli_fname && *info.dli_fname)
      return sha256_file(info.dli_fname);
    return std::string();
  }();
  return sum;
}

// The SDK's lookups.
const LayerInfo* find_layer_type(const std::string& name) { return ExtensionRegistry::instance().layers.find(name); }
std::vector<std::string> layer_type_names() { return ExtensionRegistry::instance().layers.names(); }
const OptimizerInfo* find_optimizer(const std::string& name) { return ExtensionRegistry::instance().optimizers.find(name); }
std::vector<std::string> optimizer_names() { return ExtensionRegistry::instance().optimizers.names(); }
const CodecInfo* find_codec(const std::string& type) { return ExtensionRegistry::instance().codecs.find(type); }
std::vector<std::string> codec_names() { return ExtensionRegistry::instance().codecs.names(); }
std::vector<std::string> registered_names(std::string_view kind) { return ExtensionRegistry::instance().names(kind); }
bool is_registered(std::string_view kind, const std::string& name) {
  return ExtensionRegistry::instance().owner(ExtensionRef{std::string(kind), name}).has_value();
}

}  // namespace pipeline
