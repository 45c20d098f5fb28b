// maxpool2d and avgpool2d on oneDNN pooling_v2 (max keeps its workspace for the backward pass).
#include <map>

#include "dnnl_util.hpp"
#include "layer_types.hpp"
#include "pipeline/error.hpp"

namespace pipeline::layers {
namespace {

struct PoolConfig {
  bool max = true;
  bool count_include_pad = true;  // avg: PyTorch's default
  std::int64_t kernel = 2, stride = 2, padding = 0;
  std::int64_t channels = 0, height = 0, width = 0;
};

class Pool2d : public Layer {
 public:
  Pool2d(const std::string& name, const PoolConfig& c) : Layer(c.max ? "maxpool2d" : "avgpool2d", name), c_(c) {}

  Shape output_shape(const Shape& in) const override {
    return conv_output(in, in.empty() ? 0 : in[0], c_.kernel, c_.stride, c_.padding, 1, type());
  }
  void initialize(Rng&) override {}
  std::string describe() const override {
    std::string s = "kernel " + std::to_string(c_.kernel) + ", stride " + std::to_string(c_.stride);
    if (c_.padding) s += ", padding " + std::to_string(c_.padding);
    return s;
  }
  std::unique_ptr<Layer> clone_layer() const override { return std::make_unique<Pool2d>(name(), c_); }

  void forward(const Tensor& input, Tensor& output, Mode mode) override {
    ++counters_.forward;
    const std::int64_t n = input.dim(0);
    Prims& p = prims(n, mode);
    output.resize({n, out_[0], out_[1], out_[2]});
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, wrap(p.src_desc, input.data())},
                                            {DNNL_ARG_DST, wrap(p.dst_desc, output.data())}};
    // A training primitive (also serving evaluation once created) always writes its workspace.
    if (p.has_backward && c_.max) args[DNNL_ARG_WORKSPACE] = p.workspace;
    p.forward.execute(stream(), args);
    if (mode == Mode::train) batch_ = n;
  }

  void backward(const Tensor& grad_output, Tensor* grad_input) override {
    if (!grad_input) return;  // no parameters: nothing else to compute
    if (batch_ < 0) throw Error(ErrorCode::internal, type() + " backward without a training forward");
    ++counters_.backward_data;
    Prims& p = prims(batch_, Mode::train);
    grad_input->resize({batch_, c_.channels, c_.height, c_.width});
    std::unordered_map<int, memory> args = {{DNNL_ARG_DIFF_DST, wrap(p.dst_desc, grad_output.data())},
                                            {DNNL_ARG_DIFF_SRC, wrap(p.src_desc, grad_input->data())}};
    if (c_.max) args[DNNL_ARG_WORKSPACE] = p.workspace;
    p.backward.execute(stream(), args);
  }

 private:
  struct Prims {
    memory::desc src_desc, dst_desc;
    dnnl::pooling_v2_forward forward;
    dnnl::pooling_v2_backward backward;
    memory workspace;
    bool has_backward = false;
  };

  Prims& prims(std::int64_t n, Mode mode) {
    auto& slot = prims_[n];
    if (slot && (mode == Mode::eval || slot->has_backward)) return *slot;
    slot = std::make_unique<Prims>();
    Prims& p = *slot;
    out_ = output_shape({c_.channels, c_.height, c_.width});
    p.src_desc = plain({n, c_.channels, c_.height, c_.width}, tag::nchw);
    p.dst_desc = plain({n, out_[0], out_[1], out_[2]}, tag::nchw);
    const auto alg = c_.max ? dnnl::algorithm::pooling_max
                     : c_.count_include_pad ? dnnl::algorithm::pooling_avg_include_padding
                                            : dnnl::algorithm::pooling_avg_exclude_padding;
    const memory::dims strides = {c_.stride, c_.stride}, kernel = {c_.kernel, c_.kernel},
                       dilation = {0, 0}, pad = {c_.padding, c_.padding};
    const auto prop = mode == Mode::train ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    dnnl::pooling_v2_forward::desc fd(prop, alg, p.src_desc, p.dst_desc, strides, kernel, dilation, pad, pad);
    dnnl::pooling_v2_forward::primitive_desc fpd(fd, engine());
    p.forward = dnnl::pooling_v2_forward(fpd);
    if (mode == Mode::train) {
      if (c_.max) p.workspace = memory(fpd.workspace_desc(), engine());
      dnnl::pooling_v2_backward::desc bd(alg, p.src_desc, p.dst_desc, strides, kernel, dilation, pad, pad);
      p.backward = dnnl::pooling_v2_backward(dnnl::pooling_v2_backward::primitive_desc(bd, engine(), fpd));
      p.has_backward = true;
    }
    return p;
  }

  PoolConfig c_;
  Shape out_;
  std::map<std::int64_t, std::unique_ptr<Prims>> prims_;
  std::int64_t batch_ = -1;
};

LayerInfo pool_layer(bool max) {
  LayerInfo info;
  info.name = max ? "maxpool2d" : "avgpool2d";
  info.doc = max ? "2-D max pooling (PyTorch MaxPool2d)" : "2-D average pooling (PyTorch AvgPool2d)";
  info.params = {
      param_int("kernel", "square window size").range(1, 1024),
      param_int("stride", "step between windows; 0 means the kernel size", 0).range(0, 1024),
      param_int("padding", "implicit padding on each side (at most half the kernel)", 0).range(0, 512),
  };
  if (!max) info.params.push_back(param_bool("count_include_pad", "average over padded cells too", true));
  info.create = [max](const std::string& name, const Params& p, const Shape& input) -> std::unique_ptr<Layer> {
    PoolConfig c;
    c.max = max;
    c.kernel = p.get_int("kernel");
    c.stride = p.get_int("stride") ? p.get_int("stride") : c.kernel;
    c.padding = p.get_int("padding");
    if (!max) c.count_include_pad = p.get_bool("count_include_pad");
    const std::string what = std::string(max ? "maxpool2d " : "avgpool2d ") + name;
    if (2 * c.padding > c.kernel)
      throw Error(ErrorCode::config_schema, what + ": padding " + std::to_string(c.padding) +
                                                " exceeds half the kernel " + std::to_string(c.kernel));
    if (input.size() != 3)
      throw Error(ErrorCode::config_schema, what + " expects [channels, height, width] inputs, gets " + to_string(input));
    conv_output(input, input[0], c.kernel, c.stride, c.padding, 1, what);
    c.channels = input[0];
    c.height = input[1];
    c.width = input[2];
    return std::make_unique<Pool2d>(name, c);
  };
  return info;
}

}  // namespace

LayerInfo maxpool2d_layer() { return pool_layer(true); }
LayerInfo avgpool2d_layer() { return pool_layer(false); }

}  // namespace pipeline::layers
