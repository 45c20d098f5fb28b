// batchnorm2d: batch normalization over channels on oneDNN. Training normalizes with the batch's
// statistics and updates running ones (PyTorch: momentum 0.1, unbiased variance); evaluation, or
// training with frozen statistics, normalizes with the running ones.
#include <cstring>
#include <map>

#include "dnnl_util.hpp"
#include "layer_types.hpp"
#include "pipeline/error.hpp"

namespace pipeline::layers {
namespace {

struct NormConfig {
  std::int64_t channels = 0, height = 0, width = 0;
  double eps = 1e-5, momentum = 0.1;
};

class BatchNorm2d : public Layer {
 public:
  BatchNorm2d(const std::string& name, const NormConfig& c) : Layer("batchnorm2d", name), c_(c) {
    params_.push_back({"weight", Tensor({c.channels}), {}, true, false});
    params_.push_back({"bias", Tensor({c.channels}), {}, true, false});
    params_.push_back({"running_mean", Tensor({c.channels}), {}, false, true});
    params_.push_back({"running_var", Tensor({c.channels}), {}, false, true});
    // PyTorch's count of training batches, a scalar int64 in its state_dict.
    params_.push_back({"num_batches_tracked", Tensor(Shape{}), {}, false, true, true});
    params_[0].value.fill(1.0f);
    params_[3].value.fill(1.0f);
  }

  Shape output_shape(const Shape& in) const override { return in; }
  void initialize(Rng&) override {
    // PyTorch: weight 1, bias 0, running mean 0, running variance 1.
    params_[0].value.fill(1.0f);
    params_[1].value.fill(0.0f);
    params_[2].value.fill(0.0f);
    params_[3].value.fill(1.0f);
    params_[4].value.fill(0.0f);
  }
  std::string describe() const override {
    return std::string("eps ") + std::to_string(c_.eps) + (frozen_stats_ ? ", statistics frozen" : "");
  }
  std::unique_ptr<Layer> clone_layer() const override {
    auto copy = std::make_unique<BatchNorm2d>(name(), c_);
    copy->params_ = params_;
    copy->frozen_stats_ = frozen_stats_;
    return copy;
  }
  bool same_in_training_and_evaluation() const override { return frozen_stats_; }
  bool statistics_frozen() const override { return frozen_stats_; }
  void freeze_statistics(bool frozen) override {
    frozen_stats_ = frozen;
    prims_.clear();
  }

  void forward(const Tensor& input, Tensor& output, Mode mode) override {
    ++counters_.forward;
    const std::int64_t n = input.dim(0);
    const bool batch_stats = mode == Mode::train && !frozen_stats_;
    Prims& p = prims(n, mode);
    output.resize(input.shape());
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, wrap(p.data, input.data())},
                                            {DNNL_ARG_DST, wrap(p.data, output.data())},
                                            {DNNL_ARG_SCALE, wrap(p.stat, params_[0].value.data())},
                                            {DNNL_ARG_SHIFT, wrap(p.stat, params_[1].value.data())}};
    if (batch_stats) {
      args[DNNL_ARG_MEAN] = wrap(p.stat, mean_.data());
      args[DNNL_ARG_VARIANCE] = wrap(p.stat, variance_.data());
    } else {
      args[DNNL_ARG_MEAN] = wrap(p.stat, params_[2].value.data());
      args[DNNL_ARG_VARIANCE] = wrap(p.stat, params_[3].value.data());
    }
    p.forward.execute(stream(), args);
    if (batch_stats) {
      params_[4].value.data()[0] += 1.0f;
      // Running statistics as PyTorch keeps them: the variance is the unbiased estimate.
      const double count = static_cast<double>(n * c_.height * c_.width);
      const float m = static_cast<float>(c_.momentum);
      const float unbias = static_cast<float>(count > 1 ? count / (count - 1) : 1.0);
      for (std::int64_t k = 0; k < c_.channels; ++k) {
        params_[2].value.data()[k] = (1 - m) * params_[2].value.data()[k] + m * mean_[k];
        params_[3].value.data()[k] = (1 - m) * params_[3].value.data()[k] + m * variance_[k] * unbias;
      }
    }
    if (mode == Mode::train) {
      input_ = &input;
      trained_batch_stats_ = batch_stats;
    }
  }

