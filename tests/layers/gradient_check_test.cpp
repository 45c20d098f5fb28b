// Finite-difference checks of every layer's backward pass on small random shapes: the analytic
// gradients of L = sum(output * R), for a fixed random R, against central differences.
#include <catch2/catch.hpp>

#include <cmath>

#include "layer_support.hpp"
#include "pipeline/rng.hpp"

using namespace pipeline;

namespace {

void randomize(Tensor& t, Rng& rng, float scale = 1.0f) {
  for (float& x : t.values()) x = rng.uniform(-scale, scale);
}

double objective(Layer& layer, const Tensor& x, const Tensor& r) {
  Tensor y;
  layer.forward(x, y, Mode::train);
  double s = 0;
  for (std::int64_t i = 0; i < y.numel(); ++i) s += double(y.data()[i]) * r.data()[i];
  return s;
}

// Compares d objective / d t[i] for `samples` random coordinates of t.
void check_coordinates(Layer& layer, Tensor& x, const Tensor& r, Tensor& t, const Tensor& analytic, const std::string& what,
                       Rng& rng, int samples = 24, float eps = 1e-2f) {
  REQUIRE(analytic.numel() == t.numel());
  for (int s = 0; s < samples; ++s) {
    const std::size_t i = static_cast<std::size_t>(rng.uniform_int(static_cast<std::uint64_t>(t.numel())));
    const float saved = t.values()[i];
    t.values()[i] = saved + eps;
    const double up = objective(layer, x, r);
    t.values()[i] = saved - eps;
    const double down = objective(layer, x, r);
    t.values()[i] = saved;
    const double numeric = (up - down) / (2.0 * eps);
    INFO(what << "[" << i << "]: analytic " << analytic.values()[i] << ", numeric " << numeric);
    CHECK(std::fabs(analytic.values()[i] - numeric) <= 2e-2 * std::fabs(numeric) + 2e-3);
  }
}

// distinct_inputs: values spaced wider than the finite-difference step, so no perturbation can
// change which input a max pooling window selects.
void gradient_check(const std::string& type, const std::string& params, const Shape& sample, bool distinct_inputs = false,
                    std::int64_t batch = 3, std::uint64_t seed = 1) {
  INFO(type << " " << params << " on " << to_string(sample));
  auto layer = test::layer_from_yaml(type, params, sample);
  Rng rng(seed);
  layer->initialize(rng);
  Shape in_shape = sample;
  in_shape.insert(in_shape.begin(), batch);
  Tensor x(in_shape);
  randomize(x, rng);
  if (distinct_inputs) {
    std::vector<std::int64_t> order(static_cast<std::size_t>(x.numel()));
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int64_t>(i);
    rng.shuffle(order);
    for (std::size_t i = 0; i < order.size(); ++i) x.values()[i] = 0.05f * static_cast<float>(order[i] - x.numel() / 2);
  }
  Tensor y;
  layer->forward(x, y, Mode::train);
  Tensor r(y.shape());
  randomize(r, rng);
  Tensor grad_x;
  layer->backward(r, &grad_x);
  REQUIRE(grad_x.shape() == x.shape());
  // Copy the analytic gradients before the finite differences run more forward passes.
  std::vector<Tensor> param_grads;
  for (auto& p : layer->parameters()) param_grads.push_back(p.grad);
  check_coordinates(*layer, x, r, x, grad_x, "input", rng);
  for (std::size_t k = 0; k < layer->parameters().size(); ++k) {
    auto& p = layer->parameters()[k];
    if (p.buffer) continue;  // running statistics: state, not a function's parameter
    check_coordinates(*layer, x, r, p.value, param_grads[k], p.name, rng);
  }
}

}  // namespace

TEST_CASE("conv2d gradients match finite differences", "[layers][gradcheck]") {
  gradient_check("conv2d", "{out: 4, kernel: 3}", {2, 7, 6});
  gradient_check("conv2d", "{out: 4, kernel: 3, stride: 2, padding: 1}", {3, 8, 8});
  gradient_check("conv2d", "{out: 4, kernel: 3, dilation: 2, padding: 2}", {2, 9, 9});
  gradient_check("conv2d", "{out: 6, kernel: 3, groups: 2, bias: false}", {4, 6, 6});
  gradient_check("conv2d", "{out: 3, kernel: 2}", {1, 5, 5});
}

