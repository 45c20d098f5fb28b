#include "augmentation.hpp"

#include <algorithm>
#include <cmath>

#include "image_resize.hpp"
#include "pipeline/error.hpp"
#include "pipeline/schema.hpp"

namespace pipeline::data {

struct Augmentation::Step {
  virtual ~Step() = default;
  virtual Shape output_shape(const Shape& in) const = 0;
  virtual Planes apply(Planes in, Rng& rng) const = 0;
  virtual std::string describe() const = 0;
};

namespace {

using Step = Augmentation::Step;

std::pair<std::int64_t, std::int64_t> size_of(const std::vector<std::int64_t>& s) {
  return {s[0], s.size() > 1 ? s[1] : s[0]};
}

// torchvision's RandomResizedCrop: an area fraction in `scale` and a log-uniform aspect ratio in
// `ratio`, 10 tries to fit, else the central crop of the clamped ratio; resized to `size`.
struct RandomResizedCrop : Step {
  std::int64_t height, width;
  double scale_lo, scale_hi, ratio_lo, ratio_hi;
  Shape output_shape(const Shape& in) const override { return {in[0], height, width}; }
  Planes apply(Planes in, Rng& rng) const override {
    const double area = static_cast<double>(in.height * in.width);
    const double log_lo = std::log(ratio_lo), log_hi = std::log(ratio_hi);
    for (int attempt = 0; attempt < 10; ++attempt) {
      const double target = area * (scale_lo + (scale_hi - scale_lo) * rng.uniform());
      const double aspect = std::exp(log_lo + (log_hi - log_lo) * rng.uniform());
      const auto w = static_cast<std::int64_t>(std::lround(std::sqrt(target * aspect)));
      const auto h = static_cast<std::int64_t>(std::lround(std::sqrt(target / aspect)));
      if (w > 0 && h > 0 && w <= in.width && h <= in.height) {
        const auto top = static_cast<std::int64_t>(rng.uniform_int(static_cast<std::uint64_t>(in.height - h + 1)));
        const auto left = static_cast<std::int64_t>(rng.uniform_int(static_cast<std::uint64_t>(in.width - w + 1)));
        return resize_bilinear(crop(in, top, left, h, w), height, width);
      }
    }
    const double ratio = static_cast<double>(in.width) / static_cast<double>(in.height);
    std::int64_t w = in.width, h = in.height;
    if (ratio < ratio_lo) h = static_cast<std::int64_t>(std::lround(static_cast<double>(w) / ratio_lo));
    else if (ratio > ratio_hi) w = static_cast<std::int64_t>(std::lround(static_cast<double>(h) * ratio_hi));
    // torchvision's fallback window: centred by floor division.
    return resize_bilinear(crop(in, (in.height - h) / 2, (in.width - w) / 2, h, w), height, width);
  }
  std::string describe() const override { return "random_resized_crop to " + std::to_string(height) + "x" + std::to_string(width); }
};

struct HorizontalFlip : Step {
  double p;
  Shape output_shape(const Shape& in) const override { return in; }
  Planes apply(Planes in, Rng& rng) const override {
    if (rng.uniform() >= p) return in;
    for (std::int64_t c = 0; c < in.channels; ++c)
      for (std::int64_t y = 0; y < in.height; ++y) {
        float* row = in.values.data() + (c * in.height + y) * in.width;
        std::reverse(row, row + in.width);
      }
    return in;
  }
  std::string describe() const override { return "horizontal_flip p " + std::to_string(p); }
};

// torchvision's RandomCrop(size, padding): zero padding on every side, then a uniform window.
struct RandomCrop : Step {
  std::int64_t height, width, padding;
  Shape output_shape(const Shape& in) const override {
    if (height > in[1] + 2 * padding || width > in[2] + 2 * padding)
      throw Error(ErrorCode::data_format, "random_crop " + std::to_string(height) + "x" + std::to_string(width) +
                                              " is larger than the padded sample " + to_string(in));
    return {in[0], height, width};
  }
  Planes apply(Planes in, Rng& rng) const override {
    Planes padded = in;
    if (padding > 0) {
      padded.height = in.height + 2 * padding;
      padded.width = in.width + 2 * padding;
      padded.values.assign(static_cast<std::size_t>(in.channels * padded.height * padded.width), 0.0f);
      for (std::int64_t c = 0; c < in.channels; ++c)
        for (std::int64_t y = 0; y < in.height; ++y)
          std::copy_n(in.values.data() + (c * in.height + y) * in.width, in.width,
                      padded.values.data() + (c * padded.height + y + padding) * padded.width + padding);
    }
    const auto top = static_cast<std::int64_t>(rng.uniform_int(static_cast<std::uint64_t>(padded.height - height + 1)));
    const auto left = static_cast<std::int64_t>(rng.uniform_int(static_cast<std::uint64_t>(padded.width - width + 1)));
    return crop(padded, top, left, height, width);
  }
  std::string describe() const override {
    return "random_crop " + std::to_string(height) + "x" + std::to_string(width) + " padding " + std::to_string(padding);
  }
};

struct Normalize : Step {
  std::vector<double> mean, std;
  Shape output_shape(const Shape& in) const override {
    if (static_cast<std::int64_t>(mean.size()) != in[0])
      throw Error(ErrorCode::data_format, "normalize has " + std::to_string(mean.size()) + " means for samples of " +
                                              std::to_string(in[0]) + " channels");
    return in;
  }
  Planes apply(Planes in, Rng&) const override {
    const std::int64_t plane = in.height * in.width;
    for (std::int64_t c = 0; c < in.channels; ++c)
      for (std::int64_t i = 0; i < plane; ++i) {
        float& v = in.values[static_cast<std::size_t>(c * plane + i)];
        v = static_cast<float>((v - mean[static_cast<std::size_t>(c)]) / std[static_cast<std::size_t>(c)]);
      }
    return in;
  }
  std::string describe() const override { return "normalize"; }
};

std::vector<ParamSpec> schema_of(const std::string& name) {
  if (name == "random_resized_crop")
    return {param("size", ParamType::any, "output size: [height, width], or one number for a square"),
            param_list("scale", "range of the crop's area fraction", ParamType::real,
                       Value::list({Value::real(0.08), Value::real(1.0)}))
                .range(1e-6, 1),
            param_list("ratio", "range of the crop's aspect ratio (width / height)", ParamType::real,
                       Value::list({Value::real(3.0 / 4.0), Value::real(4.0 / 3.0)}))
                .range(1e-6, 1e6)};
  if (name == "horizontal_flip") return {param_float("p", "probability of flipping a sample", 0.5).range(0, 1)};
  if (name == "random_crop")
    return {param("size", ParamType::any, "output size: [height, width], or one number for a square"),
            param_int("padding", "zeros added on every side first", 0).range(0, 1 << 12)};
  if (name == "normalize")
    return {param_list("mean", "per-channel mean", ParamType::real), param_list("std", "per-channel standard deviation", ParamType::real)};
  return {};
}

}  // namespace

std::vector<std::string> augmentation_names() { return {"horizontal_flip", "normalize", "random_crop", "random_resized_crop"}; }

Augmentation Augmentation::parse(const Value& items, Diagnostics& diag) {
  Augmentation a;
  if (!items.is_list()) return a;
  for (const Value& item : items.items()) {
    std::string name;
    Value args = Value::map();
    Location where = item.location();
    if (item.is_string()) {
      name = item.as_string();
    } else if (item.is_map() && item.size() == 1) {
      name = item.entries()[0].first;
      where = item.key_location(name);
      if (item.entries()[0].second.is_map()) args = item.entries()[0].second;
    } else {
      diag.error(where, "augment: expected a transform name or a one-key map, e.g. {random_crop: {size: 28, padding: 4}}");
      continue;
    }
    const auto names = augmentation_names();
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      const std::string hint = did_you_mean(name, names);
      diag.error(where, "augment: unknown transform '" + name + "'" + (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
      continue;
    }
    CountingDiagnostics counting(diag);
    const Params p = check_params(schema_of(name), args, "augment: " + name, where, "/", counting);
    if (counting.errors()) continue;
    auto pair_of = [&](const char* key, double& lo, double& hi) {
      const auto v = p.get_float_list(key);
      if (v.size() != 2 || v[0] > v[1]) {
        diag.error(p.location(key), "augment: " + name + ": '" + key + "' needs [low, high], got " + p.get(key).str());
        return false;
      }
      lo = v[0];
      hi = v[1];
      return true;
    };
    auto size = [&](std::int64_t& h, std::int64_t& w) {
      // One number or a list of one or two, each in [1, 65536].
      const Value& given = p.get("size");
      std::vector<std::int64_t> s;
      bool ok = given.is_int() || given.is_list();
      if (given.is_int()) s.push_back(given.as_int());
      if (given.is_list())
        for (const Value& v : given.items()) {
          ok = ok && v.is_int();
          if (v.is_int()) s.push_back(v.as_int());
        }
      for (auto v : s) ok = ok && v >= 1 && v <= (1 << 16);
      if (!ok || s.empty() || s.size() > 2) {
        diag.error(p.location("size"), "augment: " + name + ": 'size' needs [height, width] or [size], got " + p.get("size").str());
        return false;
      }
      std::tie(h, w) = size_of(s);
      return true;
    };
    if (name == "random_resized_crop") {
      auto s = std::make_shared<RandomResizedCrop>();
      if (size(s->height, s->width) && pair_of("scale", s->scale_lo, s->scale_hi) && pair_of("ratio", s->ratio_lo, s->ratio_hi))
        a.steps_.push_back(s);
    } else if (name == "horizontal_flip") {
      auto s = std::make_shared<HorizontalFlip>();
      s->p = p.get_float("p");
      a.steps_.push_back(s);
    } else if (name == "random_crop") {
      auto s = std::make_shared<RandomCrop>();
      s->padding = p.get_int("padding");
      if (size(s->height, s->width)) a.steps_.push_back(s);
    } else if (name == "normalize") {
      auto s = std::make_shared<Normalize>();
      s->mean = p.get_float_list("mean");
      s->std = p.get_float_list("std");
      bool ok = s->mean.size() == s->std.size() && !s->mean.empty();
      for (double v : s->std) ok = ok && v > 0;
      if (!ok) diag.error(where, "augment: normalize needs as many means as standard deviations (> 0)");
      else a.steps_.push_back(s);
    }
  }
  return a;
}

Shape Augmentation::output_shape(const Shape& sample) const {
  if (sample.size() != 3)
    throw Error(ErrorCode::data_format, "augmentation needs [channels, height, width] samples, got " + to_string(sample));
  Shape s = sample;
  for (const auto& step : steps_) s = step->output_shape(s);
  return s;
}

void Augmentation::apply(const Tensor& batch, Tensor& out, Rng& rng) const {
  const Shape in_sample(batch.shape().begin() + 1, batch.shape().end());
  const Shape out_sample = output_shape(in_sample);
  const std::int64_t n = batch.dim(0), in_per = numel(in_sample), out_per = numel(out_sample);
  Shape shape = out_sample;
  shape.insert(shape.begin(), n);
  out.resize(shape);
  for (std::int64_t i = 0; i < n; ++i) {
    Planes p{in_sample[0], in_sample[1], in_sample[2],
             std::vector<float>(batch.data() + i * in_per, batch.data() + (i + 1) * in_per)};
    for (const auto& step : steps_) p = step->apply(std::move(p), rng);
    std::copy(p.values.begin(), p.values.end(), out.data() + i * out_per);
  }
}

std::string Augmentation::describe() const {
  std::string out;
  for (const auto& s : steps_) out += (out.empty() ? "" : ", ") + s->describe();
  return out;
}

}  // namespace pipeline::data
