// The training loop shared by `train` and (later) `finetune`: minibatch SGD-family training of a
// Model on a Dataset with a schedule, clipping, an optional validation set, and per-epoch metrics.
#pragma once

#include <cstdint>
#include <string>

#include "loss.hpp"
#include "optimizer.hpp"
#include "pipeline/dataset.hpp"
#include "pipeline/model.hpp"
#include "pipeline/params.hpp"
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
  OptimizerOptions optimizer;
  Schedule schedule;
  std::int64_t eval_batch_size = 256;
};

// The training parameters every training stage shares, and reading them back.
std::vector<ParamSpec> training_params(double default_lr);
TrainOptions training_options(const Params& params);
// Checks across training parameters, before the run (betas has two values, nesterov needs momentum).
void check_training_params(const Params& params, Diagnostics& diagnostics);

// Trains `model` in place. Reports progress and per-epoch metrics ("epochs": [{loss, accuracy,
// validation_loss, validation_accuracy}]) and throughput timings through `ctx`; shuffling is
// seeded from ctx.seed().
void train_model(Model& model, const Dataset& data, const Dataset* validation, const TrainOptions& options,
                 StageContext& ctx);

}  // namespace pipeline::train
