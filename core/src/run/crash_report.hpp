// Naming what crashed. A stage or plugin that dies of a fatal signal (SIGSEGV, SIGBUS, SIGFPE,
// SIGILL, SIGABRT) takes the process with it; before it goes, a handler prints which stages were
// running (type, plugin, file) or which plugin was loading, and where the finished stages are (the
// cache, and the run's progress.jsonl), then lets the signal kill the process as usual (exit 128+N,
// core dump where enabled). Isolation instead of naming: --executor slurm runs each computing
// stage in a job of its own.
#pragma once

#include <string>

namespace pipeline {

// Installs the handler (with an alternate stack, so a stack overflow is reported too).
void install_crash_handler();

// While alive, `what` is among what the handler reports ("stage 'fit' (train, plugin train,
// /usr/lib/.../libpipeline_train.so)"). Cheap: a slot in a fixed table, no allocation after
// construction.
class CrashContext {
 public:
  explicit CrashContext(std::string what);
  ~CrashContext();
  CrashContext(const CrashContext&) = delete;
  CrashContext& operator=(const CrashContext&) = delete;

 private:
  std::string what_;
  int slot_ = -1;
};

// A line the handler prints after the running contexts (e.g. where the run record is).
void set_crash_hint(const std::string& hint);

}  // namespace pipeline
