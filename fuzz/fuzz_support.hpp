// What the fuzz targets share: a scratch directory of this process, the built-in plugins, and the
// rule that bad bytes may only ever end in a pipeline::Error (a clear, located message). Any other
// exception, a crash, a leak, undefined behaviour, a hang or an allocation past libFuzzer's limits
// is a finding.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include "pipeline/error.hpp"
#include "plugin/plugin_set.hpp"

namespace fuzz {

inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    std::string name = (std::filesystem::temp_directory_path() / "pipeline-fuzz-XXXXXX").string();  // $TMPDIR
    if (!::mkdtemp(name.data())) std::abort();
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(scratch(), ignored);
    });
    return std::filesystem::path(name);
  }();
  return dir;
}

inline std::filesystem::path write_file(const std::filesystem::path& file, const std::uint8_t* data, std::size_t size) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return file;
}

// The built-in plugins (beside the fuzzer binary, as for the CLI), loaded once.
inline const pipeline::PluginSet& plugins() {
  static const pipeline::PluginSet* set = [] {
    auto* p = new pipeline::PluginSet;
    p->load_search_path(pipeline::plugin_search_path({}, std::filesystem::read_symlink("/proc/self/exe")));
    if (!p->errors().empty()) {
      std::fprintf(stderr, "fuzz: the built-in plugins did not load: %s\n", p->errors().front().formatted().c_str());
      std::abort();
    }
    return p;
  }();
  return *set;
}

// Runs `body`; a pipeline::Error is the expected end of bad input, anything else a finding.
template <class Body>
void expect_clean(Body&& body) {
  try {
    body();
  } catch (const pipeline::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: finding: an exception that is not a pipeline::Error: %s\n", e.what());
    std::abort();
  }
}

}  // namespace fuzz
