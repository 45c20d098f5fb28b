// linear's plain twin: y = x W^T + b in loops, summed in double; at bf16 the input, weights and
// output gradient are rounded to bf16 first, as the oneDNN layer's primitives read them.
#include "../layer_types.hpp"
#include "as_computed.hpp"
#include "pipeline/error.hpp"
#include "pipeline/precision.hpp"

namespace pipeline::layers {
namespace {

class LinearReference : public Layer {
 public:
  LinearReference(const std::string& name, std::int64_t in, std::int64_t out, bool bias)
      : Layer("linear", name), in_(in), out_(out), bias_(bias) {
    params_.push_back({"weight", Tensor({out, in}), {}, true, false});
    if (bias) params_.push_back({"bias", Tensor({out}), {}, true, false});
  }

  Shape output_shape(const Shape&) const override { return {out_}; }
  void initialize(Rng& rng) override {
    for (auto& p : params_)
      for (float& w : p.value.values()) w = rng.uniform(-0.5f, 0.5f);
  }
  std::unique_ptr<Layer> clone_layer() const override {
    auto copy = std::make_unique<LinearReference>(name(), in_, out_, bias_);
    copy->params_ = params_;
    return copy;
  }

  void forward(const Tensor& input, Tensor& output, Mode mode) override {
    const std::int64_t n = input.dim(0);
    const Precision precision = compute_precision();
    const std::vector<float> x = as_computed(input, precision), w = as_computed(params_[0].value, precision);
    output.resize({n, out_});
    for (std::int64_t b = 0; b < n; ++b)
      for (std::int64_t o = 0; o < out_; ++o) {
        double s = bias_ ? params_[1].value.values()[static_cast<std::size_t>(o)] : 0.0;
        for (std::int64_t i = 0; i < in_; ++i) s += double(x[at(b, i, in_)]) * w[at(o, i, in_)];
        output.values()[at(b, o, out_)] = static_cast<float>(s);
      }
    if (mode == Mode::train) {
      input_ = &input;
      precision_ = precision;
    }
  }

  void backward(const Tensor& grad_output, Tensor* grad_input) override {
    if (!input_) throw Error(ErrorCode::internal, "linear reference backward without a training forward");
    const std::int64_t n = input_->dim(0);
    const std::vector<float> x = as_computed(*input_, precision_), w = as_computed(params_[0].value, precision_),
                             dy = as_computed(grad_output, precision_);
    if (grad_input) {
      grad_input->resize(input_->shape());
      for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t i = 0; i < in_; ++i) {
          double s = 0;
          for (std::int64_t o = 0; o < out_; ++o) s += double(dy[at(b, o, out_)]) * w[at(o, i, in_)];
          grad_input->values()[at(b, i, in_)] = static_cast<float>(s);
        }
    }
    if (!params_[0].trainable) return;
    params_[0].grad.resize(params_[0].value.shape());
    for (std::int64_t o = 0; o < out_; ++o)
      for (std::int64_t i = 0; i < in_; ++i) {
        double s = 0;
        for (std::int64_t b = 0; b < n; ++b) s += double(dy[at(b, o, out_)]) * x[at(b, i, in_)];
        params_[0].grad.values()[at(o, i, in_)] = static_cast<float>(s);
      }
    if (!bias_) return;
    params_[1].grad.resize(params_[1].value.shape());
    for (std::int64_t o = 0; o < out_; ++o) {
      double s = 0;
      for (std::int64_t b = 0; b < n; ++b) s += dy[at(b, o, out_)];
      params_[1].grad.values()[static_cast<std::size_t>(o)] = static_cast<float>(s);
    }
  }

 private:
  static std::size_t at(std::int64_t row, std::int64_t col, std::int64_t width) {
    return static_cast<std::size_t>(row * width + col);
  }

  std::int64_t in_, out_;
  bool bias_;
  const Tensor* input_ = nullptr;
  Precision precision_ = Precision::f32;
};

}  // namespace

std::unique_ptr<Layer> linear_reference(const std::string& name, const Params& p, const Shape& input) {
  if (input.size() != 1) throw Error(ErrorCode::config_schema, "linear " + name + " expects flat inputs, gets " + to_string(input));
  return std::make_unique<LinearReference>(name, input[0], p.get_int("out"), p.get_bool("bias"));
}

}  // namespace pipeline::layers
