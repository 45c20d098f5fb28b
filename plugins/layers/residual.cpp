// residual: a block whose output is its body plus its shortcut (the input itself, or a projection
// such as torchvision's downsample = 1x1 conv + batchnorm), optionally followed by layers applied to
// the sum (torchvision's BasicBlock and Bottleneck end with a relu there).
#include <set>

#include "layer_chain.hpp"
#include "layer_types.hpp"
#include "pipeline/schema.hpp"
#include "pipeline/sdk.hpp"

namespace pipeline::layers {
namespace {

class Residual : public Layer {
 public:
  Residual(const std::string& name, LayerChain body, std::unique_ptr<Layer> shortcut, LayerChain after)
      : Layer("residual", name), body_(std::move(body)), shortcut_(std::move(shortcut)), after_(std::move(after)) {}

  Shape output_shape(const Shape&) const override {
    // Computed from the children, whose shapes child_changed keeps consistent.
    return after_.empty() ? body_.output_shape_of(body_.size() - 1) : after_.output_shape_of(after_.size() - 1);
  }
  void initialize(Rng& rng) override {
    body_.initialize(rng);
    if (shortcut_) shortcut_->initialize(rng);
    after_.initialize(rng);
  }

  void forward(const Tensor& input, Tensor& output, Mode mode) override {
    Tensor& sum = after_.empty() ? output : sum_;
    body_.forward(input, body_out_, mode);
    const Tensor* shortcut = &input;
    if (shortcut_) {
      shortcut_->forward(input, shortcut_out_, mode);
      shortcut = &shortcut_out_;
    }
    sum.resize(body_out_.shape());
    const float* a = body_out_.data();
    const float* b = shortcut->data();
    float* s = sum.data();
    for (std::int64_t i = 0; i < sum.numel(); ++i) s[i] = a[i] + b[i];
    if (!after_.empty()) after_.forward(sum_, output, mode);
  }

  void backward(const Tensor& grad_output, Tensor* grad_input) override {
    const Tensor* grad_sum = &grad_output;
    if (!after_.empty()) {
      after_.backward(grad_output, &grad_sum_);
      grad_sum = &grad_sum_;
    }
    // Both branches see the sum's gradient; the input's is the sum of theirs.
    const bool shortcut_trains = shortcut_ && shortcut_->has_trainable_parameters();
    body_.backward(*grad_sum, grad_input ? &grad_body_ : nullptr);
    if (shortcut_ && (grad_input || shortcut_trains)) shortcut_->backward(*grad_sum, grad_input ? &grad_shortcut_ : nullptr);
    if (!grad_input) return;
    const Tensor& other = shortcut_ ? grad_shortcut_ : *grad_sum;
    grad_input->resize(grad_body_.shape());
    const float* a = grad_body_.data();
    const float* b = other.data();
    float* g = grad_input->data();
    for (std::int64_t i = 0; i < grad_input->numel(); ++i) g[i] = a[i] + b[i];
  }

  bool same_in_training_and_evaluation() const override {
    return body_.same_in_training_and_evaluation() && after_.same_in_training_and_evaluation() &&
           (!shortcut_ || shortcut_->same_in_training_and_evaluation());
  }
  std::size_t child_count() const override { return body_.size() + (shortcut_ ? 1 : 0) + after_.size(); }
  Layer& child(std::size_t i) override {
    if (i < body_.size()) return body_.layer(i);
    i -= body_.size();
    if (shortcut_) {
      if (i == 0) return *shortcut_;
      --i;
    }
    return after_.layer(i);
  }
  Shape child_output_shape(std::size_t i) const override {
    if (i < body_.size()) return body_.output_shape_of(i);
    i -= body_.size();
    if (shortcut_) {
      if (i == 0) return body_.output_shape_of(body_.size() - 1);
      --i;
    }
    return after_.output_shape_of(i);
  }
  std::string describe() const override { return shortcut_ ? "body + " + shortcut_->name() : "body + identity"; }

  // A layer inside a child changed: the spec's lists follow, and the two branches must still agree.
  void child_changed(std::size_t i) override {
    const Shape body = body_.output_shape_of(body_.size() - 1);
    const Shape input = body_.input_shape();
    const Shape shortcut = shortcut_ ? shortcut_->output_shape(input) : input;
    if (shortcut != body)
      throw Error(ErrorCode::config_schema, "residual '" + name() + "': its layers now give " + to_string(body) +
                                                ", its shortcut " + to_string(shortcut));
    if (!after_.empty()) after_.output_shape_of(after_.size() - 1);
    Value spec = this->spec();
    auto set_item = [&](const char* list, std::size_t k, const Layer& layer) {
      if (Value* items = spec.find(list); items && items->is_list() && k < items->size()) items->items()[k] = item_of(layer);
    };
    if (i < body_.size()) set_item("layers", i, body_.layer(i));
    else if (shortcut_ && i == body_.size()) {
      if (const Value* layers = shortcut_->spec().find("layers")) spec.set("shortcut", *layers);
    } else {
      const std::size_t k = i - body_.size() - (shortcut_ ? 1 : 0);
      set_item("after", k, after_.layer(k));
    }
    set_spec(spec);
  }

