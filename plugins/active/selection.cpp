#include "selection.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace pipeline::active {

std::vector<double> uncertainty_scores(const std::vector<float>& probabilities, std::int64_t classes,
                                       const std::string& strategy) {
  const std::size_t c = static_cast<std::size_t>(classes);
  const std::size_t n = c ? probabilities.size() / c : 0;
  std::vector<double> scores(n);
  for (std::size_t i = 0; i < n; ++i) {
    const float* p = probabilities.data() + i * c;
    double first = -1, second = -1, entropy = 0;
    for (std::size_t j = 0; j < c; ++j) {
      const double v = p[j];
      if (v > first) {
        second = first;
        first = v;
      } else if (v > second) {
        second = v;
      }
      if (v > 0) entropy -= v * std::log(v);
    }
    if (second < 0) second = 0;  // one class
    if (strategy == "least_confidence")
      scores[i] = 1 - first;
    else if (strategy == "margin")
      scores[i] = -(first - second);
    else if (strategy == "entropy")
      scores[i] = entropy;
    else
      throw std::invalid_argument("unknown uncertainty strategy '" + strategy + "'");
  }
  return scores;
}

std::vector<std::int64_t> top_k(const std::vector<double>& scores, std::int64_t k) {
  std::vector<std::int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  const auto keep = std::min<std::size_t>(static_cast<std::size_t>(std::max<std::int64_t>(k, 0)), order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                    [&](std::int64_t a, std::int64_t b) {
                      const double sa = scores[static_cast<std::size_t>(a)], sb = scores[static_cast<std::size_t>(b)];
                      return sa != sb ? sa > sb : a < b;
                    });
  order.resize(keep);
  return order;
}

namespace {

double squared_distance(const float* a, const float* b, std::size_t dim) {
  double d = 0;
  for (std::size_t j = 0; j < dim; ++j) {
    const double t = static_cast<double>(a[j]) - b[j];
    d += t * t;
  }
  return d;
}

}  // namespace

std::vector<std::int64_t> k_center_greedy(const std::vector<float>& pool, const std::vector<float>& labelled,
                                          std::int64_t dim, std::int64_t k) {
  const std::size_t d = static_cast<std::size_t>(dim);
  const std::size_t n = d ? pool.size() / d : 0, m = d ? labelled.size() / d : 0;
  std::vector<double> nearest(n, std::numeric_limits<double>::infinity());
  auto take_center = [&](const float* center) {
    for (std::size_t i = 0; i < n; ++i) nearest[i] = std::min(nearest[i], squared_distance(pool.data() + i * d, center, d));
  };
  for (std::size_t c = 0; c < m; ++c) take_center(labelled.data() + c * d);
  std::vector<std::int64_t> picks;
  std::vector<bool> chosen(n, false);  // duplicates are at distance 0 too: never pick one twice
  const std::size_t want = std::min<std::size_t>(static_cast<std::size_t>(std::max<std::int64_t>(k, 0)), n);
  while (picks.size() < want) {
    std::size_t best = 0;
    double best_d = -1;
    for (std::size_t i = 0; i < n; ++i)
      if (!chosen[i] && nearest[i] > best_d) best_d = nearest[i], best = i;  // strict: ties keep the lower index
    chosen[best] = true;
    picks.push_back(static_cast<std::int64_t>(best));
    take_center(pool.data() + best * d);
  }
  return picks;
}

}  // namespace pipeline::active
