// SHA-256 (FIPS 180-4), for content keys, cache checksums and the run lock file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace pipeline {

class Sha256 {
 public:
  Sha256();
  Sha256& update(const void* data, std::size_t size);
  Sha256& update(std::string_view text) { return update(text.data(), text.size()); }
  std::string hex();  // finishes; 64 lowercase hex digits

 private:
  void block(const std::uint8_t* p);
  std::uint32_t h_[8];
  std::uint8_t buffer_[64];
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;
};

std::string sha256_hex(std::string_view text);
// Throws Error(io) when the file cannot be read.
std::string sha256_file(const std::filesystem::path& file);

}  // namespace pipeline
