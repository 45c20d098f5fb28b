// Shell-style patterns for stage ids and group labels in --set (local_*.epochs=1).
#pragma once

#include <string>

namespace pipeline {

// "*" matches any run of characters, "?" one character; nothing else is special.
bool glob_match(const std::string& pattern, const std::string& text);

}  // namespace pipeline