  void backward(const Tensor& grad_output, Tensor* grad_input) override {
    if (!input_) throw Error(ErrorCode::internal, "batchnorm2d backward without a training forward");
    const bool weights = params_[0].trainable;
    if (!weights && !grad_input) return;
    const std::int64_t n = input_->dim(0);
    Prims& p = prims(n, Mode::train);
    // oneDNN computes the input gradient with the parameter gradients; without a caller that
    // wants it, it goes to scratch.
    Tensor& diff_src = grad_input ? *grad_input : scratch_;
    diff_src.resize(input_->shape());
    params_[0].grad.resize(params_[0].value.shape());
    params_[1].grad.resize(params_[1].value.shape());
    const float* mean = trained_batch_stats_ ? mean_.data() : params_[2].value.data();
    const float* variance = trained_batch_stats_ ? variance_.data() : params_[3].value.data();
    p.backward.execute(stream(), {{DNNL_ARG_SRC, wrap(p.data, input_->data())},
                                  {DNNL_ARG_DIFF_DST, wrap(p.data, grad_output.data())},
                                  {DNNL_ARG_MEAN, wrap(p.stat, mean)},
                                  {DNNL_ARG_VARIANCE, wrap(p.stat, variance)},
                                  {DNNL_ARG_SCALE, wrap(p.stat, params_[0].value.data())},
                                  {DNNL_ARG_SHIFT, wrap(p.stat, params_[1].value.data())},
                                  {DNNL_ARG_DIFF_SRC, wrap(p.data, diff_src.data())},
                                  {DNNL_ARG_DIFF_SCALE, wrap(p.stat, params_[0].grad.data())},
                                  {DNNL_ARG_DIFF_SHIFT, wrap(p.stat, params_[1].grad.data())}});
    if (weights) ++counters_.backward_weights;
    if (grad_input) ++counters_.backward_data;
  }

 private:
  struct Prims {
    memory::desc data, stat;
    dnnl::batch_normalization_forward forward;
    dnnl::batch_normalization_backward backward;
    bool has_backward = false;
  };

  // Training and evaluation differ in flags (batch or running statistics): cached apart.
  Prims& prims(std::int64_t n, Mode mode) {
    auto& slot = prims_[{n, mode}];
    if (slot) return *slot;
    slot = std::make_unique<Prims>();
    Prims& p = *slot;
    using dnnl::normalization_flags;
    p.data = plain({n, c_.channels, c_.height, c_.width}, tag::nchw);
    p.stat = plain({c_.channels}, tag::x);
    mean_.assign(static_cast<std::size_t>(c_.channels), 0.0f);
    variance_.assign(static_cast<std::size_t>(c_.channels), 0.0f);
    const bool batch_stats = mode == Mode::train && !frozen_stats_;
    auto flags = normalization_flags::use_scale | normalization_flags::use_shift;
    if (!batch_stats) flags = flags | normalization_flags::use_global_stats;
    const auto prop = mode == Mode::train ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
    dnnl::batch_normalization_forward::primitive_desc fpd(
        dnnl::batch_normalization_forward::desc(prop, p.data, static_cast<float>(c_.eps), flags), engine());
    p.forward = dnnl::batch_normalization_forward(fpd);
    if (mode == Mode::train) {
      dnnl::batch_normalization_backward::desc bd(dnnl::prop_kind::backward, p.data, p.data, static_cast<float>(c_.eps),
                                                  flags);
      p.backward = dnnl::batch_normalization_backward(
          dnnl::batch_normalization_backward::primitive_desc(bd, engine(), fpd));
      p.has_backward = true;
    }
    return p;
  }

  NormConfig c_;
  bool frozen_stats_ = false;
  bool trained_batch_stats_ = false;
  std::map<std::pair<std::int64_t, Mode>, std::unique_ptr<Prims>> prims_;
  std::vector<float> mean_, variance_;
  const Tensor* input_ = nullptr;
  Tensor scratch_;
};

}  // namespace

LayerInfo batchnorm2d_layer() {
  LayerInfo info;
  info.name = "batchnorm2d";
  info.doc = "batch normalization over the channels of [channels, height, width] (PyTorch BatchNorm2d)";
  info.params = {
      param_float("eps", "added to the variance", 1e-5).range(0, 1),
      param_float("momentum", "weight of the newest batch in the running statistics", 0.1).range(0, 1),
  };
  info.create = [](const std::string& name, const Params& p, const Shape& input) -> std::unique_ptr<Layer> {
    if (input.size() != 3)
      throw Error(ErrorCode::config_schema, "batchnorm2d " + name + " expects [channels, height, width] inputs, gets " +
                                                to_string(input));
    NormConfig c;
    c.channels = input[0];
    c.height = input[1];
    c.width = input[2];
    c.eps = p.get_float("eps");
    c.momentum = p.get_float("momentum");
    return std::make_unique<BatchNorm2d>(name, c);
  };
  return info;
}

}  // namespace pipeline::layers
