// PNG (libpng) and JPEG (libjpeg-turbo) decoding for image folders, with PIL's channel conversions
// (torchvision's ImageFolder loads through PIL): gray images replicate to RGB, RGBA and
// gray+alpha drop their alpha, palettes expand, and RGB becomes gray by ITU-R 601-2 luma
// (L = (19595 R + 38470 G + 7471 B + 2^15) >> 16).
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace pipeline::data {

struct Image {
  std::int64_t width = 0, height = 0, channels = 0;  // channels 1 or 3
  std::vector<std::uint8_t> pixels;                  // rows of interleaved channels
};

// Images larger than this are refused before any pixel is allocated.
inline constexpr std::int64_t max_image_pixels = std::int64_t{1} << 28;

// Decodes by content (PNG or JPEG signature, whatever the file is named) into `channels` (1 or
// 3). Throws Error(data_format) naming the file for anything else, a corrupt or truncated image,
// or one larger than max_image_pixels.
Image decode_image(const std::filesystem::path& file, int channels);

// True when the file name has an image extension this decoder reads (.png, .jpg, .jpeg; any case).
bool has_image_extension(const std::filesystem::path& file);

// Writes 8-bit gray or RGB pixels as a PNG (atomically), for save_image_folder and tests.
void write_png(const std::filesystem::path& file, const Image& image);

}  // namespace pipeline::data
