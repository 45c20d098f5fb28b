#include "train_loop.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "batches.hpp"
#include "evaluation.hpp"
#include "pipeline/error.hpp"
#include "pipeline/rng.hpp"
#include "pipeline/schema.hpp"

namespace pipeline::train {

// class_weights: a weight per class, or how to derive them from the training set's counts.
ParamSpec class_weights_param() {
  ParamBuilder b = param("class_weights", ParamType::any,
                         "loss weight per class: a list (empty: all 1), balanced (N / (C n_c), inverse frequency) or "
                         "effective_number ((1 - beta) / (1 - beta^n_c), Cui et al. 2019, scaled to sum to C)");
  b.spec.default_value = Value::list();
  return b;
}

std::vector<ParamSpec> training_params(double default_lr) {
  std::vector<ParamSpec> params = {
      param_int("epochs", "passes over the training data", 1).range(1, 1e6),
      param_int("steps", "stop after this many optimizer steps; 0: run all epochs", 0).range(0, 1e12),
      param_int("batch_size", "samples per optimizer step", 64).range(1, 1 << 20),
      param_bool("shuffle", "visit samples in a new seeded order each epoch", true),
      param_float("lr", "learning rate (the peak rate for one_cycle)", default_lr).range(0, 100),
      param_enum("schedule", "learning-rate schedule over the steps", {"constant", "step", "cosine", "one_cycle"},
                 std::string("constant")),
      param_int("step_epochs", "schedule step: decay every this many epochs", 1).range(1, 1e6),
      param_float("gamma", "schedule step: decay factor", 0.1).range(0, 1),
      param_float("min_lr", "schedule cosine: final learning rate", 0.0).range(0, 100),
      param_float("pct_start", "schedule one_cycle: share of steps warming up", 0.3).range(0, 1),
      param_float("clip_norm", "clip the global gradient norm to this; 0: off", 0.0).range(0, 1e9),
      param_float("label_smoothing", "cross-entropy label smoothing", 0.0).range(0, 1),
      class_weights_param(),
      param_float("effective_number_beta", "class_weights effective_number: beta of (1 - beta) / (1 - beta^n_c)", 0.999)
          .range(0, 0.999999),
      param_float("focal_gamma", "focal loss -(1 - p)^gamma log p (Lin et al. 2017); 0: plain cross-entropy", 0.0).range(0, 100),
      param_float("logit_adjustment",
                  "tau of the logit-adjusted loss (Menon et al. 2021): tau log(prior) is added to the logits in the loss, "
                  "the prior being the training set's class frequencies; 0: off",
                  0.0)
          .range(0, 100),
      param_enum("sampler",
                 "how each epoch draws its samples: uniform (every sample once), class_balanced (classes equally often) or sqrt "
                 "(classes in proportion to the square root of their count); the last two draw with replacement, as many as the data holds",
                 {"uniform", "class_balanced", "sqrt"}, std::string("uniform")),
      param_list("augment",
                 "transforms of each training sample, drawn anew every epoch from the stage seed: random_resized_crop, "
                 "horizontal_flip, random_crop, normalize (e.g. [{random_crop: {size: 28, padding: 4}}, horizontal_flip])",
                 ParamType::any, Value::list()),
      precision_param(),
  };
  const auto optimizer = optimizer_choice_params();
  params.insert(params.begin() + 5, optimizer.begin(), optimizer.end());  // after lr
  return params;
}

TrainOptions training_options(const Params& p) {
  TrainOptions o;
  o.epochs = p.get_int("epochs");
  o.steps = p.get_int("steps");
  o.batch_size = p.get_int("batch_size");
  o.shuffle = p.get_bool("shuffle");
  o.clip_norm = p.get_float("clip_norm");
  ThrowingDiagnostics diag;
  o.optimizer = choose_optimizer(p, diag);
  o.augment = data::Augmentation::parse(p.get("augment"), diag);
  o.schedule.kind = p.get_string("schedule");
  o.schedule.lr = p.get_float("lr");
  o.schedule.step_epochs = p.get_int("step_epochs");
  o.schedule.gamma = p.get_float("gamma");
  o.schedule.min_lr = p.get_float("min_lr");
  o.schedule.pct_start = p.get_float("pct_start");
  o.loss.label_smoothing = static_cast<float>(p.get_float("label_smoothing"));
  const Value& weights = p.get("class_weights");
  if (weights.is_string()) o.class_weighting = weights.as_string();
  else
    for (const auto& w : weights.items()) o.loss.class_weights.push_back(static_cast<float>(w.as_float()));
  o.effective_number_beta = p.get_float("effective_number_beta");
  o.loss.focal_gamma = static_cast<float>(p.get_float("focal_gamma"));
  o.logit_adjustment = p.get_float("logit_adjustment");
  o.sampler = p.get_string("sampler");
  o.precision = parse_precision(p.get_string("precision"));
  return o;
}

std::vector<ParamSpec> transfer_params() {
  return {
      param("lr_multipliers", ParamType::map,
            "learning-rate scale per module-path glob, e.g. {\"conv*\": 0.1, \"layer4\": 0.5}; a block's applies inside it; the first match applies")
          .optional_value(),
      param_int("unfreeze_every", "gradual unfreezing: unfreeze one more layer, from the top, every N epochs; 0: off",
                0)
          .range(0, 1e6),
      param_bool("cache_features", "run a frozen prefix once per sample and train the rest on its outputs", true),
      param_float("proximal_mu",
                  "FedProx (Li et al. 2020): adds (mu / 2) ||w - w_start||^2 to the loss, keeping a client's local training "
                  "near the global model it started from; 0: off",
                  0.0)
          .range(0, 1e6),
  };
}

void read_transfer_options(const Params& p, TrainOptions& o) {
  if (p.has("lr_multipliers"))
    for (const auto& [glob, scale] : p.get("lr_multipliers").entries()) o.lr_multipliers.emplace_back(glob, scale.as_float());
  o.unfreeze_every = p.get_int("unfreeze_every");
  o.cache_features = p.get_bool("cache_features");
  o.proximal_mu = p.get_float("proximal_mu");
}

void check_training_params(const Params& p, Diagnostics& diag) {
  choose_optimizer(p, diag);
  const Value& weights = p.get("class_weights");
  if (weights.is_string()) {
    if (weights.as_string() != "balanced" && weights.as_string() != "effective_number")
      diag.error(weights.location(), "parameter 'class_weights': expected a list of weights, balanced or effective_number, got '" +
                                         weights.as_string() + "'");
  } else if (weights.is_list()) {
    for (const auto& w : weights.items())
      if (!w.is_number() || !(w.as_float() >= 0) || w.as_float() > 1e6)
        diag.error(w.location(), "parameter 'class_weights': each weight must be a number in [0, 1e6], got " + w.str());
  } else {
    diag.error(weights.location(), "parameter 'class_weights': expected a list of weights, balanced or effective_number, got " + weights.str());
  }
  if (p.get_float("focal_gamma") > 0 && p.get_float("label_smoothing") > 0)
    diag.error(p.get("label_smoothing").location(), "label_smoothing applies to the cross-entropy, not to the focal loss (focal_gamma > 0)");
  data::Augmentation::parse(p.get("augment"), diag);
  if (p.has("lr_multipliers"))
    for (const auto& [glob, scale] : p.get("lr_multipliers").entries())
      if (!scale.is_number() || scale.as_float() < 0)
        diag.error(scale.location(), "parameter 'lr_multipliers': the scale of '" + glob +
                                         "' must be a non-negative number, got " + scale.str());
}

namespace {

// "42s", "3m05s", "1h02m": an ETA readable at a glance.
std::string format_duration(double seconds) {
  const long long s = std::isfinite(seconds) && seconds > 0 ? static_cast<long long>(seconds + 0.5) : 0;
  char text[32];
  if (s < 60) std::snprintf(text, sizeof text, "%llds", s);
  else if (s < 3600) std::snprintf(text, sizeof text, "%lldm%02llds", s / 60, s % 60);
  else std::snprintf(text, sizeof text, "%lldh%02lldm", s / 3600, s / 60 % 60);
  return text;
}

// Samples per class of the training data, for `classes` model outputs.
std::vector<std::int64_t> class_counts(const Dataset& data, std::int64_t classes) {
  std::vector<std::int64_t> counts(static_cast<std::size_t>(std::max<std::int64_t>(classes, 0)), 0);
  for (std::int32_t y : data.labels())
    if (y >= 0 && y < classes) ++counts[static_cast<std::size_t>(y)];
  return counts;
}

// The loss with what the training set's class counts decide: derived class weights (balanced,
// effective number) and logit-adjustment offsets. Classes absent from the data get weight 0 and
// count as one sample in the prior (log 0 would be -inf).
LossOptions loss_options_for(const TrainOptions& o, const std::vector<std::int64_t>& counts) {
  LossOptions loss = o.loss;
  std::int64_t total = 0, present = 0;
  for (auto n : counts) {
    total += n;
    present += n > 0;
  }
  if (o.class_weighting == "balanced") {
    loss.class_weights.clear();
    for (auto n : counts)
      loss.class_weights.push_back(n > 0 ? static_cast<float>(static_cast<double>(total) / (static_cast<double>(present) * static_cast<double>(n))) : 0.0f);
  } else if (o.class_weighting == "effective_number") {
    const double beta = o.effective_number_beta;
    std::vector<double> w;
    double sum = 0;
    for (auto n : counts) {
      w.push_back(n > 0 ? (1 - beta) / (1 - std::pow(beta, static_cast<double>(n))) : 0.0);
      sum += w.back();
    }
    loss.class_weights.clear();
    for (double x : w) loss.class_weights.push_back(static_cast<float>(sum > 0 ? x * static_cast<double>(present) / sum : 0.0));
  }
  if (o.logit_adjustment > 0 && total > 0) {
    loss.logit_offsets.clear();
    for (double log_prior : log_class_prior(counts)) loss.logit_offsets.push_back(static_cast<float>(o.logit_adjustment * log_prior));
  }
  return loss;
}

// Draws an epoch's samples with replacement so that class c comes up with probability q_c (equal
// over the classes present, or in proportion to sqrt(n_c)), then a sample of that class
// uniformly: class-balanced and square-root sampling (Kang et al. 2020).
class EpochSampler {
 public:
  EpochSampler(const std::string& kind, const Dataset& data, const std::vector<std::int64_t>& counts) : members_(counts.size()) {
    if (kind == "uniform") return;
    for (std::int64_t i = 0; i < data.size(); ++i) {
      const std::int32_t y = data.labels()[static_cast<std::size_t>(i)];
      if (y >= 0 && static_cast<std::size_t>(y) < members_.size()) members_[static_cast<std::size_t>(y)].push_back(i);
    }
    double sum = 0;
    for (const auto& m : members_) {
      const double q = m.empty() ? 0.0 : kind == "sqrt" ? std::sqrt(static_cast<double>(m.size())) : 1.0;
      sum += q;
      cumulative_.push_back(sum);
    }
    if (!(sum > 0)) throw Error(ErrorCode::data_format, "the training data has no sample of any of the model's classes to draw");
    for (auto& c : cumulative_) c /= sum;
  }
  void draw(Rng& rng, std::vector<std::int64_t>& order) const {
    for (auto& index : order) {
      const double u = rng.uniform();
      std::size_t c = static_cast<std::size_t>(std::upper_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin());
      if (c >= members_.size()) c = members_.size() - 1;
      while (members_[c].empty()) c = (c + members_.size() - 1) % members_.size();  // u landed on a rounding edge
      index = members_[c][rng.uniform_int(members_[c].size())];
    }
  }

