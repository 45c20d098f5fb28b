#include "optimizer.hpp"

#include <cmath>

namespace pipeline::train {

void Optimizer::add(Parameter* p, double lr_scale) { slots_.push_back({p, lr_scale, {}, {}, false}); }

void Optimizer::step(double lr) {
  ++t_;
  const float wd = static_cast<float>(o_.weight_decay);
  for (auto& s : slots_) {
    Parameter& p = *s.param;
    if (!p.trainable || p.buffer || p.grad.numel() != p.value.numel()) continue;
    const std::size_t n = static_cast<std::size_t>(p.value.numel());
    float* w = p.value.data();
    const float* g = p.grad.data();
    const float rate = static_cast<float>(lr * s.lr_scale);
    if (o_.kind == "sgd") {
      const float mu = static_cast<float>(o_.momentum);
      if (mu == 0) {
        for (std::size_t i = 0; i < n; ++i) w[i] -= rate * (g[i] + wd * w[i]);
        continue;
      }
      if (!s.started) s.m.assign(n, 0.0f);
      float* buf = s.m.data();
      for (std::size_t i = 0; i < n; ++i) {
        const float d = g[i] + wd * w[i];
        buf[i] = s.started ? mu * buf[i] + d : d;  // PyTorch: the first step copies the gradient
        w[i] -= rate * (o_.nesterov ? d + mu * buf[i] : buf[i]);
      }
      s.started = true;
    } else {
      if (!s.started) {
        s.m.assign(n, 0.0f);
        s.v.assign(n, 0.0f);
        s.started = true;
      }
      const float b1 = static_cast<float>(o_.beta1), b2 = static_cast<float>(o_.beta2);
      const double bc1 = 1 - std::pow(o_.beta1, static_cast<double>(t_));
      const double bc2 = 1 - std::pow(o_.beta2, static_cast<double>(t_));
      const float step_size = static_cast<float>(lr * s.lr_scale / bc1);
      const float sqrt_bc2 = static_cast<float>(std::sqrt(bc2));
      const float eps = static_cast<float>(o_.eps);
      const bool decoupled = o_.kind == "adamw";
      float* m = s.m.data();
      float* v = s.v.data();
      for (std::size_t i = 0; i < n; ++i) {
        float d = g[i];
        if (decoupled) w[i] *= 1.0f - rate * wd;
        else d += wd * w[i];
        m[i] = b1 * m[i] + (1 - b1) * d;
        v[i] = b2 * v[i] + (1 - b2) * d * d;
        w[i] -= step_size * m[i] / (std::sqrt(v[i]) / sqrt_bc2 + eps);
      }
    }
  }
}

double clip_grad_norm(const std::vector<Parameter*>& params, double max_norm) {
  double sq = 0;
  for (const Parameter* p : params)
    if (p->trainable && p->grad.numel() == p->value.numel())
      for (float x : p->grad.values()) sq += static_cast<double>(x) * x;
  const double norm = std::sqrt(sq);
  if (max_norm > 0 && norm > max_norm) {
    const float scale = static_cast<float>(max_norm / (norm + 1e-6));  // PyTorch's epsilon
    for (Parameter* p : params)
      if (p->trainable && p->grad.numel() == p->value.numel())
        for (float& x : p->grad.values()) x *= scale;
  }
  return norm;
}

}  // namespace pipeline::train
