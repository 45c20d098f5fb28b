// IDX files (the MNIST format), raw or gzipped: a big-endian header (two zero bytes, an element
// type code, the number of dimensions, then each dimension as uint32) followed by the elements.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace pipeline::data {

struct IdxArray {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> bytes;  // unsigned byte elements, row-major
};

// Reads an unsigned-byte IDX file with `expected_rank` dimensions. `what` names the elements in
// messages ("image", "label"). Every malformation is an Error(data_format) naming the file and the
// problem, e.g. "expected 47040000 image bytes, got 1200"; memory grows only with bytes actually read.
IdxArray read_idx(const std::filesystem::path& file, std::size_t expected_rank, const std::string& what);

}  // namespace pipeline::data
