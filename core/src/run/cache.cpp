#include "run/cache.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <random>
#include <fstream>
#include <sstream>

#include "pipeline/io.hpp"
#include "pipeline/json.hpp"
#include "plugin/extension_registry.hpp"
#include "run/codecs.hpp"
#include "util/sha256.hpp"

namespace pipeline {

std::string writer_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "host");
  std::random_device random;
  return std::string(host) + "-" + std::to_string(::getpid()) + "-" + std::to_string(random());
}

bool is_shard_name(const std::string& name) {
  return name.size() == 2 && std::isxdigit(static_cast<unsigned char>(name[0])) &&
         std::isxdigit(static_cast<unsigned char>(name[1]));
}

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

bool Cache::encodable(const PlannedStage& stage) {
  if (stage.type->info.outputs.empty()) return false;
  for (const auto& p : stage.type->info.outputs)
    if (!can_encode(p.type)) return false;
  return true;
}

bool Cache::has_valid(const std::string& key) const {
  if (!has(key)) return false;
  try {
    read_manifest(key);
    return true;
  } catch (const std::exception&) {
    return false;
  }
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
  d.set("files", stage.files);
  Value inputs = Value::map();
  for (const auto& in : stage.inputs)
    inputs.set(in.port, Value::string(plan.stages[in.producer].id + "." + in.producer_port + "@" +
                                      plan.stages[in.producer].key.substr(0, 12)));
  d.set("inputs", inputs);
  d.set("seed", Value::string(std::to_string(stage.seed)));
  return d;
}

namespace {

std::string read_all(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorCode::data_format, "cannot read " + file.filename().string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A file name a manifest may list: relative, inside its entry, no "..", and a regular file there
// (not a link, not a device such as /dev/zero).
void check_entry_file(const std::filesystem::path& dir, const std::string& name) {
  const std::filesystem::path rel(name);
  if (name.empty() || rel.is_absolute() || rel.lexically_normal().string().rfind("..", 0) == 0 ||
      name.find('\0') != std::string::npos)
    throw Error(ErrorCode::data_format, "the manifest names a file outside its entry: '" + name + "'");
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(dir / rel, ec);
  if (ec || !std::filesystem::is_regular_file(status))
    throw Error(ErrorCode::data_format, "the manifest's file '" + name + "' is missing or not a regular file");
}

}  // namespace

Value Cache::read_manifest(const std::string& key) const {
  const auto dir = entry_dir(key);
  const std::string text = read_all(dir / "manifest.json");
  // The manifest (metrics included) is covered by its own checksum: an edit is corruption.
  const std::string sum = read_all(dir / "manifest.sha256");
  if (sha256_hex(text) != sum) throw Error(ErrorCode::data_format, "manifest checksum mismatch");
  Value manifest = parse_json(text, "manifest.json");
  auto need = [&](const Value* v, bool map, const std::string& what) -> const Value& {
    if (!v || (map ? !v->is_map() : !v->is_string())) throw Error(ErrorCode::data_format, "the manifest lacks a valid " + what);
    return *v;
  };
  if (!manifest.is_map()) throw Error(ErrorCode::data_format, "the manifest is not a JSON object");
  if (need(manifest.find("key"), false, "key").as_string() != key) throw Error(ErrorCode::data_format, "the manifest is another key's");
  need(manifest.find("metrics"), true, "metrics map");
  need(manifest.find("stage"), true, "stage description");
  if (const Value* results = manifest.find("results")) {  // optional: entries before results existed
    if (!results->is_list()) throw Error(ErrorCode::data_format, "the manifest's results are not a list");
    for (const auto& r : results->items())
      if (!r.is_string()) throw Error(ErrorCode::data_format, "the manifest's results are not all text");
  }
  for (const auto& [port, out] : need(manifest.find("outputs"), true, "outputs map").entries()) {
    need(out.find("type"), false, "type of output '" + port + "'");
    for (const auto& [file, checksum] : need(out.find("files"), true, "file list of output '" + port + "'").entries()) {
      if (!checksum.is_string()) throw Error(ErrorCode::data_format, "the manifest's checksum of '" + file + "' is not a string");
      check_entry_file(dir, file);
    }
  }
  return manifest;
}

std::optional<CachedStage> Cache::load(const PlannedStage& stage, std::string& problem) const {
  const auto dir = entry_dir(stage.key);
  std::error_code ec;
  if (!std::filesystem::exists(dir / "manifest.json", ec)) return std::nullopt;
  try {
    const Value manifest = read_manifest(stage.key);
    CachedStage cached;
    const Value& outputs = *manifest.find("outputs");
    // Exactly the stage's declared outputs, each of its declared type.
    for (const auto& port : stage.type->info.outputs) {
      const Value* out = outputs.find(port.name);
      if (!out) throw Error(ErrorCode::data_format, "no output '" + port.name + "'");
      if (out->find("type")->as_string() != port.type)
        throw Error(ErrorCode::data_format, "output '" + port.name + "' is a " + out->find("type")->as_string() + ", not a " + port.type);
      for (const auto& [file, sum] : out->find("files")->entries())
        if (sha256_file(dir / file) != sum.as_string()) throw Error(ErrorCode::data_format, "checksum mismatch in " + file);
      ArtifactPtr artifact = decode_artifact(port.type, dir / port.name);
      if (!artifact || artifact->type() != port.type) throw Error(ErrorCode::data_format, "output '" + port.name + "' does not decode");
      cached.outputs.emplace_back(port.name, std::move(artifact));
    }
    if (outputs.size() != stage.type->info.outputs.size()) throw Error(ErrorCode::data_format, "outputs the stage does not declare");
    cached.metrics = *manifest.find("metrics");
    if (const Value* results = manifest.find("results"))
      for (const auto& r : results->items()) cached.results.push_back(r.as_string());
    return cached;
  } catch (const std::exception& e) {
    problem = std::string("corrupt cache entry ") + stage.key.substr(0, 12) + " (" + e.what() + "): recomputing";
    remove(stage.key);
    return std::nullopt;
  }
}

void Cache::store(const PlannedStage& stage, const std::vector<std::pair<std::string, ArtifactPtr>>& outputs,
                  const Value& metrics, const std::vector<std::string>& results, const Value& description) const {
  namespace fs = std::filesystem;
  const auto final_dir = entry_dir(stage.key);
  fs::create_directories(final_dir.parent_path());
  // Written aside and renamed into place: an entry is complete or absent, even after kill -9.
  // Named by host, process and a random number: writers on other nodes may share a pid.
  const auto temp = final_dir.parent_path() / (".tmp-" + stage.key + "-" + writer_id());
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
    if (!results.empty()) {
      Value texts = Value::list();
      for (const auto& r : results) texts.push_back(Value::string(r));
      manifest.set("results", texts);
    }
    manifest.set("stage", description);
    const std::string text = to_json(manifest);
    write_file_atomic(temp / "manifest.json", [&](std::ostream& out) { out << text; });
    write_file_atomic(temp / "manifest.sha256", [&](std::ostream& out) { out << sha256_hex(text); });
    check_injected_write_failure(final_dir);
    sync_directory(temp);
    std::error_code ec;
    fs::rename(temp, final_dir, ec);
    if (ec) {
      fs::remove_all(temp);
      // Another process stored the same key first: theirs is as good. Anything else is a failure
      // to cache (the run itself goes on).
      if (!has(stage.key))
        throw Error(ErrorCode::io, "cannot publish cache entry " + final_dir.string() + ": " + ec.message());
    }
    sync_directory(final_dir.parent_path());
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(temp, ignored);
    throw;
  }
}

