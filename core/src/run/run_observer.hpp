// What a scheduler tells about a run as it goes: the seam between executing stages and showing or
// recording it (the Reporter on stderr today; a report or a cluster's log later). Every scheduler
// drives the same calls, from any thread.
#pragma once

#include <string>

namespace pipeline {

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void stage_started(const std::string& id, const std::string& type) = 0;
  // status: "done", "cached", "skipped", "cancelled" or a located "FILE:L:C: error: ..." line.
  virtual void stage_finished(const std::string& id, const std::string& status, double seconds,
                              const std::string& message = {}) = 0;
  virtual void progress(const std::string& id, const std::string& status) = 0;
  virtual void log(const std::string& id, const std::string& text) = 0;
  // Something the user should know even when quiet (a corrupt cache entry, a result not cached).
  virtual void warning(const std::string& id, const std::string& text) { log(id, text); }
};

}  // namespace pipeline
