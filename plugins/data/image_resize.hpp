// Image geometry for image folders and augmentation, on float planes [channels, height, width]:
// resizing with PIL's antialiased bilinear filter (what torchvision's Resize does on PIL images,
// here without PIL's rounding to 8 bits between the passes) and cropping.
#pragma once

#include <cstdint>
#include <vector>

namespace pipeline::data {

struct Planes {
  std::int64_t channels = 0, height = 0, width = 0;
  std::vector<float> values;  // [channels][height][width]
};

// Bilinear resampling to height x width; when shrinking, the filter widens with the scale so every
// source pixel contributes (antialiasing), as PIL's BILINEAR does.
Planes resize_bilinear(const Planes& in, std::int64_t height, std::int64_t width);
// torchvision's Resize(size) for an int size: the shorter side becomes `size`, the longer one
// int(size * long / short).
Planes resize_shorter_side(const Planes& in, std::int64_t size);
// The window of height x width at (top, left); the caller keeps it inside the image.
Planes crop(const Planes& in, std::int64_t top, std::int64_t left, std::int64_t height, std::int64_t width);
// torchvision's CenterCrop: top = round((H - h) / 2), left = round((W - w) / 2), rounding halves
// to even as Python does.
Planes center_crop(const Planes& in, std::int64_t height, std::int64_t width);

}  // namespace pipeline::data
