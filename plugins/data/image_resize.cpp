#include "image_resize.hpp"

#include <algorithm>
#include <cmath>

namespace pipeline::data {
namespace {

// Weights of PIL's bilinear (triangle) filter for each output position along one axis.
struct Taps {
  std::vector<std::int64_t> first;
  std::vector<std::vector<double>> weights;
};

Taps taps(std::int64_t in, std::int64_t out) {
  Taps t;
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double filter_scale = std::max(scale, 1.0);
  const double support = 1.0 * filter_scale;  // the triangle's radius, widened when shrinking
  for (std::int64_t i = 0; i < out; ++i) {
    const double center = (static_cast<double>(i) + 0.5) * scale;
    const auto lo = std::max<std::int64_t>(0, static_cast<std::int64_t>(center - support + 0.5));
    const auto hi = std::min<std::int64_t>(in, static_cast<std::int64_t>(center + support + 0.5));
    std::vector<double> w;
    double total = 0;
    for (std::int64_t j = lo; j < hi; ++j) {
      const double x = std::fabs((static_cast<double>(j) - center + 0.5) / filter_scale);
      const double v = x < 1.0 ? 1.0 - x : 0.0;
      w.push_back(v);
      total += v;
    }
    for (double& v : w) v = total > 0 ? v / total : 0;
    t.first.push_back(lo);
    t.weights.push_back(std::move(w));
  }
  return t;
}

}  // namespace

Planes resize_bilinear(const Planes& in, std::int64_t height, std::int64_t width) {
  if (height == in.height && width == in.width) return in;
  const Taps across = taps(in.width, width), down = taps(in.height, height);
  // Horizontal pass, then vertical, as PIL does.
  std::vector<double> wide(static_cast<std::size_t>(in.channels * in.height * width));
  for (std::int64_t c = 0; c < in.channels; ++c)
    for (std::int64_t y = 0; y < in.height; ++y) {
      const float* row = in.values.data() + (c * in.height + y) * in.width;
      for (std::int64_t x = 0; x < width; ++x) {
        double s = 0;
        const auto& w = across.weights[static_cast<std::size_t>(x)];
        for (std::size_t k = 0; k < w.size(); ++k) s += w[k] * row[across.first[static_cast<std::size_t>(x)] + static_cast<std::int64_t>(k)];
        wide[static_cast<std::size_t>((c * in.height + y) * width + x)] = s;
      }
    }
  Planes out;
  out.channels = in.channels;
  out.height = height;
  out.width = width;
  out.values.resize(static_cast<std::size_t>(in.channels * height * width));
  for (std::int64_t c = 0; c < in.channels; ++c)
    for (std::int64_t y = 0; y < height; ++y) {
      const auto& w = down.weights[static_cast<std::size_t>(y)];
      for (std::int64_t x = 0; x < width; ++x) {
        double s = 0;
        for (std::size_t k = 0; k < w.size(); ++k)
          s += w[k] * wide[static_cast<std::size_t>((c * in.height + down.first[static_cast<std::size_t>(y)] + static_cast<std::int64_t>(k)) * width + x)];
        out.values[static_cast<std::size_t>((c * height + y) * width + x)] = static_cast<float>(s);
      }
    }
  return out;
}

Planes resize_shorter_side(const Planes& in, std::int64_t size) {
  if (in.height <= in.width) {
    const auto w = static_cast<std::int64_t>(static_cast<double>(size) * static_cast<double>(in.width) / static_cast<double>(in.height));
    return resize_bilinear(in, size, w);
  }
  const auto h = static_cast<std::int64_t>(static_cast<double>(size) * static_cast<double>(in.height) / static_cast<double>(in.width));
  return resize_bilinear(in, h, size);
}

Planes crop(const Planes& in, std::int64_t top, std::int64_t left, std::int64_t height, std::int64_t width) {
  Planes out;
  out.channels = in.channels;
  out.height = height;
  out.width = width;
  out.values.resize(static_cast<std::size_t>(in.channels * height * width));
  for (std::int64_t c = 0; c < in.channels; ++c)
    for (std::int64_t y = 0; y < height; ++y)
      std::copy_n(in.values.data() + (c * in.height + top + y) * in.width + left, width,
                  out.values.data() + (c * height + y) * width);
  return out;
}

Planes center_crop(const Planes& in, std::int64_t height, std::int64_t width) {
  const auto top = static_cast<std::int64_t>(std::nearbyint(static_cast<double>(in.height - height) / 2.0));
  const auto left = static_cast<std::int64_t>(std::nearbyint(static_cast<double>(in.width - width) / 2.0));
  return crop(in, top, left, height, width);
}

}  // namespace pipeline::data
