// active_select: one round of pool-based active learning. Scores the unlabelled pool with the
// model trained on the labelled set, picks a batch (random, least confidence, margin, entropy,
// or k-center greedy on the model's penultimate embeddings), and moves it with its labels from
// the pool to the labelled set.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "active_stages.hpp"
#include "pipeline/sdk.hpp"
#include "selection.hpp"

namespace pipeline::active {
namespace {

// The model's outputs for every sample, [n, width], in eval mode; layers [0, end).
std::vector<float> model_outputs(Model& model, const Dataset& data, std::size_t end, std::int64_t batch_size,
                                 std::int64_t& width, StageContext& ctx) {
  std::vector<float> out;
  width = 0;
  const std::int64_t numel = data.sample_numel();
  Tensor x, y;
  for (std::int64_t begin = 0; begin < data.size(); begin += batch_size) {
    ctx.throw_if_stopped();
    const std::int64_t b = std::min(batch_size, data.size() - begin);
    Shape shape = data.sample_shape();
    shape.insert(shape.begin(), b);
    x = Tensor(shape, std::vector<float>(data.sample(begin), data.sample(begin) + b * numel));
    const Tensor* result = &x;
    if (end > 0) {
      model.forward(x, y, Mode::eval, 0, end);
      result = &y;
    }
    width = result->numel() / b;
    out.insert(out.end(), result->data(), result->data() + result->numel());
  }
  return out;
}

void softmax_rows(std::vector<float>& logits, std::int64_t classes) {
  const std::size_t c = static_cast<std::size_t>(classes);
  for (std::size_t i = 0; c && i < logits.size() / c; ++i) {
    float* row = logits.data() + i * c;
    const float top = *std::max_element(row, row + c);
    double sum = 0;
    for (std::size_t j = 0; j < c; ++j) sum += (row[j] = std::exp(row[j] - top));
    for (std::size_t j = 0; j < c; ++j) row[j] = static_cast<float>(row[j] / sum);
  }
}

// `labelled`, then the pool samples `picked` in the order they were picked.
Dataset with_samples(const Dataset& labelled, const Dataset& pool, const std::vector<std::int64_t>& picked) {
  const std::int64_t numel = pool.sample_numel();
  std::vector<float> features(labelled.features().data(), labelled.features().data() + labelled.features().numel());
  std::vector<std::int32_t> labels = labelled.labels();
  for (auto i : picked) {
    features.insert(features.end(), pool.sample(i), pool.sample(i) + numel);
    labels.push_back(pool.labels()[static_cast<std::size_t>(i)]);
  }
  Shape shape = pool.sample_shape();
  shape.insert(shape.begin(), static_cast<std::int64_t>(labels.size()));
  return Dataset(Tensor(shape, std::move(features)), std::move(labels), pool.class_names());
}

class ActiveSelect : public Stage {
 public:
  explicit ActiveSelect(const Params& p) : params_(p) {}

  void run(StageContext& ctx) override {
    auto labelled = ctx.input_as<Dataset>("labelled");
    auto pool = ctx.input_as<Dataset>("pool");
    const std::string strategy = params_.get_string("strategy");
    const std::int64_t batch = params_.get_int("batch");
    check_inputs(*labelled, *pool, batch);

    std::vector<std::int64_t> picked;
    std::vector<double> scores;
    if (strategy == "random") {
      Rng rng(ctx.seed());
      std::vector<std::int64_t> all(static_cast<std::size_t>(pool->size()));
      for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i);
      rng.shuffle(all);
      picked.assign(all.begin(), all.begin() + batch);
    } else {
      std::shared_ptr<Model> model = ctx.input_as<Model>("model")->clone();
      if (model->input_shape() != pool->sample_shape())
        throw Error(ErrorCode::data_format, "the model takes samples of shape " + to_string(model->input_shape()) +
                                                ", the pool has " + to_string(pool->sample_shape()));
      const std::int64_t eval_batch = params_.get_int("eval_batch_size");
      std::int64_t width = 0;
      if (strategy == "k_center") {
        // The embedding: the input of the model's last layer (for a one-layer head on cached
        // backbone features, the features themselves).
        const std::size_t end = model->size() - 1;
        const auto pool_emb = model_outputs(*model, *pool, end, eval_batch, width, ctx);
        const auto labelled_emb = model_outputs(*model, *labelled, end, eval_batch, width, ctx);
        picked = k_center_greedy(pool_emb, labelled_emb, width, batch);
      } else {
        auto probabilities = model_outputs(*model, *pool, model->size(), eval_batch, width, ctx);
        softmax_rows(probabilities, width);
        scores = uncertainty_scores(probabilities, width, strategy);
        picked = top_k(scores, batch);
      }
    }
    report(ctx, *labelled, *pool, picked, scores, strategy);

