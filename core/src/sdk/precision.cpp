#include "pipeline/precision.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>

#include "pipeline/error.hpp"

namespace pipeline {
namespace {
thread_local Precision current = Precision::f32;
}

Precision compute_precision() { return current; }

const char* to_string(Precision precision) { return precision == Precision::bf16 ? "bf16" : "f32"; }

Precision parse_precision(const std::string& name) {
  if (name == "f32") return Precision::f32;
  if (name == "bf16") return Precision::bf16;
  throw Error(ErrorCode::config_schema, "precision must be f32 or bf16, gets '" + name + "'");
}

float round_to_bf16(float x) {
  if (std::isnan(x)) return x;
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  bits += 0x7fffu + ((bits >> 16) & 1u);  // to nearest, ties to even (overflow rounds to infinity)
  bits &= 0xffff0000u;
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

ParamSpec precision_param() {
  return param_enum("precision",
                    "number format of the convolutions and linear layers: f32, or bf16 with f32 master weights, "
                    "optimizer state, statistics and loss (as torch.autocast); other layers compute in f32",
                    {"f32", "bf16"}, std::string("f32"));
}

PrecisionScope::PrecisionScope(Precision precision) : previous_(current) { current = precision; }
PrecisionScope::~PrecisionScope() { current = previous_; }

}  // namespace pipeline
