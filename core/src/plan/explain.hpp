// `pipeline explain`: for each stage instance, whether it will run or come from the cache, and
// if it will run, what changed since the closest cached run of the same stage.
#pragma once

#include <string>

#include "plan/sweep.hpp"
#include "run/cache.hpp"

namespace pipeline {

std::string explain(const SweepPlan& sweep, const Cache* cache);

}  // namespace pipeline
