// Reporter: what the user sees on stderr while a run goes on. A line per stage start and end with
// wall time; progress from stages updates in place on a terminal and as rate-limited plain lines
// otherwise (CI logs). Quiet keeps only what went wrong (failed, skipped, cancelled stages and
// line()); results go to stdout, not through here.
#pragma once

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>

#include "run/run_observer.hpp"

namespace pipeline {

class Reporter : public RunObserver {
 public:
  // `interactive`: update progress in place (a terminal that is not CI).
  Reporter(std::FILE* out, bool interactive, bool quiet = false);
  static Reporter for_stderr(bool quiet = false);

  void stage_started(const std::string& id, const std::string& type) override;
  void stage_finished(const std::string& id, const std::string& status, double seconds,
                      const std::string& message = {}) override;
  void progress(const std::string& id, const std::string& status) override;
  void log(const std::string& id, const std::string& text) override;
  void warning(const std::string& id, const std::string& text) override;  // shown when quiet too
  void line(const std::string& text);  // a plain line, not tied to a stage, shown even when quiet
  void info(const std::string& text);  // a plain line that quiet leaves out

 private:
  void print_permanent(const std::string& text);  // under the lock
  std::FILE* out_;
  bool interactive_;
  bool quiet_;
  std::mutex mutex_;
  bool status_shown_ = false;
  std::map<std::string, std::chrono::steady_clock::time_point> last_progress_;
};

}  // namespace pipeline