 protected:
  std::unique_ptr<Layer> clone_layer() const override {
    return std::make_unique<Residual>(name(), body_.clone(), shortcut_ ? shortcut_->clone() : nullptr, after_.clone());
  }

 private:
  LayerChain body_;
  std::unique_ptr<Layer> shortcut_;  // a sequential block, or null for the identity
  LayerChain after_;
  Tensor body_out_, shortcut_out_, sum_, grad_sum_, grad_body_, grad_shortcut_;
};

// Unnamed items of 'after' are named as if they continued the body's list (type and position), so
// they cannot clash with the body's default names.
Value continue_names(const Value& items, std::size_t offset) {
  Value out = Value::list();
  std::size_t position = offset;
  for (const Value& item : items.items()) {
    ++position;
    std::string type;
    Value args = Value::map();
    if (item.is_string()) type = item.as_string();
    else if (item.is_map() && item.size() == 1 && (item.entries()[0].second.is_map() || item.entries()[0].second.is_null())) {
      type = item.entries()[0].first;
      if (item.entries()[0].second.is_map()) args = item.entries()[0].second;
    }
    if (type.empty() || args.find("name")) {
      out.push_back(item);
      continue;
    }
    args.set("name", Value::string(type + std::to_string(position)));
    Value named = Value::map();
    named.set(type, args.at(item.location()), item.location());
    out.push_back(named.at(item.location()));
  }
  return out.at(items.location());
}

}  // namespace

LayerInfo residual_layer() {
  LayerInfo info;
  info.name = "residual";
  info.doc = "a block whose output is its layers' output plus a shortcut (identity or a projection), then 'after'";
  info.params = {
      param_list("layers", "the body: layers as in a model's layers: list", ParamType::any),
      param_list("shortcut", "the projection's layers (torchvision's downsample); empty: the identity", ParamType::any,
                 Value::list()),
      param_string("shortcut_name", "the projection's name in module paths", std::string("downsample")),
      param_list("after", "layers applied to the sum (e.g. [relu]); unnamed ones are numbered after the body's", ParamType::any,
                 Value::list()),
  };
  info.create = [](const std::string& name, const Params& p, const Shape& input) -> std::unique_ptr<Layer> {
    const Value& body_items = p.get("layers");
    if (body_items.items().empty()) throw Error(ErrorCode::config_schema, "residual '" + name + "' needs layers", body_items.location());
    LayerChain body = build_chain(input, body_items);
    const Shape body_out = body.output_shape_of(body.size() - 1);
    std::unique_ptr<Layer> shortcut;
    Shape shortcut_out = input;
    if (!p.get("shortcut").items().empty()) {
      const LayerInfo* sequential = find_layer_type("sequential");
      Value args = Value::map();
      args.set("layers", p.get("shortcut"));
      ThrowingDiagnostics diag;
      shortcut = sequential->create(p.get_string("shortcut_name"),
                                    check_params(sequential->params, args, "shortcut", {}, "/", diag), input);
      shortcut_out = shortcut->output_shape(input);
    }
    if (shortcut_out != body_out)
      throw Error(ErrorCode::config_schema,
                  "residual '" + name + "': its layers give " + to_string(body_out) + ", its shortcut " +
                      to_string(shortcut_out) + (p.get("shortcut").items().empty() ? " (the identity)" : "") +
                      "; add or fix a shortcut projection",
                  body_items.location());
    LayerChain after = p.get("after").items().empty() ? LayerChain() : build_chain(body_out, continue_names(p.get("after"), body.size()));
    std::set<std::string> names;
    auto unique = [&](const std::string& child) {
      if (!names.insert(child).second)
        throw Error(ErrorCode::config_schema, "residual '" + name + "': two children are named '" + child +
                                                  "' (name the layers of 'after' or the shortcut)",
                    body_items.location());
    };
    for (std::size_t i = 0; i < body.size(); ++i) unique(body.layer(i).name());
    if (shortcut) unique(shortcut->name());
    for (std::size_t i = 0; i < after.size(); ++i) unique(after.layer(i).name());
    return std::make_unique<Residual>(name, std::move(body), std::move(shortcut), std::move(after));
  };
  info.examples = {
      {parse_value("{layers: [{linear: {out: 4}}, tanh, {linear: {out: 4}}], after: [tanh]}"), {4}},
      {parse_value("{layers: [{conv2d: {out: 4, kernel: 3, padding: 1, stride: 2}}], "
                   "shortcut: [{conv2d: {out: 4, kernel: 1, stride: 2, bias: false}}]}"),
       {2, 5, 5}},
  };
  return info;
}

}  // namespace pipeline::layers
