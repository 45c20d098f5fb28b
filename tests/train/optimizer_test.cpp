// Optimizers, schedules and the loss against steps computed by hand from PyTorch's formulas.
#include <catch2/catch.hpp>

#include <cmath>

#include "loss.hpp"
#include "optimizer.hpp"
#include "schedule.hpp"

using namespace pipeline;
using namespace pipeline::train;

namespace {
Parameter scalar(float value, float grad) {
  Parameter p;
  p.name = "w";
  p.value = Tensor({1}, {value});
  p.grad = Tensor({1}, {grad});
  return p;
}
}  // namespace

TEST_CASE("SGD with momentum, weight decay and nesterov follows PyTorch", "[optimizer]") {
  Parameter p = scalar(1.0f, 0.5f);
  auto sgd = builtin_optimizer("sgd", parse_value("{momentum: 0.9, weight_decay: 0.1}")).create();
  sgd->add(&p, 1.0);
  sgd->step(0.1);  // d = 0.5 + 0.1*1 = 0.6; buf = 0.6; w = 1 - 0.06 = 0.94
  CHECK(p.value.values()[0] == Approx(0.94));
  sgd->step(0.1);  // d = 0.5 + 0.094 = 0.594; buf = 0.54 + 0.594 = 1.134; w = 0.94 - 0.1134
  CHECK(p.value.values()[0] == Approx(0.8266));

  Parameter q = scalar(1.0f, 0.5f);
  auto nesterov = builtin_optimizer("sgd", parse_value("{momentum: 0.9, weight_decay: 0.1, nesterov: true}")).create();
  nesterov->add(&q, 1.0);
  nesterov->step(0.1);  // buf = 0.6; step d + 0.9 buf = 1.14; w = 1 - 0.114
  CHECK(q.value.values()[0] == Approx(0.886));
}

TEST_CASE("Adam and AdamW follow PyTorch", "[optimizer]") {
  Parameter p = scalar(1.0f, 0.5f);
  auto adam = builtin_optimizer("adam", parse_value("{weight_decay: 0.1}")).create();
  adam->add(&p, 1.0);
  adam->step(0.01);
  // d = 0.6; m = 0.06, v = 0.00036; m^ = 0.6, v^ = 0.36; w = 1 - 0.01 * 0.6 / (0.6 + 1e-8)
  CHECK(p.value.values()[0] == Approx(0.99).epsilon(1e-6));
  adam->step(0.01);
  // d = 0.5 + 0.099 = 0.599; m = 0.054 + 0.0599 = 0.1139; v = 0.00035964 + 0.000358801
  const double m = 0.9 * 0.06 + 0.1 * 0.599, v = 0.999 * 0.00036 + 0.001 * 0.599 * 0.599;
  const double mhat = m / (1 - 0.81), vhat = v / (1 - 0.999 * 0.999);
  CHECK(p.value.values()[0] == Approx(0.99 - 0.01 * mhat / (std::sqrt(vhat) + 1e-8)).epsilon(1e-6));

  Parameter q = scalar(1.0f, 0.5f);
  auto adamw = builtin_optimizer("adamw", parse_value("{weight_decay: 0.1}")).create();
  adamw->add(&q, 1.0);
  adamw->step(0.01);  // w *= 1 - 0.001; then the Adam step on d = 0.5: m^ = 0.5, v^ = 0.25
  CHECK(q.value.values()[0] == Approx(0.999 - 0.01).epsilon(1e-6));
}

TEST_CASE("frozen parameters and learning-rate scales", "[optimizer]") {
  Parameter frozen = scalar(1.0f, 0.5f), scaled = scalar(1.0f, 0.5f);
  frozen.trainable = false;
  auto sgd = builtin_optimizer("sgd").create();
  sgd->add(&frozen, 1.0);
  sgd->add(&scaled, 0.1);
  sgd->step(1.0);
  CHECK(frozen.value.values()[0] == 1.0f);
  CHECK(scaled.value.values()[0] == Approx(0.95));
}

TEST_CASE("gradient clipping scales to the global norm", "[optimizer]") {
  Parameter a = scalar(0, 3), b = scalar(0, 4);
  std::vector<Parameter*> ps = {&a, &b};
  CHECK(clip_grad_norm(ps, 1.0) == Approx(5.0));
  CHECK(a.grad.values()[0] == Approx(0.6).epsilon(1e-5));
  CHECK(b.grad.values()[0] == Approx(0.8).epsilon(1e-5));
  CHECK(clip_grad_norm(ps, 10.0) == Approx(1.0).epsilon(1e-5));  // under the limit: unchanged
  CHECK(a.grad.values()[0] == Approx(0.6).epsilon(1e-5));
}

TEST_CASE("schedules follow PyTorch's StepLR, CosineAnnealingLR and OneCycleLR", "[schedule]") {
  Schedule s;
  s.lr = 0.1;
  s.total_steps = 100;
  s.steps_per_epoch = 10;
  CHECK(s.at(57) == 0.1);
  s.kind = "step";
  s.step_epochs = 2;
  s.gamma = 0.5;
  CHECK(s.at(19) == Approx(0.1));
  CHECK(s.at(20) == Approx(0.05));
  CHECK(s.at(45) == Approx(0.025));
  s.kind = "cosine";
  s.min_lr = 0.01;
  CHECK(s.at(0) == Approx(0.1));
  CHECK(s.at(50) == Approx(0.055));
  CHECK(s.at(100) == Approx(0.01));
  s.kind = "one_cycle";
  s.pct_start = 0.3;
  CHECK(s.at(0) == Approx(0.1 / 25));
  CHECK(s.at(29) == Approx(0.1));   // the peak at pct_start * total - 1
  CHECK(s.at(99) == Approx(0.1 / 25 / 1e4));
  CHECK(s.at(64) > s.at(80));
}

