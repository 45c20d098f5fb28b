// This machine's own compute ceiling, measured in the same run as the models: oneDNN matmul
// GFLOP/s in f32 and in bf16 (bf16 sources and weights, f32 destination, as mixed-precision
// training uses it), so every throughput can be quoted as a share of what the CPU can do today
// (the CPU under a session changes: Zen 4, Zen 5, Xeon with AMX). Threads from OMP_NUM_THREADS.
// Prints one JSON line per data type, with the implementation oneDNN chose.
//
//   peak [--size N] [--min-time SECONDS]
#include <oneapi/dnnl/dnnl.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using dnnl::memory;
using Clock = std::chrono::steady_clock;

struct Peak {
  double gflops = 0;
  std::string impl;
};

// Times C = A * B for square N x N matrices until min_time has passed, after warm-up.
Peak matmul_gflops(memory::data_type in_type, memory::dim n, double min_time) {
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const memory::desc a({n, n}, in_type, memory::format_tag::ab), b({n, n}, in_type, memory::format_tag::any),
      c({n, n}, memory::data_type::f32, memory::format_tag::ab);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), engine);
  dnnl::matmul matmul(pd);
  memory ma(a, engine), mb(pd.weights_desc(), engine), mc(c, engine);
  // Contents do not change the time of a dense kernel; zeros avoid denormal slow paths.
  std::memset(ma.get_data_handle(), 0, a.get_size());
  std::memset(mb.get_data_handle(), 0, pd.weights_desc().get_size());
  auto run = [&] {
    matmul.execute(stream, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
    stream.wait();
  };
  for (int i = 0; i < 3; ++i) run();
  int reps = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  while (elapsed < min_time || reps < 5) {
    run();
    ++reps;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
  return {flops * reps / elapsed / 1e9, pd.impl_info_str()};
}

}  // namespace

int main(int argc, char** argv) {
  memory::dim n = 2048;
  double min_time = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--size")) n = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--min-time")) min_time = std::atof(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: peak [--size N] [--min-time SECONDS]\n");
      return 2;
    }
  }
  const char* threads = std::getenv("OMP_NUM_THREADS");
  for (auto type : {memory::data_type::f32, memory::data_type::bf16}) {
    const char* name = type == memory::data_type::f32 ? "f32" : "bf16";
    try {
      const Peak p = matmul_gflops(type, n, min_time);
      std::printf("{\"kind\": \"peak\", \"dtype\": \"%s\", \"threads\": %s, \"size\": %lld, \"gflops\": %.1f, "
                  "\"impl\": \"%s\"}\n",
                  name, threads ? threads : "null", static_cast<long long>(n), p.gflops, p.impl.c_str());
    } catch (const dnnl::error& e) {
      // A CPU without bf16 support has no bf16 matmul: say so rather than fail the whole run.
      std::printf("{\"kind\": \"peak\", \"dtype\": \"%s\", \"threads\": %s, \"size\": %lld, \"gflops\": null, "
                  "\"impl\": \"unavailable: %s\"}\n",
                  name, threads ? threads : "null", static_cast<long long>(n), e.what());
    }
  }
  return 0;
}