 private:
  std::vector<std::vector<std::int64_t>> members_;
  std::vector<double> cumulative_;
};

// The first glob that names the module or a block it is in ("layer4" and "layer4.*" both cover
// "layer4.0.conv1").
double lr_scale_for(const std::string& path, const TrainOptions& o) {
  for (const auto& [glob, scale] : o.lr_multipliers)
    for (std::size_t end = path.find('.');; end = path.find('.', end + 1)) {
      const std::string prefix = path.substr(0, end);
      if (fnmatch(glob.c_str(), prefix.c_str(), 0) == 0) return scale;
      if (end == std::string::npos) break;
    }
  return 1.0;
}

// The first layer that trains, if the layers before it can be cached: they are frozen and act
// the same in training and evaluation. 0 when there is nothing to cache.
std::size_t cacheable_prefix(const Model& model) {
  const std::size_t k = model.first_trainable();
  if (k == 0 || k >= model.size()) return 0;
  for (std::size_t i = 0; i < k; ++i)
    if (!model.layer(i).same_in_training_and_evaluation()) return 0;
  return k;
}

// The outputs of layers [0, k) for every sample, as a dataset with the same labels.
std::shared_ptr<Dataset> prefix_features(Model& model, std::size_t k, const Dataset& data, std::int64_t batch_size,
                                         StageContext& ctx) {
  Shape shape = model.output_shape_of(k - 1);
  const std::int64_t per = numel(shape);
  shape.insert(shape.begin(), data.size());
  Tensor features(shape);
  std::vector<std::int64_t> order(static_cast<std::size_t>(data.size()));
  std::iota(order.begin(), order.end(), 0);
  Tensor x, out;
  std::vector<std::int32_t> labels;
  for (std::int64_t begin = 0; begin < data.size(); begin += batch_size) {
    ctx.throw_if_stopped();
    const std::int64_t end = std::min(data.size(), begin + batch_size);
    gather_batch(data, order, begin, end, x, labels);
    model.forward(x, out, Mode::eval, 0, k);
    std::copy(out.values().begin(), out.values().end(), features.values().begin() + begin * per);
  }
  return std::make_shared<Dataset>(std::move(features), data.labels(), data.class_names());
}

}  // namespace

void train_model(Model& model, const Dataset& data, const Dataset* validation, const TrainOptions& o,
                 StageContext& ctx) {
  if (data.size() == 0) throw Error(ErrorCode::data_format, "the training dataset is empty");
  const PrecisionScope precision(o.precision);
  // With augmentation the model takes the transformed samples (checked below), else the data's.
  if (o.augment.empty() && data.sample_shape() != model.input_shape())
    throw Error(ErrorCode::data_format, "the model takes samples of shape " + to_string(model.input_shape()) +
                                            ", the training data has " + to_string(data.sample_shape()));
  if (model.output_shape().size() != 1 || model.output_shape()[0] < data.num_classes())
    throw Error(ErrorCode::data_format, "the model has outputs " + to_string(model.output_shape()) + " for " +
                                            std::to_string(data.num_classes()) + " classes");

  if (!o.optimizer.info.create) throw Error(ErrorCode::internal, "no optimizer chosen");
  std::unique_ptr<Optimizer> optimizer = o.optimizer.create();
  std::vector<Parameter*> params;
  // Every parameter of every module, with the rate scale of its path ("layer4.*": 0.1).
  for (const auto& m : model.modules())
    for (auto& p : m.layer->parameters()) {
      params.push_back(&p);
      optimizer->add(&p, lr_scale_for(m.path, o));
    }
  // Gradual unfreezing: the frozen top-level layers (or blocks) with parameters, from the top down.
  std::vector<std::size_t> to_unfreeze;
  if (o.unfreeze_every > 0)
    for (std::size_t i = model.size(); i-- > 0;)
      if (model.layer(i).has_parameters() && !model.layer(i).has_trainable_parameters()) to_unfreeze.push_back(i);
  auto unfreeze = [&](Layer& top) {
    visit_layers(top, top.name(), 0, [](const std::string&, Layer& layer, int) {
      for (auto& p : layer.parameters()) p.trainable = !p.buffer;
    });
  };
  if (model.first_trainable() == model.size() && to_unfreeze.empty())
    throw Error(ErrorCode::config_schema, "every parameter of the model is frozen: nothing to train");
  const std::int64_t per_epoch = (data.size() + o.batch_size - 1) / o.batch_size;
  const std::int64_t total = o.steps > 0 ? o.steps : per_epoch * o.epochs;
  const std::int64_t epochs = (total + per_epoch - 1) / per_epoch;
  Schedule schedule = o.schedule;
  schedule.total_steps = total;
  schedule.steps_per_epoch = per_epoch;

  Rng rng(ctx.seed());
  const std::vector<std::int64_t> counts = class_counts(data, model.output_shape()[0]);
  const LossOptions loss = loss_options_for(o, counts);
  if (!o.class_weighting.empty()) {
    Value weights = Value::list();
    for (float w : loss.class_weights) weights.push_back(Value::real(w));
    ctx.metric("class_weights", weights);  // as derived from the counts, for the record
  }
  CrossEntropy ce(loss);
  // Validation scores the plain logits: logit adjustment shapes training only.
  LossOptions validation_loss = loss;
  validation_loss.logit_offsets.clear();
  const EpochSampler sampler(o.sampler, data, counts);
  std::vector<std::int64_t> order(static_cast<std::size_t>(data.size()));
  Tensor x, logits, grad;
  std::vector<std::int32_t> labels;
  Value epoch_metrics = Value::list();
  Value epoch_timings = Value::list();
  std::int64_t step = 0;
  double seconds_total = 0;
  std::shared_ptr<Dataset> features;  // outputs of the cached prefix, when there is one
  std::size_t cached = 0;             // the layer the cached features feed
  if (!o.augment.empty()) {
    const Shape augmented = o.augment.output_shape(data.sample_shape());
    if (augmented != model.input_shape())
      throw Error(ErrorCode::data_format, "augmentation turns samples of " + to_string(data.sample_shape()) + " into " +
                                              to_string(augmented) + ", but the model takes " + to_string(model.input_shape()));
    if (o.cache_features && cacheable_prefix(model) > 0)
      ctx.log("augmentation changes the inputs every epoch: the frozen layers' outputs are not cached");
  }
  Tensor augmented;
  // FedProx: the weights training started from, and the gradient of (mu / 2) ||w - w_start||^2.
  std::vector<Tensor> start;
  if (o.proximal_mu > 0)
    for (const Parameter* p : params) start.push_back(p->value);
  auto add_proximal_gradient = [&] {
    for (std::size_t i = 0; i < start.size(); ++i) {
      Parameter& p = *params[i];
      if (!p.trainable || p.grad.numel() != p.value.numel()) continue;
      const float mu = static_cast<float>(o.proximal_mu);
      for (std::int64_t j = 0; j < p.value.numel(); ++j) p.grad.data()[j] += mu * (p.value.data()[j] - start[i].data()[j]);
    }
  };
  auto refresh_cache = [&] {
    const std::size_t k = o.cache_features && o.augment.empty() ? cacheable_prefix(model) : 0;
    if (k == cached) return;
    cached = k;
    features = k ? prefix_features(model, k, data, o.eval_batch_size, ctx) : nullptr;
    if (k) ctx.log("caching the outputs of the frozen layers before '" + model.layer(k).name() + "'");
  };
  if (model.first_trainable() == model.size()) {  // gradual unfreezing starts from a frozen model
    unfreeze(model.layer(to_unfreeze.front()));
    to_unfreeze.erase(to_unfreeze.begin());
  }
  refresh_cache();
  for (std::int64_t epoch = 0; epoch < epochs && step < total; ++epoch) {
    if (o.unfreeze_every > 0 && epoch > 0 && epoch % o.unfreeze_every == 0 && !to_unfreeze.empty()) {
      Layer& layer = model.layer(to_unfreeze.front());
      unfreeze(layer);
      to_unfreeze.erase(to_unfreeze.begin());
      ctx.log("epoch " + std::to_string(epoch + 1) + ": unfreezing layer '" + layer.name() + "'");
      refresh_cache();
    }
    const Dataset& source = features ? *features : data;
    if (o.sampler == "uniform") {
      std::iota(order.begin(), order.end(), 0);
      if (o.shuffle) rng.shuffle(order);
    } else {
      sampler.draw(rng, order);
    }
    Value drawn_per_class;  // what the sampler drew this epoch, per class
    if (o.sampler != "uniform") {
      std::vector<std::int64_t> drawn(counts.size(), 0);
      for (auto i : order) ++drawn[static_cast<std::size_t>(data.labels()[static_cast<std::size_t>(i)])];
      drawn_per_class = Value::list();
      for (auto n : drawn) drawn_per_class.push_back(Value::integer(n));
    }
    // Each epoch's augmentation draws from its own stream: the same stage seed and epoch give the
    // same transforms, whatever happened before.
    Rng augment_rng(derive_seed(ctx.seed(), "augment:epoch" + std::to_string(epoch)));
    const auto start = std::chrono::steady_clock::now();
    const double epoch_lr = schedule.at(step);  // the learning rate the epoch starts with
    double loss_sum = 0;
    std::int64_t correct = 0, seen = 0;
    for (std::int64_t begin = 0; begin < data.size() && step < total; begin += o.batch_size, ++step) {
      ctx.throw_if_stopped();
      const std::int64_t end = std::min(data.size(), begin + o.batch_size);
      gather_batch(source, order, begin, end, x, labels);
      const Tensor* input = &x;
      if (!o.augment.empty()) {
        o.augment.apply(x, augmented, augment_rng);
        input = &augmented;
      }
      model.forward(*input, logits, Mode::train, cached);
      const double loss = ce(logits, labels.data(), &grad);
      if (!std::isfinite(loss))
        throw Error(ErrorCode::stage_failed, "the loss diverged (" + std::to_string(loss) + ") at epoch " +
                                                 std::to_string(epoch + 1) + ", step " + std::to_string(step + 1) +
                                                 "; lower the learning rate or clip gradients");
      model.backward(grad);
      if (o.proximal_mu > 0) add_proximal_gradient();
      if (o.clip_norm > 0) clip_grad_norm(params, o.clip_norm);
      optimizer->step(schedule.at(step));

      const std::int64_t b = end - begin, classes = logits.dim(1);
      loss_sum += loss * static_cast<double>(b);
      for (std::int64_t i = 0; i < b; ++i) {
        const float* row = logits.data() + i * classes;
        correct += (std::max_element(row, row + classes) - row) == labels[static_cast<std::size_t>(i)];
      }
      seen += b;
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      // The time left, at the pace of the steps so far (all epochs take the same steps).
      const double eta = (seconds_total + secs) / static_cast<double>(step + 1) * static_cast<double>(total - step - 1);
      char status[192];
      std::snprintf(status, sizeof status, "epoch %lld/%lld step %lld/%lld loss %.4f acc %.4f %.0f samples/s ETA %s",
                    static_cast<long long>(epoch + 1), static_cast<long long>(epochs),
                    static_cast<long long>(begin / o.batch_size + 1), static_cast<long long>(per_epoch),
                    loss_sum / static_cast<double>(seen), static_cast<double>(correct) / static_cast<double>(seen),
                    static_cast<double>(seen) / std::max(secs, 1e-9), format_duration(eta).c_str());
      ctx.progress(status);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    seconds_total += secs;
    Value m = Value::map();
    m.set("epoch", Value::integer(epoch + 1));
    m.set("loss", Value::real(loss_sum / static_cast<double>(seen)));
    m.set("accuracy", Value::real(static_cast<double>(correct) / static_cast<double>(seen)));
    m.set("lr", Value::real(epoch_lr));
    if (!drawn_per_class.is_null()) m.set("samples_per_class", drawn_per_class);
    std::string line = "epoch " + std::to_string(epoch + 1) + ": loss " + std::to_string(loss_sum / seen) +
                       ", accuracy " + std::to_string(static_cast<double>(correct) / seen);
    if (validation) {
      const Evaluation v = evaluate(model, *validation, o.eval_batch_size, validation_loss, &ctx);
      m.set("validation_loss", Value::real(v.loss));
      m.set("validation_accuracy", Value::real(v.accuracy));
      line += ", validation loss " + std::to_string(v.loss) + ", accuracy " + std::to_string(v.accuracy);
    }
    char rate[64];
    std::snprintf(rate, sizeof rate, ", %.0f samples/s", static_cast<double>(seen) / std::max(secs, 1e-9));
    ctx.log(line + rate);
    epoch_metrics.push_back(m);
    Value t = Value::map();
    t.set("seconds", Value::real(secs));
    t.set("samples_per_second", Value::real(static_cast<double>(seen) / std::max(secs, 1e-9)));
    epoch_timings.push_back(t);
  }
  ctx.metric("epochs", epoch_metrics);
  ctx.metric("steps", Value::integer(step));
  ctx.metric("cached_features", Value::boolean(cached > 0));
  ctx.timing("epochs", epoch_timings);
  ctx.timing("train_seconds", Value::real(seconds_total));
  // The time of the latest training (e.g. the finetuning, not the pretraining before it).
  model.notes().set("train_seconds", Value::real(seconds_total));
  // How much data the latest training saw: fedavg weights each client by it.
  model.notes().set("train_samples", Value::integer(data.size()));
}

void TrainingStage::run(StageContext& ctx) {
  std::shared_ptr<Model> model = ctx.input_as<Model>("model")->clone();  // the input stays as it was
  auto data = ctx.input_as<Dataset>("data");
  std::shared_ptr<const Dataset> validation;
  if (ctx.has_input("validation")) validation = ctx.input_as<Dataset>("validation");
  train_model(*model, *data, validation.get(), options_, ctx);
  ctx.set_output("model", std::shared_ptr<const Model>(model));
}

StageInfo training_stage_info(const std::string& name, double default_lr) {
  StageInfo info;
  info.name = name;
  info.compute = true;
  info.inputs = {{"model", "model", "the model to train (left unchanged; a trained copy is output)"},
                 {"data", "dataset", "training samples"},
                 {"validation", "dataset", "scored after every epoch", true}};
  info.outputs = {{"model", "model", "the trained model"}};
  info.params = training_params(default_lr);
  info.check = check_training_params;
  return info;
}

}  // namespace pipeline::train
