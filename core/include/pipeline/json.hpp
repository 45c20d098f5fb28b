// The one JSON writer and reader for Values: metrics, run records, cache manifests and model
// descriptions all go through it, so every file spells numbers the same way.
#pragma once

#include <string>
#include <string_view>

#include "pipeline/value.hpp"

namespace pipeline {

// JSON text of a Value; indent < 0 writes one line. Reals are written with the shortest text that
// reads back to the same double (an integral real keeps a ".0"). JSON has no NaN or infinity: a
// non-finite real is written as the string "nan", "inf" or "-inf".
std::string to_json(const Value& value, int indent = -1);

// Parses JSON text; throws Error(data_format) naming `what` (e.g. a file) when it is not JSON or
// nests deeper than 512 levels.
Value parse_json(std::string_view text, const std::string& what = "JSON text");

}  // namespace pipeline
