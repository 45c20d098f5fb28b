// adaptive_avgpool2d: average pooling to a fixed output size, as PyTorch's AdaptiveAvgPool2d
// (torchvision's ResNet and MobileNetV2 pool to 1x1 before their classifier). Window i of n over a
// length L spans [floor(i*L/n), ceil((i+1)*L/n)). When the sizes divide, every window has the same
// size and stride and oneDNN's pooling runs it; otherwise windows differ in size, which oneDNN's
// pooling cannot express, and a direct loop does.
#include <map>

#include "dnnl_util.hpp"
#include "layer_types.hpp"
#include "pipeline/error.hpp"
#include "pipeline/sdk.hpp"

namespace pipeline::layers {
namespace {

struct AdaptiveConfig {
  std::int64_t channels = 0, height = 0, width = 0, out_h = 1, out_w = 1;
  bool uniform() const { return height % out_h == 0 && width % out_w == 0; }
};

std::int64_t window_start(std::int64_t i, std::int64_t length, std::int64_t n) { return (i * length) / n; }
std::int64_t window_end(std::int64_t i, std::int64_t length, std::int64_t n) { return ((i + 1) * length + n - 1) / n; }

class AdaptiveAvgPool2d : public Layer {
 public:
  AdaptiveAvgPool2d(const std::string& name, const AdaptiveConfig& c) : Layer("adaptive_avgpool2d", name), c_(c) {}

  Shape output_shape(const Shape& in) const override {
    if (in.size() != 3) throw Error(ErrorCode::config_schema, "adaptive_avgpool2d expects [channels, height, width], gets " + to_string(in));
    return {in[0], c_.out_h, c_.out_w};
  }
  void initialize(Rng&) override {}
  std::string describe() const override { return "to " + std::to_string(c_.out_h) + "x" + std::to_string(c_.out_w); }

  void forward(const Tensor& input, Tensor& output, Mode mode) override {
    ++counters_.forward;
    const std::int64_t n = input.dim(0);
    output.resize({n, c_.channels, c_.out_h, c_.out_w});
    if (mode == Mode::train) batch_ = n;
    if (c_.uniform()) {
      Prims& p = prims(n, mode);
      p.forward.execute(stream(), {{DNNL_ARG_SRC, wrap(p.src_desc, input.data())}, {DNNL_ARG_DST, wrap(p.dst_desc, output.data())}});
      return;
    }
    const float* x = input.data();
    float* y = output.data();
    for (std::int64_t plane = 0; plane < n * c_.channels; ++plane)
      for (std::int64_t i = 0; i < c_.out_h; ++i)
        for (std::int64_t j = 0; j < c_.out_w; ++j) {
          const std::int64_t h0 = window_start(i, c_.height, c_.out_h), h1 = window_end(i, c_.height, c_.out_h);
          const std::int64_t w0 = window_start(j, c_.width, c_.out_w), w1 = window_end(j, c_.width, c_.out_w);
          double sum = 0;
          for (std::int64_t h = h0; h < h1; ++h)
            for (std::int64_t w = w0; w < w1; ++w) sum += x[(plane * c_.height + h) * c_.width + w];
          y[(plane * c_.out_h + i) * c_.out_w + j] = static_cast<float>(sum / static_cast<double>((h1 - h0) * (w1 - w0)));
        }
  }

  void backward(const Tensor& grad_output, Tensor* grad_input) override {
    if (!grad_input) return;
    if (batch_ < 0) throw Error(ErrorCode::internal, "adaptive_avgpool2d backward without a training forward");
    ++counters_.backward_data;
    grad_input->resize({batch_, c_.channels, c_.height, c_.width});
    if (c_.uniform()) {
      Prims& p = prims(batch_, Mode::train);
      p.backward.execute(stream(), {{DNNL_ARG_DIFF_DST, wrap(p.dst_desc, grad_output.data())},
                                    {DNNL_ARG_DIFF_SRC, wrap(p.src_desc, grad_input->data())}});
      return;
    }
    grad_input->fill(0.0f);
    const float* g = grad_output.data();
    float* dx = grad_input->data();
    for (std::int64_t plane = 0; plane < batch_ * c_.channels; ++plane)
      for (std::int64_t i = 0; i < c_.out_h; ++i)
        for (std::int64_t j = 0; j < c_.out_w; ++j) {
          const std::int64_t h0 = window_start(i, c_.height, c_.out_h), h1 = window_end(i, c_.height, c_.out_h);
          const std::int64_t w0 = window_start(j, c_.width, c_.out_w), w1 = window_end(j, c_.width, c_.out_w);
          const float share = g[(plane * c_.out_h + i) * c_.out_w + j] / static_cast<float>((h1 - h0) * (w1 - w0));
          for (std::int64_t h = h0; h < h1; ++h)
            for (std::int64_t w = w0; w < w1; ++w) dx[(plane * c_.height + h) * c_.width + w] += share;
        }
  }

