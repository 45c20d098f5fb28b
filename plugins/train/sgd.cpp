// SGD with PyTorch's semantics: momentum without dampening (the first step copies the gradient),
// optional Nesterov, L2 weight decay added to the gradient.
#include "optimizer.hpp"
#include "pipeline/sdk.hpp"

namespace pipeline::train {
namespace {

class Sgd : public Optimizer {
 public:
  explicit Sgd(const Params& p)
      : momentum_(static_cast<float>(p.get_float("momentum"))), weight_decay_(static_cast<float>(p.get_float("weight_decay"))),
        nesterov_(p.get_bool("nesterov")) {}

  void add(Parameter* p, double lr_scale) override { slots_.push_back({p, lr_scale, {}, false}); }

  void step(double lr) override {
    const float mu = momentum_, wd = weight_decay_;
    for (auto& s : slots_) {
      Parameter& p = *s.param;
      if (!p.trainable || p.buffer || p.grad.numel() != p.value.numel()) continue;
      const std::size_t n = static_cast<std::size_t>(p.value.numel());
      float* w = p.value.data();
      const float* g = p.grad.data();
      const float rate = static_cast<float>(lr * s.lr_scale);
      if (mu == 0) {
        for (std::size_t i = 0; i < n; ++i) w[i] -= rate * (g[i] + wd * w[i]);
        continue;
      }
      if (!s.started) s.buffer.assign(n, 0.0f);
      float* buf = s.buffer.data();
      for (std::size_t i = 0; i < n; ++i) {
        const float d = g[i] + wd * w[i];
        buf[i] = s.started ? mu * buf[i] + d : d;
        w[i] -= rate * (nesterov_ ? d + mu * buf[i] : buf[i]);
      }
      s.started = true;
    }
  }

 private:
  struct Slot {
    Parameter* param;
    double lr_scale;
    std::vector<float> buffer;  // momentum
    bool started;
  };
  float momentum_, weight_decay_;
  bool nesterov_;
  std::vector<Slot> slots_;
};

}  // namespace

OptimizerInfo sgd_optimizer() {
  OptimizerInfo info;
  info.name = "sgd";
  info.doc = "stochastic gradient descent with momentum and Nesterov (PyTorch's torch.optim.SGD)";
  info.params = {
      param_float("momentum", "momentum factor", 0.0).range(0, 1),
      param_bool("nesterov", "Nesterov momentum", false),
      param_float("weight_decay", "L2 penalty added to the gradient", 0.0).range(0, 10),
  };
  info.create = [](const Params& p) { return std::make_unique<Sgd>(p); };
  info.check = [](const Params& p, Diagnostics& diag) {
    if (p.get_bool("nesterov") && p.get_float("momentum") == 0)
      diag.error(p.location("nesterov"), "parameter 'nesterov' needs momentum > 0");
  };
  return info;
}

}  // namespace pipeline::train
