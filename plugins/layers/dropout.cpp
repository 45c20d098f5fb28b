// dropout: in training, zeroes each element with probability p and scales the rest by 1/(1-p)
// (PyTorch's inverted dropout); the identity in evaluation. The mask comes from the layer's own
// generator, seeded at initialisation, so a run is reproducible.
#include <cstring>
#include <map>

#include "dnnl_util.hpp"
#include "layer_types.hpp"

namespace pipeline::layers {
namespace {

class Dropout : public Layer {
 public:
  Dropout(const std::string& name, double p) : Layer("dropout", name), p_(p), rng_(0) {}
  Shape output_shape(const Shape& in) const override { return in; }
  void initialize(Rng& rng) override { rng_ = Rng(rng.next()); }
  std::string describe() const override { return "p " + std::to_string(p_); }
  bool same_in_training_and_evaluation() const override { return p_ == 0.0; }
  Value extra_state() const override {
    Value v = Value::list();
    for (auto w : rng_.state()) v.push_back(Value::string(std::to_string(w)));  // uint64: as text
    return v;
  }
  void set_extra_state(const Value& state) override {
    std::array<std::uint64_t, 4> words{};
    for (std::size_t i = 0; i < 4 && i < state.size(); ++i) words[i] = std::stoull(state.items()[i].as_string());
    rng_ = Rng::from_state(words);
  }
  std::unique_ptr<Layer> clone_layer() const override {
    auto copy = std::make_unique<Dropout>(name(), p_);
    copy->rng_ = rng_;
    return copy;
  }

  void forward(const Tensor& input, Tensor& output, Mode mode) override {
    ++counters_.forward;
    output.resize(input.shape());
    if (mode == Mode::eval || p_ == 0.0) {
      std::memcpy(output.data(), input.data(), sizeof(float) * static_cast<std::size_t>(input.numel()));
      mask_.resize({0});
      return;
    }
    mask_.resize(input.shape());
    const float scale = static_cast<float>(1.0 / (1.0 - p_));
    for (float& m : mask_.values()) m = rng_.uniform() < p_ ? 0.0f : scale;
    multiply(input, output);
  }

  void backward(const Tensor& grad_output, Tensor* grad_input) override {
    if (!grad_input) return;
    ++counters_.backward_data;
    grad_input->resize(grad_output.shape());
    if (mask_.numel() == 0) {
      std::memcpy(grad_input->data(), grad_output.data(), sizeof(float) * static_cast<std::size_t>(grad_output.numel()));
      return;
    }
    multiply(grad_output, *grad_input);
  }

 private:
  // out = in * mask on oneDNN's binary primitive.
  void multiply(const Tensor& in, Tensor& out) {
    const std::int64_t n = in.numel();
    auto& prim = prims_[n];
    const auto desc = plain({n}, tag::x);
    if (!prim) {
      dnnl::binary::primitive_desc pd(dnnl::binary::desc(dnnl::algorithm::binary_mul, desc, desc, desc), engine());
      prim = std::make_unique<dnnl::binary>(pd);
    }
    prim->execute(stream(), {{DNNL_ARG_SRC_0, wrap(desc, in.data())},
                             {DNNL_ARG_SRC_1, wrap(desc, mask_.data())},
                             {DNNL_ARG_DST, wrap(desc, out.data())}});
  }

  double p_;
  Rng rng_;
  Tensor mask_;
  std::map<std::int64_t, std::unique_ptr<dnnl::binary>> prims_;
};

}  // namespace

LayerInfo dropout_layer() {
  LayerInfo info;
  info.name = "dropout";
  info.doc = "zero elements with probability p during training (seeded), identity in evaluation";
  info.params = {param_float("p", "probability of zeroing an element", 0.5).range(0, 0.999)};
  info.create = [](const std::string& name, const Params& p, const Shape&) -> std::unique_ptr<Layer> {
    return std::make_unique<Dropout>(name, p.get_float("p"));
  };
  return info;
}

}  // namespace pipeline::layers
