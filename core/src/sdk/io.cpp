#include "pipeline/io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "pipeline/error.hpp"

namespace pipeline {
namespace {

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path, int error) {
  throw Error(ErrorCode::io, what + " " + path.string() + ": " + (error ? std::strerror(error) : "unknown error"));
}

void sync_file(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot reopen", file, errno);
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0 && error != EINVAL && error != EROFS) fail("cannot flush", file, error);
}

}  // namespace

void check_injected_write_failure(const std::filesystem::path& path) {
  const char* inject = std::getenv("PIPELINE_FAULT_INJECT_WRITE");
  if (inject && *inject && path.string().find(inject) != std::string::npos)
    throw Error(ErrorCode::io, "writing " + path.string() + " failed: " + std::strerror(ENOSPC) + " (injected)");
}

void sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

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
    check_injected_write_failure(target);
    {
      errno = 0;
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      if (!out) fail("cannot write", temp, errno);
      write(out);
      errno = 0;
      out.flush();
      if (!out) fail("writing", target, errno);  // e.g. "No space left on device"
      out.close();
      if (out.fail()) fail("writing", target, errno);
    }
    sync_file(temp);
    std::error_code ec;
    fs::rename(temp, target, ec);
    if (ec) throw Error(ErrorCode::io, "cannot rename " + temp.string() + " to " + target.filename().string() + ": " + ec.message());
    sync_directory(target.parent_path());
  } catch (...) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw;
  }
}

}  // namespace pipeline
