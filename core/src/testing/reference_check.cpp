// check_layer_against_reference: an optimised layer against its plain twin, forward and backward.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "pipeline/error.hpp"
#include "pipeline/params.hpp"
#include "pipeline/rng.hpp"
#include "pipeline/schema.hpp"
#include "pipeline/testing.hpp"

namespace pipeline::testing {
namespace {

std::unique_ptr<Layer> make_twin(const LayerInfo& info, const Value& params, const Shape& sample) {
  ThrowingDiagnostics diag;
  const Params checked = check_params(info.params, params, "layer type " + info.name, {}, "/", diag);
  std::unique_ptr<Layer> twin = info.reference(info.name, checked, sample);
  if (!twin) throw Error(ErrorCode::internal, "layer type " + info.name + ": reference returned nothing");
  return twin;
}

// Gives the twin the optimised layer's parameter values (and trainable flags), in order.
bool copy_parameters(Layer& from, Layer& to, CheckResult& result) {
  auto& a = from.parameters();
  auto& b = to.parameters();
  if (a.size() != b.size()) {
    result.fail("reference: " + std::to_string(b.size()) + " parameters, the layer has " + std::to_string(a.size()));
    return false;
  }
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (a[k].name != b[k].name || a[k].value.shape() != b[k].value.shape()) {
      result.fail("reference: parameter " + std::to_string(k) + " is '" + b[k].name + "' " + to_string(b[k].value.shape()) +
                  ", the layer's '" + a[k].name + "' " + to_string(a[k].value.shape()));
      return false;
    }
    b[k].value = a[k].value;
    b[k].trainable = a[k].trainable;
  }
  return true;
}

void compare(const std::string& what, const Tensor& got, const Tensor& want, double tolerance, CheckResult& result) {
  if (got.shape() != want.shape()) {
    result.fail(what + ": shape " + to_string(got.shape()) + ", the reference's " + to_string(want.shape()));
    return;
  }
  double scale = 0;
  for (float v : want.values()) scale = std::max(scale, static_cast<double>(std::fabs(v)));
  const double bound = tolerance * (1 + scale);
  double worst = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < want.values().size(); ++i) {
    double d = std::fabs(static_cast<double>(got.values()[i]) - want.values()[i]);
    if (std::isnan(d)) d = INFINITY;  // a NaN on either side is the worst difference
    if (d > worst) {
      worst = d;
      at = i;
    }
  }
  if (worst > bound) {
    std::ostringstream line;
    line << what << ": differs from the reference by " << worst << " at index " << at << " (" << got.values()[at]
         << " vs " << want.values()[at] << "; allowed " << bound << ")";
    result.fail(line.str());
  }
}

Tensor random_like(const Shape& shape, Rng& rng) {
  Tensor t(shape);
  for (float& v : t.values()) v = rng.uniform(-1.0f, 1.0f);
  return t;
}

}  // namespace

CheckResult check_layer_against_reference(const std::string& type, const Value& params, const Shape& sample,
                                          Precision precision, const ReferenceCheckOptions& options) {
  CheckResult result;
  const LayerInfo* info = find_layer_type(type);
  if (!info || !info->reference) {
    result.fail(info ? "layer type " + type + " has no reference" : "no layer type '" + type + "' is registered");
    return result;
  }
  const PrecisionScope scope(precision);
  std::unique_ptr<Layer> layer = make_layer(type, params, sample, options.seed);
  std::unique_ptr<Layer> twin = make_twin(*info, params, sample);
  if (!copy_parameters(*layer, *twin, result)) return result;
  Rng rng(options.seed + 17);
  Shape shape = sample;
  shape.insert(shape.begin(), options.batch);
  const Tensor x = random_like(shape, rng);
  const std::string at = std::string(" (") + to_string(precision) + ")";
  Tensor y, y_twin;
  layer->forward(x, y, Mode::eval);
  twin->forward(x, y_twin, Mode::eval);
  compare("forward, eval" + at, y, y_twin, options.tolerance, result);
  layer->forward(x, y, Mode::train);
  twin->forward(x, y_twin, Mode::train);
  compare("forward, train" + at, y, y_twin, options.tolerance, result);
  if (!result.ok()) return result;
  const Tensor grad_y = random_like(y.shape(), rng);
  Tensor grad_x, grad_x_twin;
  layer->backward(grad_y, &grad_x);
  twin->backward(grad_y, &grad_x_twin);
  compare("input gradient" + at, grad_x, grad_x_twin, options.tolerance, result);
  for (std::size_t k = 0; k < layer->parameters().size(); ++k) {
    const Parameter& p = layer->parameters()[k];
    if (!p.trainable || p.buffer) continue;
    compare(p.name + " gradient" + at, p.grad, twin->parameters()[k].grad, options.tolerance, result);
  }
  return result;
}

}  // namespace pipeline::testing