    std::vector<bool> taken(static_cast<std::size_t>(pool->size()), false);
    for (auto i : picked) taken[static_cast<std::size_t>(i)] = true;
    std::vector<std::int64_t> rest;
    for (std::size_t i = 0; i < taken.size(); ++i)
      if (!taken[i]) rest.push_back(static_cast<std::int64_t>(i));
    ctx.set_output("labelled", std::make_shared<Dataset>(with_samples(*labelled, *pool, picked)));
    ctx.set_output("pool", std::make_shared<Dataset>(pool->subset(rest)));
    ctx.set_output("selected", std::make_shared<Dataset>(pool->subset(picked)));
  }

 private:
  static void check_inputs(const Dataset& labelled, const Dataset& pool, std::int64_t batch) {
    if (batch > pool.size())
      throw Error(ErrorCode::data_format, "batch " + std::to_string(batch) + " is larger than the pool, which holds " +
                                              std::to_string(pool.size()) + " samples");
    if (labelled.size() > 0 && labelled.sample_shape() != pool.sample_shape())
      throw Error(ErrorCode::data_format, "the labelled samples have shape " + to_string(labelled.sample_shape()) +
                                              ", the pool's " + to_string(pool.sample_shape()));
    if (labelled.size() > 0 && labelled.class_names() != pool.class_names())
      throw Error(ErrorCode::data_format, "the labelled set and the pool have different classes");
  }

  static void report(StageContext& ctx, const Dataset& labelled, const Dataset& pool,
                     const std::vector<std::int64_t>& picked, const std::vector<double>& scores,
                     const std::string& strategy) {
    std::vector<std::int64_t> per_class(static_cast<std::size_t>(pool.num_classes()), 0);
    double score_sum = 0;
    for (auto i : picked) {
      ++per_class[static_cast<std::size_t>(pool.labels()[static_cast<std::size_t>(i)])];
      if (!scores.empty()) score_sum += scores[static_cast<std::size_t>(i)];
    }
    Value classes = Value::list();
    for (auto n : per_class) classes.push_back(Value::integer(n));
    const std::int64_t now = labelled.size() + static_cast<std::int64_t>(picked.size());
    ctx.log(strategy + ": picked " + std::to_string(picked.size()) + " of " + std::to_string(pool.size()) +
            " pool samples, per class " + classes.str() + "; " + std::to_string(now) + " labelled now");
    ctx.metric("selected", Value::integer(static_cast<std::int64_t>(picked.size())));
    ctx.metric("selected_per_class", classes);
    ctx.metric("labelled", Value::integer(now));
    ctx.metric("pool", Value::integer(pool.size() - static_cast<std::int64_t>(picked.size())));
    if (!scores.empty() && !picked.empty())
      ctx.metric("mean_score", Value::real(score_sum / static_cast<double>(picked.size())));
  }

  Params params_;
};

}  // namespace

StageInfo active_select_stage() {
  StageInfo info;
  info.name = "active_select";
  info.doc = "score the unlabelled pool with a model and move a batch, with its labels, to the labelled set";
  info.inputs = {{"model", "model", "the model trained on the labelled set (strategy random ignores it)"},
                 {"labelled", "dataset", "the labelled samples so far"},
                 {"pool", "dataset", "the unlabelled pool"}};
  info.outputs = {{"labelled", "dataset", "the labelled samples, then the picked ones in the order they were picked"},
                  {"pool", "dataset", "the pool without the picked samples, in its order"},
                  {"selected", "dataset", "the picked samples"}};
  info.params = {
      param_enum("strategy",
                 "random: uniformly, with the stage's seed; least_confidence: lowest top probability; margin: smallest "
                 "gap between the top two; entropy: highest entropy of the prediction; k_center: k-center greedy "
                 "(Sener & Savarese 2018) on the input of the model's last layer, the labelled samples the first centers",
                 {"random", "least_confidence", "margin", "entropy", "k_center"}),
      param_int("batch", "samples picked this round").range(1, 1e9),
      param_int("eval_batch_size", "samples per forward pass when scoring", 256).range(1, 1 << 20),
  };
  info.create = [](const Params& p) { return std::make_unique<ActiveSelect>(p); };
  info.uses_seed = [](const Params& p) { return p.get_string("strategy") == "random"; };
  info.examples = {parse_value("{strategy: random, batch: 1}"), parse_value("{strategy: entropy, batch: 1}"),
                   parse_value("{strategy: k_center, batch: 1}")};
  return info;
}

}  // namespace pipeline::active
