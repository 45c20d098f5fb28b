// Training-time augmentation: a list of transforms applied to every sample of every batch, on the
// fly, with draws from a generator the training stage seeds from its seed and the epoch, so runs
// stay bit-reproducible. torchvision's semantics: RandomResizedCrop, RandomHorizontalFlip,
// RandomCrop with zero padding, Normalize.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pipeline/rng.hpp"
#include "pipeline/stage.hpp"
#include "pipeline/tensor.hpp"

namespace pipeline::data {

class Augmentation {
 public:
  // From an `augment:` list as written in YAML, e.g.
  //   [{random_resized_crop: {size: 32, scale: [0.5, 1]}}, horizontal_flip, {normalize: {mean: [0.5], std: [0.25]}}]
  // Problems are reported to `diag` at their items.
  static Augmentation parse(const Value& items, Diagnostics& diag);
  bool empty() const { return steps_.empty(); }
  // The sample shape a [C, H, W] sample has after the transforms; throws Error(data_format) when
  // they do not fit it (a crop larger than the image, a mean of other length than the channels).
  Shape output_shape(const Shape& sample) const;
  // Transforms `batch` ([N, C, H, W]) into `out` ([N, ...output_shape]), sample by sample in order.
  void apply(const Tensor& batch, Tensor& out, Rng& rng) const;
  std::string describe() const;

  struct Step;

 private:
  std::vector<std::shared_ptr<const Step>> steps_;
};

// The names the list accepts, for docs and did-you-mean.
std::vector<std::string> augmentation_names();

}  // namespace pipeline::data
