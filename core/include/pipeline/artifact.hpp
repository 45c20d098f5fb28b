// Artifact: what flows along an edge of the DAG. Each has a type name that ports declare, so the
// core can check connections before running.
#pragma once

#include <memory>
#include <string>

namespace pipeline {

class Artifact {
 public:
  virtual ~Artifact();
  // The port type this artifact satisfies, e.g. "dataset" or "model".
  virtual std::string type() const = 0;
  // One line for logs: "dataset 30000 x [1, 28, 28], 5 classes".
  virtual std::string summary() const;
};

using ArtifactPtr = std::shared_ptr<const Artifact>;

}  // namespace pipeline
