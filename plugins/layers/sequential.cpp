// sequential: a named block of layers run in order, as PyTorch's nn.Sequential (torchvision's
// layer1 ... layer4, a downsample shortcut). Its children are named by their own `name` or, as in
// PyTorch, by their position ("0", "1", ...).
#include "layer_chain.hpp"
#include "layer_types.hpp"
#include "pipeline/sdk.hpp"

namespace pipeline::layers {
namespace {

class Sequential : public Layer {
 public:
  Sequential(const std::string& name, LayerChain chain) : Layer("sequential", name), chain_(std::move(chain)) {}

  Shape output_shape(const Shape& input) const override {
    return chain_.empty() ? input : chain_.output_shape_of(chain_.size() - 1);
  }
  void initialize(Rng& rng) override { chain_.initialize(rng); }
  void forward(const Tensor& input, Tensor& output, Mode mode) override {
    if (chain_.empty()) {
      output = input;
      return;
    }
    chain_.forward(input, output, mode);
  }
  void backward(const Tensor& grad_output, Tensor* grad_input) override {
    if (chain_.empty()) {
      if (grad_input) *grad_input = grad_output;
      return;
    }
    chain_.backward(grad_output, grad_input);
  }
  bool same_in_training_and_evaluation() const override { return chain_.same_in_training_and_evaluation(); }
  std::size_t child_count() const override { return chain_.size(); }
  Layer& child(std::size_t i) override { return chain_.layer(i); }
  Shape child_output_shape(std::size_t i) const override { return chain_.output_shape_of(i); }
  void replace_child(std::size_t i, std::unique_ptr<Layer> layer) override { chain_.replace(i, std::move(layer)); }
  void child_changed(std::size_t i) override {
    chain_.output_shape_of(chain_.size() - 1);  // the later layers still accept what it gives
    Value spec = this->spec();
    if (Value* items = spec.find("layers"); items && items->is_list() && i < items->size()) {
      items->items()[i] = item_of(chain_.layer(i));
      set_spec(spec);
    }
  }
  std::string describe() const override { return std::to_string(chain_.size()) + " layers"; }

 protected:
  std::unique_ptr<Layer> clone_layer() const override { return std::make_unique<Sequential>(name(), chain_.clone()); }

 private:
  LayerChain chain_;
};

}  // namespace

Value item_of(const Layer& layer) {
  Value args = layer.spec().is_map() ? layer.spec() : Value::map();
  args.set("name", Value::string(layer.name()));
  Value item = Value::map();
  item.set(layer.type(), args);
  return item;
}

// Children without a name get their position, as in PyTorch's nn.Sequential.
Value numbered_children(const Value& layers) {
  if (!layers.is_list()) return layers;
  Value out = Value::list();
  std::size_t index = 0;
  for (const Value& item : layers.items()) {
    Value copy = item;
    if (item.is_string()) {
      Value args = Value::map();
      args.set("name", Value::string(std::to_string(index)));
      copy = Value::map();
      copy.set(item.as_string(), args, item.location());
      copy.at(item.location());
    } else if (item.is_map() && item.size() == 1 && item.entries()[0].second.is_map() &&
               !item.entries()[0].second.find("name")) {
      Value args = item.entries()[0].second;
      args.set("name", Value::string(std::to_string(index)));
      copy = Value::map();
      copy.set(item.entries()[0].first, args, item.key_location(item.entries()[0].first));
      copy.at(item.location());
    } else if (item.is_map() && item.size() == 1 && item.entries()[0].second.is_null()) {
      Value args = Value::map();
      args.set("name", Value::string(std::to_string(index)));
      copy = Value::map();
      copy.set(item.entries()[0].first, args, item.key_location(item.entries()[0].first));
      copy.at(item.location());
    }
    out.push_back(copy);
    ++index;
  }
  return out.at(layers.location());
}

LayerInfo sequential_layer() {
  LayerInfo info;
  info.name = "sequential";
  info.doc = "a block of layers run in order (PyTorch's nn.Sequential); unnamed children are named 0, 1, ...";
  info.params = {param_list("layers", "the block's layers, as in a model's layers: list", ParamType::any)};
  info.create = [](const std::string& name, const Params& p, const Shape& input) -> std::unique_ptr<Layer> {
    return std::make_unique<Sequential>(name, build_chain(input, numbered_children(p.get("layers"))));
  };
  info.examples = {{parse_value("{layers: [{linear: {out: 3}}, tanh, {linear: {out: 2}}]}"), {4}}};
  return info;
}

}  // namespace pipeline::layers
