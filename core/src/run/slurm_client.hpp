// The Slurm commands the scheduler uses, and nothing else: sbatch to submit, one batched squeue to
// see which jobs are still alive, scancel, sinfo to check the cluster before submitting. No sacct:
// accounting is often disabled or rate-limited; the job's own marker files are the truth.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace pipeline {

struct SlurmJobState {
  std::string state;  // PENDING, RUNNING, COMPLETING, ...
  std::string node;   // where it runs ("" while pending)
};

class SlurmClient {
 public:
  // Checks that the commands exist, the controller answers and the partition (if any) exists;
  // throws Error(usage) with a one-line message otherwise.
  void check_cluster(const std::string& partition) const;

  // Submits `script`; returns the job id. Throws Error(io) with sbatch's message on failure.
  std::string submit(const std::string& script, const std::vector<std::string>& sbatch_options) const;

  // The user's jobs Slurm still knows as alive (pending, running, completing, ...), by job id;
  // one squeue call. `ok` is false when squeue itself failed (then nothing can be concluded).
  std::map<std::string, SlurmJobState> alive_jobs(bool& ok) const;

  void cancel(const std::vector<std::string>& job_ids) const;

  // How many nodes the partition (or the whole cluster) has.
  int node_count(const std::string& partition) const;

  int calls() const { return calls_; }  // squeue calls so far (the coordinator's polling load)

 private:
  mutable int calls_ = 0;
};

// Splits --slurm-args like a shell would (quotes and backslashes, no expansion).
std::vector<std::string> split_shell_words(const std::string& text);
// A word quoted for /bin/sh.
std::string shell_quote(const std::string& word);

}  // namespace pipeline
