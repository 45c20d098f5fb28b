#include "run/crash_report.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

namespace pipeline {
namespace {

constexpr int slots = 256;
std::atomic<const char*> running[slots];
std::atomic<const char*> hint{nullptr};
std::mutex hint_mutex;
constexpr std::size_t alternate_stack_size = 1 << 16;

void put(const char* text) {
  ssize_t ignored = ::write(STDERR_FILENO, text, std::strlen(text));
  (void)ignored;
}

const char* signal_name(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV (invalid memory access)";
    case SIGBUS: return "SIGBUS (bus error)";
    case SIGFPE: return "SIGFPE (arithmetic error)";
    case SIGILL: return "SIGILL (illegal instruction)";
    case SIGABRT: return "SIGABRT (aborted)";
  }
  return "a fatal signal";
}

// Only async-signal-safe calls: write(2) and raise(3).
void on_fatal_signal(int sig) {
  put("\npipeline: fatal: ");
  put(signal_name(sig));
  bool any = false;
  for (auto& slot : running)
    if (const char* what = slot.load(std::memory_order_acquire)) {
      put(any ? "\n  and " : " while running ");
      put(what);
      any = true;
    }
  if (!any) put(" outside any stage or plugin load");
  put("\n");
  if (const char* h = hint.load(std::memory_order_acquire)) {
    put(h);
    put("\n");
  }
  ::raise(sig);  // SA_RESETHAND: the default action now, with the usual exit status
}

// An alternate signal stack is per thread: each thread that runs a stage or loads a plugin gets
// one, so a stack overflow there (deep recursion in a plugin) is reported too. A stack someone
// else installed (a sanitizer's) is kept.
// The stacks live in a registry that is never freed (a thread may take a signal until the
// process is gone) and stays reachable, so leak checkers do not count them; a thread_local
// owner would register a thread-exit destructor instead, which LeakSanitizer (with use_tls=0)
// reports. One stack per thread that ever runs a stage: the worker threads live as long as the
// process.
void ensure_alternate_stack() {
  thread_local bool done = false;
  if (done) return;
  done = true;
  stack_t current{};
  if (sigaltstack(nullptr, &current) == 0 && !(current.ss_flags & SS_DISABLE)) return;
  static std::mutex registry_mutex;
  static auto* registry = new std::vector<std::unique_ptr<char[]>>();
  char* stack = nullptr;
  {
    std::lock_guard lock(registry_mutex);
    registry->push_back(std::make_unique<char[]>(alternate_stack_size));
    stack = registry->back().get();
  }
  stack_t alt{};
  alt.ss_sp = stack;
  alt.ss_size = alternate_stack_size;
  sigaltstack(&alt, nullptr);
}

}  // namespace

void install_crash_handler() {
  ensure_alternate_stack();
  struct sigaction action {};
  action.sa_handler = on_fatal_signal;
  action.sa_flags = SA_RESETHAND | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigaction(sig, &action, nullptr);
}

CrashContext::CrashContext(std::string what) : what_(std::move(what)) {
  ensure_alternate_stack();
  for (int i = 0; i < slots; ++i) {
    const char* expected = nullptr;
    if (running[i].compare_exchange_strong(expected, what_.c_str())) {
      slot_ = i;
      return;
    }
  }
}

CrashContext::~CrashContext() {
  if (slot_ >= 0) running[slot_].store(nullptr, std::memory_order_release);
}

void set_crash_hint(const std::string& text) {
  std::lock_guard lock(hint_mutex);
  // The old text is never freed: a handler on another thread may be reading it. A run sets it
  // once or twice.
  char* fresh = new char[text.size() + 1];
  std::memcpy(fresh, text.c_str(), text.size() + 1);
  hint.store(fresh, std::memory_order_release);
}

}  // namespace pipeline
