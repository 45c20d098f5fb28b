// ResNet-18 (architecture: resnet18, torchvision's network) training and inference images/s at
// batch 32 on random [3, S, S] inputs, comparable with bench/resnet_pytorch.py (torchvision's
// resnet18, same step: forward in training mode, mean cross-entropy, backward, SGD lr 0.01
// momentum 0.9). And the frozen-backbone finetune: seconds per epoch with cached features, without
// them, and for a full finetune. One config per process; threads from OMP_NUM_THREADS. One JSON line.
//
//   resnet_throughput throughput SIZE [--min-time SECONDS]
//   resnet_throughput finetune SIZE [--images N] [--epochs E]
//   resnet_throughput profile SIZE [--steps N]   (N training steps between markers: bench/profile)
//   --precision bf16: conv2d and linear compute in bf16 (f32 master weights), as `precision: bf16` does.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "architectures/architectures.hpp"
#include "layer_support.hpp"
#include "loss.hpp"
#include "optimizer.hpp"
#include "pipeline/precision.hpp"
#include "profile_window.hpp"
#include "pipeline/model_builder.hpp"
#include "pipeline/schema.hpp"
#include "support/fake_context.hpp"
#include "train_loop.hpp"

using namespace pipeline;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::int64_t batch = 32;

std::unique_ptr<Model> resnet18(std::int64_t size, std::int64_t classes) {
  test::register_layer_types();
  layers::ArchitectureOptions options;
  options.classes = classes;
  ThrowingDiagnostics diag;
  auto model = build_model({3, size, size}, layers::architecture_layers("resnet18", options), diag);
  Rng rng(0);
  for (std::size_t i = 0; i < model->size(); ++i) model->layer(i).initialize(rng);
  return model;
}

Tensor random_batch(std::int64_t n, std::int64_t size, std::uint64_t seed) {
  Tensor x({n, 3, size, size});
  Rng rng(seed);
  for (float& v : x.values()) v = static_cast<float>(rng.normal());
  return x;
}

