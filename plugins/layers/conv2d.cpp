// conv2d: 2-D convolution (stride, padding, dilation, groups, optional bias) on oneDNN, with
// layouts chosen by oneDNN (format_tag::any) and reorders only where a layout differs.
#include <cmath>
#include <map>

#include "dnnl_util.hpp"
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

  std::unique_ptr<Layer> clone() const override {
    auto copy = std::make_unique<Conv2d>(name(), c_);
    copy->params_ = params_;
    return copy;
  }

  void forward(const Tensor& input, Tensor& output, Mode mode) override {
    ++counters_.forward;
    const std::int64_t n = input.dim(0);
    Prims& p = prims(n, mode);
    Shape out_shape = output_shape(Shape(input.shape().begin() + 1, input.shape().end()));
    out_shape.insert(out_shape.begin(), n);
    output.resize(out_shape);

    memory src = p.src(input.data());
    memory weights = p.weights(params_[0].value.data());
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights},
                                            {DNNL_ARG_DST, p.dst.buffer(output.data())}};
    if (c_.bias) args[DNNL_ARG_BIAS] = wrap(p.bias_desc, params_[1].value.data());
    p.forward.execute(stream(), args);
    p.dst.write_to(output.data());
    if (mode == Mode::train) input_ = &input;
  }

  void backward(const Tensor& grad_output, Tensor* grad_input) override {
    if (!input_) throw Error(ErrorCode::internal, "conv2d backward without a training forward");
    const std::int64_t n = input_->dim(0);
    Prims& p = prims(n, Mode::train);
    const float* diff = grad_output.data();
    if (params_[0].trainable) {
      ++counters_.backward_weights;
      Parameter& w = params_[0];
      w.grad.resize(w.value.shape());
      std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, p.bwd_src(input_->data())},
                                              {DNNL_ARG_DIFF_DST, p.bwd_w_diff_dst(diff)},
                                              {DNNL_ARG_DIFF_WEIGHTS, p.diff_weights.buffer(w.grad.data())}};
      if (c_.bias) {
        params_[1].grad.resize(params_[1].value.shape());
        args[DNNL_ARG_DIFF_BIAS] = wrap(p.bias_desc, params_[1].grad.data());
      }
      p.backward_weights.execute(stream(), args);
      p.diff_weights.write_to(w.grad.data());
    }
    if (grad_input) {
      ++counters_.backward_data;
      grad_input->resize(input_->shape());
      p.backward_data.execute(stream(), {{DNNL_ARG_DIFF_DST, p.bwd_d_diff_dst(diff)},
                                         {DNNL_ARG_WEIGHTS, p.bwd_d_weights(params_[0].value.data())},
                                         {DNNL_ARG_DIFF_SRC, p.diff_src.buffer(grad_input->data())}});
      p.diff_src.write_to(grad_input->data());
    }
  }

 private:
  struct Prims {
    dnnl::convolution_forward forward;
    ToLayout src, weights;
    FromLayout dst;
    memory::desc bias_desc;
    bool has_backward = false;
    dnnl::convolution_backward_weights backward_weights;
    dnnl::convolution_backward_data backward_data;
    ToLayout bwd_src, bwd_w_diff_dst, bwd_d_diff_dst, bwd_d_weights;
    FromLayout diff_weights, diff_src;
  };

  Prims& prims(std::int64_t n, Mode mode) {
    auto& slot = prims_[n];
    if (slot && (mode == Mode::eval || slot->has_backward)) return *slot;
    slot = std::make_unique<Prims>();
    Prims& p = *slot;
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
    p.bias_desc = c_.bias ? plain({c_.out}, tag::x) : memory::desc();
    const auto prop = mode == Mode::train ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    dnnl::convolution_forward::desc fd(prop, dnnl::algorithm::convolution_direct, any(src_dims), any(w_dims),
                                       p.bias_desc, any(dst_dims), strides, dilation, pad, pad);
    dnnl::convolution_forward::primitive_desc fpd(fd, engine());
    p.forward = dnnl::convolution_forward(fpd);
    p.src.init(plain(src_dims, tag::nchw), fpd.src_desc());
    p.weights.init(plain(w_dims, w_tag), fpd.weights_desc());
    p.dst.init(fpd.dst_desc(), plain(dst_dims, tag::nchw));
    if (mode == Mode::train) {
      dnnl::convolution_backward_weights::desc wd(dnnl::algorithm::convolution_direct, any(src_dims), any(w_dims),
                                                  p.bias_desc, any(dst_dims), strides, dilation, pad, pad);
      dnnl::convolution_backward_weights::primitive_desc wpd(wd, engine(), fpd);
      p.backward_weights = dnnl::convolution_backward_weights(wpd);
      p.bwd_src.init(plain(src_dims, tag::nchw), wpd.src_desc());
      p.bwd_w_diff_dst.init(plain(dst_dims, tag::nchw), wpd.diff_dst_desc());
      p.diff_weights.init(wpd.diff_weights_desc(), plain(w_dims, w_tag));
      dnnl::convolution_backward_data::desc dd(dnnl::algorithm::convolution_direct, any(src_dims), any(w_dims),
                                               any(dst_dims), strides, dilation, pad, pad);
      dnnl::convolution_backward_data::primitive_desc dpd(dd, engine(), fpd);
      p.backward_data = dnnl::convolution_backward_data(dpd);
      p.bwd_d_diff_dst.init(plain(dst_dims, tag::nchw), dpd.diff_dst_desc());
      p.bwd_d_weights.init(plain(w_dims, w_tag), dpd.weights_desc());
      p.diff_src.init(dpd.diff_src_desc(), plain(src_dims, tag::nchw));
      p.has_backward = true;
    }
    return p;
  }

  ConvConfig c_;
  std::map<std::int64_t, std::unique_ptr<Prims>> prims_;
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
