// Small IDX files written by tests: valid ones, and each kind of broken one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace test {

// The IDX bytes for unsigned-byte data with the given dimensions.
std::vector<std::uint8_t> idx_bytes(const std::vector<std::uint32_t>& dims, const std::vector<std::uint8_t>& data);

// Writes bytes raw, or gzip-compressed when gzip is true.
void write_bytes(const std::filesystem::path& file, const std::vector<std::uint8_t>& bytes, bool gzip);

// A labelled image set: n images of rows x cols where every pixel of image i is (i * 7) % 256,
// and label i is labels[i].
struct SmallImages {
  std::vector<std::uint8_t> images_idx;
  std::vector<std::uint8_t> labels_idx;
};
SmallImages small_images(const std::vector<std::uint8_t>& labels, std::uint32_t rows = 4, std::uint32_t cols = 3);

// DIR/images.gz and DIR/labels.gz: `count` 4x3 images labelled 0, 1, 2, 0, 1, 2, ... (what the
// small experiments of the e2e tests read).
void write_small_image_files(const std::filesystem::path& dir, int count);

// The first stages of those small experiments, as YAML lines under `stages:`: `data` reads the
// files above with a quarter held out; `net` is a linear model over the 4x3 images to 3 classes
// (with one hidden ReLU layer of `hidden` units when hidden > 0).
std::string small_data_and_model_yaml(int hidden = 0);

}  // namespace test
