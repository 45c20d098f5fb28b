// File output that never leaves a half-written file behind.
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>

namespace pipeline {

// Writes through `write` into a temporary file beside `target`, flushes it, then renames it over
// `target`. On any exception the temporary file is removed and the exception propagates.
void write_file_atomic(const std::filesystem::path& target,
                       const std::function<void(std::ostream&)>& write);

}  // namespace pipeline
