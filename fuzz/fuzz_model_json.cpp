// A cached model's description (model.json) and a cached metrics file, decoded as `run` does on a
// cache hit; the layers come from the built-in plugins.
#include "fuzz_support.hpp"
#include "run/codecs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::plugins();
  const auto dir = fuzz::scratch() / "entry";
  fuzz::write_file(dir / "model.json", data, size);
  fuzz::write_file(dir / "metrics.json", data, size);
  fuzz::expect_clean([&] { pipeline::decode_artifact("model", dir); });
  fuzz::expect_clean([&] { pipeline::decode_artifact("metrics", dir); });
  return 0;
}
