// Metrics: named results (counts, accuracies, tables) as an artifact, so stages can pass them on to
// reports and comparisons.
#pragma once

#include "pipeline/artifact.hpp"
#include "pipeline/value.hpp"

namespace pipeline {

class Metrics : public Artifact {
 public:
  explicit Metrics(Value values) : values_(std::move(values)) {}
  std::string type() const override { return "metrics"; }
  std::string summary() const override;
  const Value& values() const { return values_; }

 private:
  Value values_;  // a map
};

}  // namespace pipeline
