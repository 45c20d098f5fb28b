// A plugin whose register function throws.
#include <stdexcept>

#include "pipeline/plugin.hpp"

namespace {
void register_throws(pipeline::Registry&) { throw std::runtime_error("cannot find my model zoo"); }
}  // namespace

PIPELINE_PLUGIN("throws_on_register", "1.0", register_throws)
