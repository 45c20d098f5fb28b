// Input files enter content keys by the SHA-256 of their bytes, not their size and modification
// time (a same-size edit with the time restored, as `cp -p` or `touch -r` leave it, must change the
// key). Each file is hashed once and the digest remembered by path, size, modification time,
// inode and change time (which no user can set back), in a memo file beside the cache, so a rerun
// reads no data file again.
#pragma once

#include <filesystem>
#include <string>

namespace pipeline {

// Where digests are remembered between runs (the cache directory); none: this process only.
void remember_file_hashes_in(const std::filesystem::path& dir);

// The file's SHA-256 (hex), or "" when it cannot be read.
std::string file_content_hash(const std::filesystem::path& file);

}  // namespace pipeline
