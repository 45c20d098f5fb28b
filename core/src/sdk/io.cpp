#include "pipeline/io.hpp"

#include <unistd.h>

#include <atomic>
#include <fstream>

#include "pipeline/error.hpp"

namespace pipeline {

void write_file_atomic(const std::filesystem::path& target,
                       const std::function<void(std::ostream&)>& write) {
  namespace fs = std::filesystem;
  // Hidden and unique per process, in the target's directory so the rename is atomic.
  std::string name = ".";  // built piecewise: "." + string trips a GCC 12 -Wrestrict false positive
  name += target.filename().string();
  // Unique per process and per call, so concurrent writers of one target never share a temporary.
  static std::atomic<unsigned> counter{0};
  name += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const fs::path temp = target.parent_path() / name;
  try {
    {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      if (!out) throw Error(ErrorCode::io, "cannot write " + temp.string());
      write(out);
      out.flush();
      if (!out) throw Error(ErrorCode::io, "writing " + target.string() + " failed");
    }
    fs::rename(temp, target);
  } catch (...) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw;
  }
}

}  // namespace pipeline
