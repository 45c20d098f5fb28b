// Safetensors files: the weight format of PyTorch and Hugging Face, read to compare against their
// results and written to hand tensors back to them.
//
// Layout: an 8-byte little-endian header length N, N bytes of JSON header
//   {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "value", ...}}
// then the data buffer; offsets are relative to the start of the buffer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeline/tensor.hpp"

namespace pipeline {

struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // as spelled in the file: "F32" or "I64"
  Shape shape;
  std::vector<float> f32;         // the values when dtype is F32
  std::vector<std::int64_t> i64;  // the values when dtype is I64
};

struct SafetensorsFile {
  std::vector<SafetensorsEntry> tensors;  // in the order of their data in the file
  std::vector<std::pair<std::string, std::string>> metadata;  // in the order of the header

  // nullptr when no tensor has that name.
  const SafetensorsEntry* find(std::string_view name) const;
};

// Reads F32 and I64 tensors. Any content that breaks the format (truncation, bad JSON, missing or
// mistyped fields, other dtypes, offsets outside the buffer, sizes that do not match the shape,
// overlapping tensors, repeated names) throws Error(data_format, "<file>: <what>"); a file that
// cannot be opened or read throws Error(io).
SafetensorsFile read_safetensors(const std::filesystem::path& file);

// Writes F32 tensors contiguously in the given order, atomically (see write_file_atomic). Names
// must be unique and not "__metadata__", as must metadata keys; otherwise Error(internal).
void write_safetensors(const std::filesystem::path& file,
                       const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                       const std::vector<std::pair<std::string, std::string>>& metadata = {},
                       const std::set<std::string>& integer_tensors = {});

}  // namespace pipeline
