// Learning-rate schedules as functions of the optimizer step, as PyTorch's StepLR (by epoch),
// CosineAnnealingLR and OneCycleLR (cosine, no momentum cycling).
#pragma once

#include <cstdint>
#include <string>

namespace pipeline::train {

struct Schedule {
  std::string kind = "constant";  // constant, step, cosine, one_cycle
  double lr = 0.01;
  std::int64_t total_steps = 1, steps_per_epoch = 1;
  std::int64_t step_epochs = 1;  // step: decay every this many epochs
  double gamma = 0.1;            // step: decay factor
  double min_lr = 0;             // cosine: floor
  double pct_start = 0.3;        // one_cycle: share of steps spent warming up
  double div_factor = 25, final_div_factor = 1e4;

  // The learning rate for optimizer step `step` (0-based).
  double at(std::int64_t step) const;
};

}  // namespace pipeline::train
