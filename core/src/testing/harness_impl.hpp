// The Harness's state, shared by its conformance checks (one file each).
#pragma once

#include "pipeline/testing.hpp"
#include "plugin/plugin_set.hpp"

namespace pipeline::testing {

struct Harness::Impl {
  PluginSet plugins;
};

}  // namespace pipeline::testing
