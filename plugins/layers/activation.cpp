// Element-wise activations on oneDNN eltwise: relu, leaky_relu, tanh, sigmoid, gelu, relu6. Where oneDNN
// offers a "use dst for backward" variant, the backward pass reads the output and needs no copy
// of the input.
#include <map>

#include "dnnl_util.hpp"
#include "layer_types.hpp"
#include "pipeline/error.hpp"

namespace pipeline::layers {
namespace {

struct ActivationKind {
  std::string name;
  dnnl::algorithm forward, backward;
  bool backward_uses_dst;
  std::string doc;
  float beta = 0.0f;  // oneDNN's second constant: relu6's upper bound
};

class Activation : public Layer {
 public:
  Activation(const std::string& name, ActivationKind kind, float alpha)
      : Layer(kind.name, name), kind_(std::move(kind)), alpha_(alpha) {}

  Shape output_shape(const Shape& in) const override { return in; }
  void initialize(Rng&) override {}
  std::string describe() const override {
    return kind_.name == "leaky_relu" ? "slope " + std::to_string(alpha_) : "";
  }
  std::unique_ptr<Layer> clone_layer() const override { return std::make_unique<Activation>(name(), kind_, alpha_); }

  void forward(const Tensor& input, Tensor& output, Mode mode) override {
    ++counters_.forward;
    output.resize(input.shape());
    Prims& p = prims(input.numel(), mode);
    p.forward.execute(stream(), {{DNNL_ARG_SRC, wrap(p.desc, input.data())}, {DNNL_ARG_DST, wrap(p.desc, output.data())}});
    if (mode == Mode::train) {
      input_ = &input;
      output_ = &output;
    }
  }

  void backward(const Tensor& grad_output, Tensor* grad_input) override {
    if (!grad_input) return;
    if (!input_) throw Error(ErrorCode::internal, type() + " backward without a training forward");
    ++counters_.backward_data;
    grad_input->resize(grad_output.shape());
    Prims& p = prims(grad_output.numel(), Mode::train);
    const Tensor& data = kind_.backward_uses_dst ? *output_ : *input_;
    p.backward.execute(stream(), {{kind_.backward_uses_dst ? DNNL_ARG_DST : DNNL_ARG_SRC, wrap(p.desc, data.data())},
                                  {DNNL_ARG_DIFF_DST, wrap(p.desc, grad_output.data())},
                                  {DNNL_ARG_DIFF_SRC, wrap(p.desc, grad_input->data())}});
  }

 private:
  struct Prims {
    memory::desc desc;
    dnnl::eltwise_forward forward;
    dnnl::eltwise_backward backward;
    bool has_backward = false;
  };

  // Element-wise: the shape does not matter, only the element count.
  Prims& prims(std::int64_t count, Mode mode) {
    auto& slot = prims_[count];
    if (slot && (mode == Mode::eval || slot->has_backward)) return *slot;
    slot = std::make_unique<Prims>();
    Prims& p = *slot;
    p.desc = plain({count}, tag::x);
    const auto prop = mode == Mode::train ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    // The forward of a use_dst variant must be created with that same algorithm.
    const auto fwd_alg = mode == Mode::train ? kind_.backward : kind_.forward;
    dnnl::eltwise_forward::primitive_desc fpd(dnnl::eltwise_forward::desc(prop, fwd_alg, p.desc, alpha_, kind_.beta), engine());
    p.forward = dnnl::eltwise_forward(fpd);
    if (mode == Mode::train) {
      dnnl::eltwise_backward::desc bd(kind_.backward, p.desc, p.desc, alpha_, kind_.beta);
      p.backward = dnnl::eltwise_backward(dnnl::eltwise_backward::primitive_desc(bd, engine(), fpd));
      p.has_backward = true;
    }
    return p;
  }

  ActivationKind kind_;
  float alpha_;
  std::map<std::int64_t, std::unique_ptr<Prims>> prims_;
  const Tensor* input_ = nullptr;
  const Tensor* output_ = nullptr;
};

LayerInfo activation_layer(ActivationKind kind) {
  LayerInfo info;
  info.name = kind.name;
  info.doc = kind.doc;
  if (kind.name == "leaky_relu")
    info.params = {param_float("slope", "the slope for negative inputs", 0.01).range(0, 1)};
  info.create = [kind](const std::string& name, const Params& p, const Shape&) -> std::unique_ptr<Layer> {
    const float alpha = kind.name == "leaky_relu" ? static_cast<float>(p.get_float("slope")) : 0.0f;
    return std::make_unique<Activation>(name, kind, alpha);
  };
  return info;
}

}  // namespace

std::vector<LayerInfo> activation_layers() {
  using A = dnnl::algorithm;
  return {
      activation_layer({"relu", A::eltwise_relu, A::eltwise_relu_use_dst_for_bwd, true, "max(x, 0)"}),
      activation_layer({"leaky_relu", A::eltwise_relu, A::eltwise_relu, false, "x for x > 0, slope * x otherwise"}),
      activation_layer({"tanh", A::eltwise_tanh, A::eltwise_tanh_use_dst_for_bwd, true, "hyperbolic tangent"}),
      activation_layer({"sigmoid", A::eltwise_logistic, A::eltwise_logistic_use_dst_for_bwd, true, "1 / (1 + exp(-x))"}),
      activation_layer({"gelu", A::eltwise_gelu_erf, A::eltwise_gelu_erf, false, "x * Phi(x), the exact (erf) form as PyTorch's default"}),
      // min(max(x, 0), 6) (MobileNetV2); clip_v2 passes the gradient on [0, 6) as PyTorch's hardtanh does.
      activation_layer({"relu6", A::eltwise_clip_v2, A::eltwise_clip_v2_use_dst_for_bwd, true, "min(max(x, 0), 6)", 6.0f}),
  };
}

}  // namespace pipeline::layers
