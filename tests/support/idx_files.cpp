#include "support/idx_files.hpp"

#include <zlib.h>

#include <fstream>
#include <stdexcept>

namespace test {

std::vector<std::uint8_t> idx_bytes(const std::vector<std::uint32_t>& dims, const std::vector<std::uint8_t>& data) {
  std::vector<std::uint8_t> out = {0, 0, 0x08, static_cast<std::uint8_t>(dims.size())};
  for (auto d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(d >> shift));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

void write_bytes(const std::filesystem::path& file, const std::vector<std::uint8_t>& bytes, bool gzip) {
  if (!gzip) {
    std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
    return;
  }
  gzFile f = gzopen(file.c_str(), "wb");
  if (!f) throw std::runtime_error("gzopen failed");
  if (!bytes.empty()) gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

SmallImages small_images(const std::vector<std::uint8_t>& labels, std::uint32_t rows, std::uint32_t cols) {
  const auto n = static_cast<std::uint32_t>(labels.size());
  std::vector<std::uint8_t> pixels;
  for (std::uint32_t i = 0; i < n; ++i)
    for (std::uint32_t j = 0; j < rows * cols; ++j) pixels.push_back(static_cast<std::uint8_t>((i * 7) % 256));
  return {idx_bytes({n, rows, cols}, pixels), idx_bytes({n}, labels)};
}

void write_small_image_files(const std::filesystem::path& dir, int count) {
  std::vector<std::uint8_t> labels;
  for (int i = 0; i < count; ++i) labels.push_back(static_cast<std::uint8_t>(i % 3));
  const auto files = small_images(labels);
  write_bytes(dir / "images.gz", files.images_idx, true);
  write_bytes(dir / "labels.gz", files.labels_idx, true);
}

std::string small_data_and_model_yaml(int hidden) {
  const std::string layers = hidden > 0 ? "flatten, {linear: {name: fc1, out: " + std::to_string(hidden) +
                                              "}}, relu, {linear: {name: fc2, out: 3}}"
                                        : "flatten, {linear: {name: fc, out: 3}}";
  return R"(  data:
    plugin: idx_dataset
    params: {images: images.gz, labels: labels.gz, test_fraction: 0.25}
  net:
    plugin: model
    params: {input: [1, 4, 3], layers: [)" + layers + "]}\n";
}

}  // namespace test
