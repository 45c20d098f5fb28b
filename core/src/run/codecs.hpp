// Writing artifacts to files and reading them back through the registered codecs, for the cache.
// The core's own: datasets and models as safetensors (models with a JSON description of their
// layers), metrics as JSON.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "pipeline/artifact.hpp"
#include "pipeline/codec.hpp"
#include "pipeline/value.hpp"

namespace pipeline {

// True when artifacts of this type can be stored.
bool can_encode(const std::string& type);
// Writes the artifact into `dir` (existing); returns the file names written.
std::vector<std::string> encode_artifact(const Artifact& artifact, const std::filesystem::path& dir);
// Reads an artifact of `type` from `dir`; throws Error(data_format) when the files do not hold one.
ArtifactPtr decode_artifact(const std::string& type, const std::filesystem::path& dir);

// The core's codecs, registered before any plugin loads.
std::vector<CodecInfo> core_codecs();

}  // namespace pipeline
