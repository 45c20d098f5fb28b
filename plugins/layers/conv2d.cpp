// conv2d: 2-D convolution (stride, padding, dilation, groups, optional bias) on oneDNN, with
// layouts chosen by oneDNN (format_tag::any) and reorders only where a layout differs.
#include <cmath>

#include "conv_config.hpp"
#include "layer_types.hpp"
#include "weighted_primitives.hpp"
#include "pipeline/error.hpp"

namespace pipeline::layers {
namespace {

class Conv2d : public Layer {
 public:
  Conv2d(const std::string& name, const ConvConfig& c) : Layer("conv2d", name), c_(c) {
    params_ = conv_parameters(c);
  }

  Shape output_shape(const Shape& in) const override { return conv_output_of(in, c_); }

  void initialize(Rng& rng) override {
    // PyTorch: kaiming_uniform_(a=sqrt(5)) for the weight, which is U(-1/sqrt(fan_in), +), and
    // the same bound for the bias.
    const float bound = 1.0f / std::sqrt(static_cast<float>(c_.in / c_.groups * c_.kernel * c_.kernel));
    for (auto& p : params_)
      for (float& w : p.value.values()) w = rng.uniform(-bound, bound);
  }

  std::string describe() const override {
    std::string s = "out " + std::to_string(c_.out) + ", kernel " + std::to_string(c_.kernel) + "x" +
                    std::to_string(c_.kernel);
    if (c_.stride != 1) s += ", stride " + std::to_string(c_.stride);
    if (c_.padding) s += ", padding " + std::to_string(c_.padding);
    if (c_.dilation != 1) s += ", dilation " + std::to_string(c_.dilation);
    if (c_.groups != 1) s += ", groups " + std::to_string(c_.groups);
    if (!c_.bias) s += ", no bias";
    return s;
  }

  std::unique_ptr<Layer> clone_layer() const override {
    auto copy = std::make_unique<Conv2d>(name(), c_);
    copy->params_ = params_;
    return copy;
  }

  void forward(const Tensor& input, Tensor& output, Mode mode) override {
    ++counters_.forward;
    const std::int64_t n = input.dim(0);
    Shape out_shape = output_shape(Shape(input.shape().begin() + 1, input.shape().end()));
    out_shape.insert(out_shape.begin(), n);
    output.resize(out_shape);
    prims(n, mode, compute_precision()).run_forward(input, output, params_, mode);
    if (mode == Mode::train) input_ = &input;
  }

  void backward(const Tensor& grad_output, Tensor* grad_input) override {
    if (!input_ || !prims_.training()) throw Error(ErrorCode::internal, "conv2d backward without a training forward");
    prims_.training()->run_backward(*input_, grad_output, params_, grad_input, counters_);
  }

 private:
  WeightedPrimitives& prims(std::int64_t n, Mode mode, Precision precision) {
    return prims_.get(n, mode, precision, [this](WeightedPrimitives& p, std::int64_t n, Mode mode, Precision precision) {
      make_prims(p, n, mode, precision);
    });
  }

