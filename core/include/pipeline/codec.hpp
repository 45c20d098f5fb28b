// Codecs write artifacts of one type to files and read them back: what the content-addressed
// cache (and a worker on another node) can carry. Datasets, models and metrics have the core's
// codecs; a plugin that defines its own artifact type registers one (Registry::add_codec) to make
// stages that output it cacheable.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "pipeline/artifact.hpp"

namespace pipeline {

struct CodecInfo {
  std::string type;  // the artifact type it carries, as in PortSpec::type
  std::string doc;   // one line
  // Writes the artifact into `dir` (which exists and is empty); returns the names of the files
  // written, relative to `dir`. The cache checksums each one.
  std::function<std::vector<std::string>(const Artifact&, const std::filesystem::path& dir)> encode;
  // Reads an artifact back from `dir`; throws Error(data_format) when the files do not hold one.
  std::function<ArtifactPtr(const std::filesystem::path& dir)> decode;
};

const CodecInfo* find_codec(const std::string& type);
std::vector<std::string> codec_names();

}  // namespace pipeline
