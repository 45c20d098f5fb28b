// Everything a plugin needs, in one include.
#pragma once

#include "pipeline/artifact.hpp"
#include "pipeline/dataset.hpp"
#include "pipeline/error.hpp"
#include "pipeline/io.hpp"
#include "pipeline/layer.hpp"
#include "pipeline/metrics.hpp"
#include "pipeline/model.hpp"
#include "pipeline/params.hpp"
#include "pipeline/plugin.hpp"
#include "pipeline/rng.hpp"
#include "pipeline/safetensors.hpp"
#include "pipeline/stage.hpp"
#include "pipeline/tensor.hpp"
#include "pipeline/value.hpp"
#include "pipeline/version.hpp"
