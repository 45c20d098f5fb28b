// linear: a fully connected layer on oneDNN's inner product, weights [out, in] as in PyTorch.
#include <cmath>
#include <map>

#include "dnnl_util.hpp"
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

  std::unique_ptr<Layer> clone() const override {
    auto copy = std::make_unique<Linear>(name(), in_, out_, bias_);
    copy->params_ = params_;
    return copy;
  }

  void forward(const Tensor& input, Tensor& output, Mode mode) override {
    ++counters_.forward;
    const std::int64_t n = input.dim(0);
    Prims& p = prims(n, mode);
    output.resize({n, out_});
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, p.src(input.data())},
                                            {DNNL_ARG_WEIGHTS, p.weights(params_[0].value.data())},
                                            {DNNL_ARG_DST, p.dst.buffer(output.data())}};
    if (bias_) args[DNNL_ARG_BIAS] = wrap(p.bias_desc, params_[1].value.data());
    p.forward.execute(stream(), args);
    p.dst.write_to(output.data());
    if (mode == Mode::train) input_ = &input;
  }

  void backward(const Tensor& grad_output, Tensor* grad_input) override {
    if (!input_) throw Error(ErrorCode::internal, "linear backward without a training forward");
    const std::int64_t n = input_->dim(0);
    Prims& p = prims(n, Mode::train);
    if (params_[0].trainable) {
      ++counters_.backward_weights;
      Parameter& w = params_[0];
      w.grad.resize(w.value.shape());
      std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, p.bwd_src(input_->data())},
                                              {DNNL_ARG_DIFF_DST, p.bwd_w_diff_dst(grad_output.data())},
                                              {DNNL_ARG_DIFF_WEIGHTS, p.diff_weights.buffer(w.grad.data())}};
      if (bias_) {
        params_[1].grad.resize(params_[1].value.shape());
        args[DNNL_ARG_DIFF_BIAS] = wrap(p.bias_desc, params_[1].grad.data());
      }
      p.backward_weights.execute(stream(), args);
      p.diff_weights.write_to(w.grad.data());
    }
    if (grad_input) {
      ++counters_.backward_data;
      grad_input->resize(input_->shape());
      p.backward_data.execute(stream(), {{DNNL_ARG_DIFF_DST, p.bwd_d_diff_dst(grad_output.data())},
                                         {DNNL_ARG_WEIGHTS, p.bwd_d_weights(params_[0].value.data())},
                                         {DNNL_ARG_DIFF_SRC, p.diff_src.buffer(grad_input->data())}});
      p.diff_src.write_to(grad_input->data());
    }
  }

 private:
  struct Prims {
    dnnl::inner_product_forward forward;
    ToLayout src, weights;
    FromLayout dst;
    memory::desc bias_desc;
    bool has_backward = false;
    dnnl::inner_product_backward_weights backward_weights;
    dnnl::inner_product_backward_data backward_data;
    ToLayout bwd_src, bwd_w_diff_dst, bwd_d_diff_dst, bwd_d_weights;
    FromLayout diff_weights, diff_src;
  };

  Prims& prims(std::int64_t n, Mode mode) {
    auto& slot = prims_[n];
    if (slot && (mode == Mode::eval || slot->has_backward)) return *slot;
    slot = std::make_unique<Prims>();
    Prims& p = *slot;
    const memory::dims src = {n, in_}, w = {out_, in_}, dst = {n, out_};
    auto any = [](const memory::dims& d) { return memory::desc(d, dt::f32, tag::any); };
    p.bias_desc = bias_ ? plain({out_}, tag::x) : memory::desc();
    const auto prop = mode == Mode::train ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    dnnl::inner_product_forward::primitive_desc fpd(
        dnnl::inner_product_forward::desc(prop, any(src), any(w), p.bias_desc, any(dst)), engine());
    p.forward = dnnl::inner_product_forward(fpd);
    p.src.init(plain(src, tag::nc), fpd.src_desc());
    p.weights.init(plain(w, tag::oi), fpd.weights_desc());
    p.dst.init(fpd.dst_desc(), plain(dst, tag::nc));
    if (mode == Mode::train) {
      dnnl::inner_product_backward_weights::primitive_desc wpd(
          dnnl::inner_product_backward_weights::desc(any(src), any(w), p.bias_desc, any(dst)), engine(), fpd);
      p.backward_weights = dnnl::inner_product_backward_weights(wpd);
      p.bwd_src.init(plain(src, tag::nc), wpd.src_desc());
      p.bwd_w_diff_dst.init(plain(dst, tag::nc), wpd.diff_dst_desc());
      p.diff_weights.init(wpd.diff_weights_desc(), plain(w, tag::oi));
      dnnl::inner_product_backward_data::primitive_desc dpd(
          dnnl::inner_product_backward_data::desc(any(src), any(w), any(dst)), engine(), fpd);
      p.backward_data = dnnl::inner_product_backward_data(dpd);
      p.bwd_d_diff_dst.init(plain(dst, tag::nc), dpd.diff_dst_desc());
      p.bwd_d_weights.init(plain(w, tag::oi), dpd.weights_desc());
      p.diff_src.init(dpd.diff_src_desc(), plain(src, tag::nc));
      p.has_backward = true;
    }
    return p;
  }

  std::int64_t in_, out_;
  bool bias_;
  std::map<std::int64_t, std::unique_ptr<Prims>> prims_;
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
  return info;
}

}  // namespace pipeline::layers
