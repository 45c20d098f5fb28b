// The content-addressed stage cache: a stage instance's outputs and metrics stored under its
// key. An entry appears atomically (written aside, then renamed into place), and every file's
// checksum is verified on load: a corrupt or half-written entry is never used.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "plan/plan.hpp"

namespace pipeline {

struct CachedStage {
  std::vector<std::pair<std::string, ArtifactPtr>> outputs;
  Value metrics = Value::map();
  std::vector<std::string> results;  // StageContext::result texts
};

class Cache {
 public:
  explicit Cache(std::filesystem::path root) : root_(std::move(root)) {}
  const std::filesystem::path& root() const { return root_; }

  // Whether a stage's outputs can be stored (its type allows it and a codec exists for each).
  static bool cacheable(const PlannedStage& stage);
  // Whether its outputs can be written at all (a codec for each): what a run's exchange needs.
  static bool encodable(const PlannedStage& stage);
  bool has(const std::string& key) const;
  // Whether a complete entry with a sound manifest is there (file checksums are checked on load).
  bool has_valid(const std::string& key) const;
  // The entry for the stage, or nothing (absent; corrupt entries are removed and `problem` says
  // what was wrong).
  std::optional<CachedStage> load(const PlannedStage& stage, std::string& problem) const;
  // `description` (see describe()) is kept in the manifest so `explain` can say what changed;
  // `results` (StageContext::result texts) so a cache hit shows them again.
  void store(const PlannedStage& stage, const std::vector<std::pair<std::string, ArtifactPtr>>& outputs,
             const Value& metrics, const std::vector<std::string>& results, const Value& description) const;

  // Every entry's manifest (for `explain` and `cache ls`).
  struct Entry {
    std::string key;
    Value manifest;
    std::uintmax_t bytes = 0;
    std::filesystem::file_time_type written;
    bool valid = false;  // the manifest checked out (checksum, fields, file names)
  };
  std::vector<Entry> entries() const;
  void remove(const std::string& key) const;
  // The entry's manifest, checked: its checksum, every field's kind, and every file it names being
  // a regular file inside the entry. Throws Error(data_format) saying what is wrong.
  Value read_manifest(const std::string& key) const;

  // The description of a stage instance a manifest records (stage id, type, params, inputs, seed).
  static Value describe(const Plan& plan, const PlannedStage& stage);

 private:
  std::filesystem::path entry_dir(const std::string& key) const { return root_ / key.substr(0, 2) / key; }
  std::filesystem::path root_;
};

// "HOST-PID-RANDOM": names a writer's temporary files apart from every other writer's, on any node.
std::string writer_id();
// Whether a directory name in the cache root is a key shard ("3f").
bool is_shard_name(const std::string& name);

// --cache-dir, else $PIPELINE_CACHE_DIR, else .pipeline-cache in the current directory.
std::filesystem::path default_cache_dir();

}  // namespace pipeline
