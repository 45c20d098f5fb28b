#include "run/codecs.hpp"

#include <fstream>
#include <sstream>

#include "pipeline/dataset.hpp"
#include "pipeline/io.hpp"
#include "pipeline/json.hpp"
#include "pipeline/metrics.hpp"
#include "pipeline/model.hpp"
#include "pipeline/safetensors.hpp"
#include "pipeline/schema.hpp"

namespace pipeline {
namespace {

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

// Dataset: features and labels as safetensors, class names in its metadata.
std::vector<std::string> encode_dataset(const Artifact& artifact, const std::filesystem::path& dir) {
  if (const auto* d = dynamic_cast<const Dataset*>(&artifact)) {
    // Labels as float32: exact for every label below 2^24.
    Tensor labels({d->size()});
    for (std::int64_t i = 0; i < d->size(); ++i) labels.values()[static_cast<std::size_t>(i)] = static_cast<float>(d->labels()[i]);
    Value names = Value::list();
    for (const auto& n : d->class_names()) names.push_back(Value::string(n));
    write_safetensors(dir / "dataset.safetensors", {{"features", &d->features()}, {"labels", &labels}},
                      {{"class_names", to_json(names)}});
    return {"dataset.safetensors"};
  }
  throw Error(ErrorCode::internal, "the dataset codec got a " + artifact.type() + " artifact");
}

std::vector<std::string> encode_metrics(const Artifact& artifact, const std::filesystem::path& dir) {
  if (const auto* m = dynamic_cast<const Metrics*>(&artifact)) {
    write_text(dir / "metrics.json", to_json(m->values()));
    return {"metrics.json"};
  }
  throw Error(ErrorCode::internal, "the metrics codec got a " + artifact.type() + " artifact");
}

// Model: its layers' types, names, checked parameters and state as JSON, parameters as
// safetensors under PyTorch's names. Layers are rebuilt through the registry on load.
std::vector<std::string> encode_model(const Artifact& artifact, const std::filesystem::path& dir) {
  if (const auto* model = dynamic_cast<const Model*>(&artifact)) {
    Value desc = Value::map();
    Value input = Value::list();
    for (auto d : model->input_shape()) input.push_back(Value::integer(d));
    desc.set("input", input);
    // Top-level layers are rebuilt from their specs (a block's spec holds its children); the
    // state of every module, children included, is restored by path.
    Value layers = Value::list();
    for (std::size_t i = 0; i < model->size(); ++i) {
      const Layer& l = model->layer(i);
      Value ld = Value::map();
      ld.set("type", Value::string(l.type()));
      ld.set("name", Value::string(l.name()));
      ld.set("spec", l.spec());
      layers.push_back(ld);
    }
    desc.set("layers", layers);
    Value modules = Value::list();
    std::vector<std::pair<std::string, const Tensor*>> tensors;
    for (const auto& m : const_cast<Model*>(model)->modules()) {
      Value md = Value::map();
      md.set("path", Value::string(m.path));
      Value trainable = Value::list();
      for (const auto& p : m.layer->parameters()) {
        trainable.push_back(Value::boolean(p.trainable));
        tensors.emplace_back(m.path + "." + p.name, &p.value);
      }
      md.set("trainable", trainable);
      md.set("statistics_frozen", Value::boolean(m.layer->statistics_frozen()));
      md.set("extra_state", m.layer->extra_state());
      modules.push_back(md);
    }
    desc.set("modules", modules);
    desc.set("notes", model->notes());
    write_safetensors(dir / "model.safetensors", tensors);
    write_text(dir / "model.json", to_json(desc));
    return {"model.safetensors", "model.json"};
  }
  throw Error(ErrorCode::internal, "the model codec got a " + artifact.type() + " artifact");
}

// A field a cached file must have: its absence is a corrupt entry (recomputed), never a null
// dereference.
const Value& field(const Value& map, const char* key, const std::string& what) {
  const Value* v = map.is_map() ? map.find(key) : nullptr;
  if (!v) throw Error(ErrorCode::data_format, what + " lacks '" + key + "'");
  return *v;
}

ArtifactPtr decode_dataset(const std::filesystem::path& dir) {
  {
    const SafetensorsFile f = read_safetensors(dir / "dataset.safetensors");
    const SafetensorsEntry* features = f.find("features");
    const SafetensorsEntry* labels = f.find("labels");
    if (!features || !labels) throw Error(ErrorCode::data_format, "a cached dataset lacks features or labels");
    if (features->shape.empty() || labels->f32.size() != static_cast<std::size_t>(features->shape[0]))
      throw Error(ErrorCode::data_format, "a cached dataset has " + std::to_string(labels->f32.size()) + " labels for " +
                                              (features->shape.empty() ? std::string("no") : std::to_string(features->shape[0])) + " samples");
    std::vector<std::int32_t> y;
    y.reserve(labels->f32.size());
    for (float label : labels->f32) {
      // A label is a small non-negative integer; anything else (NaN, 1e30, 0.5) is corruption,
      // and converting it would be undefined.
      if (!(label >= 0 && label < 16777216.0f) || label != static_cast<float>(static_cast<std::int32_t>(label)))
        throw Error(ErrorCode::data_format, "a cached dataset has a label that is not a class index");
      y.push_back(static_cast<std::int32_t>(label));
    }
    std::vector<std::string> names;
    for (const auto& [k, v] : f.metadata)
      if (k == "class_names") {
        const Value list = parse_json(v, "a cached dataset's class names");  // named: a temporary would die before the loop
        for (const auto& n : list.items()) names.push_back(n.as_string());
      }
    return std::make_shared<Dataset>(Tensor(features->shape, features->f32), std::move(y), std::move(names));
  }
}

ArtifactPtr decode_metrics(const std::filesystem::path& dir) {
  return std::make_shared<Metrics>(parse_json(read_text(dir / "metrics.json"), "metrics.json"));
}

ArtifactPtr decode_model(const std::filesystem::path& dir) {
  {
    const Value desc = parse_json(read_text(dir / "model.json"), "model.json");
    const std::string what = "a cached model.json";
    Shape input;
    for (const auto& d : field(desc, "input", what).items()) input.push_back(d.as_int());
    auto model = std::make_shared<Model>(input);
    ThrowingDiagnostics diag;
    for (const auto& ld : field(desc, "layers", what).items()) {
      const std::string layer_type = field(ld, "type", what + " layer").as_string();
      const LayerInfo* info = find_layer_type(layer_type);
      if (!info) throw Error(ErrorCode::data_format, "a cached model uses layer type '" + layer_type + "', which no plugin registers");
      const Value& spec = field(ld, "spec", what + " layer");
      const Params params = check_params(info->params, spec, "cached layer", {}, "/", diag);
      auto layer = info->create(field(ld, "name", what + " layer").as_string(), params, model->output_shape());
      layer->set_spec(spec);
      model->add(std::move(layer));
    }
    const auto built = model->modules();
    const Value* modules = desc.find("modules");
    if (!modules || !modules->is_list() || modules->size() != built.size())
      throw Error(ErrorCode::data_format, "a cached model's modules do not match its layers");
    for (std::size_t i = 0; i < built.size(); ++i) {
      const Value& md = modules->items()[i];
      Layer& layer = *built[i].layer;
      const std::string& path = field(md, "path", what + " module").as_string();
      if (path != built[i].path)
        throw Error(ErrorCode::data_format, "a cached model's module " + std::to_string(i) + " is '" + path +
                                                "', rebuilt as '" + built[i].path + "'");
      const auto& trainable = field(md, "trainable", what + " module").items();
      for (std::size_t k = 0; k < layer.parameters().size() && k < trainable.size(); ++k)
        layer.parameters()[k].trainable = trainable[k].as_bool();
      layer.freeze_statistics(field(md, "statistics_frozen", what + " module").as_bool());
      if (const Value* extra = md.find("extra_state"); extra && !extra->is_null()) layer.set_extra_state(*extra);
    }
    model->notes() = field(desc, "notes", what);
    const SafetensorsFile f = read_safetensors(dir / "model.safetensors");
    for (auto& np : model->named_parameters()) {
      const SafetensorsEntry* t = f.find(np.name);
      if (!t || t->shape != np.param->value.shape())
        throw Error(ErrorCode::data_format, "a cached model lacks or misshapes tensor '" + np.name + "'");
      np.param->value.values() = t->f32;
    }
    return model;
  }
}

}  // namespace

std::vector<CodecInfo> core_codecs() {
  return {
      CodecInfo{"dataset", "features and labels as safetensors, class names in its metadata", encode_dataset, decode_dataset},
      CodecInfo{"model", "layers as JSON (type, name, parameters, state), weights as safetensors", encode_model, decode_model},
      CodecInfo{"metrics", "the values as JSON", encode_metrics, decode_metrics},
  };
}

bool can_encode(const std::string& type) { return is_registered(codec_kind, type); }

std::vector<std::string> encode_artifact(const Artifact& artifact, const std::filesystem::path& dir) {
  const CodecInfo* codec = find_codec(artifact.type());
  if (!codec) throw Error(ErrorCode::internal, "no codec for artifacts of type " + artifact.type());
  return codec->encode(artifact, dir);
}

ArtifactPtr decode_artifact(const std::string& type, const std::filesystem::path& dir) {
  const CodecInfo* codec = find_codec(type);
  if (!codec) throw Error(ErrorCode::data_format, "no codec for artifacts of type '" + type + "' (is its plugin loaded?)");
  return codec->decode(dir);
}

}  // namespace pipeline
