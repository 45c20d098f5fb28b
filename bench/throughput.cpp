// Training and inference throughput of the seed CNN and the 2-layer RNN/LSTM/GRU, comparable with
// ../shared/anchors/pytorch/bench_throughput.py: same models, same step (forward, mean
// cross-entropy, backward, SGD lr 0.05 momentum 0.9), batches as consecutive slices of the
// Fashion-MNIST training set. One config per process (peak RSS is per config); threads come from
// OMP_NUM_THREADS, set by run_throughput.sh. Prints one JSON line.
//
//   throughput MODEL BATCH [--min-time SECONDS] [--profile-steps N] [--precision f32|bf16]
//
// --precision bf16: conv2d and linear compute in bf16 with f32 master weights, as the stages'
// `precision: bf16` does (the recurrent layers stay f32).
//
// --profile-steps N: after warm-up, N training steps between two marker lines on stdout and no
// timing, for bench/profile to attribute ONEDNN_VERBOSE's per-primitive lines to a step.
#include <sys/resource.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "idx_reader.hpp"
#include "layer_support.hpp"
#include "loss.hpp"
#include "optimizer.hpp"
#include "pipeline/precision.hpp"
#include "profile_window.hpp"

using namespace pipeline;
using Clock = std::chrono::steady_clock;

namespace {

std::string layers_of(const std::string& model) {
  if (model == "cnn")
    return R"([{conv2d: {name: conv1, out: 32, kernel: 3, padding: 1}}, relu, {maxpool2d: {kernel: 2}},
               {conv2d: {name: conv2, out: 64, kernel: 3, padding: 1}}, relu, {maxpool2d: {kernel: 2}},
               flatten, {linear: {name: fc1, out: 128}}, relu, {linear: {name: fc2, out: 10}}])";
  return "[{" + model + ": {name: rnn, hidden: 128, layers: 2}}, {linear: {name: fc, out: 10}}]";
}

// Analytic forward FLOPs per image (multiply-add = 2), as common.py counts them.
double forward_flops(const std::string& model) {
  if (model == "cnn") return 8.48e6;
  const double g = model == "rnn" ? 1 : model == "lstm" ? 4 : 3, h = 128, t = 28;
  return t * 2 * g * h * ((28 + h) + (h + h)) + 2 * h * 10;
}

struct Timing {
  double ips;              // samples per second over the whole timed loop (PyTorch's "ips")
  double ips_median_step;  // from the median step time
  int steps;
};

// Times `step` until min_time has passed (after warm-up).
template <class Step>
Timing time_steps(Step step, std::int64_t batch, double min_time) {
  for (int i = 0; i < 5; ++i) step();
  std::vector<double> times;
  const auto start = Clock::now();
  auto last = start;
  while (std::chrono::duration<double>(last - start).count() < min_time || times.size() < 10) {
    step();
    const auto now = Clock::now();
    times.push_back(std::chrono::duration<double>(now - last).count());
    last = now;
  }
  const double total = std::chrono::duration<double>(last - start).count();
  const int steps = static_cast<int>(times.size());
  std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2), times.end());
  return {static_cast<double>(steps * batch) / total, static_cast<double>(batch) / times[times.size() / 2], steps};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: throughput MODEL BATCH [--min-time SECONDS] [--profile-steps N] [--precision f32|bf16]\n");
    return 2;
  }
  const std::string model_name = argv[1];
  const std::int64_t batch = std::atoll(argv[2]);
  double min_time = 3.0;
  int profile_steps = 0;
  Precision precision = Precision::f32;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--min-time")) min_time = std::atof(argv[i + 1]);
    if (!std::strcmp(argv[i], "--profile-steps")) profile_steps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--precision")) precision = parse_precision(argv[i + 1]);
  }
  const PrecisionScope scope(precision);
  const char* dir = std::getenv("FMNIST_DIR") ? std::getenv("FMNIST_DIR") : "/usr/share/datasets/fashion-mnist";
  auto images = data::read_idx(std::string(dir) + "/train-images-idx3-ubyte.gz", 3, "image");
  auto labels_raw = data::read_idx(std::string(dir) + "/train-labels-idx1-ubyte.gz", 1, "label");
  const std::int64_t n = images.dims[0];
  std::vector<float> pixels(images.bytes.size());
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = images.bytes[i] / 255.0f;
  std::vector<std::int32_t> labels(labels_raw.bytes.begin(), labels_raw.bytes.end());

  auto model = test::model_from_yaml({1, 28, 28}, layers_of(model_name));
  Rng rng(0);
  for (std::size_t i = 0; i < model->size(); ++i) model->layer(i).initialize(rng);
  auto optimizer = train::builtin_optimizer("sgd", parse_value("{momentum: 0.9}")).create();
  for (auto& np : model->named_parameters()) optimizer->add(np.param, 1.0);
  train::CrossEntropy ce;

  Tensor x({batch, 1, 28, 28}), logits, grad;
  std::int64_t offset = 0;
  auto next_batch = [&] {
    if (offset + batch > n) offset = 0;
    std::copy(pixels.begin() + offset * 784, pixels.begin() + (offset + batch) * 784, x.values().begin());
    const std::int32_t* y = labels.data() + offset;
    offset += batch;
    return y;
  };
  auto train_step = [&] {
    const std::int32_t* y = next_batch();
    model->forward(x, logits, Mode::train);
    ce(logits, y, &grad);
    model->backward(grad);
    optimizer->step(0.05);
  };
  if (profile_steps > 0) {
    for (int i = 0; i < 3; ++i) train_step();
    bench::profile_window(profile_steps, batch, 3 * forward_flops(model_name) * static_cast<double>(batch), train_step);
    return 0;
  }
  const Timing train = time_steps(train_step, batch, min_time);
  const Timing infer = time_steps(
      [&] {
        next_batch();
        model->forward(x, logits, Mode::eval);
      },
      batch, min_time);

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double flops = forward_flops(model_name);
  const char* threads = std::getenv("OMP_NUM_THREADS");
  std::printf("{\"impl\": \"pipeline\", \"model\": \"%s\", \"precision\": \"%s\", \"threads\": %s, \"batch\": %lld, "
              "\"train_ips\": %.1f, \"train_ips_median_step\": %.1f, \"infer_ips\": %.1f, "
              "\"infer_ips_median_step\": %.1f, \"train_gflops\": %.2f, \"infer_gflops\": %.2f, "
              "\"train_steps\": %d, \"infer_steps\": %d, \"peak_rss_mb\": %.1f}\n",
              model_name.c_str(), to_string(precision), threads ? threads : "null", static_cast<long long>(batch), train.ips,
              train.ips_median_step, infer.ips, infer.ips_median_step, 3 * flops * train.ips / 1e9,
              flops * infer.ips / 1e9, train.steps, infer.steps, usage.ru_maxrss / 1024.0);
  return 0;
}
