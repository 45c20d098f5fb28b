#include "pipeline/error.hpp"

namespace pipeline {

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::config_syntax: return "config_syntax";
    case ErrorCode::config_schema: return "config_schema";
    case ErrorCode::unknown_plugin: return "unknown_plugin";
    case ErrorCode::graph_cycle: return "graph_cycle";
    case ErrorCode::missing_input: return "missing_input";
    case ErrorCode::plugin_load: return "plugin_load";
    case ErrorCode::plugin_abi: return "plugin_abi";
    case ErrorCode::stage_failed: return "stage_failed";
    case ErrorCode::cancelled: return "cancelled";
    case ErrorCode::io: return "io";
    case ErrorCode::data_format: return "data_format";
    case ErrorCode::usage: return "usage";
    case ErrorCode::internal: return "internal";
  }
  return "unknown";
}

std::string Location::str() const {
  if (file.empty()) return {};
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column > 0 ? column : 1);
}

Error::Error(ErrorCode code, std::string message, Location where, std::string detail)
    : std::runtime_error(message),
      code_(code),
      message_(std::move(message)),
      location_(std::move(where)),
      detail_(std::move(detail)) {}

Error::~Error() = default;

Error& Error::set_stage(std::string stage_id) {
  stage_ = std::move(stage_id);
  return *this;
}

Error& Error::set_location(Location where) {
  location_ = std::move(where);
  return *this;
}

std::string Error::formatted() const {
  std::string where = location_.str();
  return (where.empty() ? "" : where + ": ") + "error: " + message_;
}

void throw_data_format(const std::string& file, const std::string& what) {
  throw Error(ErrorCode::data_format, file + ": " + what);
}

}  // namespace pipeline