 protected:
  std::unique_ptr<Layer> clone_layer() const override { return std::make_unique<AdaptiveAvgPool2d>(name(), c_); }

 private:
  struct Prims {
    memory::desc src_desc, dst_desc;
    dnnl::pooling_v2_forward forward;
    dnnl::pooling_v2_backward backward;
    bool has_backward = false;
  };

  Prims& prims(std::int64_t n, Mode mode) {
    auto& slot = prims_[n];
    if (slot && (mode == Mode::eval || slot->has_backward)) return *slot;
    slot = std::make_unique<Prims>();
    Prims& p = *slot;
    p.src_desc = plain({n, c_.channels, c_.height, c_.width}, tag::nchw);
    p.dst_desc = plain({n, c_.channels, c_.out_h, c_.out_w}, tag::nchw);
    const std::int64_t kh = c_.height / c_.out_h, kw = c_.width / c_.out_w;
    const memory::dims strides = {kh, kw}, kernel = {kh, kw}, dilation = {0, 0}, pad = {0, 0};
    const auto alg = dnnl::algorithm::pooling_avg_exclude_padding;
    const auto prop = mode == Mode::train ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    dnnl::pooling_v2_forward::desc fd(prop, alg, p.src_desc, p.dst_desc, strides, kernel, dilation, pad, pad);
    dnnl::pooling_v2_forward::primitive_desc fpd(fd, engine());
    p.forward = dnnl::pooling_v2_forward(fpd);
    if (mode == Mode::train) {
      dnnl::pooling_v2_backward::desc bd(alg, p.src_desc, p.dst_desc, strides, kernel, dilation, pad, pad);
      p.backward = dnnl::pooling_v2_backward(dnnl::pooling_v2_backward::primitive_desc(bd, engine(), fpd));
      p.has_backward = true;
    }
    return p;
  }

  AdaptiveConfig c_;
  std::map<std::int64_t, std::unique_ptr<Prims>> prims_;
  std::int64_t batch_ = -1;
};

}  // namespace

LayerInfo adaptive_avgpool2d_layer() {
  LayerInfo info;
  info.name = "adaptive_avgpool2d";
  info.doc = "average pooling to a fixed output size (PyTorch AdaptiveAvgPool2d)";
  info.params = {param_list("size", "output [height, width], or [size] for a square", ParamType::integer,
                            Value::list({Value::integer(1), Value::integer(1)}))
                     .range(1, 1 << 16)};
  info.create = [](const std::string& name, const Params& p, const Shape& input) -> std::unique_ptr<Layer> {
    const auto size = p.get_int_list("size");
    if (size.empty() || size.size() > 2)
      throw Error(ErrorCode::config_schema, "adaptive_avgpool2d " + name + ": 'size' needs one or two values, got " +
                                                p.get("size").str(), p.location("size"));
    if (input.size() != 3)
      throw Error(ErrorCode::config_schema, "adaptive_avgpool2d " + name + " expects [channels, height, width] inputs, gets " +
                                                to_string(input));
    AdaptiveConfig c;
    c.channels = input[0];
    c.height = input[1];
    c.width = input[2];
    c.out_h = size[0];
    c.out_w = size.size() == 2 ? size[1] : size[0];
    if (c.out_h > c.height || c.out_w > c.width)
      throw Error(ErrorCode::config_schema, "adaptive_avgpool2d " + name + ": output " + std::to_string(c.out_h) + "x" +
                                                std::to_string(c.out_w) + " exceeds the input " + to_string(input));
    return std::make_unique<AdaptiveAvgPool2d>(name, c);
  };
  info.examples = {{Value::map(), {2, 4, 4}}, {parse_value("{size: [2, 3]}"), {2, 5, 7}}};
  return info;
}

}  // namespace pipeline::layers
