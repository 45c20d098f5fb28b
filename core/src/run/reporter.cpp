#include "run/reporter.hpp"

#include <unistd.h>

#include <cstdlib>

namespace pipeline {

Reporter::Reporter(std::FILE* out, bool interactive, bool quiet)
    : out_(out), interactive_(interactive), quiet_(quiet) {}

Reporter Reporter::for_stderr(bool quiet) {
  const char* ci = std::getenv("CI");
  const bool in_ci = ci && *ci && std::string(ci) != "0" && std::string(ci) != "false";
  return Reporter(stderr, ::isatty(STDERR_FILENO) && !in_ci, quiet);
}

void Reporter::print_permanent(const std::string& text) {
  if (status_shown_) std::fputs("\r\033[K", out_);
  status_shown_ = false;
  std::fputs(text.c_str(), out_);
  std::fputc('\n', out_);
  std::fflush(out_);
}

void Reporter::stage_started(const std::string& id, const std::string& type) {
  if (quiet_) return;
  std::lock_guard lock(mutex_);
  print_permanent("[" + id + "] start (" + type + ")");
}

void Reporter::stage_finished(const std::string& id, const std::string& status, double seconds,
                              const std::string& message) {
  std::lock_guard lock(mutex_);
  last_progress_.erase(id);
  if (quiet_ && (status == "done" || status == "cached")) return;
  char time[32];
  std::snprintf(time, sizeof time, "%.2fs", seconds);
  print_permanent("[" + id + "] " + status + " in " + time + (message.empty() ? "" : ": " + message));
}

void Reporter::progress(const std::string& id, const std::string& status) {
  if (quiet_) return;
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  auto [it, fresh] = last_progress_.emplace(id, now);
  // Plain lines at most once per second per stage, so CI logs stay readable; a terminal redraws
  // up to ten times a second.
  const auto gap = interactive_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(1000);
  if (!fresh && now - it->second < gap) return;
  it->second = now;
  const std::string text = "[" + id + "] " + status;
  if (interactive_) {
    std::fputs(("\r\033[K" + text).c_str(), out_);
    status_shown_ = true;
    std::fflush(out_);
  } else {
    print_permanent(text);
  }
}

void Reporter::log(const std::string& id, const std::string& text) {
  if (!quiet_) warning(id, text);
}

void Reporter::warning(const std::string& id, const std::string& text) {
  // A multi-line log (a table) is printed as one block, each line prefixed, so concurrent stages
  // cannot interleave inside it.
  std::string block;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    block += (block.empty() ? "" : "\n") + ("[" + id + "] ") + text.substr(start, end - start);
    start = end + 1;
  }
  std::lock_guard lock(mutex_);
  print_permanent(block);
}

void Reporter::line(const std::string& text) {
  std::lock_guard lock(mutex_);
  print_permanent(text);
}

void Reporter::info(const std::string& text) {
  if (quiet_) return;
  line(text);
}

}  // namespace pipeline
