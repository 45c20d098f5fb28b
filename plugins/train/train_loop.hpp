// The training loop shared by `train` and (later) `finetune`: minibatch SGD-family training of a
// Model on a Dataset with a schedule, clipping, an optional validation set, and per-epoch metrics.
#pragma once

#include <cstdint>
#include <string>

#include "loss.hpp"
#include "augmentation.hpp"
#include "optimizer.hpp"
#include "pipeline/dataset.hpp"
#include "pipeline/model.hpp"
#include "pipeline/params.hpp"
#include "pipeline/precision.hpp"
#include "pipeline/stage.hpp"
#include "schedule.hpp"

namespace pipeline::train {

struct TrainOptions {
  std::int64_t epochs = 1;
  std::int64_t steps = 0;  // > 0: stop after this many steps (overrides epochs)
  std::int64_t batch_size = 64;
  bool shuffle = true;
  double clip_norm = 0;
  LossOptions loss;
  std::string class_weighting;  // "balanced" or "effective_number": loss.class_weights from the counts
  double effective_number_beta = 0.999;
  double logit_adjustment = 0;  // tau: loss.logit_offsets = tau log(prior)
  std::string sampler = "uniform";  // uniform, class_balanced, sqrt
  OptimizerChoice optimizer = builtin_optimizer("sgd");
  Schedule schedule;
  std::int64_t eval_batch_size = 256;
  // Transfer controls (finetune):
  std::vector<std::pair<std::string, double>> lr_multipliers;  // layer-name glob → lr scale; first match
  std::int64_t unfreeze_every = 0;  // > 0: unfreeze one more layer (from the top) every N epochs
  bool cache_features = true;       // train a trainable suffix on cached outputs of a frozen prefix
  double proximal_mu = 0;           // FedProx: (mu / 2) ||w - w_start||^2 added to the loss
  data::Augmentation augment;       // transforms of every training sample, drawn anew each epoch
  Precision precision = Precision::f32;  // of every forward and backward pass, validation included
};

// The training parameters every training stage shares, and reading them back.
std::vector<ParamSpec> training_params(double default_lr);
TrainOptions training_options(const Params& params);
// finetune's additions: lr_multipliers, unfreeze_every, cache_features.
std::vector<ParamSpec> transfer_params();
void read_transfer_options(const Params& params, TrainOptions& options);
// Checks across training parameters, before the run (the optimizer and its parameters).
void check_training_params(const Params& params, Diagnostics& diagnostics);

// Trains `model` in place. Reports progress and per-epoch metrics ("epochs": [{loss, accuracy,
// validation_loss, validation_accuracy}]) and throughput timings through `ctx`; shuffling is
// seeded from ctx.seed(). When the trainable layers are a suffix behind a frozen prefix whose
// layers behave the same in training and evaluation, the prefix runs once per sample and the
// suffix trains on its cached outputs (options.cache_features).
void train_model(Model& model, const Dataset& data, const Dataset* validation, const TrainOptions& options,
                 StageContext& ctx);

// The stage behind `train` and `finetune`: inputs model, data and an optional validation set;
// outputs the trained copy of the model.
class TrainingStage : public Stage {
 public:
  explicit TrainingStage(TrainOptions options) : options_(std::move(options)) {}
  void run(StageContext& ctx) override;

 private:
  TrainOptions options_;
};

// Ports and parameters of such a stage; `create` and `doc` are the caller's.
StageInfo training_stage_info(const std::string& name, double default_lr);

}  // namespace pipeline::train
