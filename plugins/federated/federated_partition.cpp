// How federated_split divides a dataset among clients: IID, each class dealt evenly, or non-IID,
// each client's label distribution drawn from Dirichlet(alpha) (Hsu et al. 2019).
#include "federated_partition.hpp"

#include <algorithm>
#include <cmath>

#include "pipeline/error.hpp"

namespace pipeline::federated {
namespace {

// log of a Gamma(a, 1) draw (Marsaglia & Tsang 2000; a < 1 through Gamma(a + 1) U^(1/a)), kept in
// logs because small alphas give draws that underflow a double.
double log_gamma_draw(double a, Rng& rng) {
  double log_boost = 0;
  if (a < 1) {
    double u = rng.uniform();
    while (u <= 0) u = rng.uniform();
    log_boost = std::log(u) / a;
    a += 1;
  }
  const double d = a - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double x = rng.normal();
    double v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    const double u = rng.uniform();
    if (u < 1 - 0.0331 * x * x * x * x || std::log(u) < 0.5 * x * x + d * (1 - v + std::log(v)))
      return std::log(d * v) + log_boost;
  }
}

std::vector<double> dirichlet_draw(std::size_t n, double alpha, Rng& rng) {
  std::vector<double> logs(n);
  for (auto& l : logs) l = log_gamma_draw(alpha, rng);
  const double top = *std::max_element(logs.begin(), logs.end());
  double sum = 0;
  for (auto& l : logs) sum += (l = std::exp(l - top));
  for (auto& l : logs) l /= sum;
  return logs;
}

std::vector<std::vector<std::int64_t>> by_class(const Dataset& data) {
  std::vector<std::vector<std::int64_t>> groups(static_cast<std::size_t>(data.num_classes()));
  for (std::size_t i = 0; i < data.labels().size(); ++i)
    groups[static_cast<std::size_t>(data.labels()[i])].push_back(static_cast<std::int64_t>(i));
  return groups;
}

}  // namespace

std::vector<std::vector<std::int64_t>> federated_partition(const Dataset& data, const FederatedOptions& o, Rng& rng,
                                                           const std::string& source) {
  if (o.clients < 1) throw Error(ErrorCode::stage_failed, "clients must be >= 1");
  const std::size_t n = static_cast<std::size_t>(o.clients);
  auto groups = by_class(data);
  std::vector<std::vector<std::int64_t>> parts(n);
  if (o.distribution == "iid") {
    // Deal each class round the clients, continuing where the previous class stopped, so every
    // client holds floor or ceil of n_c / N of each class and of the whole.
    std::size_t next = 0;
    for (std::size_t c = 0; c < groups.size(); ++c) {
      if (!groups[c].empty() && groups[c].size() < n)
        throw Error(ErrorCode::data_format,
                    source + ": an IID split gives every client every class, but class " + data.class_names()[c] +
                        " has " + std::to_string(groups[c].size()) + " samples for " + std::to_string(n) +
                        " clients; use fewer clients, more data, or distribution: dirichlet");
      rng.shuffle(groups[c]);
      for (auto i : groups[c]) parts[next++ % n].push_back(i);
    }
  } else if (o.distribution == "dirichlet") {
    // Hsu et al. 2019: client k's label distribution q_k ~ Dir(alpha 1_C); its n / N samples
    // are drawn class by class from q_k, among the classes with samples left (renormalised),
    // each class's samples in a shuffled order. Every client gets its share of the data.
    if (!(o.alpha > 0)) throw Error(ErrorCode::stage_failed, "alpha must be > 0");
    const std::size_t classes = groups.size();
    std::vector<std::size_t> next(classes, 0);
    for (auto& group : groups) rng.shuffle(group);
    const std::size_t total = data.labels().size();
    for (std::size_t k = 0; k < n; ++k) {
      const std::vector<double> q = dirichlet_draw(classes, o.alpha, rng);
      const std::size_t size = total / n + (k < total % n ? 1 : 0);
      for (std::size_t drawn = 0; drawn < size; ++drawn) {
        double mass = 0;
        for (std::size_t c = 0; c < classes; ++c)
          if (next[c] < groups[c].size()) mass += q[c];
        std::size_t pick = classes;
        if (mass > 0) {
          double u = rng.uniform() * mass;
          for (std::size_t c = 0; c < classes; ++c) {
            if (next[c] >= groups[c].size()) continue;
            pick = c;
            if ((u -= q[c]) < 0) break;
          }
        } else {  // q_k's classes are used up (or underflowed): the first class with samples left
          for (std::size_t c = 0; c < classes && pick == classes; ++c)
            if (next[c] < groups[c].size()) pick = c;
        }
        parts[k].push_back(groups[pick][next[pick]++]);
      }
    }
  } else {
    throw Error(ErrorCode::stage_failed, "unknown distribution '" + o.distribution + "'");
  }
  for (auto& p : parts) std::sort(p.begin(), p.end());  // the input's order
  return parts;
}

}  // namespace pipeline::federated
