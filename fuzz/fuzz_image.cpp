// Image files (PNG or JPEG by content) decoded to 1 and 3 channels, as image_folder reads them.
#include "fuzz_support.hpp"
#include "image_decoder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto png = fuzz::write_file(fuzz::scratch() / "image.png", data, size);
  const auto jpg = fuzz::write_file(fuzz::scratch() / "image.jpg", data, size);
  for (const auto& file : {png, jpg})
    for (int channels : {1, 3}) fuzz::expect_clean([&] { pipeline::data::decode_image(file, channels); });
  return 0;
}