TEST_CASE("pooling gradients match finite differences", "[layers][gradcheck]") {
  gradient_check("maxpool2d", "{kernel: 2}", {2, 6, 6}, true);
  gradient_check("maxpool2d", "{kernel: 3, stride: 2, padding: 1}", {2, 7, 7}, true);
  gradient_check("avgpool2d", "{kernel: 2}", {2, 6, 6});
  gradient_check("avgpool2d", "{kernel: 3, stride: 2, padding: 1}", {2, 7, 7});
  gradient_check("avgpool2d", "{kernel: 3, stride: 2, padding: 1, count_include_pad: false}", {2, 7, 7});
}

TEST_CASE("linear and activation gradients match finite differences", "[layers][gradcheck]") {
  gradient_check("linear", "{out: 5}", {7});
  gradient_check("linear", "{out: 3, bias: false}", {4});
  for (const char* act : {"relu", "tanh", "sigmoid", "gelu"}) gradient_check(act, "{}", {11});
  gradient_check("leaky_relu", "{slope: 0.2}", {11});
  gradient_check("flatten", "{}", {2, 3, 4});
}

TEST_CASE("recurrent gradients match finite differences", "[layers][gradcheck]") {
  for (const char* cell : {"rnn", "lstm", "gru"}) {
    gradient_check(cell, "{hidden: 5}", {4, 3});
    gradient_check(cell, "{hidden: 4, layers: 2, output: all}", {3, 5});
    gradient_check(cell, "{hidden: 3, layers: 2, bidirectional: true}", {4, 2});
    gradient_check(cell, "{hidden: 3, bidirectional: true, output: all}", {1, 3, 4});  // image rows
  }
  gradient_check("rnn", "{hidden: 4, nonlinearity: relu}", {3, 3});
}

TEST_CASE("batchnorm2d gradients match finite differences in both modes", "[layers][gradcheck]") {
  // Batch statistics (training): the normalization itself depends on every input.
  gradient_check("batchnorm2d", "{}", {3, 4, 5});
  // Frozen running statistics: an affine map per channel. Give the running statistics values
  // other than their initial 0 and 1 first.
  auto layer = test::layer_from_yaml("batchnorm2d", "{}", {2, 3, 3});
  Rng rng(3);
  layer->initialize(rng);
  for (auto& p : layer->parameters()) randomize(p.value, rng, 0.5f);
  for (float& v : layer->find_parameter("running_var")->value.values()) v = 0.5f + v;  // positive
  layer->freeze_statistics(true);
  Tensor x({4, 2, 3, 3});
  randomize(x, rng);
  Tensor y;
  layer->forward(x, y, Mode::train);
  const float* mean = layer->find_parameter("running_mean")->value.data();
  const float* var = layer->find_parameter("running_var")->value.data();
  const float* w = layer->find_parameter("weight")->value.data();
  const float* b = layer->find_parameter("bias")->value.data();
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    const std::int64_t c = (i / 9) % 2;
    CHECK(y.values()[i] == Approx(w[c] * (x.values()[i] - mean[c]) / std::sqrt(var[c] + 1e-5f) + b[c]).margin(1e-5));
  }
  Tensor r(y.shape());
  randomize(r, rng);
  Tensor gx;
  layer->backward(r, &gx);
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    const std::int64_t c = (i / 9) % 2;
    CHECK(gx.values()[i] == Approx(r.values()[i] * w[c] / std::sqrt(var[c] + 1e-5f)).margin(1e-5));
  }
}

TEST_CASE("batchnorm2d keeps running statistics as PyTorch does", "[layers]") {
  auto layer = test::layer_from_yaml("batchnorm2d", "{momentum: 0.5}", {1, 2, 1});
  Rng rng(1);
  layer->initialize(rng);
  Tensor x({2, 1, 2, 1}, {1, 2, 3, 6});  // one channel, 4 values: mean 3, unbiased variance 14/3
  Tensor y;
  layer->forward(x, y, Mode::train);
  CHECK(layer->find_parameter("running_mean")->value.values()[0] == Approx(0.5 * 0 + 0.5 * 3));
  CHECK(layer->find_parameter("running_var")->value.values()[0] == Approx(0.5 * 1 + 0.5 * 14.0 / 3));
  // Normalized with the batch's biased variance 3.5.
  CHECK(y.values()[3] == Approx((6 - 3) / std::sqrt(3.5 + 1e-5)));
  // Evaluation uses the running statistics and leaves them alone.
  layer->forward(x, y, Mode::eval);
  CHECK(y.values()[3] == Approx((6 - 1.5) / std::sqrt(0.5 + 14.0 / 6 + 1e-5)));
  CHECK(layer->find_parameter("running_mean")->value.values()[0] == Approx(1.5));
}

