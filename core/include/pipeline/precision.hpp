// Compute precision: the number format in which layers run their heavy primitives. As with
// torch.autocast, it belongs to the thread that runs a stage: a stage opens a PrecisionScope around
// its forward and backward passes, layers that can compute in bf16 (convolution, linear) read
// compute_precision() when they pick their primitives, and every other layer computes in f32.
// Whatever the precision, parameters, gradients, optimizer state, running statistics, losses and
// the tensors that pass between layers stay f32 (bf16 "mixed precision" with f32 master weights).
#pragma once

#include <string>

#include "pipeline/params.hpp"

namespace pipeline {

enum class Precision { f32, bf16 };

// The precision set on this thread (f32 unless a PrecisionScope says otherwise).
Precision compute_precision();
const char* to_string(Precision precision);  // "f32", "bf16"
// "f32" or "bf16"; throws Error(config_schema) for anything else.
Precision parse_precision(const std::string& name);

// x rounded to the nearest bfloat16 (ties to even), as oneDNN converts f32 to bf16; NaN stays NaN.
float round_to_bf16(float x);

// The `precision` parameter of the stages that run models (train, finetune, evaluate, embed), so a
// plugin's stage offers the same choice: an enum f32 | bf16, default f32. Being a parameter, it is
// part of the stage's content key: f32 and bf16 results are cached apart.
ParamSpec precision_param();

// Sets this thread's precision until the scope ends, then restores the previous one.
class PrecisionScope {
 public:
  explicit PrecisionScope(Precision precision);
  ~PrecisionScope();
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;

 private:
  Precision previous_;
};

}  // namespace pipeline
