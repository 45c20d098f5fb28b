#include "sampling.hpp"

#include <algorithm>
#include <cmath>

#include "pipeline/error.hpp"

namespace pipeline::data {
namespace {

// Sample positions (into in.indices) grouped by class.
std::vector<std::vector<std::size_t>> by_class(const Selection& in) {
  std::vector<std::vector<std::size_t>> groups(in.class_names.size());
  for (std::size_t k = 0; k < in.labels.size(); ++k) groups[in.labels[k]].push_back(k);
  return groups;
}

Selection gather(const Selection& in, std::vector<std::size_t> positions) {
  std::sort(positions.begin(), positions.end());
  Selection out;
  out.class_names = in.class_names;
  for (auto k : positions) {
    out.indices.push_back(in.indices[k]);
    out.labels.push_back(in.labels[k]);
  }
  return out;
}

}  // namespace

Selection select_classes(const std::vector<std::int32_t>& labels, const std::vector<std::int64_t>& classes,
                         const std::vector<std::string>& source_names, const std::string& source) {
  Selection out;
  auto name_of = [&](std::int64_t c) {
    return c >= 0 && c < static_cast<std::int64_t>(source_names.size()) ? source_names[c] : std::to_string(c);
  };
  if (classes.empty()) {
    std::int32_t max_label = -1;
    for (auto l : labels) max_label = std::max(max_label, l);
    for (std::int32_t c = 0; c <= max_label; ++c) out.class_names.push_back(name_of(c));
    for (std::size_t i = 0; i < labels.size(); ++i) {
      out.indices.push_back(static_cast<std::int64_t>(i));
      out.labels.push_back(labels[i]);
    }
    return out;
  }
  std::vector<std::int32_t> relabel(256, -1);
  std::int32_t max_label = 0;
  for (auto l : labels) max_label = std::max(max_label, l);
  relabel.resize(std::max<std::size_t>(relabel.size(), max_label + 1), -1);
  for (std::size_t k = 0; k < classes.size(); ++k) {
    if (classes[k] >= 0 && classes[k] < static_cast<std::int64_t>(relabel.size()))
      relabel[classes[k]] = static_cast<std::int32_t>(k);
    out.class_names.push_back(name_of(classes[k]));
  }
  std::vector<std::int64_t> counts(classes.size(), 0);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::int32_t to = relabel[labels[i]];
    if (to < 0) continue;
    out.indices.push_back(static_cast<std::int64_t>(i));
    out.labels.push_back(to);
    ++counts[to];
  }
  for (std::size_t k = 0; k < classes.size(); ++k)
    if (counts[k] == 0)
      throw Error(ErrorCode::data_format, source + ": class " + std::to_string(classes[k]) +
                                              " has no samples (labels present: 0.." +
                                              std::to_string(max_label) + ")");
  return out;
}

Selection take_per_class(const Selection& in, std::int64_t per_class, Rng& rng, const std::string& source) {
  std::vector<std::size_t> keep;
  auto groups = by_class(in);
  for (std::size_t c = 0; c < groups.size(); ++c) {
    auto& group = groups[c];
    if (static_cast<std::int64_t>(group.size()) < per_class)
      throw Error(ErrorCode::data_format, source + ": class " + in.class_names[c] + " has " +
                                              std::to_string(group.size()) +
                                              " samples, fewer than per_class = " +
                                              std::to_string(per_class));
    rng.shuffle(group);
    keep.insert(keep.end(), group.begin(), group.begin() + per_class);
  }
  return gather(in, std::move(keep));
}

void split_stratified(const Selection& in, double fraction, Rng& rng, Selection& first, Selection& second) {
  std::vector<std::size_t> a, b;
  for (auto& group : by_class(in)) {
    rng.shuffle(group);
    const auto n_second = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(group.size())));
    b.insert(b.end(), group.begin(), group.begin() + n_second);
    a.insert(a.end(), group.begin() + n_second, group.end());
  }
  first = gather(in, std::move(a));
  second = gather(in, std::move(b));
}

std::vector<ParamSpec> sampling_params(std::int64_t max_label) {
  return {
      param_list("classes", "keep these labels, relabelled 0..n-1 in this order; empty keeps all", ParamType::integer,
                 Value::list())
          .range(0, static_cast<double>(max_label)),
      param_int("per_class", "keep this many samples per class, chosen with the stage's seed; 0 keeps all", 0)
          .range(0, std::nullopt),
      param_float("test_fraction", "fraction of each class held out as 'test', chosen with the stage's seed", 0.0)
          .range(0, 1),
  };
}

void select_and_split(const std::vector<std::int32_t>& labels, const Params& params, std::uint64_t seed,
                      const std::string& source, Selection& train, Selection& test,
                      const std::vector<std::string>& source_names) {
  Selection selected = select_classes(labels, params.get_int_list("classes"), source_names, source);
  Rng rng(seed);
  if (const auto k = params.get_int("per_class"); k > 0) selected = take_per_class(selected, k, rng, source);
  split_stratified(selected, params.get_float("test_fraction"), rng, train, test);
}

}  // namespace pipeline::data