TEST_CASE("a layer evaluates after training, with the same results as a fresh copy", "[layers]") {
  const std::vector<std::tuple<std::string, std::string, Shape>> cases = {
      {"conv2d", "{out: 4, kernel: 3, padding: 1}", {2, 6, 6}}, {"maxpool2d", "{kernel: 2}", {2, 6, 6}},
      {"avgpool2d", "{kernel: 2}", {2, 6, 6}},  {"linear", "{out: 3}", {5}},
      {"lstm", "{hidden: 4, layers: 2}", {3, 5}}, {"gru", "{hidden: 4, bidirectional: true}", {3, 5}},
      {"rnn", "{hidden: 4, output: all}", {3, 5}}, {"batchnorm2d", "{}", {2, 3, 3}}};
  for (const auto& [type, params, sample] : cases) {
    INFO(type);
    auto layer = test::layer_from_yaml(type, params, sample);
    Rng rng(4);
    layer->initialize(rng);
    Shape shape = sample;
    shape.insert(shape.begin(), 4);
    Tensor x(shape), y, g, eval_trained, eval_fresh;
    randomize(x, rng);
    auto fresh = layer->clone();
    layer->forward(x, y, Mode::train);
    Tensor r(y.shape());
    r.fill(1.0f);
    layer->backward(r, &g);
    layer->forward(x, eval_trained, Mode::eval);  // the same instance, primitives created for training
    for (auto& p : fresh->parameters()) p.value = layer->find_parameter(p.name)->value;  // e.g. running stats
    fresh->forward(x, eval_fresh, Mode::eval);
    // Training and inference primitives may be different kernels (oneDNN's RNN: reference vs
    // brgemm): equal up to float rounding.
    const auto m = test::compare(eval_trained.data(), eval_fresh.data(), eval_fresh.values().size(), 1e-5, 1e-6);
    CHECK(m.excess <= 0);
  }
}

// conv2d and linear reuse the input their training forward reordered for backward-weights; an
// evaluation of the same primitives in between overwrites that buffer and must not be used.
TEST_CASE("an evaluation between a training forward and its backward leaves the gradients unchanged", "[layers]") {
  // 16 channels: oneDNN picks a blocked layout on AVX-512 machines, so the input is reordered.
  const std::vector<std::tuple<std::string, std::string, Shape>> cases = {
      {"conv2d", "{out: 16, kernel: 3, padding: 1}", {16, 8, 8}}, {"linear", "{out: 32}", {64}}};
  for (const auto& [type, params, sample] : cases) {
    INFO(type);
    auto layer = test::layer_from_yaml(type, params, sample);
    Rng rng(5);
    layer->initialize(rng);
    auto twin = layer->clone();
    Shape shape = sample;
    shape.insert(shape.begin(), 4);
    Tensor x(shape), other(shape), y, y_twin, y_eval, g, g_twin;
    randomize(x, rng);
    randomize(other, rng);
    layer->forward(x, y, Mode::train);
    twin->forward(x, y_twin, Mode::train);
    layer->forward(other, y_eval, Mode::eval);  // same batch size: the same primitives
    Tensor r(y.shape());
    randomize(r, rng);
    layer->backward(r, &g);
    twin->backward(r, &g_twin);
    CHECK(g.values() == g_twin.values());
    for (const auto& p : twin->parameters()) CHECK(layer->find_parameter(p.name)->grad.values() == p.grad.values());
  }
}

TEST_CASE("dropout is reproducible from its seed and scales what it keeps", "[layers]") {
  auto make = [](std::uint64_t seed) {
    auto d = test::layer_from_yaml("dropout", "{p: 0.25}", {1000});
    Rng rng(seed);
    d->initialize(rng);
    return d;
  };
  Tensor x({2, 1000});
  x.fill(1.0f);
  Tensor a, b, c, e;
  auto d1 = make(5), d2 = make(5), d3 = make(6);
  d1->forward(x, a, Mode::train);
  d2->forward(x, b, Mode::train);
  d3->forward(x, c, Mode::train);
  CHECK(a.values() == b.values());
  CHECK(a.values() != c.values());
  int kept = 0;
  for (float v : a.values()) {
    CHECK((v == 0.0f || v == Approx(1.0f / 0.75f)));
    kept += v != 0.0f;
  }
  CHECK(std::abs(kept - 1500) < 100);  // 2000 * 0.75, about 5 standard deviations
  // Backward applies the same mask; evaluation is the identity.
  Tensor g;
  d1->backward(x, &g);
  CHECK(g.values() == a.values());
  d1->forward(x, e, Mode::eval);
  CHECK(e.values() == x.values());
}
