// Model: an ordered sequence of named top-level layers from one input sample shape to class
// scores; a layer may be a block (sequential, residual) with layers of its own, so a model is a
// tree of modules named by PyTorch's paths ("layer2.0.downsample.0"). Models travel between stages
// as immutable artifacts; a stage that changes one works on a clone().
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/artifact.hpp"
#include "pipeline/layer.hpp"
#include "pipeline/value.hpp"

namespace pipeline {

class Model : public Artifact {
 public:
  explicit Model(Shape input_shape) : input_shape_(std::move(input_shape)) {}
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  std::string type() const override { return "model"; }
  std::string summary() const override;

  // Appends a layer; throws Error when it does not fit the current output shape.
  void add(std::unique_ptr<Layer> layer);
  // Replaces the layer at index i (same input shape; later layers must accept its output).
  void replace(std::size_t i, std::unique_ptr<Layer> layer);
  // Replaces the module at a path ("fc", "classifier.1"), at the top level or inside a block that
  // can replace its layers; later shapes are checked. Throws Error when the path names no module.
  void replace(const std::string& path, std::unique_ptr<Layer> layer);
  // The input sample shape of the module at a path (its parent's input, or the previous
  // sibling's output).
  Shape input_shape_of(const std::string& path);
  // Drops every layer after index i.
  void truncate_after(std::size_t i);
  std::unique_ptr<Model> clone() const;

  const Shape& input_shape() const { return input_shape_; }
  Shape output_shape() const { return shapes_.empty() ? input_shape_ : shapes_.back(); }
  Shape output_shape_of(std::size_t i) const { return shapes_.at(i); }
  std::size_t size() const { return layers_.size(); }
  Layer& layer(std::size_t i) { return *layers_.at(i); }
  const Layer& layer(std::size_t i) const { return *layers_.at(i); }
  // Index of the layer with this name, or -1.
  std::ptrdiff_t find(const std::string& name) const;

  // Runs layers [first, end) on x (whose sample shape is the input of layer `first`); `out` gets the
  // output of layer end-1. A backward pass needs a forward that ran to the last layer, and the
  // input and output tensors of that forward must still be alive.
  void forward(const Tensor& x, Tensor& out, Mode mode, std::size_t first = 0, std::size_t end = SIZE_MAX);
  // Backward from the gradient of the logits through the layers of the last forward. Stops at the
  // first layer with trainable parameters: nothing before it needs a gradient. With
  // need_input_grad, goes all the way and stores the input gradient in input_grad().
  void backward(const Tensor& grad_logits, bool need_input_grad = false);
  const Tensor& input_grad() const { return input_grad_; }

  // The first layer that has trainable parameters (size() when none).
  std::size_t first_trainable() const;

  // "path.param" → parameter, in module order, as PyTorch's state_dict names them
  // ("layer1.0.conv1.weight").
  struct NamedParameter {
    std::string name;
    Parameter* param;
  };
  std::vector<NamedParameter> named_parameters();
  std::int64_t parameter_count(bool trainable_only = false) const;

  // Every module (top-level layers, blocks and the layers inside them), parents before their
  // children, with its path and depth (0 for a top-level layer).
  struct Module {
    std::string path;
    Layer* layer;
    int depth;
  };
  std::vector<Module> modules();

  // A table: module path (indented by depth), type, output shape, parameters.
  std::string table() const;

  // Facts that travel with the model through later stages, e.g. "train_seconds" (a map).
  Value& notes() { return notes_; }
  const Value& notes() const { return notes_; }

 private:
  Shape input_shape_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Shape> shapes_;            // output sample shape of each layer
  std::vector<Tensor> activations_;      // output of each layer from the last forward
  std::size_t first_run_ = 0;            // the first layer of the last forward
  Tensor input_grad_;
  Tensor scratch_a_, scratch_b_;         // gradients between layers, reused
  Value notes_ = Value::map();
};

// Visits `layer` and every layer below it, parents first, with paths joined by dots from `path`.
void visit_layers(Layer& layer, const std::string& path, int depth,
                  const std::function<void(const std::string& path, Layer& layer, int depth)>& visit);

}  // namespace pipeline
