// conv2d: 2-D convolution (stride, padding, dilation, groups, optional bias) on oneDNN, with
// layouts chosen by oneDNN (format_tag::any) and reorders only where a layout differs.
#include <cmath>
#include <map>

#include "weighted_primitives.hpp"
#include "layer_types.hpp"
#include "pipeline/error.hpp"

namespace pipeline::layers {
namespace {

struct ConvConfig {
  std::int64_t in = 0, out = 0, kernel = 0, stride = 1, padding = 0, dilation = 1, groups = 1;
  std::int64_t height = 0, width = 0;  // the input's spatial size
  bool bias = true;
};

Shape conv_output_of(const Shape& in, const ConvConfig& c) {
  return conv_output(in, c.out, c.kernel, c.stride, c.padding, c.dilation, "conv2d");
}

class Conv2d : public Layer {
 public:
  Conv2d(const std::string& name, const ConvConfig& c) : Layer("conv2d", name), c_(c) {
    params_.push_back({"weight", Tensor({c.out, c.in / c.groups, c.kernel, c.kernel}), {}, true, false});
    if (c.bias) params_.push_back({"bias", Tensor({c.out}), {}, true, false});
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
    prims(n, mode).run_forward(input, output, params_, mode);
    if (mode == Mode::train) input_ = &input;
  }

  void backward(const Tensor& grad_output, Tensor* grad_input) override {
    if (!input_) throw Error(ErrorCode::internal, "conv2d backward without a training forward");
    prims(input_->dim(0), Mode::train).run_backward(*input_, grad_output, params_, grad_input, counters_);
  }

 private:
  WeightedPrimitives& prims(std::int64_t n, Mode mode) {
    auto& slot = prims_[n];
    if (slot && (mode == Mode::eval || slot->has_backward)) return *slot;
    slot = std::make_unique<WeightedPrimitives>();
    WeightedPrimitives& p = *slot;
    const memory::dims src_dims = {n, c_.in, c_.height, c_.width};
    const Shape out = conv_output_of({c_.in, c_.height, c_.width}, c_);
    const memory::dims dst_dims = {n, c_.out, out[1], out[2]};
    const memory::dims w_dims = c_.groups == 1
                                    ? memory::dims{c_.out, c_.in, c_.kernel, c_.kernel}
                                    : memory::dims{c_.groups, c_.out / c_.groups, c_.in / c_.groups, c_.kernel, c_.kernel};
    const tag w_tag = c_.groups == 1 ? tag::oihw : tag::goihw;
    const memory::dims strides = {c_.stride, c_.stride}, dilation = {c_.dilation - 1, c_.dilation - 1},
                       pad = {c_.padding, c_.padding};
    auto any = [](const memory::dims& d) { return memory::desc(d, dt::f32, tag::any); };
    p.bias = c_.bias ? plain({c_.out}, tag::x) : memory::desc();
    const auto prop = mode == Mode::train ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    const auto alg = dnnl::algorithm::convolution_direct;
    dnnl::convolution_forward::primitive_desc fpd(
        dnnl::convolution_forward::desc(prop, alg, any(src_dims), any(w_dims), p.bias, any(dst_dims), strides, dilation,
                                        pad, pad),
        engine());
    const auto plain_src = plain(src_dims, tag::nchw), plain_w = plain(w_dims, w_tag), plain_dst = plain(dst_dims, tag::nchw);
    if (mode == Mode::train) {
      dnnl::convolution_backward_weights::primitive_desc wpd(
          dnnl::convolution_backward_weights::desc(alg, any(src_dims), any(w_dims), p.bias, any(dst_dims), strides,
                                                   dilation, pad, pad),
          engine(), fpd);
      dnnl::convolution_backward_data::primitive_desc dpd(
          dnnl::convolution_backward_data::desc(alg, any(src_dims), any(w_dims), any(dst_dims), strides, dilation, pad,
                                                pad),
          engine(), fpd);
      p.init(fpd, &wpd, &dpd, plain_src, plain_w, plain_dst);
    } else {
      p.init(fpd, static_cast<dnnl::convolution_backward_weights::primitive_desc*>(nullptr),
             static_cast<dnnl::convolution_backward_data::primitive_desc*>(nullptr), plain_src, plain_w, plain_dst);
    }
    return p;
  }

  ConvConfig c_;
  std::map<std::int64_t, std::unique_ptr<WeightedPrimitives>> prims_;
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
    ConvConfig c;
    c.out = p.get_int("out");
    c.kernel = p.get_int("kernel");
    c.stride = p.get_int("stride");
    c.padding = p.get_int("padding");
    c.dilation = p.get_int("dilation");
    c.groups = p.get_int("groups");
    c.bias = p.get_bool("bias");
    const std::string what = "conv2d " + name;
    if (input.size() != 3)
      throw Error(ErrorCode::config_schema, what + " expects [channels, height, width] inputs, gets " + to_string(input));
    c.in = input[0];
    if (p.get_int("in") && p.get_int("in") != c.in)
      throw Error(ErrorCode::config_schema, what + " expects " + std::to_string(p.get_int("in")) +
                                                " input channels, gets " + std::to_string(c.in));
    if (c.in % c.groups || c.out % c.groups)
      throw Error(ErrorCode::config_schema, what + ": groups " + std::to_string(c.groups) +
                                                " must divide input channels " + std::to_string(c.in) +
                                                " and output channels " + std::to_string(c.out));
    conv_output(input, c.out, c.kernel, c.stride, c.padding, c.dilation, what);
    c.height = input[1];
    c.width = input[2];
    return std::make_unique<Conv2d>(name, c);
  };
  return info;
}

}  // namespace pipeline::layers
