// Errors: one type for everything a user can be told, with a code, an optional location in a config
// file, the stage it happened in, a message for the user and a detail for developers.
#pragma once

#include <stdexcept>
#include <string>

namespace pipeline {

enum class ErrorCode {
  config_syntax,   // the YAML itself is malformed
  config_schema,   // well-formed YAML that does not fit the schema
  unknown_plugin,  // a stage names a stage type no plugin registers
  graph_cycle,
  missing_input,
  plugin_load,     // a plugin file could not be loaded
  plugin_abi,      // a plugin was built for another API version or toolchain
  stage_failed,
  cancelled,       // the run was interrupted (SIGINT)
  io,
  data_format,     // an input file's content is not what its format promises
  usage,           // bad command line
  internal,
};

const char* to_string(ErrorCode code);

// A position in a config file; line and column are 1-based, 0 means unknown.
struct Location {
  std::string file;
  int line = 0;
  int column = 0;

  bool known() const { return !file.empty(); }
  // "file:line:col", "file" when no line is known, "" when nothing is.
  std::string str() const;
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message, Location where = {}, std::string detail = {});
  ~Error() override;

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const Location& location() const { return location_; }
  const std::string& detail() const { return detail_; }
  const std::string& stage() const { return stage_; }
  Error& set_stage(std::string stage_id);
  Error& set_location(Location where);

  // "file:line:col: error: message", as compilers print it.
  std::string formatted() const;

 private:
  ErrorCode code_;
  std::string message_;
  Location location_;
  std::string detail_;
  std::string stage_;
};

// Convenience for plugin code: throw Error(data_format, ...) with a file name in front.
[[noreturn]] void throw_data_format(const std::string& file, const std::string& what);

}  // namespace pipeline
