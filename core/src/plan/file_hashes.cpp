#include "plan/file_hashes.hpp"

#include <sys/stat.h>

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "pipeline/io.hpp"
#include "util/sha256.hpp"

namespace pipeline {
namespace {

struct Memo {
  std::mutex mutex;
  std::filesystem::path file;         // memo file; empty: in memory only
  std::map<std::string, std::string> digests;  // identity line -> sha256
  bool loaded = false;
};

Memo& memo() {
  static Memo* m = new Memo;  // used from static PluginSets' lifetimes too: never destroyed
  return *m;
}

// Everything that changes when the bytes can have changed; st_ctime cannot be set by users.
std::string identity(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return {};
  std::ostringstream id;
  id << std::filesystem::absolute(file).lexically_normal().string() << '\t' << st.st_size << '\t' << st.st_mtim.tv_sec << '.'
     << st.st_mtim.tv_nsec << '\t' << st.st_ino << '\t' << st.st_dev << '\t' << st.st_ctim.tv_sec << '.' << st.st_ctim.tv_nsec;
  return id.str();
}

// Lines of "identity\tdigest"; a line that does not parse is ignored (the file is a hint only).
void load(Memo& m) {
  m.loaded = true;
  if (m.file.empty()) return;
  std::ifstream in(m.file);
  for (std::string line; std::getline(in, line);) {
    const auto tab = line.rfind('\t');
    if (tab == std::string::npos || line.size() - tab - 1 != 64) continue;
    m.digests[line.substr(0, tab)] = line.substr(tab + 1);
  }
}

}  // namespace

void remember_file_hashes_in(const std::filesystem::path& dir) {
  Memo& m = memo();
  std::lock_guard lock(m.mutex);
  m.file = dir.empty() ? std::filesystem::path() : dir / "file-hashes.tsv";
  m.digests.clear();
  m.loaded = false;
}

std::string file_content_hash(const std::filesystem::path& file) {
  const std::string id = identity(file);
  if (id.empty()) return {};
  Memo& m = memo();
  {
    std::lock_guard lock(m.mutex);
    if (!m.loaded) load(m);
    if (auto it = m.digests.find(id); it != m.digests.end()) return it->second;
  }
  std::string digest;
  try {
    digest = sha256_file(file);
  } catch (const std::exception&) {
    return {};
  }
  std::lock_guard lock(m.mutex);
  m.digests[id] = digest;
  if (!m.file.empty()) {
    // Appended: concurrent runs may each add a line; a torn line is ignored when read.
    std::error_code ec;
    std::filesystem::create_directories(m.file.parent_path(), ec);
    std::ofstream out(m.file, std::ios::app);
    out << id << '\t' << digest << '\n';
  }
  return digest;
}

}  // namespace pipeline
