// The core's parameter checks, for plugins that validate nested parameters themselves (a model's
// `layers:` list is checked against each layer type's schema this way).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "pipeline/params.hpp"
#include "pipeline/stage.hpp"

namespace pipeline {

// `given` is a map (or null); `context` names the owner in messages, e.g. "layer 'fc1' (linear)";
// `where` locates the owner when a required parameter is missing. Problems go to `diagnostics`.
Params check_params(const std::vector<ParamSpec>& schema, const Value& given,
                    const std::string& context, const Location& where,
                    const std::filesystem::path& base_dir, Diagnostics& diagnostics);

// Checks one value against a spec; returns it converted to the declared type (ints to floats,
// scalars to strings, paths resolved), or null after reporting a problem.
Value check_value(const ParamSpec& spec, const Value& value, const std::string& context,
                  const std::filesystem::path& base_dir, Diagnostics& diagnostics);

// Diagnostics that throw the first error (for checks at run time, where there is nobody to
// collect them).
class ThrowingDiagnostics : public Diagnostics {
 public:
  void error(const Location& where, const std::string& message) override;
};

// Passes problems on to another Diagnostics and counts them, so a check can tell whether the
// part it just checked was clean.
class CountingDiagnostics : public Diagnostics {
 public:
  explicit CountingDiagnostics(Diagnostics& inner) : inner_(inner) {}
  void error(const Location& where, const std::string& message) override;
  int errors() const { return errors_; }

 private:
  Diagnostics& inner_;
  int errors_ = 0;
};

// The closest candidate within a small edit distance, or "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace pipeline
