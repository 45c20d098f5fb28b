// IDX files, raw or gzipped, as images (3 dimensions) and as labels (1).
#include "fuzz_support.hpp"
#include "idx_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = fuzz::write_file(fuzz::scratch() / "input.idx", data, size);
  fuzz::expect_clean([&] { pipeline::data::read_idx(file, 3, "image"); });
  fuzz::expect_clean([&] { pipeline::data::read_idx(file, 1, "label"); });
  return 0;
}
