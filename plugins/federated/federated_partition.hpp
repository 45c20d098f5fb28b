// The partition behind federated_split, as a plain function so tests can call it directly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/dataset.hpp"
#include "pipeline/rng.hpp"

namespace pipeline::federated {

struct FederatedOptions {
  std::int64_t clients = 1;
  std::string distribution = "iid";  // iid or dirichlet
  double alpha = 0.5;                // dirichlet: concentration, > 0
};

// Each client's sample indices into `data`, ascending. iid: each class shuffled and dealt round
// the clients, continuing where the previous class stopped, so every client holds floor or ceil
// of n_c / N of each class. dirichlet (Hsu et al. 2019): client k's label distribution
// q_k ~ Dir(alpha 1_C), and its floor or ceil of n / N samples drawn by class from q_k among the
// classes with samples left. Error (data_format, naming `source`): under iid, a non-empty class
// with fewer samples than clients.
std::vector<std::vector<std::int64_t>> federated_partition(const Dataset& data, const FederatedOptions& options,
                                                           Rng& rng, const std::string& source);

}  // namespace pipeline::federated
