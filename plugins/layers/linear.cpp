// linear: a fully connected layer on oneDNN's inner product, weights [out, in] as in PyTorch.
#include <cmath>

#include "weighted_primitives.hpp"
#include "layer_types.hpp"
#include "pipeline/error.hpp"

namespace pipeline::layers {
namespace {

class Linear : public Layer {
 public:
  Linear(const std::string& name, std::int64_t in, std::int64_t out, bool bias)
      : Layer("linear", name), in_(in), out_(out), bias_(bias) {
    params_.push_back({"weight", Tensor({out, in}), {}, true, false});
    if (bias) params_.push_back({"bias", Tensor({out}), {}, true, false});
  }

  Shape output_shape(const Shape& in) const override {
    if (in.size() != 1 || in[0] != in_)
      throw Error(ErrorCode::config_schema, "linear " + name() + " expects " + std::to_string(in_) +
                                                " inputs, gets " + to_string(in));
    return {out_};
  }

  void initialize(Rng& rng) override {
    const float bound = 1.0f / std::sqrt(static_cast<float>(in_));  // PyTorch's default
    for (auto& p : params_)
      for (float& w : p.value.values()) w = rng.uniform(-bound, bound);
  }

  std::string describe() const override {
    return std::to_string(in_) + " -> " + std::to_string(out_) + (bias_ ? "" : ", no bias");
  }

  std::unique_ptr<Layer> clone_layer() const override {
    auto copy = std::make_unique<Linear>(name(), in_, out_, bias_);
    copy->params_ = params_;
    return copy;
  }

  void forward(const Tensor& input, Tensor& output, Mode mode) override {
    ++counters_.forward;
    const std::int64_t n = input.dim(0);
    output.resize({n, out_});
    prims(n, mode, compute_precision()).run_forward(input, output, params_, mode);
    if (mode == Mode::train) input_ = &input;
  }

  void backward(const Tensor& grad_output, Tensor* grad_input) override {
    if (!input_ || !prims_.training()) throw Error(ErrorCode::internal, "linear backward without a training forward");
    prims_.training()->run_backward(*input_, grad_output, params_, grad_input, counters_);
  }

 private:
  WeightedPrimitives& prims(std::int64_t n, Mode mode, Precision precision) {
    return prims_.get(n, mode, precision, [this](WeightedPrimitives& p, std::int64_t n, Mode mode, Precision precision) {
      make_prims(p, n, mode, precision);
    });
  }

  // At bf16: bf16 inputs and weights, f32 outputs and gradients (as conv2d).
  void make_prims(WeightedPrimitives& p, std::int64_t n, Mode mode, Precision precision) {
    const memory::dims src = {n, in_}, w = {out_, in_}, dst = {n, out_};
    const dt in_type = compute_type(precision);
    auto any = [](const memory::dims& d) { return memory::desc(d, dt::f32, tag::any); };
    auto in_any = [in_type](const memory::dims& d) { return memory::desc(d, in_type, tag::any); };
    p.bias = bias_ ? plain({out_}, tag::x) : memory::desc();
    const auto prop = mode == Mode::train ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    dnnl::inner_product_forward::primitive_desc fpd(
        dnnl::inner_product_forward::desc(prop, in_any(src), in_any(w), p.bias, any(dst)), engine());
    if (mode == Mode::train) {
      dnnl::inner_product_backward_weights::primitive_desc wpd(
          dnnl::inner_product_backward_weights::desc(in_any(src), any(w), p.bias, in_any(dst)), engine(), fpd);
      dnnl::inner_product_backward_data::primitive_desc dpd(
          dnnl::inner_product_backward_data::desc(any(src), in_any(w), in_any(dst)), engine(), fpd);
      p.init(fpd, &wpd, &dpd, plain(src, tag::nc), plain(w, tag::oi), plain(dst, tag::nc));
    } else {
      p.init(fpd, static_cast<dnnl::inner_product_backward_weights::primitive_desc*>(nullptr),
             static_cast<dnnl::inner_product_backward_data::primitive_desc*>(nullptr), plain(src, tag::nc),
             plain(w, tag::oi), plain(dst, tag::nc));
    }
  }

  std::int64_t in_, out_;
  bool bias_;
  PrimitiveCache<WeightedPrimitives> prims_;
  const Tensor* input_ = nullptr;
};

}  // namespace

LayerInfo linear_layer() {
  LayerInfo info;
  info.name = "linear";
  info.doc = "fully connected layer y = x W^T + b over flat inputs (PyTorch Linear)";
  info.params = {
      param_int("out", "output features").range(1, 1 << 24),
      param_bool("bias", "add a learned bias", true),
      param_int("in", "input features; checked against the input when given", 0).range(0, 1 << 30),
  };
  info.create = [](const std::string& name, const Params& p, const Shape& input) -> std::unique_ptr<Layer> {
    const std::string what = "linear " + name;
    if (input.size() != 1)
      throw Error(ErrorCode::config_schema, what + " expects flat inputs, gets " + to_string(input) +
                                                "; add a flatten layer before it");
    if (p.get_int("in") && p.get_int("in") != input[0])
      throw Error(ErrorCode::config_schema, what + " expects " + std::to_string(p.get_int("in")) +
                                                " inputs, gets " + std::to_string(input[0]));
    return std::make_unique<Linear>(name, input[0], p.get_int("out"), p.get_bool("bias"));
  };
  info.reference = linear_reference;
  return info;
}

}  // namespace pipeline::layers