  // At bf16 the primitives read bf16 inputs and weights (converted by the reorders into their
  // layouts) and write f32 outputs and gradients, as oneDNN's bf16 convolutions allow.
  void make_prims(WeightedPrimitives& p, std::int64_t n, Mode mode, Precision precision) {
    const memory::dims src_dims = {n, c_.in, c_.height, c_.width};
    const Shape out = conv_output_of({c_.in, c_.height, c_.width}, c_);
    const memory::dims dst_dims = {n, c_.out, out[1], out[2]};
    const memory::dims w_dims = c_.groups == 1
                                    ? memory::dims{c_.out, c_.in, c_.kernel, c_.kernel}
                                    : memory::dims{c_.groups, c_.out / c_.groups, c_.in / c_.groups, c_.kernel, c_.kernel};
    const tag w_tag = c_.groups == 1 ? tag::oihw : tag::goihw;
    const memory::dims strides = {c_.stride, c_.stride}, dilation = {c_.dilation - 1, c_.dilation - 1},
                       pad = {c_.padding, c_.padding};
    const dt in_type = compute_type(precision);
    auto any = [](const memory::dims& d) { return memory::desc(d, dt::f32, tag::any); };
    auto in_any = [in_type](const memory::dims& d) { return memory::desc(d, in_type, tag::any); };
    p.bias = c_.bias ? plain({c_.out}, tag::x) : memory::desc();
    const auto prop = mode == Mode::train ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    const auto alg = dnnl::algorithm::convolution_direct;
    dnnl::convolution_forward::primitive_desc fpd(
        dnnl::convolution_forward::desc(prop, alg, in_any(src_dims), in_any(w_dims), p.bias, any(dst_dims), strides,
                                        dilation, pad, pad),
        engine());
    const auto plain_src = plain(src_dims, tag::nchw), plain_w = plain(w_dims, w_tag), plain_dst = plain(dst_dims, tag::nchw);
    if (mode == Mode::train) {
      dnnl::convolution_backward_weights::primitive_desc wpd(
          dnnl::convolution_backward_weights::desc(alg, in_any(src_dims), any(w_dims), p.bias, in_any(dst_dims),
                                                   strides, dilation, pad, pad),
          engine(), fpd);
      dnnl::convolution_backward_data::primitive_desc dpd(
          dnnl::convolution_backward_data::desc(alg, any(src_dims), in_any(w_dims), in_any(dst_dims), strides,
                                                dilation, pad, pad),
          engine(), fpd);
      p.init(fpd, &wpd, &dpd, plain_src, plain_w, plain_dst);
    } else {
      p.init(fpd, static_cast<dnnl::convolution_backward_weights::primitive_desc*>(nullptr),
             static_cast<dnnl::convolution_backward_data::primitive_desc*>(nullptr), plain_src, plain_w, plain_dst);
    }
  }

  ConvConfig c_;
  PrimitiveCache<WeightedPrimitives> prims_;
  const Tensor* input_ = nullptr;
};

}  // namespace

Shape conv_output(const Shape& in, std::int64_t out_channels, std::int64_t kernel, std::int64_t stride,
                  std::int64_t padding, std::int64_t dilation, const std::string& what) {
  if (in.size() != 3)
    throw Error(ErrorCode::config_schema, what + " expects [channels, height, width] inputs, gets " + to_string(in));
  Shape out = {out_channels};
  for (int d = 1; d <= 2; ++d) {
    const std::int64_t size = (in[d] + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;
    if (in[d] + 2 * padding - dilation * (kernel - 1) - 1 < 0 || size < 1)
      throw Error(ErrorCode::config_schema, what + ": kernel " + std::to_string(kernel) + " (dilation " +
                                                std::to_string(dilation) + ") does not fit input " + to_string(in) +
                                                " with padding " + std::to_string(padding));
    out.push_back(size);
  }
  return out;
}

LayerInfo conv2d_layer() {
  LayerInfo info;
  info.name = "conv2d";
  info.doc = "2-D convolution over [channels, height, width] (PyTorch Conv2d)";
  info.params = {
      param_int("out", "output channels").range(1, 1 << 20),
      param_int("kernel", "square kernel size").range(1, 1024),
      param_int("stride", "stride", 1).range(1, 1024),
      param_int("padding", "zero padding on each side", 0).range(0, 1024),
      param_int("dilation", "spacing between kernel taps", 1).range(1, 1024),
      param_int("groups", "channel groups (in and out must be divisible)", 1).range(1, 1 << 20),
      param_bool("bias", "add a learned bias", true),
      param_int("in", "input channels; checked against the input when given", 0).range(0, 1 << 20),
  };
  info.create = [](const std::string& name, const Params& p, const Shape& input) -> std::unique_ptr<Layer> {
    return std::make_unique<Conv2d>(name, conv_config(name, p, input));
  };
  info.reference = conv2d_reference;
  return info;
}

}  // namespace pipeline::layers
