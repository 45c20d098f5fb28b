// Graphviz DOT of a plan: a node per stage (id and type), an edge per input labelled with ports.
#pragma once

#include <string>

#include "plan/plan.hpp"

namespace pipeline {

std::string to_dot(const Plan& plan);

}  // namespace pipeline
