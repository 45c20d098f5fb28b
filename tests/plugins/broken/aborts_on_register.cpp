// A plugin whose register function aborts (a failed assertion in a third party's code).
#include <cstdlib>

#include "pipeline/plugin.hpp"

namespace {
void register_aborts(pipeline::Registry&) { std::abort(); }
}  // namespace

PIPELINE_PLUGIN("aborts_on_register", "1.0", register_aborts)
