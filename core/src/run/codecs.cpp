#include "run/codecs.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "pipeline/dataset.hpp"
#include "pipeline/io.hpp"
#include "pipeline/metrics.hpp"
#include "pipeline/model.hpp"
#include "pipeline/safetensors.hpp"
#include "pipeline/schema.hpp"

namespace pipeline {
namespace {

using json = nlohmann::ordered_json;

json to_json(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::null: return nullptr;
    case Value::Kind::boolean: return v.as_bool();
    case Value::Kind::integer: return v.as_int();
    case Value::Kind::real: return v.as_float();
    case Value::Kind::string: return v.as_string();
    case Value::Kind::list: {
      json a = json::array();
      for (const auto& i : v.items()) a.push_back(to_json(i));
      return a;
    }
    case Value::Kind::map: {
      json o = json::object();
      for (const auto& [k, i] : v.entries()) o[k] = to_json(i);
      return o;
    }
  }
  return nullptr;
}

Value from_json(const json& j) {
  if (j.is_null()) return Value();
  if (j.is_boolean()) return Value::boolean(j.get<bool>());
  if (j.is_number_integer()) return Value::integer(j.get<std::int64_t>());
  if (j.is_number()) return Value::real(j.get<double>());
  if (j.is_string()) return Value::string(j.get<std::string>());
  if (j.is_array()) {
    Value l = Value::list();
    for (const auto& i : j) l.push_back(from_json(i));
    return l;
  }
  Value m = Value::map();
  for (auto it = j.begin(); it != j.end(); ++it) m.set(it.key(), from_json(it.value()));
  return m;
}

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorCode::data_format, "cannot read " + file.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const std::filesystem::path& file, const std::string& text) {
  write_file_atomic(file, [&](std::ostream& out) { out << text; });
}

}  // namespace

std::string value_to_json(const Value& value) { return to_json(value).dump(); }

Value value_from_json(const std::string& text) {
  try {
    return from_json(json::parse(text));
  } catch (const json::exception& e) {
    throw Error(ErrorCode::data_format, std::string("invalid JSON: ") + e.what());
  }
}

bool can_encode(const std::string& type) { return type == "dataset" || type == "model" || type == "metrics"; }

std::vector<std::string> encode_artifact(const Artifact& artifact, const std::filesystem::path& dir) {
  if (const auto* d = dynamic_cast<const Dataset*>(&artifact)) {
    // Labels as float32: exact for every label below 2^24.
    Tensor labels({d->size()});
    for (std::int64_t i = 0; i < d->size(); ++i) labels.values()[static_cast<std::size_t>(i)] = static_cast<float>(d->labels()[i]);
    Value names = Value::list();
    for (const auto& n : d->class_names()) names.push_back(Value::string(n));
    write_safetensors(dir / "dataset.safetensors", {{"features", &d->features()}, {"labels", &labels}},
                      {{"class_names", value_to_json(names)}});
    return {"dataset.safetensors"};
  }
  if (const auto* m = dynamic_cast<const Metrics*>(&artifact)) {
    write_text(dir / "metrics.json", value_to_json(m->values()));
    return {"metrics.json"};
  }
  if (const auto* model = dynamic_cast<const Model*>(&artifact)) {
    Value desc = Value::map();
    Value input = Value::list();
    for (auto d : model->input_shape()) input.push_back(Value::integer(d));
    desc.set("input", input);
    Value layers = Value::list();
    std::vector<std::pair<std::string, const Tensor*>> tensors;
    for (std::size_t i = 0; i < model->size(); ++i) {
      const Layer& l = model->layer(i);
      Value ld = Value::map();
      ld.set("type", Value::string(l.type()));
      ld.set("name", Value::string(l.name()));
      ld.set("spec", l.spec());
      Value trainable = Value::list();
      for (const auto& p : l.parameters()) {
        trainable.push_back(Value::boolean(p.trainable));
        tensors.emplace_back(l.name() + "." + p.name, &p.value);
      }
      ld.set("trainable", trainable);
      ld.set("statistics_frozen", Value::boolean(l.statistics_frozen()));
      ld.set("extra_state", l.extra_state());
      layers.push_back(ld);
    }
    desc.set("layers", layers);
    desc.set("notes", model->notes());
    write_safetensors(dir / "model.safetensors", tensors);
    write_text(dir / "model.json", value_to_json(desc));
    return {"model.safetensors", "model.json"};
  }
  throw Error(ErrorCode::internal, "no codec for artifacts of type " + artifact.type());
}

ArtifactPtr decode_artifact(const std::string& type, const std::filesystem::path& dir) {
  if (type == "dataset") {
    const SafetensorsFile f = read_safetensors(dir / "dataset.safetensors");
    const SafetensorsEntry* features = f.find("features");
    const SafetensorsEntry* labels = f.find("labels");
    if (!features || !labels) throw Error(ErrorCode::data_format, "a cached dataset lacks features or labels");
    std::vector<std::int32_t> y(labels->f32.begin(), labels->f32.end());
    std::vector<std::string> names;
    for (const auto& [k, v] : f.metadata)
      if (k == "class_names") {
        const Value list = value_from_json(v);  // named: a temporary would die before the loop
        for (const auto& n : list.items()) names.push_back(n.as_string());
      }
    return std::make_shared<Dataset>(Tensor(features->shape, features->f32), std::move(y), std::move(names));
  }
  if (type == "metrics") return std::make_shared<Metrics>(value_from_json(read_text(dir / "metrics.json")));
  if (type == "model") {
    const Value desc = value_from_json(read_text(dir / "model.json"));
    Shape input;
    for (const auto& d : desc.find("input")->items()) input.push_back(d.as_int());
    auto model = std::make_shared<Model>(input);
    ThrowingDiagnostics diag;
    for (const auto& ld : desc.find("layers")->items()) {
      const std::string layer_type = ld.find("type")->as_string();
      const LayerInfo* info = find_layer_type(layer_type);
      if (!info) throw Error(ErrorCode::data_format, "a cached model uses layer type '" + layer_type + "', which no plugin registers");
      const Params params = check_params(info->params, *ld.find("spec"), "cached layer", {}, "/", diag);
      auto layer = info->create(ld.find("name")->as_string(), params, model->output_shape());
      layer->set_spec(*ld.find("spec"));
      const auto& trainable = ld.find("trainable")->items();
      for (std::size_t k = 0; k < layer->parameters().size() && k < trainable.size(); ++k)
        layer->parameters()[k].trainable = trainable[k].as_bool();
      layer->freeze_statistics(ld.find("statistics_frozen")->as_bool());
      if (const Value* extra = ld.find("extra_state"); extra && !extra->is_null()) layer->set_extra_state(*extra);
      model->add(std::move(layer));
    }
    model->notes() = *desc.find("notes");
    const SafetensorsFile f = read_safetensors(dir / "model.safetensors");
    for (auto& np : model->named_parameters()) {
      const SafetensorsEntry* t = f.find(np.name);
      if (!t || t->shape != np.param->value.shape())
        throw Error(ErrorCode::data_format, "a cached model lacks or misshapes tensor '" + np.name + "'");
      np.param->value.values() = t->f32;
    }
    return model;
  }
  throw Error(ErrorCode::internal, "no codec for artifacts of type " + type);
}

}  // namespace pipeline
