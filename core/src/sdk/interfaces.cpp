// Out-of-line destructors: the vtables of the SDK's interfaces live in the core library, so a
// plugin and the core agree on them (and on their typeinfo for dynamic_cast) across the boundary.
#include <string>

#include "pipeline/artifact.hpp"
#include "pipeline/rng.hpp"
#include "pipeline/plugin.hpp"
#include "pipeline/stage.hpp"

namespace pipeline {

Artifact::~Artifact() = default;
std::string Artifact::summary() const { return type(); }
Diagnostics::~Diagnostics() = default;
StageContext::~StageContext() = default;
Stage::~Stage() = default;
Registry::~Registry() = default;

void StageContext::throw_if_stopped() const {
  if (stop_requested()) throw Error(ErrorCode::cancelled, "interrupted");
}

void StageContext::result(std::string_view text) { log(text); }
std::uint64_t StageContext::shared_seed(std::string_view name) const {
  return derive_seed(seed(), "shared:" + std::string(name));
}

}  // namespace pipeline
