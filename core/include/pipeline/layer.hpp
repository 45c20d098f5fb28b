// Layer: one named step of a Model, with its parameters. Layer types are registered by plugins
// (LayerInfo), so a third party can add one without touching the core.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/params.hpp"
#include "pipeline/rng.hpp"
#include "pipeline/tensor.hpp"
#include "pipeline/value.hpp"

namespace pipeline {

enum class Mode { train, eval };

struct Parameter {
  std::string name;  // PyTorch's suffix: "weight", "bias", "weight_ih_l0", "running_mean"
  Tensor value;
  Tensor grad;             // same shape as value; set by backward when trainable
  bool trainable = true;   // false: no update, and its gradient is not computed
  bool buffer = false;     // state such as running statistics: saved, never trained
  // An integer count kept in a float tensor (exact below 2^24), written to checkpoints as I64
  // as PyTorch does: BatchNorm's num_batches_tracked.
  bool integer = false;
};

// How much work a layer did; tests use these to prove that frozen layers compute no gradient.
struct LayerCounters {
  std::int64_t forward = 0;
  std::int64_t backward_data = 0;     // input gradients computed
  std::int64_t backward_weights = 0;  // parameter gradients computed
};

class Layer {
 public:
  Layer(std::string type, std::string name) : type_(std::move(type)), name_(std::move(name)) {}
  virtual ~Layer();

  const std::string& type() const { return type_; }
  const std::string& name() const { return name_; }
  void rename(std::string name) { name_ = std::move(name); }

  // The shape of one output sample for one input sample (batch excluded). Throws Error with a
  // message such as "expects 3136 inputs, gets 3200" when the input does not fit.
  virtual Shape output_shape(const Shape& input) const = 0;
  // Sets parameters to PyTorch's default initialisation for this layer type.
  virtual void initialize(Rng& rng) = 0;
  // input: [N, ...input sample shape]; output is resized and overwritten. In train mode the layer
  // may keep pointers to `input` and `output` for its backward pass: both must stay alive and
  // unchanged until then (Model guarantees this for its layers).
  virtual void forward(const Tensor& input, Tensor& output, Mode mode) = 0;
  // From the gradient of the last forward's output: overwrites the gradients of trainable
  // parameters and, when grad_input is not null, computes the input gradient.
  virtual void backward(const Tensor& grad_output, Tensor* grad_input) = 0;
  // A deep copy: parameters, flags and configuration, without cached primitives or activations;
  // the copy keeps this layer's name and spec (clone_layer need not set them).
  std::unique_ptr<Layer> clone() const;
  // One line for the model summary, e.g. "out 32, kernel 3x3, padding 1".
  virtual std::string describe() const { return {}; }
  // Layers with running statistics (batch normalization) normalize with them even in training
  // and stop updating them while frozen; other layers ignore this.
  virtual void freeze_statistics(bool /*frozen*/) {}
  virtual bool statistics_frozen() const { return false; }
  // State beyond parameters that later training depends on (e.g. dropout's generator), so a
  // model restored from the cache continues exactly as the original would.
  virtual Value extra_state() const { return {}; }
  virtual void set_extra_state(const Value& /*state*/) {}
  // The checked parameters the layer was created from (its LayerInfo's schema), so a model can
  // be rebuilt from a description: set by whoever creates the layer.
  const Value& spec() const { return spec_; }
  void set_spec(Value spec) { spec_ = std::move(spec); }

  // True when forward gives the same result in training and evaluation (not dropout, not
  // batchnorm on batch statistics): a frozen prefix of such layers can have its output cached.
  virtual bool same_in_training_and_evaluation() const { return true; }

  // Blocks (sequential, residual) hold child layers, each with a name of its own; a model's module
  // paths join names with dots ("layer1.0.conv1"), as PyTorch's do. Leaves have no children.
  virtual std::size_t child_count() const { return 0; }
  virtual Layer& child(std::size_t i);
  const Layer& child(std::size_t i) const { return const_cast<Layer*>(this)->child(i); }
  // The output sample shape of child i, for the model table (empty when the block does not say).
  virtual Shape child_output_shape(std::size_t /*i*/) const { return {}; }
  // Replaces child i (replace_head on a head inside a block); throws Error when the block cannot
  // or the layers after it do not accept the new one's output.
  virtual void replace_child(std::size_t i, std::unique_ptr<Layer> layer);
  // Told after a layer somewhere below child i changed (Model::replace): a block brings its spec
  // (the description a cached model is rebuilt from) up to date and rechecks its shapes, throwing
  // Error when they no longer fit.
  virtual void child_changed(std::size_t /*i*/) {}

  // This layer's own parameters (a block's are its children's: see Model::named_parameters).
  std::vector<Parameter>& parameters() { return params_; }
  const std::vector<Parameter>& parameters() const { return params_; }
  Parameter* find_parameter(const std::string& name);
  // Whether this layer or any layer below it has a parameter that trains.
  bool has_trainable_parameters() const;
  // Whether this layer or any layer below it has parameters (buffers included).
  bool has_parameters() const;
  const LayerCounters& counters() const { return counters_; }

 protected:
  // What clone() copies: everything but name and spec, which clone() carries over itself.
  // Parameters must be copied by value (their tensors own their storage), never shared.
  virtual std::unique_ptr<Layer> clone_layer() const = 0;

  std::vector<Parameter> params_;
  LayerCounters counters_;

 private:
  Value spec_ = Value::map();
  std::string type_;
  std::string name_;
};

// Parameters and an input sample shape at which the layer is valid: the testkit and
// `pipeline check-plugin` create the layer there to check shapes, cloning and gradients.
struct LayerExample {
  Value params = Value::map();  // as in YAML, e.g. parse_value("{out: 4, kernel: 3}")
  Shape input;                  // one sample, batch excluded
};

struct LayerInfo {
  std::string name;  // the layer type, as written in a model's `layers:` list
  std::string doc;   // one line
  std::vector<ParamSpec> params;  // `name` is reserved: the model builder takes it
  // Where the testkit checks the layer. Empty: the kit tries conventional shapes ([3, 6, 6],
  // [5, 4], [6]) with the defaults, and small values for required numbers.
  std::vector<LayerExample> examples;
  // Makes a layer from checked parameters for inputs of the given sample shape (batch excluded);
  // `name` is the layer's name in the model. Throws Error with a message such as "expects 3136
  // inputs, gets 3200" when the input does not fit.
  std::function<std::unique_ptr<Layer>(const std::string& name, const Params&, const Shape& input)> create;
  // Optional: the layer's plain twin, made like `create`: the same computation in simple loops,
  // with the same parameters in the same order. The testkit (check_layer_type, `pipeline
  // check-plugin`) runs both on the same inputs and compares forward and backward, in f32 and in
  // bf16. At compute_precision() bf16 the twin rounds what the optimised layer reads in bf16 (for
  // a convolution: input, weights and output gradient) with round_to_bf16 and accumulates in f32 or
  // wider; a layer that always computes in f32 ignores the precision in both.
  std::function<std::unique_ptr<Layer>(const std::string& name, const Params&, const Shape& input)> reference;
};

// The layer types every loaded plugin registered (filled by the core as it loads plugins).
const LayerInfo* find_layer_type(const std::string& name);
std::vector<std::string> layer_type_names();

}  // namespace pipeline
