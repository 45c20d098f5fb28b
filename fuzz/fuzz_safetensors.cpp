// safetensors files: the header's JSON, offsets, dtypes and shapes against the file's real size.
#include "fuzz_support.hpp"
#include "pipeline/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = fuzz::write_file(fuzz::scratch() / "weights.safetensors", data, size);
  fuzz::expect_clean([&] { pipeline::read_safetensors(file); });
  return 0;
}
