// How active_select ranks the unlabelled pool: uncertainty scores from the model's class
// probabilities, and k-center greedy (Sener & Savarese 2018) on embeddings. Plain functions of
// their inputs, so tests check them on hand-made numbers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pipeline::active {

// Informativeness of each sample, higher first, from probabilities [n, classes] (rows sum to 1):
// least_confidence 1 - max p; margin -(p_top1 - p_top2); entropy -sum p log p.
std::vector<double> uncertainty_scores(const std::vector<float>& probabilities, std::int64_t classes,
                                       const std::string& strategy);

// The indices of the k highest scores, highest first; equal scores by lower index.
std::vector<std::int64_t> top_k(const std::vector<double>& scores, std::int64_t k);

// k-center greedy: k pool points, each the one farthest (squared Euclidean) from its nearest
// center, the labelled points being the first centers and every pick becoming one. Without
// labelled points the first pick is pool point 0. Ties go to the lower index. Embeddings are
// row-major [n, dim].
std::vector<std::int64_t> k_center_greedy(const std::vector<float>& pool, const std::vector<float>& labelled,
                                          std::int64_t dim, std::int64_t k);

}  // namespace pipeline::active
