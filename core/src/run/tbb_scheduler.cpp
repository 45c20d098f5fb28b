// The local scheduler: a oneTBB flow graph in this process, one node per stage instance and an edge
// per producer. Independent stages run at the same time; compute stages (oneDNN) take turns on one
// dedicated thread so they do not oversubscribe the cores.
#include <oneapi/tbb/flow_graph.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "run/schedulers.hpp"
#include "run/stage_runner.hpp"

namespace pipeline {
namespace {

// Runs compute stages one at a time, always on the same OS thread. oneDNN's OpenMP runtime gives
// every calling thread a team of its own; with compute spread over scheduler threads, idle teams
// spin or sleep-wake against the busy one (measured: the RNN transfer arms ran ~10x slower). One
// thread means one team.
class ComputeThread {
 public:
  ComputeThread() : thread_([this] { loop(); }) {}
  ~ComputeThread() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  // Runs `job` on the compute thread and waits for it.
  void run(const std::function<void()>& job) {
    std::packaged_task<void()> task(job);
    auto finished = task.get_future();
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(task));
    }
    wake_.notify_one();
    finished.get();
  }

 private:
  void loop() {
    for (;;) {
      std::packaged_task<void()> task;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return done_ || !queue_.empty(); });
        if (queue_.empty()) return;
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::packaged_task<void()>> queue_;
  bool done_ = false;
  std::thread thread_;
};

void run_one(const Plan& plan, std::size_t i, std::vector<StageOutcome>& outcomes,
             RunObserver& reporter, const std::atomic<bool>& stop, const RunOptions& options,
             ComputeThread& compute) {
  const PlannedStage& stage = plan.stages[i];
  StageOutcome& outcome = outcomes[i];
  if (!inputs_ready(plan, i, outcomes, reporter, stop)) return;

  if (stage.type->info.compute) {
    // The stage itself runs on the compute thread; this scheduler thread waits for it.
    compute.run([&] {
      if (stop.load()) {  // the run was interrupted while this stage waited for its turn
        outcome.status = StageStatus::cancelled;
        outcome.message = "not started: the run was interrupted";
        return;
      }
      run_instance(plan, i, outcomes, reporter, stop, options);
    });
    return;
  }
  run_instance(plan, i, outcomes, reporter, stop, options);
}

}  // namespace

RunResult run_on_tbb(const Plan& plan, RunObserver& reporter, const std::atomic<bool>& stop, const RunOptions& options) {
  RunResult result;
  result.stages.resize(plan.stages.size());
  for (std::size_t i = 0; i < plan.stages.size(); ++i) result.stages[i].id = plan.stages[i].id;

  const int hardware = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // One more thread than cores: a compute stage waiting for the compute thread blocks a scheduler
  // thread, and the spare one keeps data and I/O stages moving meanwhile.
  const int parallel = options.max_parallel_stages > 0 ? options.max_parallel_stages : hardware + 1;
  tbb::global_control allow(tbb::global_control::max_allowed_parallelism,
                            static_cast<std::size_t>(parallel));
  tbb::task_arena arena(parallel);
  ComputeThread compute;

  arena.execute([&] {
    tbb::flow::graph graph;
    std::vector<std::unique_ptr<tbb::flow::continue_node<tbb::flow::continue_msg>>> nodes;
    tbb::flow::broadcast_node<tbb::flow::continue_msg> start(graph);
    // An artifact is dropped once every stage that reads it has finished: a sweep holds only what
    // its running stages still need.
    // Producers worked out once; an artifact is dropped once every stage that reads it has
    // finished: a sweep holds only what its running stages still need.
    std::vector<std::vector<std::size_t>> producers(plan.stages.size());
    std::vector<std::atomic<int>> readers(plan.stages.size());
    for (std::size_t i = 0; i < plan.stages.size(); ++i) {
      producers[i] = producers_of(plan.stages[i]);
      for (auto p : producers[i]) ++readers[p];
    }
    for (std::size_t i = 0; i < plan.stages.size(); ++i) {
      nodes.push_back(std::make_unique<tbb::flow::continue_node<tbb::flow::continue_msg>>(
          graph, [&, i](const tbb::flow::continue_msg&) {
            run_one(plan, i, result.stages, reporter, stop, options, compute);
            for (auto p : producers[i])
              if (--readers[p] == 0 && !options.keep_outputs) result.stages[p].outputs.clear();
          }));
    }
    for (std::size_t i = 0; i < plan.stages.size(); ++i) {
      if (producers[i].empty()) tbb::flow::make_edge(start, *nodes[i]);
      for (auto p : producers[i]) tbb::flow::make_edge(*nodes[p], *nodes[i]);
    }
    start.try_put(tbb::flow::continue_msg());
    graph.wait_for_all();
  });

  result.interrupted = stop.load();
  return result;
}


}  // namespace pipeline
