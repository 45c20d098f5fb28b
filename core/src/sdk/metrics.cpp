#include "pipeline/metrics.hpp"

namespace pipeline {

std::string Metrics::summary() const { return "metrics " + values_.str(); }

}  // namespace pipeline
