// check_layer_gradients: a layer's backward against central finite differences.
#include <cmath>
#include <cstdio>
#include <numeric>

#include "pipeline/model.hpp"
#include "pipeline/rng.hpp"
#include "pipeline/testing.hpp"

namespace pipeline::testing {
namespace {

std::string sci(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g", d);
  return buf;
}

// L = sum(forward(x) * r), accumulated in float64.
double probe(Layer& layer, const Tensor& x, const Tensor& r) {
  Tensor y;
  layer.forward(x, y, Mode::train);
  double sum = 0;
  const std::size_t n = std::min<std::size_t>(y.values().size(), r.values().size());
  for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(y.values()[i]) * r.values()[i];
  return sum;
}

// Inputs spaced wider than the finite-difference step and away from 0, so no probe flips a max or
// crosses a relu's kink at an input.
Tensor spaced_input(const Shape& shape, Rng& rng, double& spacing) {
  Tensor x(shape);
  const auto n = static_cast<std::size_t>(x.numel());
  std::vector<std::int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  rng.shuffle(order);
  spacing = std::min(0.05, 5.0 / static_cast<double>(std::max<std::size_t>(n, 1)));
  for (std::size_t i = 0; i < n; ++i)
    x.values()[i] = static_cast<float>(spacing * (static_cast<double>(order[i]) - static_cast<double>(n) / 2.0) + spacing / 2);
  return x;
}

struct TensorCheck {
  int checked = 0, kinks = 0;
  double worst_excess = -1, worst_rel = 0, worst_analytic = 0, worst_numeric = 0;
  std::size_t worst_index = 0;
};

// Compares analytic[i] with the numeric derivative for a subset of t's coordinates.
TensorCheck check_tensor(Layer& layer, const Tensor& x, const Tensor& r, Tensor& t, const Tensor& analytic,
                         double eps, const GradientCheckOptions& o, Rng& rng) {
  TensorCheck c;
  const auto n = static_cast<std::size_t>(t.numel());
  std::vector<std::size_t> coords(n);
  std::iota(coords.begin(), coords.end(), 0);
  if (n > static_cast<std::size_t>(o.max_coordinates)) {
    rng.shuffle(coords);
    coords.resize(static_cast<std::size_t>(o.max_coordinates));
  }
  auto derivative = [&](std::size_t i, double h) {
    const float saved = t.values()[i];
    t.values()[i] = static_cast<float>(saved + h);
    const double up = probe(layer, x, r);
    t.values()[i] = static_cast<float>(saved - h);
    const double down = probe(layer, x, r);
    t.values()[i] = saved;
    return (up - down) / (2 * h);
  };
  for (std::size_t i : coords) {
    const double numeric = derivative(i, eps);
    const double finer = derivative(i, eps / 2);
    if (std::fabs(numeric - finer) > o.atol + o.rtol * std::fabs(finer)) {
      ++c.kinks;  // not differentiable here: the two steps disagree
      continue;
    }
    ++c.checked;
    const double a = analytic.values()[i];
    const double excess = std::fabs(a - numeric) - (o.atol + o.rtol * std::fabs(numeric));
    if (excess > c.worst_excess || std::isnan(a)) {
      c.worst_excess = std::isnan(a) ? 1e30 : excess;
      c.worst_index = i;
      c.worst_rel = std::fabs(a - numeric) / std::max(std::fabs(numeric), o.atol);
      c.worst_analytic = a;
      c.worst_numeric = numeric;
    }
  }
  return c;
}

void report(CheckResult& result, const std::string& what, const TensorCheck& c, const GradientCheckOptions& o) {
  if (c.checked + c.kinks > 0 && c.kinks * 2 > c.checked + c.kinks) {
    result.fail("backward: " + what + ": " + std::to_string(c.kinks) + " of " + std::to_string(c.checked + c.kinks) +
                " coordinates are not differentiable (finite differences at eps and eps/2 disagree)");
    return;
  }
  if (c.worst_excess > 0)
    result.fail("backward: " + what + " differs from finite differences: max rel err " + sci(c.worst_rel) +
                " at index " + std::to_string(c.worst_index) + " (analytic " + sci(c.worst_analytic) + ", numeric " +
                sci(c.worst_numeric) + "; tolerance " + sci(o.atol) + " + " + sci(o.rtol) + " * |numeric|)");
}

}  // namespace

CheckResult check_layer_gradients(Layer& layer, const Shape& sample, const GradientCheckOptions& o) {
  CheckResult result;
  Rng rng(o.seed);
  Shape shape = sample;
  shape.insert(shape.begin(), o.batch);
  double spacing = 0;
  Tensor x = spaced_input(shape, rng, spacing);
  const double eps = std::min(o.eps, spacing / 4);

  Tensor y;
  layer.forward(x, y, Mode::train);
  Tensor r(y.shape());
  for (float& v : r.values()) v = rng.uniform(-1.0f, 1.0f);
  Tensor grad_x;
  layer.backward(r, &grad_x);
  if (grad_x.shape() != x.shape()) {
    result.fail("backward: the input gradient has shape " + to_string(grad_x.shape()) + ", the input " + to_string(x.shape()));
    return result;
  }
  // Every parameter of the layer and, for a block, of the layers inside it, with its path.
  std::vector<std::pair<std::string, Parameter*>> params;
  visit_layers(layer, "", 0, [&](const std::string& path, Layer& l, int) {
    for (auto& p : l.parameters()) params.emplace_back(path.empty() ? p.name : path.substr(1) + "." + p.name, &p);
  });
  // Copies: the probes run more forward passes, which may reuse the layer's buffers.
  std::vector<Tensor> grads;
  for (const auto& [_, p] : params) grads.push_back(p->grad);

  int tensors = 0;
  const TensorCheck input = check_tensor(layer, x, r, x, grad_x, eps, o, rng);
  report(result, "input gradient", input, o);
  int checked = input.checked, kinks = input.kinks;
  ++tensors;
  for (std::size_t k = 0; k < params.size(); ++k) {
    const std::string& name = params[k].first;
    Parameter& p = *params[k].second;
    if (!p.trainable || p.buffer) continue;
    if (grads[k].shape() != p.value.shape()) {
      result.fail("backward: the gradient of parameter '" + name + "' has shape " + to_string(grads[k].shape()) +
                  ", the parameter " + to_string(p.value.shape()) + " (backward must size Parameter::grad)");
      continue;
    }
    const TensorCheck c = check_tensor(layer, x, r, p.value, grads[k], eps, o, rng);
    report(result, "gradient of parameter '" + name + "'", c, o);
    checked += c.checked;
    kinks += c.kinks;
    ++tensors;
  }
  result.note("gradients: " + std::to_string(checked) + " coordinates of " + std::to_string(tensors) +
              " tensors within " + sci(o.atol) + " + " + sci(o.rtol) + " * |numeric| (eps " + sci(eps) + ", " +
              std::to_string(kinks) + " at kinks skipped)");
  return result;
}

}  // namespace pipeline::testing
