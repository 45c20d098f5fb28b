#include "schedule.hpp"

#include <algorithm>
#include <cmath>

namespace pipeline::train {

double Schedule::at(std::int64_t step) const {
  if (kind == "step") {
    const std::int64_t epoch = step / std::max<std::int64_t>(1, steps_per_epoch);
    return lr * std::pow(gamma, static_cast<double>(epoch / std::max<std::int64_t>(1, step_epochs)));
  }
  if (kind == "cosine") {
    const double t = static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, total_steps));
    return min_lr + (lr - min_lr) * (1 + std::cos(M_PI * std::min(1.0, t))) / 2;
  }
  if (kind == "one_cycle") {
    // OneCycleLR (anneal_strategy "cos", three_phase false): warm up from lr/div to lr over
    // pct_start of the steps, then anneal to lr/(div*final_div).
    const double initial = lr / div_factor, final = initial / final_div_factor;
    const double warm_end = pct_start * static_cast<double>(total_steps) - 1;
    const double end = static_cast<double>(total_steps) - 1;
    auto anneal = [](double from, double to, double pct) { return to + (from - to) / 2 * (1 + std::cos(M_PI * pct)); };
    const double s = static_cast<double>(step);
    if (s <= warm_end) return anneal(initial, lr, warm_end > 0 ? s / warm_end : 1.0);
    return anneal(lr, final, end > warm_end ? std::min(1.0, (s - warm_end) / (end - warm_end)) : 1.0);
  }
  return lr;
}

}  // namespace pipeline::train
