#include "run/cache.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "pipeline/io.hpp"
#include "pipeline/json.hpp"
#include "plugin/extension_registry.hpp"
#include "run/codecs.hpp"
#include "util/sha256.hpp"

namespace pipeline {

std::filesystem::path default_cache_dir() {
  if (const char* env = std::getenv("PIPELINE_CACHE_DIR"); env && *env) return env;
  return ".pipeline-cache";
}

bool Cache::cacheable(const PlannedStage& stage) {
  if (!stage.type->info.cacheable || stage.type->info.outputs.empty()) return false;
  // A stage given a file to write (a path parameter that need not exist, e.g. evaluate's
  // predictions) runs for that file every time.
  for (const auto& spec : stage.type->info.params)
    if (spec.type == ParamType::path && !spec.must_exist && stage.params.has(spec.name)) return false;
  for (const auto& p : stage.type->info.outputs)
    if (!can_encode(p.type)) return false;
  return true;
}

bool Cache::has(const std::string& key) const {
  std::error_code ec;
  return std::filesystem::exists(entry_dir(key) / "manifest.json", ec);
}

Value Cache::describe(const Plan& plan, const PlannedStage& stage) {
  Value d = Value::map();
  d.set("stage", Value::string(stage.id.substr(0, stage.id.rfind('@'))));
  d.set("type", Value::string(stage.type->info.name));
  d.set("plugin_version", Value::string(stage.type->plugin->version));
  d.set("plugin_sha256", Value::string(stage.type->plugin->sha256));
  d.set("core_sha256", Value::string(core_library_sha256()));
  Value extensions = Value::map();
  for (const auto& ref : stage.extensions)
    if (auto owner = ExtensionRegistry::instance().owner(ref)) {
      Value o = Value::map();
      o.set("plugin", Value::string(owner->plugin));
      o.set("version", Value::string(owner->version));
      o.set("sha256", Value::string(owner->sha256));
      extensions.set(ref.kind + ":" + ref.name, o);
    }
  d.set("extensions", extensions);
  d.set("params", stage.params.all());
  Value inputs = Value::map();
  for (const auto& in : stage.inputs)
    inputs.set(in.port, Value::string(plan.stages[in.producer].id + "." + in.producer_port + "@" +
                                      plan.stages[in.producer].key.substr(0, 12)));
  d.set("inputs", inputs);
  d.set("seed", Value::string(std::to_string(stage.seed)));
  return d;
}

std::optional<CachedStage> Cache::load(const PlannedStage& stage, std::string& problem) const {
  const auto dir = entry_dir(stage.key);
  std::error_code ec;
  if (!std::filesystem::exists(dir / "manifest.json", ec)) return std::nullopt;
  try {
    std::ifstream in(dir / "manifest.json", std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    const Value manifest = parse_json(text.str(), "manifest.json");
    CachedStage cached;
    for (const auto& [port, out] : manifest.find("outputs")->entries()) {
      for (const auto& [file, sum] : out.find("files")->entries())
        if (sha256_file(dir / file) != sum.as_string())
          throw Error(ErrorCode::data_format, "checksum mismatch in " + file);
      cached.outputs.emplace_back(port, decode_artifact(out.find("type")->as_string(), dir / port));
    }
    cached.metrics = *manifest.find("metrics");
    return cached;
  } catch (const std::exception& e) {
    problem = std::string("corrupt cache entry ") + stage.key.substr(0, 12) + " (" + e.what() + "): recomputing";
    remove(stage.key);
    return std::nullopt;
  }
}

void Cache::store(const PlannedStage& stage, const std::vector<std::pair<std::string, ArtifactPtr>>& outputs,
                  const Value& metrics, const Value& description) const {
  namespace fs = std::filesystem;
  const auto final_dir = entry_dir(stage.key);
  fs::create_directories(final_dir.parent_path());
  // Written aside and renamed into place: an entry is complete or absent, even after kill -9.
  const auto temp = final_dir.parent_path() / (".tmp-" + stage.key + "-" + std::to_string(::getpid()));
  fs::remove_all(temp);
  try {
    Value outs = Value::map();
    for (const auto& [port, artifact] : outputs) {
      const auto port_dir = temp / port;
      fs::create_directories(port_dir);
      Value files = Value::map();
      for (const auto& f : encode_artifact(*artifact, port_dir)) files.set(port + "/" + f, Value::string(sha256_file(port_dir / f)));
      Value o = Value::map();
      o.set("type", Value::string(artifact->type()));
      o.set("files", files);
      outs.set(port, o);
    }
    Value manifest = Value::map();
    manifest.set("key", Value::string(stage.key));
    manifest.set("outputs", outs);
    manifest.set("metrics", metrics);
    manifest.set("stage", description);
    write_file_atomic(temp / "manifest.json", [&](std::ostream& out) { out << to_json(manifest); });
    std::error_code ec;
    fs::rename(temp, final_dir, ec);
    if (ec) fs::remove_all(temp);  // another process stored the same key first: theirs is as good
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(temp, ignored);
    throw;
  }
}

std::vector<Cache::Entry> Cache::entries() const {
  namespace fs = std::filesystem;
  std::vector<Entry> out;
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) return out;
  for (const auto& shard : fs::directory_iterator(root_, ec)) {
    if (!shard.is_directory()) continue;
    for (const auto& e : fs::directory_iterator(shard.path(), ec)) {
      const auto name = e.path().filename().string();
      if (name.rfind(".tmp-", 0) == 0 || !fs::exists(e.path() / "manifest.json")) continue;
      Entry entry;
      entry.key = name;
      try {
        std::ifstream in(e.path() / "manifest.json");
        std::ostringstream text;
        text << in.rdbuf();
        entry.manifest = parse_json(text.str(), "manifest.json");
      } catch (const std::exception&) {
      }
      for (const auto& f : fs::recursive_directory_iterator(e.path(), ec))
        if (f.is_regular_file()) entry.bytes += f.file_size();
      entry.written = fs::last_write_time(e.path() / "manifest.json", ec);
      out.push_back(std::move(entry));
    }
  }
  return out;
}

void Cache::remove(const std::string& key) const {
  std::error_code ignored;
  std::filesystem::remove_all(entry_dir(key), ignored);
}

}  // namespace pipeline
