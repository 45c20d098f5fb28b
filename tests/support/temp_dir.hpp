// A fresh directory under the system temp dir, removed with everything in it at scope exit.
#pragma once

#include <filesystem>

namespace test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Writes text to a file (creating parent directories).
void write_text(const std::filesystem::path& file, const std::string& text);

}  // namespace test