TEST_CASE("cross-entropy with class weights and label smoothing follows PyTorch", "[loss]") {
  Tensor logits({2, 3}, {1.0f, 2.0f, 0.5f, 0.0f, 0.0f, 3.0f});
  const std::int32_t labels[] = {1, 2};
  auto logp = [&](int i, int k) {
    const float* z = logits.data() + i * 3;
    double s = 0;
    for (int j = 0; j < 3; ++j) s += std::exp(z[j]);
    return z[k] - std::log(s);
  };
  CrossEntropy plain;
  Tensor grad;
  CHECK(plain(logits, labels, &grad) == Approx(-(logp(0, 1) + logp(1, 2)) / 2));
  CHECK(grad.values()[1] == Approx((std::exp(logp(0, 1)) - 1) / 2));

  // PyTorch: sum_i w_yi * (-(1-e) logp_iy) + e/C * sum_k w_k (-logp_ik), divided by sum_i w_yi.
  LossOptions o;
  o.class_weights = {1.0f, 2.0f, 0.5f};
  o.label_smoothing = 0.1f;
  CrossEntropy weighted(o);
  double total = 0;
  for (int i = 0; i < 2; ++i) {
    const int y = labels[i];
    double smooth = 0;
    for (int k = 0; k < 3; ++k) smooth -= o.class_weights[k] * logp(i, k);
    total += 0.9 * -o.class_weights[y] * logp(i, y) + 0.1 / 3 * smooth;
  }
  CHECK(weighted(logits, labels, &grad) == Approx(total / (2.0 + 0.5)));
  // The gradient of every logit against a central difference.
  for (int j = 0; j < 6; ++j) {
    Tensor up = logits, down = logits;
    up.values()[j] += 1e-3f;
    down.values()[j] -= 1e-3f;
    CrossEntropy a(o), b(o);
    const double numeric = (a(up, labels, nullptr) - b(down, labels, nullptr)) / 2e-3;
    CHECK(grad.values()[j] == Approx(numeric).margin(1e-3));
  }
}

TEST_CASE("Adam counts steps per parameter, as PyTorch's state['step']", "[optimizer]") {
  // A parameter unfrozen after the first step takes Adam's first step: lr * m^ / sqrt(v^) = lr.
  Parameter early = scalar(1.0f, 0.5f), late = scalar(1.0f, 0.5f);
  late.trainable = false;
  auto adam = builtin_optimizer("adam").create();
  adam->add(&early, 1.0);
  adam->add(&late, 1.0);
  adam->step(0.01);
  late.trainable = true;
  adam->step(0.01);
  CHECK(late.value.values()[0] == Approx(1.0 - 0.01).epsilon(1e-6));
}

TEST_CASE("focal loss and logit adjustment follow PyTorch", "[loss]") {
  // Values from tools/reference_losses.py (PyTorch autograd, float64).
  Tensor logits({3, 3}, {1.0f, 2.0f, 0.5f, 0.0f, 0.0f, 3.0f, -1.0f, 0.5f, 0.25f});
  const std::int32_t labels[] = {1, 2, 0};
  auto check = [&](LossOptions o, double loss, std::vector<double> grad) {
    CrossEntropy ce(o);
    Tensor g;
    CHECK(ce(logits, labels, &g) == Approx(loss).epsilon(1e-5));
    for (std::size_t j = 0; j < grad.size(); ++j) CHECK(g.values()[j] == Approx(grad[j]).margin(1e-6));
    // And against central differences, as every gradient here.
    for (std::size_t j = 0; j < 9; ++j) {
      Tensor up = logits, down = logits;
      up.values()[j] += 1e-3f;
      down.values()[j] -= 1e-3f;
      CrossEntropy a(o), b(o);
      CHECK(g.values()[j] == Approx((a(up, labels, nullptr) - b(down, labels, nullptr)) / 2e-3).margin(1e-4));
    }
  };
  LossOptions focal;
  focal.class_weights = {1.0f, 2.0f, 0.5f};
  focal.focal_gamma = 2.0f;
  check(focal, 0.53166092212,
        {0.0468829517902, -0.0753188994687, 0.0284359476786, 0.000154177191144, 0.000154177191144, -0.000308354382288,
         -0.310759961825, 0.174701947954, 0.136058013871});
  LossOptions adjusted;
  for (double prior : {0.7, 0.2, 0.1}) adjusted.logit_offsets.push_back(static_cast<float>(std::log(prior)));
  check(adjusted, 0.755826966165,
        {0.178894154768, -0.194394839012, 0.0155006842443, 0.0802231480029, 0.0229208994294, -0.103144047432, -0.213390556239,
         0.153584638049, 0.05980591819});
  // gamma < 1: (1 - p)^(gamma - 1) is unbounded as p -> 1, the gradient is not: central differences.
  LossOptions soft_focal;
  soft_focal.focal_gamma = 0.5f;
  CrossEntropy sf(soft_focal);
  Tensor sg;
  sf(logits, labels, &sg);
  for (std::size_t j = 0; j < 9; ++j) {
    Tensor up = logits, down = logits;
    up.values()[j] += 1e-3f;
    down.values()[j] -= 1e-3f;
    CrossEntropy a(soft_focal), b(soft_focal);
    CHECK(sg.values()[j] == Approx((a(up, labels, nullptr) - b(down, labels, nullptr)) / 2e-3).margin(1e-4));
  }
  // A focal gamma of 0 is the weighted cross-entropy.
  LossOptions weighted;
  weighted.class_weights = {1.0f, 2.0f, 0.5f};
  CrossEntropy plain(weighted);
  CHECK(plain(logits, labels, nullptr) == Approx(0.90580320938).epsilon(1e-5));
}
