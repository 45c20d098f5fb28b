// Seeded selection of samples by class: keep and relabel classes, take K per class, split
// stratified. All work on index lists so the pixels are copied once, at the end.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/params.hpp"
#include "pipeline/rng.hpp"

namespace pipeline::data {

struct Selection {
  std::vector<std::int64_t> indices;     // into the source, ascending
  std::vector<std::int32_t> labels;      // new labels, parallel to indices
  std::vector<std::string> class_names;  // new label i was source class class_names[i]
};

// Keeps samples whose label is in `classes` (relabelled to its position there); with no classes,
// keeps all and numbers classes 0..max label. `source_names` names the source's labels, if known.
// Errors (data_format): a requested class with no samples.
Selection select_classes(const std::vector<std::int32_t>& labels, const std::vector<std::int64_t>& classes,
                         const std::vector<std::string>& source_names, const std::string& source);

// Keeps `per_class` samples of each class, chosen at random; an error names a class with fewer.
Selection take_per_class(const Selection& in, std::int64_t per_class, Rng& rng, const std::string& source);

// Splits each class at random: round(fraction * count) samples of it go to `second`.
void split_stratified(const Selection& in, double fraction, Rng& rng, Selection& first, Selection& second);

// The loaders' shared parameters: classes (labels up to max_label), per_class, test_fraction.
std::vector<ParamSpec> sampling_params(std::int64_t max_label);

// What those parameters ask, in order: keep and relabel classes, take per_class of each, split off
// test_fraction of each class, all from one generator seeded with `seed`.
void select_and_split(const std::vector<std::int32_t>& labels, const Params& params, std::uint64_t seed,
                      const std::string& source, Selection& train, Selection& test,
                      const std::vector<std::string>& source_names = {});

}  // namespace pipeline::data
