// conv2d's plain twin: the convolution as PyTorch defines it, in loops over NCHW and OIHW, summed
// in double. At bf16 it rounds the input, weights and output gradient to bf16 first, as the oneDNN
// layer's primitives read them.
#include <cmath>

#include "../conv_config.hpp"
#include "as_computed.hpp"
#include "pipeline/error.hpp"
#include "pipeline/precision.hpp"

namespace pipeline::layers {
namespace {

class Conv2dReference : public Layer {
 public:
  Conv2dReference(const std::string& name, const ConvConfig& c) : Layer("conv2d", name), c_(c) {
    params_ = conv_parameters(c);
    const Shape out = conv_output_of({c.in, c.height, c.width}, c);
    out_h_ = out[1];
    out_w_ = out[2];
  }

  Shape output_shape(const Shape& in) const override { return conv_output_of(in, c_); }
  void initialize(Rng& rng) override {
    for (auto& p : params_)
      for (float& w : p.value.values()) w = rng.uniform(-0.5f, 0.5f);
  }
  std::unique_ptr<Layer> clone_layer() const override {
    auto copy = std::make_unique<Conv2dReference>(name(), c_);
    copy->params_ = params_;
    return copy;
  }

  void forward(const Tensor& input, Tensor& output, Mode mode) override {
    const std::int64_t n = input.dim(0);
    const Precision precision = compute_precision();
    const std::vector<float> x = as_computed(input, precision), w = as_computed(params_[0].value, precision);
    output.resize({n, c_.out, out_h_, out_w_});
    std::vector<double> sum(static_cast<std::size_t>(output.numel()), 0.0);
    each_tap(n, [&](std::size_t y, std::size_t xi, std::size_t wi) { sum[y] += double(x[xi]) * w[wi]; });
    for (std::size_t i = 0; i < sum.size(); ++i) {
      const std::int64_t o = static_cast<std::int64_t>(i / static_cast<std::size_t>(out_h_ * out_w_)) % c_.out;
      output.values()[i] = static_cast<float>(sum[i] + (c_.bias ? params_[1].value.values()[o] : 0.0f));
    }
    if (mode == Mode::train) {
      input_ = &input;
      precision_ = precision;
    }
  }

  void backward(const Tensor& grad_output, Tensor* grad_input) override {
    if (!input_) throw Error(ErrorCode::internal, "conv2d reference backward without a training forward");
    const std::int64_t n = input_->dim(0);
    const std::vector<float> x = as_computed(*input_, precision_), w = as_computed(params_[0].value, precision_),
                             dy = as_computed(grad_output, precision_);
    std::vector<double> dx(x.size(), 0.0), dw(w.size(), 0.0);
    each_tap(n, [&](std::size_t y, std::size_t xi, std::size_t wi) {
      dx[xi] += double(dy[y]) * w[wi];
      dw[wi] += double(dy[y]) * x[xi];
    });
    if (grad_input) {
      grad_input->resize(input_->shape());
      for (std::size_t i = 0; i < dx.size(); ++i) grad_input->values()[i] = static_cast<float>(dx[i]);
    }
    if (!params_[0].trainable) return;
    params_[0].grad.resize(params_[0].value.shape());
    for (std::size_t i = 0; i < dw.size(); ++i) params_[0].grad.values()[i] = static_cast<float>(dw[i]);
    if (!c_.bias) return;
    std::vector<double> db(static_cast<std::size_t>(c_.out), 0.0);
    for (std::size_t i = 0; i < dy.size(); ++i)
      db[static_cast<std::size_t>(i / static_cast<std::size_t>(out_h_ * out_w_)) % static_cast<std::size_t>(c_.out)] += dy[i];
    params_[1].grad.resize(params_[1].value.shape());
    for (std::size_t i = 0; i < db.size(); ++i) params_[1].grad.values()[i] = static_cast<float>(db[i]);
  }

 private:
  // Calls tap(output index, input index, weight index) for every product the convolution sums:
  // out[b][o][i][j] += in[b][g * cin + c][i * stride - pad + ki * dilation][...] * w[o][c][ki][kj].
  template <class Tap>
  void each_tap(std::int64_t n, Tap&& tap) const {
    const std::int64_t cin = c_.in / c_.groups, cout = c_.out / c_.groups;
    for (std::int64_t b = 0; b < n; ++b)
      for (std::int64_t o = 0; o < c_.out; ++o) {
        const std::int64_t g = o / cout;
        for (std::int64_t i = 0; i < out_h_; ++i)
          for (std::int64_t j = 0; j < out_w_; ++j) {
            const auto y = static_cast<std::size_t>(((b * c_.out + o) * out_h_ + i) * out_w_ + j);
            for (std::int64_t c = 0; c < cin; ++c)
              for (std::int64_t ki = 0; ki < c_.kernel; ++ki) {
                const std::int64_t h = i * c_.stride - c_.padding + ki * c_.dilation;
                if (h < 0 || h >= c_.height) continue;
                for (std::int64_t kj = 0; kj < c_.kernel; ++kj) {
                  const std::int64_t w = j * c_.stride - c_.padding + kj * c_.dilation;
                  if (w < 0 || w >= c_.width) continue;
                  const auto xi = static_cast<std::size_t>(((b * c_.in + g * cin + c) * c_.height + h) * c_.width + w);
                  const auto wi = static_cast<std::size_t>(((o * cin + c) * c_.kernel + ki) * c_.kernel + kj);
                  tap(y, xi, wi);
                }
              }
          }
      }
  }

  ConvConfig c_;
  std::int64_t out_h_ = 0, out_w_ = 0;
  const Tensor* input_ = nullptr;
  Precision precision_ = Precision::f32;
};

}  // namespace

std::unique_ptr<Layer> conv2d_reference(const std::string& name, const Params& p, const Shape& input) {
  return std::make_unique<Conv2dReference>(name, conv_config(name, p, input));
}

}  // namespace pipeline::layers
