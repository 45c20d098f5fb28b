#include "loss.hpp"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cmath>
#include <map>

#include "pipeline/error.hpp"

namespace pipeline::train {
namespace {

// Log-softmax over the class axis on oneDNN; one primitive per batch shape.
void log_softmax(const Tensor& logits, Tensor& out) {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  thread_local dnnl::stream stream(engine);
  thread_local std::map<std::pair<std::int64_t, std::int64_t>, dnnl::logsoftmax_forward> prims;
  const std::int64_t n = logits.dim(0), c = logits.dim(1);
  const dnnl::memory::desc desc({n, c}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::nc);
  auto& prim = prims[{n, c}];
  if (!prim)
    prim = dnnl::logsoftmax_forward(dnnl::logsoftmax_forward::primitive_desc(
        dnnl::logsoftmax_forward::desc(dnnl::prop_kind::forward_inference, desc, 1), engine));
  out.resize(logits.shape());
  prim.execute(stream, {{DNNL_ARG_SRC, dnnl::memory(desc, engine, const_cast<float*>(logits.data()))},
                        {DNNL_ARG_DST, dnnl::memory(desc, engine, out.data())}});
}

}  // namespace

std::vector<double> log_class_prior(const std::vector<std::int64_t>& counts) {
  double total = 0;
  for (auto n : counts) total += static_cast<double>(std::max<std::int64_t>(n, 1));
  std::vector<double> out;
  for (auto n : counts) out.push_back(std::log(static_cast<double>(std::max<std::int64_t>(n, 1)) / total));
  return out;
}

double CrossEntropy::operator()(const Tensor& logits, const std::int32_t* labels, Tensor* grad) {
  if (logits.rank() != 2) throw Error(ErrorCode::internal, "cross-entropy needs [N, classes] logits");
  const std::int64_t n = logits.dim(0), c = logits.dim(1);
  if (!options_.class_weights.empty() && static_cast<std::int64_t>(options_.class_weights.size()) != c)
    throw Error(ErrorCode::config_schema, "class_weights has " + std::to_string(options_.class_weights.size()) +
                                              " values for a model with " + std::to_string(c) + " outputs");
  if (!options_.logit_offsets.empty()) {
    if (static_cast<std::int64_t>(options_.logit_offsets.size()) != c)
      throw Error(ErrorCode::config_schema, "logit adjustment has " + std::to_string(options_.logit_offsets.size()) +
                                                " class priors for a model with " + std::to_string(c) + " outputs");
    adjusted_ = logits;
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t k = 0; k < c; ++k) adjusted_.data()[i * c + k] += options_.logit_offsets[static_cast<std::size_t>(k)];
    log_softmax(adjusted_, log_probs_);
  } else {
    log_softmax(logits, log_probs_);
  }
  if (options_.focal_gamma > 0) return focal(n, c, labels, grad);
  auto weight = [&](std::int64_t k) { return options_.class_weights.empty() ? 1.0 : options_.class_weights[k]; };
  const double eps = options_.label_smoothing;
  double total = 0, norm = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int32_t y = labels[i];
    if (y < 0 || y >= c)
      throw Error(ErrorCode::data_format, "label " + std::to_string(y) + " is outside the model's " +
                                              std::to_string(c) + " classes");
    const float* lp = log_probs_.data() + i * c;
    double smooth = 0;
    if (eps > 0)
      for (std::int64_t k = 0; k < c; ++k) smooth -= weight(k) * lp[k];
    total += (1 - eps) * -weight(y) * lp[y] + eps / c * smooth;
    norm += weight(y);
  }
  if (!(norm > 0)) {
    // Every sample's class weighs 0 (a validation batch of classes absent from training): no loss.
    if (grad) grad->resize(logits.shape()), std::fill(grad->data(), grad->data() + n * c, 0.0f);
    return 0;
  }
  if (grad) {
    // loss_i = -sum_k a_ik log p_ik with a_ik = (1-eps) w_y [k=y] + eps/C w_k, so
    // d loss_i / d z_ik = (sum_k a_ik) p_ik - a_ik.
    grad->resize(logits.shape());
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int32_t y = labels[i];
      const float* lp = log_probs_.data() + i * c;
      float* g = grad->data() + i * c;
      double a_sum = (1 - eps) * weight(y);
      if (eps > 0)
        for (std::int64_t k = 0; k < c; ++k) a_sum += eps / c * weight(k);
      for (std::int64_t k = 0; k < c; ++k) {
        const double a = (k == y ? (1 - eps) * weight(y) : 0.0) + eps / c * weight(k);
        g[k] = static_cast<float>((a_sum * std::exp(static_cast<double>(lp[k])) - a) / norm);
      }
    }
  }
  return total / norm;
}

// loss_i = -w_y (1 - p)^g log p with p = p_iy; d loss_i / d z_ik = w_y f'(p) p ([k=y] - p_k),
// f'(p) = g (1 - p)^(g-1) log p - (1 - p)^g / p, so the factor is w_y (g (1-p)^(g-1) p log p - (1-p)^g).
double CrossEntropy::focal(std::int64_t n, std::int64_t c, const std::int32_t* labels, Tensor* grad) {
  const double g = options_.focal_gamma;
  auto weight = [&](std::int64_t k) { return options_.class_weights.empty() ? 1.0 : options_.class_weights[static_cast<std::size_t>(k)]; };
  double total = 0, norm = 0;
  if (grad) grad->resize({n, c});
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int32_t y = labels[i];
    if (y < 0 || y >= c)
      throw Error(ErrorCode::data_format, "label " + std::to_string(y) + " is outside the model's " + std::to_string(c) + " classes");
    const float* lp = log_probs_.data() + i * c;
    const double log_p = lp[y], p = std::exp(log_p), w = weight(y);
    total += -w * std::pow(1 - p, g) * log_p;
    norm += w;
  }
  if (!(norm > 0)) {
    if (grad) std::fill(grad->data(), grad->data() + n * c, 0.0f);
    return 0;
  }
  if (grad)
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int32_t y = labels[i];
      const float* lp = log_probs_.data() + i * c;
      const double log_p = lp[y], p = std::exp(log_p);
      // (1-p)^(g-1) is unbounded as p -> 1 for g < 1, but times p log p -> 0 it stays finite.
      const double first = p < 1 ? g * std::pow(1 - p, g - 1) * p * log_p : 0.0;
      const double factor = weight(y) * (first - std::pow(1 - p, g)) / norm;
      float* out = grad->data() + i * c;
      for (std::int64_t k = 0; k < c; ++k)
        out[k] = static_cast<float>(factor * ((k == y ? 1.0 : 0.0) - std::exp(static_cast<double>(lp[k]))));
    }
  return total / norm;
}

}  // namespace pipeline::train
