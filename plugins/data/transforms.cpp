#include "transforms.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "pipeline/error.hpp"
#include "sampling.hpp"

namespace pipeline::data {
namespace {

// The whole dataset as a Selection, for the index-based helpers in sampling.hpp.
Selection all_of(const Dataset& in) {
  Selection s;
  s.class_names = in.class_names();
  s.labels = in.labels();
  s.indices.resize(in.labels().size());
  for (std::size_t i = 0; i < s.indices.size(); ++i) s.indices[i] = static_cast<std::int64_t>(i);
  return s;
}

std::string quoted(const std::string& name) { return "'" + name + "'"; }

// Merging by name needs each name to stand for one class.
void require_unique_names(const std::vector<std::string>& names, const std::string& input) {
  std::map<std::string, std::size_t> seen;
  for (std::size_t c = 0; c < names.size(); ++c) {
    auto [it, inserted] = seen.emplace(names[c], c);
    if (!inserted)
      throw Error(ErrorCode::data_format, "class name " + quoted(names[c]) + " appears twice in " + quoted(input) +
                                              " (classes " + std::to_string(it->second) + " and " +
                                              std::to_string(c) + "); merge_classes needs unique names");
  }
}

}  // namespace

std::vector<std::int64_t> long_tail_counts(const std::vector<std::int64_t>& class_counts, double ratio,
                                           std::int64_t max_per_class, const std::string& source) {
  // The schema already guarantees both; a NaN slips through range checks, so test it here too.
  if (!(ratio >= 1)) throw Error(ErrorCode::stage_failed, "ratio must be at least 1, got " + std::to_string(ratio));
  if (max_per_class < 0)
    throw Error(ErrorCode::stage_failed, "max_per_class must be 0 or more, got " + std::to_string(max_per_class));
  const std::size_t n_classes = class_counts.size();
  if (n_classes == 0) throw Error(ErrorCode::data_format, source + ": has no classes");
  for (std::size_t c = 0; c < n_classes; ++c)
    if (class_counts[c] <= 0)
      throw Error(ErrorCode::data_format, source + ": class " + std::to_string(c) +
                                              " has no samples; a long tail needs samples of every class");
  std::int64_t n0 = *std::min_element(class_counts.begin(), class_counts.end());
  if (max_per_class > 0) n0 = std::min(n0, max_per_class);

  std::vector<std::int64_t> counts(n_classes);
  for (std::size_t c = 0; c < n_classes; ++c) {
    // One class has no tail: c / (C - 1) would be 0 / 0.
    const double exponent = n_classes > 1 ? -static_cast<double>(c) / static_cast<double>(n_classes - 1) : 0.0;
    const double n = static_cast<double>(n0) * std::pow(ratio, exponent);
    // n <= n0 since ratio >= 1, so every class has enough samples.
    counts[c] = std::max<std::int64_t>(1, std::llround(n));
  }
  return counts;
}

Dataset take_class_counts(const Dataset& in, const std::vector<std::int64_t>& counts, Rng& rng,
                          const std::string& source) {
  if (counts.size() != static_cast<std::size_t>(in.num_classes()))
    throw Error(ErrorCode::internal, "take_class_counts: " + std::to_string(counts.size()) + " counts for " +
                                         std::to_string(in.num_classes()) + " classes");
  std::vector<std::vector<std::int64_t>> groups(counts.size());
  for (std::size_t i = 0; i < in.labels().size(); ++i) groups[in.labels()[i]].push_back(static_cast<std::int64_t>(i));
  std::vector<std::int64_t> keep;
  for (std::size_t c = 0; c < groups.size(); ++c) {
    auto& group = groups[c];
    if (counts[c] < 0 || static_cast<std::int64_t>(group.size()) < counts[c])
      throw Error(ErrorCode::data_format, source + ": class " + in.class_names()[c] + " has " +
                                              std::to_string(group.size()) + " samples, fewer than the " +
                                              std::to_string(counts[c]) + " asked for");
    rng.shuffle(group);
    keep.insert(keep.end(), group.begin(), group.begin() + counts[c]);
  }
  // Original order, so the result does not depend on how the shuffle grouped the samples.
  std::sort(keep.begin(), keep.end());
  return in.subset(keep);
}

SplitDatasets split_dataset(const Dataset& in, double validation_fraction, Rng& rng) {
  Selection train, validation;
  split_stratified(all_of(in), validation_fraction, rng, train, validation);
  return {in.subset(train.indices), in.subset(validation.indices)};
}

Dataset concat_datasets(const Dataset& first, const Dataset& second, bool merge_classes) {
  if (first.sample_shape() != second.sample_shape())
    throw Error(ErrorCode::data_format, "sample shapes differ: " + to_string(first.sample_shape()) +
                                            " in 'first', " + to_string(second.sample_shape()) + " in 'second'");
  const auto& a = first.class_names();
  const auto& b = second.class_names();

  std::vector<std::string> names = a;
  std::vector<std::int32_t> relabel(b.size());  // second's label -> label in the result
  if (merge_classes) {
    require_unique_names(a, "first");
    require_unique_names(b, "second");
    std::map<std::string, std::int32_t> index;
    for (std::size_t c = 0; c < a.size(); ++c) index.emplace(a[c], static_cast<std::int32_t>(c));
    for (std::size_t c = 0; c < b.size(); ++c) {
      auto [it, inserted] = index.emplace(b[c], static_cast<std::int32_t>(names.size()));
      if (inserted) names.push_back(b[c]);
      relabel[c] = it->second;
    }
  } else {
    if (a != b) {
      const auto diff = static_cast<std::size_t>(std::mismatch(a.begin(), a.end(), b.begin(), b.end()).first - a.begin());
      std::string what;
      if (diff < a.size() && diff < b.size())
        what = "class names differ at class " + std::to_string(diff) + ": " + quoted(a[diff]) + " in 'first', " +
               quoted(b[diff]) + " in 'second'";
      else
        what = "class names differ: 'first' has " + std::to_string(a.size()) + " classes, 'second' has " +
               std::to_string(b.size()) + " (class " + std::to_string(diff) + " is " +
               quoted(diff < a.size() ? a[diff] : b[diff]) + " only in " +
               (diff < a.size() ? "'first'" : "'second'") + ")";
      throw Error(ErrorCode::data_format, what + "; set merge_classes: true to merge the classes by name");
    }
    for (std::size_t c = 0; c < b.size(); ++c) relabel[c] = static_cast<std::int32_t>(c);
  }

  Shape shape = first.sample_shape();
  shape.insert(shape.begin(), first.size() + second.size());
  std::vector<float> values;
  values.reserve(static_cast<std::size_t>(numel(shape)));
  values.insert(values.end(), first.features().values().begin(), first.features().values().end());
  values.insert(values.end(), second.features().values().begin(), second.features().values().end());
  std::vector<std::int32_t> labels = first.labels();
  labels.reserve(labels.size() + second.labels().size());
  for (auto l : second.labels()) labels.push_back(relabel[l]);
  return Dataset(Tensor(std::move(shape), std::move(values)), std::move(labels), std::move(names));
}

}  // namespace pipeline::data