// Images/s over a timed loop of at least min_time seconds and 5 steps, after 2 warm-up steps.
template <class Step>
double images_per_second(Step step, double min_time) {
  for (int i = 0; i < 2; ++i) step();
  const auto start = Clock::now();
  int steps = 0;
  double elapsed = 0;
  while (elapsed < min_time || steps < 5) {
    step();
    ++steps;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return static_cast<double>(steps * batch) / elapsed;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

// Training FLOPs per image (3 x forward): torchvision's ResNet-18 forward is 1.82 GFLOP at 224 px,
// scaling with the pixel count.
double train_flops_per_image(std::int64_t size) {
  const double scale = static_cast<double>(size) / 224.0;
  return 3 * 1.82e9 * scale * scale;
}

// The step both modes time: forward in training mode, mean cross-entropy, backward, SGD.
struct TrainStep {
  explicit TrainStep(std::int64_t size)
      : model(resnet18(size, 1000)),
        optimizer(train::builtin_optimizer("sgd", parse_value("{momentum: 0.9}")).create()),
        x(random_batch(batch, size, 1)),
        labels(batch) {
    for (auto& np : model->named_parameters()) optimizer->add(np.param, 1.0);
    for (std::int64_t i = 0; i < batch; ++i) labels[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i * 31 % 1000);
  }
  void operator()() {
    model->forward(x, logits, Mode::train);
    ce(logits, labels.data(), &grad);
    model->backward(grad);
    optimizer->step(0.01);
  }
  std::unique_ptr<Model> model;
  std::unique_ptr<Optimizer> optimizer;
  train::CrossEntropy ce;
  Tensor x, logits, grad;
  std::vector<std::int32_t> labels;
};

int profile(std::int64_t size, int steps) {
  TrainStep step(size);
  for (int i = 0; i < 2; ++i) step();
  bench::profile_window(steps, batch, train_flops_per_image(size) * batch, [&] { step(); });
  return 0;
}

int throughput(std::int64_t size, double min_time) {
  TrainStep step(size);
  const double train = images_per_second([&] { step(); }, min_time);
  const double infer = images_per_second([&] { step.model->forward(step.x, step.logits, Mode::eval); }, min_time);
  const char* threads = std::getenv("OMP_NUM_THREADS");
  std::printf("{\"impl\": \"pipeline\", \"kind\": \"throughput\", \"precision\": \"%s\", \"size\": %lld, \"threads\": %s, "
              "\"batch\": %lld, \"train_ips\": %.2f, \"infer_ips\": %.2f, \"train_flops_per_image\": %.4g, \"peak_rss_mb\": %.1f}\n",
              to_string(compute_precision()), static_cast<long long>(size), threads ? threads : "null",
              static_cast<long long>(batch), train, infer, train_flops_per_image(size),
              peak_rss_mb());
  return 0;
}

// Seconds per epoch of finetuning on `images` samples: fc only on cached features of the frozen
// backbone, fc only recomputing the backbone every step, and every layer.
int finetune(std::int64_t size, std::int64_t images, std::int64_t epochs) {
  const Tensor x = random_batch(images, size, 2);
  std::vector<std::int32_t> labels(static_cast<std::size_t>(images));
  for (std::int64_t i = 0; i < images; ++i) labels[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i % 5);
  const Dataset data(x, labels, {"a", "b", "c", "d", "e"});
  auto run = [&](bool frozen, bool cache) {
    auto model = resnet18(size, 5);
    if (frozen)
      for (auto& np : model->named_parameters())
        if (np.name.rfind("fc.", 0) != 0) np.param->trainable = false;
    if (frozen)
      for (const auto& m : model->modules()) m.layer->freeze_statistics(m.path != "fc");
    train::TrainOptions o;
    o.epochs = epochs;
    o.batch_size = 25;
    o.schedule.lr = 0.01;
    o.optimizer = train::builtin_optimizer("sgd", parse_value("{momentum: 0.9}"));
    o.cache_features = cache;
    test::FakeContext ctx;
    const auto start = Clock::now();
    train::train_model(*model, data, nullptr, o, ctx);
    return std::chrono::duration<double>(Clock::now() - start).count() / static_cast<double>(epochs);
  };
  const double cached = run(true, true), uncached = run(true, false), full = run(false, false);
  const char* threads = std::getenv("OMP_NUM_THREADS");
  std::printf("{\"impl\": \"pipeline\", \"kind\": \"finetune\", \"precision\": \"%s\", \"size\": %lld, \"threads\": %s, \"images\": %lld, "
              "\"epochs\": %lld, \"epoch_seconds_frozen_cached\": %.3f, \"epoch_seconds_frozen_uncached\": %.3f, "
              "\"epoch_seconds_full\": %.3f, \"speedup_cached_vs_full\": %.2f, \"speedup_cached_vs_uncached\": %.2f}\n",
              to_string(compute_precision()), static_cast<long long>(size), threads ? threads : "null", static_cast<long long>(images),
              static_cast<long long>(epochs), cached, uncached, full, full / cached, uncached / cached);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: resnet_throughput throughput|finetune|profile SIZE [--min-time S] [--images N] [--epochs E] [--steps N] [--precision f32|bf16]\n");
    return 2;
  }
  const std::string mode = argv[1];
  const std::int64_t size = std::atoll(argv[2]);
  double min_time = 5;
  std::int64_t images = 250, epochs = 3;
  int steps = 3;
  Precision precision = Precision::f32;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--min-time")) min_time = std::atof(argv[i + 1]);
    if (!std::strcmp(argv[i], "--images")) images = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--epochs")) epochs = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--steps")) steps = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--precision")) precision = parse_precision(argv[i + 1]);
  }
  const PrecisionScope scope(precision);
  if (mode == "profile") return profile(size, steps);
  return mode == "finetune" ? finetune(size, images, epochs) : throughput(size, min_time);
}
