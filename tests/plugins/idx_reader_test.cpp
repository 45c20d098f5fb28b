#include <catch2/catch.hpp>

#include <fstream>

#include "idx_reader.hpp"
#include "pipeline/error.hpp"
#include "support/idx_files.hpp"
#include "support/temp_dir.hpp"

using namespace pipeline;
using pipeline::data::read_idx;

namespace {
// The data_format message read_idx gives for these bytes.
std::string refusal(const std::vector<std::uint8_t>& bytes, bool gzip, std::size_t rank = 3) {
  test::TempDir dir;
  const auto file = dir / "f.idx";
  test::write_bytes(file, bytes, gzip);
  try {
    read_idx(file, rank, "image");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::data_format);
    const std::string prefix = file.string() + ": ";
    REQUIRE(e.message().rfind(prefix, 0) == 0);  // names the file
    return e.message().substr(prefix.size());
  }
  FAIL("read_idx accepted a broken file");
  return {};
}
}  // namespace

TEST_CASE("IDX files are read raw and gzipped alike", "[idx]") {
  test::TempDir dir;
  const auto bytes = test::idx_bytes({2, 2, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  for (bool gzip : {false, true}) {
    const auto file = dir / (gzip ? "a.gz" : "a.idx");
    test::write_bytes(file, bytes, gzip);
    auto a = read_idx(file, 3, "image");
    CHECK(a.dims == std::vector<std::uint32_t>{2, 2, 3});
    REQUIRE(a.bytes.size() == 12);
    CHECK(a.bytes[0] == 1);
    CHECK(a.bytes[11] == 12);
  }
}

TEST_CASE("broken IDX files are data_format errors that say what is wrong", "[idx]") {
  const auto good = test::idx_bytes({3, 4, 4}, std::vector<std::uint8_t>(48, 7));
  for (bool gzip : {false, true}) {
    INFO("gzip " << gzip);
    auto truncated = good;
    truncated.resize(good.size() - 10);
    CHECK(refusal(truncated, gzip) == "truncated: expected 48 image bytes, got 38");
    auto extra = good;
    extra.push_back(1);
    CHECK(refusal(extra, gzip) == "has data after the 48 image bytes its header declares");
    CHECK(refusal({0, 0, 8}, gzip) == "too short for an IDX header (3 bytes)");
    CHECK(refusal({}, gzip) == "too short for an IDX header (0 bytes)");
    CHECK(refusal({0x50, 0x4b, 3, 4, 0, 0, 0, 1}, gzip) == "not an IDX file (the first two bytes must be zero)");
    CHECK(refusal({0, 0, 0x0D, 3, 0, 0, 0, 1}, gzip) ==
          "elements are float (type 0x0D); expected unsigned byte (0x08)");
    CHECK(refusal(test::idx_bytes({3}, {1, 2, 3}), gzip) ==
          "has 1 dimensions (a label file?); expected 3 for images");
    CHECK(refusal({0, 0, 8, 3, 0, 0}, gzip) == "header ends inside dimension 1");
    // A header that claims a huge size must not make the reader allocate it.
    CHECK(refusal(test::idx_bytes({0xFFFFFFFF, 0xFFFF, 0x1}, {1, 2}), gzip) ==
          "header declares an implausible size (over 1 TiB)");
    CHECK(refusal(test::idx_bytes({60000, 28, 28}, std::vector<std::uint8_t>(1200, 0)), gzip) ==
          "truncated: expected 47040000 image bytes, got 1200");
  }
}

TEST_CASE("a gzip stream cut short or corrupted is reported, not crashed on", "[idx]") {
  test::TempDir dir;
  const auto file = dir / "a.gz";
  test::write_bytes(file, test::idx_bytes({100, 28, 28}, std::vector<std::uint8_t>(78400, 3)), true);
  std::vector<std::uint8_t> gz;
  {
    std::ifstream in(file, std::ios::binary);
    gz.assign(std::istreambuf_iterator<char>(in), {});
  }
  // Cut the compressed stream in half.
  auto half = std::vector<std::uint8_t>(gz.begin(), gz.begin() + gz.size() / 2);
  std::ofstream(file, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(half.data()), half.size());
  try {
    read_idx(file, 3, "image");
    FAIL("accepted a truncated gzip stream");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::data_format);
    CHECK(e.message().find("expected 78400 image bytes") != std::string::npos);
  }
  // Flip bytes in the middle of the deflate data.
  auto corrupt = gz;
  for (std::size_t i = 20; i < 40 && i < corrupt.size(); ++i) corrupt[i] ^= 0x5A;
  std::ofstream(file, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(corrupt.data()), corrupt.size());
  try {
    read_idx(file, 3, "image");
    FAIL("accepted a corrupt gzip stream");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::data_format);
  }
}

TEST_CASE("a file with a gzip signature but no valid stream is refused", "[idx]") {
  CHECK(refusal({0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef}, false).find("corrupt gzip data") == 0);
}

TEST_CASE("a missing file is an io error naming it", "[idx]") {
  try {
    read_idx("/nonexistent/x.gz", 3, "image");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::io);
    CHECK(e.message().find("/nonexistent/x.gz: cannot open") == 0);
  }
}

TEST_CASE("regression: dimensions whose product wraps around are refused before any allocation", "[idx][hardening]") {
  test::TempDir dir;
  // [4, 2^31, 2^31]: 4 * 2^62 wraps a 64-bit product to 0 if checked after multiplying.
  std::vector<std::uint8_t> header = {0, 0, 8, 3, 0, 0, 0, 4, 0x80, 0, 0, 0, 0x80, 0, 0, 0};
  test::write_bytes(dir / "wrap.idx", header, false);
  CHECK_THROWS_WITH(data::read_idx(dir / "wrap.idx", 3, "image"), Catch::Contains("implausible size"));
}

TEST_CASE("regression: a small gzip file claiming gigabytes is refused before decompressing", "[idx][hardening]") {
  test::TempDir dir;
  // 2 GB declared, 100 MB of zeros present: deflate's ~1032:1 bound says the file cannot hold what
  // its header claims, so nothing is decompressed past the header.
  std::vector<std::uint8_t> idx = test::idx_bytes({2000, 1000, 1000}, {});
  idx.resize(16 + 100'000'000, 0);
  test::write_bytes(dir / "bomb.idx.gz", idx, true);
  CHECK(std::filesystem::file_size(dir / "bomb.idx.gz") < 200'000);
  CHECK_THROWS_WITH(data::read_idx(dir / "bomb.idx.gz", 3, "image"), Catch::Contains("gzip file can expand to"));
}
