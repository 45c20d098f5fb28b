// The window bench/profile reads: N training steps between two marker lines on stdout, so that
// ONEDNN_VERBOSE's lines (also on stdout, in order) can be attributed to steady-state steps and
// divided by N. The end line gives the window's wall time (run it once without ONEDNN_VERBOSE:
// printing inflates it). Warm-up steps (primitive creation) run before the window, outside it.
#pragma once

#include <chrono>
#include <cstdio>

namespace bench {

// batch and flops_per_step (analytic, multiply-add = 2) let the reader give images/s and the share
// of the machine's peak without a table of its own.
template <class Step>
void profile_window(int steps, long long batch, double flops_per_step, Step step) {
  std::printf("pipeline-profile begin steps=%d batch=%lld flops_per_step=%.6g\n", steps, batch, flops_per_step);
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) step();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fflush(stdout);
  std::printf("pipeline-profile end seconds=%.6f\n", seconds);
  std::fflush(stdout);
}

}  // namespace bench
