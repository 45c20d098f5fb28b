#include "idx_reader.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "pipeline/error.hpp"

namespace pipeline::data {
namespace {

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

const char* type_name(std::uint8_t code) {
  switch (code) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "short";
    case 0x0C: return "int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return "unknown";
  }
}

// Reads up to n bytes; returns how many were read. A gzip stream that ends early counts as end of
// file (the caller reports the truncation with sizes); any other stream error is data_format.
std::size_t read_some(gzFile f, std::uint8_t* out, std::size_t n, const std::string& file) {
  std::size_t done = 0;
  while (done < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 24));
    const int got = gzread(f, out + done, chunk);
    if (got < 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      if (code == Z_BUF_ERROR) break;  // "unexpected end of file": truncated gzip stream
      if (code == Z_ERRNO) throw Error(ErrorCode::io, file + ": read failed: " + std::strerror(errno));
      throw_data_format(file, std::string("corrupt gzip data after ") + std::to_string(done) +
                                  " bytes: " + (msg ? msg : "unknown zlib error"));
    }
    if (got == 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      if (code != Z_OK && code != Z_STREAM_END && code != Z_BUF_ERROR)
        throw_data_format(file, std::string("corrupt gzip data: ") + (msg ? msg : "unknown zlib error"));
      break;  // end of file (a truncated gzip stream also ends here, with Z_BUF_ERROR)
    }
    done += static_cast<std::size_t>(got);
  }
  return done;
}

}  // namespace

IdxArray read_idx(const std::filesystem::path& path, std::size_t expected_rank, const std::string& what) {
  const std::string file = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(ErrorCode::io, file + ": is a directory");
  GzFile f(gzopen(file.c_str(), "rb"));
  if (!f) throw Error(ErrorCode::io, file + ": cannot open: " + std::strerror(errno));
  gzbuffer(f.get(), 1 << 17);

  std::uint8_t magic[4];
  const std::size_t got_magic = read_some(f.get(), magic, 4, file);
  if (got_magic < 4)
    throw_data_format(file, "too short for an IDX header (" + std::to_string(got_magic) + " bytes)");
  if (magic[0] != 0 || magic[1] != 0)
    throw_data_format(file, "not an IDX file (the first two bytes must be zero)");
  if (magic[2] != 0x08)
    throw_data_format(file, std::string("elements are ") + type_name(magic[2]) + " (type 0x" +
                                [&] { char b[4]; std::snprintf(b, sizeof b, "%02X", magic[2]); return std::string(b); }() +
                                "); expected unsigned byte (0x08)");
  if (magic[3] != expected_rank) {
    const char* hint = magic[3] == 1 ? " (a label file?)" : magic[3] == 3 ? " (an image file?)" : "";
    throw_data_format(file, "has " + std::to_string(magic[3]) + " dimensions" + hint + "; expected " +
                                std::to_string(expected_rank) + " for " + what + "s");
  }

  IdxArray array;
  std::uint64_t total = 1;
  for (std::size_t d = 0; d < expected_rank; ++d) {
    std::uint8_t b[4];
    if (read_some(f.get(), b, 4, file) < 4)
      throw_data_format(file, "header ends inside dimension " + std::to_string(d + 1));
    const std::uint32_t dim = (std::uint32_t(b[0]) << 24) | (std::uint32_t(b[1]) << 16) |
                              (std::uint32_t(b[2]) << 8) | std::uint32_t(b[3]);
    array.dims.push_back(dim);
    // Checked before multiplying: dimensions such as [4, 2^31, 2^31] must not wrap to 0.
    if (dim != 0 && total > (std::uint64_t(1) << 40) / dim)
      throw_data_format(file, "header declares an implausible size (over 1 TiB)");
    total *= dim;
  }
  // Raw data grows only as bytes arrive, but a gzip stream can expand about 1032:1: a large
  // declared size a small gzip file cannot hold is refused before decompressing gigabytes of zeros.
  const auto on_disk = std::filesystem::file_size(path, ec);
  if (!ec && gzdirect(f.get()) == 0 && total > (std::uint64_t(1) << 26) && total > on_disk * 1032 + 1024)
    throw_data_format(file, "header declares " + std::to_string(total) + " " + what + " bytes, more than a " +
                                std::to_string(on_disk) + "-byte gzip file can expand to");

  // Grow with what actually arrives, so a lying header cannot make us allocate terabytes.
  const std::size_t chunk = 1 << 22;
  while (array.bytes.size() < total) {
    const std::size_t want = std::min<std::uint64_t>(chunk, total - array.bytes.size());
    const std::size_t before = array.bytes.size();
    array.bytes.resize(before + want);
    const std::size_t got = read_some(f.get(), array.bytes.data() + before, want, file);
    array.bytes.resize(before + got);
    if (got < want) break;
  }
  if (array.bytes.size() < total)
    throw_data_format(file, "truncated: expected " + std::to_string(total) + " " + what + " bytes, got " +
                                std::to_string(array.bytes.size()));
  std::uint8_t extra;
  if (read_some(f.get(), &extra, 1, file) > 0)
    throw_data_format(file, "has data after the " + std::to_string(total) + " " + what +
                                " bytes its header declares");
  return array;
}

}  // namespace pipeline::data