namespace {

// The entries of a directory; one that vanishes meanwhile (another process publishing or removing
// an entry) ends nothing: iteration errors are ignored, never thrown.
std::vector<std::filesystem::path> list_dir(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) out.push_back(it->path());
  std::sort(out.begin(), out.end());
  return out;
}

std::uintmax_t bytes_below(const std::filesystem::path& dir) {
  std::uintmax_t bytes = 0;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code file_ec;
    if (it->is_regular_file(file_ec)) {
      const auto size = it->file_size(file_ec);
      if (!file_ec) bytes += size;
    }
  }
  return bytes;
}

}  // namespace

std::vector<Cache::Entry> Cache::entries() const {
  namespace fs = std::filesystem;
  std::vector<Entry> out;
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) return out;
  for (const auto& shard : list_dir(root_)) {
    // Only the key shards: the job journal and the file-hash memo live beside them.
    if (!is_shard_name(shard.filename().string()) || !fs::is_directory(shard, ec)) continue;
    for (const auto& path : list_dir(shard)) {
      const auto name = path.filename().string();
      if (name.rfind(".tmp-", 0) == 0 || !fs::exists(path / "manifest.json", ec)) continue;
      Entry entry;
      entry.key = name;
      try {
        entry.manifest = read_manifest(name);
        entry.valid = true;
      } catch (const std::exception&) {
        entry.manifest = Value::map();  // an entry that does not check out: listed, never trusted
      }
      entry.bytes = bytes_below(path);
      entry.written = fs::last_write_time(path / "manifest.json", ec);
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
