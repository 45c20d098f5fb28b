// Adam (L2 weight decay added to the gradient) and AdamW (decoupled weight decay), with PyTorch's
// bias correction and epsilon placement.
#include <cmath>

#include "optimizer.hpp"
#include "pipeline/sdk.hpp"

namespace pipeline::train {
namespace {

class Adam : public Optimizer {
 public:
  Adam(const Params& p, bool decoupled)
      : decoupled_(decoupled), weight_decay_(p.get_float("weight_decay")), eps_(p.get_float("eps")) {
    const auto betas = p.get_float_list("betas");  // two values: checked
    beta1_ = betas[0];
    beta2_ = betas[1];
  }

  void add(Parameter* p, double lr_scale) override { slots_.push_back({p, lr_scale, {}, {}, 0}); }

  void step(double lr) override {
    const float wd = static_cast<float>(weight_decay_);
    const float b1 = static_cast<float>(beta1_), b2 = static_cast<float>(beta2_);
    const float eps = static_cast<float>(eps_);
    for (auto& s : slots_) {
      Parameter& p = *s.param;
      if (!p.trainable || p.buffer || p.grad.numel() != p.value.numel()) continue;
      const std::size_t n = static_cast<std::size_t>(p.value.numel());
      if (s.steps == 0) {
        s.m.assign(n, 0.0f);
        s.v.assign(n, 0.0f);
      }
      // Bias correction counts this parameter's own updates, as PyTorch's state['step'] does: a
      // layer unfrozen late starts at step 1.
      ++s.steps;
      const double bc1 = 1 - std::pow(beta1_, static_cast<double>(s.steps));
      const double bc2 = 1 - std::pow(beta2_, static_cast<double>(s.steps));
      const float sqrt_bc2 = static_cast<float>(std::sqrt(bc2));
      float* w = p.value.data();
      const float* g = p.grad.data();
      const float rate = static_cast<float>(lr * s.lr_scale);
      const float step_size = static_cast<float>(lr * s.lr_scale / bc1);
      float* m = s.m.data();
      float* v = s.v.data();
      for (std::size_t i = 0; i < n; ++i) {
        float d = g[i];
        if (decoupled_) w[i] *= 1.0f - rate * wd;
        else d += wd * w[i];
        m[i] = b1 * m[i] + (1 - b1) * d;
        v[i] = b2 * v[i] + (1 - b2) * d * d;
        w[i] -= step_size * m[i] / (std::sqrt(v[i]) / sqrt_bc2 + eps);
      }
    }
  }

 private:
  struct Slot {
    Parameter* param;
    double lr_scale;
    std::vector<float> m, v;  // first and second moments
    std::int64_t steps;       // updates of this parameter so far
  };
  bool decoupled_;
  double weight_decay_, eps_, beta1_ = 0.9, beta2_ = 0.999;
  std::vector<Slot> slots_;
};

OptimizerInfo adam_like(bool decoupled) {
  OptimizerInfo info;
  info.name = decoupled ? "adamw" : "adam";
  info.doc = decoupled ? "Adam with decoupled weight decay (PyTorch's torch.optim.AdamW)"
                       : "Adam with L2 weight decay added to the gradient (PyTorch's torch.optim.Adam)";
  info.params = {
      param_list("betas", "beta1 and beta2: decay rates of the moment estimates", ParamType::real,
                 Value::list({Value::real(0.9), Value::real(0.999)}))
          .range(0, 0.999999),
      param_float("eps", "added to the denominator", 1e-8).range(0, 1),
      param_float("weight_decay", decoupled ? "decoupled weight decay" : "L2 penalty added to the gradient",
                  decoupled ? 0.01 : 0.0)
          .range(0, 10),
  };
  info.create = [decoupled](const Params& p) { return std::make_unique<Adam>(p, decoupled); };
  info.check = [](const Params& p, Diagnostics& diag) {
    if (p.get("betas").size() != 2)
      diag.error(p.location("betas"), "parameter 'betas' needs two values (beta1, beta2), got " + p.get("betas").str());
  };
  return info;
}

}  // namespace

std::vector<OptimizerInfo> adam_optimizers() { return {adam_like(false), adam_like(true)}; }

}  // namespace pipeline::train
