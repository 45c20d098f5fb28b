#include "pipeline/model.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "pipeline/error.hpp"

namespace pipeline {

void Model::add(std::unique_ptr<Layer> layer) {
  Shape out = layer->output_shape(output_shape());
  layers_.push_back(std::move(layer));
  shapes_.push_back(std::move(out));
}

void Model::replace(std::size_t i, std::unique_ptr<Layer> layer) {
  const Shape in = i == 0 ? input_shape_ : shapes_.at(i - 1);
  std::vector<Shape> shapes(shapes_.begin(), shapes_.begin() + static_cast<std::ptrdiff_t>(i));
  shapes.push_back(layer->output_shape(in));
  for (std::size_t k = i + 1; k < layers_.size(); ++k) shapes.push_back(layers_[k]->output_shape(shapes.back()));
  layers_.at(i) = std::move(layer);
  shapes_ = std::move(shapes);
  activations_.clear();
}

namespace {
// The parent of the module at `path` and the child's index in it; null parent for a top-level one.
std::pair<Layer*, std::size_t> locate(Model& model, const std::string& path) {
  const auto dot = path.rfind('.');
  if (dot == std::string::npos) {
    const auto i = model.find(path);
    if (i < 0) throw Error(ErrorCode::config_schema, "the model has no layer '" + path + "'");
    return {nullptr, static_cast<std::size_t>(i)};
  }
  const std::string parent_path = path.substr(0, dot), name = path.substr(dot + 1);
  for (const auto& m : model.modules())
    if (m.path == parent_path)
      for (std::size_t c = 0; c < m.layer->child_count(); ++c)
        if (m.layer->child(c).name() == name) return {m.layer, c};
  throw Error(ErrorCode::config_schema, "the model has no module '" + path + "'");
}
}  // namespace

void Model::replace(const std::string& path, std::unique_ptr<Layer> layer) {
  auto [parent, index] = locate(*this, path);
  if (!parent) {
    replace(index, std::move(layer));
    return;
  }
  parent->replace_child(index, std::move(layer));
  // Every enclosing block, innermost first, updates its spec and checks its shapes.
  std::string child_path = path;
  while (child_path.find('.') != std::string::npos) {
    const std::string parent_path = child_path.substr(0, child_path.rfind('.'));
    auto [grand, at] = locate(*this, parent_path);
    Layer& block = grand ? grand->child(at) : *layers_[at];
    const std::string child_name = child_path.substr(child_path.rfind('.') + 1);
    for (std::size_t c = 0; c < block.child_count(); ++c)
      if (block.child(c).name() == child_name) block.child_changed(c);
    child_path = parent_path;
  }
  // The enclosing blocks compute their shapes from their children: only the top level stores them.
  std::vector<Shape> shapes;
  Shape in = input_shape_;
  for (const auto& l : layers_) shapes.push_back(in = l->output_shape(in));
  shapes_ = std::move(shapes);
  activations_.clear();
}

Shape Model::input_shape_of(const std::string& path) {
  auto [parent, index] = locate(*this, path);
  if (!parent) return index == 0 ? input_shape_ : shapes_.at(index - 1);
  if (index > 0) return parent->child_output_shape(index - 1);
  return input_shape_of(path.substr(0, path.rfind('.')));
}

void Model::truncate_after(std::size_t i) {
  layers_.resize(i + 1);
  shapes_.resize(i + 1);
  activations_.clear();
}

std::unique_ptr<Model> Model::clone() const {
  auto copy = std::make_unique<Model>(input_shape_);
  for (const auto& l : layers_) copy->layers_.push_back(l->clone());
  copy->shapes_ = shapes_;
  copy->notes_ = notes_;
  return copy;
}

std::ptrdiff_t Model::find(const std::string& name) const {
  for (std::size_t i = 0; i < layers_.size(); ++i)
    if (layers_[i]->name() == name) return static_cast<std::ptrdiff_t>(i);
  return -1;
}

std::size_t Model::first_trainable() const {
  for (std::size_t i = 0; i < layers_.size(); ++i)
    if (layers_[i]->has_trainable_parameters()) return i;
  return layers_.size();
}

void Model::forward(const Tensor& x, Tensor& out, Mode mode, std::size_t first, std::size_t end) {
  end = std::min(end, layers_.size());
  if (first >= end) throw Error(ErrorCode::internal, "forward over an empty range of layers");
  activations_.resize(layers_.size());
  first_run_ = first;
  const Tensor* in = &x;
  for (std::size_t i = first; i < end; ++i) {
    // The last layer writes straight into the caller's tensor; the others keep their outputs,
    // which the next layer's backward pass may need.
    Tensor& target = i + 1 == end ? out : activations_[i];
    layers_[i]->forward(*in, target, mode);
    in = &target;
  }
}

void Model::backward(const Tensor& grad_logits, bool need_input_grad) {
  if (layers_.empty()) return;
  const std::size_t stop = need_input_grad ? first_run_ : std::max(first_run_, first_trainable());
  if (stop >= layers_.size()) return;  // nothing trainable: no backward pass at all
  const Tensor* grad = &grad_logits;
  for (std::size_t i = layers_.size(); i-- > stop;) {
    const bool want_input = i > stop || need_input_grad;
    Tensor* grad_in = nullptr;
    if (want_input) grad_in = i == stop ? &input_grad_ : (grad == &scratch_a_ ? &scratch_b_ : &scratch_a_);
    layers_[i]->backward(*grad, grad_in);
    grad = grad_in;
  }
}

void visit_layers(Layer& layer, const std::string& path, int depth,
                  const std::function<void(const std::string&, Layer&, int)>& visit) {
  visit(path, layer, depth);
  for (std::size_t i = 0; i < layer.child_count(); ++i) {
    Layer& c = layer.child(i);
    visit_layers(c, path + "." + c.name(), depth + 1, visit);
  }
}

std::vector<Model::Module> Model::modules() {
  std::vector<Module> out;
  for (auto& l : layers_)
    visit_layers(*l, l->name(), 0, [&](const std::string& path, Layer& layer, int depth) {
      out.push_back({path, &layer, depth});
    });
  return out;
}

std::vector<Model::NamedParameter> Model::named_parameters() {
  std::vector<NamedParameter> out;
  for (const auto& m : modules())
    for (auto& p : m.layer->parameters()) out.push_back({m.path + "." + p.name, &p});
  return out;
}

std::int64_t Model::parameter_count(bool trainable_only) const {
  std::int64_t n = 0;
  for (const auto& m : const_cast<Model*>(this)->modules())
    for (const auto& p : m.layer->parameters())
      if (!p.buffer && (!trainable_only || p.trainable)) n += p.value.numel();
  return n;
}

std::string Model::summary() const {
  return "model of " + std::to_string(layers_.size()) + " layers, " + to_string(input_shape_) + " -> " +
         to_string(output_shape()) + ", " + std::to_string(parameter_count()) + " parameters";
}

namespace {

// A table row: the module's own parameters and whether any of them is frozen.
struct Row {
  std::int64_t params = 0;
  bool frozen = false;
};

Row row_of(const Layer& layer) {
  Row r;
  for (const auto& p : layer.parameters()) {
    if (p.buffer) continue;
    r.params += p.value.numel();
    r.frozen = r.frozen || !p.trainable;
  }
  return r;
}

void table_rows(const Layer& layer, const Shape& shape, int depth, std::string& out) {
  const Row r = row_of(layer);
  const std::string name = std::string(static_cast<std::size_t>(2 * depth), ' ') + layer.name();
  char line[512];
  // A block's row counts everything below it.
  std::int64_t total = r.params;
  if (layer.child_count() > 0) {
    total = 0;
    visit_layers(const_cast<Layer&>(layer), "", 0, [&](const std::string&, Layer& l, int) { total += row_of(l).params; });
  }
  std::snprintf(line, sizeof line, "\n%-20s %-12s %-16s %10lld  %s%s", name.c_str(), layer.type().c_str(),
                shape.empty() ? "" : to_string(shape).c_str(), static_cast<long long>(total), layer.describe().c_str(),
                r.frozen || (layer.child_count() > 0 && total > 0 && !layer.has_trainable_parameters()) ? " (frozen)" : "");
  out += line;
  for (std::size_t i = 0; i < layer.child_count(); ++i) table_rows(layer.child(i), layer.child_output_shape(i), depth + 1, out);
}

}  // namespace

std::string Model::table() const {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-20s %-12s %-16s %10s  %s", "layer", "type", "output", "params", "");
  out += line;
  out += "\n";
  std::snprintf(line, sizeof line, "%-20s %-12s %-16s %10s", "(input)", "", to_string(input_shape_).c_str(), "");
  out += line;
  for (std::size_t i = 0; i < layers_.size(); ++i) table_rows(*layers_[i], shapes_[i], 0, out);
  std::snprintf(line, sizeof line, "\ntotal %lld parameters, %lld trainable", static_cast<long long>(parameter_count()),
                static_cast<long long>(parameter_count(true)));
  return out + line;
}

}  // namespace pipeline
