// Dataset transforms behind the long_tail, split and concat stages, as plain functions of their
// inputs (and an Rng) so tests can call them without a running stage.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/dataset.hpp"
#include "pipeline/rng.hpp"

namespace pipeline::data {

// Per-class sample counts of a long-tailed version of a dataset with these class counts: class c
// of C keeps n_c = max(1, round(n_0 * ratio^(-c/(C-1)))), where n_0 is the smallest class count,
// or max_per_class if that is positive and smaller. ratio = 1 keeps n_0 of every class.
// Errors: data_format naming `source` when a class has no samples; stage_failed when ratio is not
// a number >= 1 or max_per_class is negative.
std::vector<std::int64_t> long_tail_counts(const std::vector<std::int64_t>& class_counts, double ratio,
                                           std::int64_t max_per_class, const std::string& source);

// Keeps counts[c] samples of each class c, chosen at random, in their original order. Classes
// are drawn in label order, so the same rng state gives the same samples.
// Error (data_format, naming `source`): a class with fewer samples than asked for.
Dataset take_class_counts(const Dataset& in, const std::vector<std::int64_t>& counts, Rng& rng,
                          const std::string& source);

struct SplitDatasets {
  Dataset train;
  Dataset validation;
};

// A stratified split (split_stratified): round(validation_fraction * count) samples of each class
// go to validation, the rest to train; both keep the input's classes and sample order.
SplitDatasets split_dataset(const Dataset& in, double validation_fraction, Rng& rng);

// The samples of `first`, then those of `second`. Sample shapes must be equal. Without
// merge_classes the class name lists must be equal; with it, the classes are first's, then
// second's names not among them, and second's labels are mapped by name (names must then be
// unique within each input). Errors are data_format, naming the inputs 'first' and 'second'.
Dataset concat_datasets(const Dataset& first, const Dataset& second, bool merge_classes);

}  // namespace pipeline::data
