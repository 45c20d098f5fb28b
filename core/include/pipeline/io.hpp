// File output that never leaves a half-written file behind.
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>

namespace pipeline {

// Writes through `write` into a temporary file beside `target`, flushes and fsyncs it, renames it
// over `target` and fsyncs the directory: after a crash or power loss the target is the old file
// or the whole new one. On any failure the temporary file is removed and Error(io) names the path
// and the system's reason ("No space left on device"); exceptions from `write` propagate.
//
// Fault injection for tests: when PIPELINE_FAULT_INJECT_WRITE is set and `target` contains it as a
// substring, the write fails as with a full disk (docs/errors.md).
void write_file_atomic(const std::filesystem::path& target,
                       const std::function<void(std::ostream&)>& write);

// fsync of a directory, so that renames into it survive a crash. Errors are ignored (some
// filesystems do not support it).
void sync_directory(const std::filesystem::path& dir);

// Throws the injected write failure for `path` (see write_file_atomic), if one is configured.
void check_injected_write_failure(const std::filesystem::path& path);

}  // namespace pipeline
