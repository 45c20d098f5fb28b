#include "run/slurm_client.hpp"

#include <unistd.h>

#include <set>
#include <sstream>

#include "pipeline/error.hpp"
#include "util/subprocess.hpp"

namespace pipeline {

std::vector<std::string> split_shell_words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote) {
      if (c == quote) quote = 0;
      else if (c == '\\' && quote == '"' && i + 1 < text.size()) word += text[++i];
      else word += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < text.size()) {
      word += text[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote) throw Error(ErrorCode::usage, "--slurm-args has an unmatched quote");
  if (in_word) words.push_back(word);
  return words;
}

std::string shell_quote(const std::string& word) {
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void SlurmClient::check_cluster(const std::string& partition) const {
  for (const char* tool : {"sbatch", "squeue", "scancel", "sinfo"})
    if (!on_path(tool))
      throw Error(ErrorCode::usage, std::string("--executor slurm: '") + tool +
                                        "' is not on PATH (install Slurm's client commands, or load its module)");
  const ProcessResult info = run_process({"sinfo", "-h", "-o", "%P"}, 30);
  if (!info.started || info.exit_code != 0) {
    const std::string why = info.timed_out ? "no answer in 30 s" : first_line(info.output);
    throw Error(ErrorCode::usage, "--executor slurm: cannot reach the Slurm controller (sinfo: " + why + ")");
  }
  if (partition.empty()) return;
  std::istringstream lines(info.output);
  std::string line, known;
  while (std::getline(lines, line)) {
    while (!line.empty() && (line.back() == '*' || line.back() == ' ' || line.back() == '\r')) line.pop_back();
    if (line == partition) return;
    known += (known.empty() ? "" : ", ") + line;
  }
  throw Error(ErrorCode::usage, "--slurm-partition: the cluster has no partition '" + partition + "' (it has: " + known + ")");
}

std::string SlurmClient::submit(const std::string& script, const std::vector<std::string>& sbatch_options) const {
  std::vector<std::string> argv = {"sbatch", "--parsable"};
  argv.insert(argv.end(), sbatch_options.begin(), sbatch_options.end());
  argv.push_back(script);
  const ProcessResult r = run_process(argv, 120);
  if (!r.started || r.exit_code != 0)
    throw Error(ErrorCode::io, "sbatch failed: " + (r.timed_out ? std::string("no answer in 120 s") : first_line(r.output)));
  // --parsable prints "ID" or "ID;CLUSTER" on the last line (warnings may come first).
  std::istringstream lines(r.output);
  std::string line, id;
  while (std::getline(lines, line)) {
    const std::string candidate = line.substr(0, line.find(';'));
    if (!candidate.empty() && candidate.find_first_not_of("0123456789") == std::string::npos) id = candidate;
  }
  if (id.empty()) throw Error(ErrorCode::io, "sbatch printed no job id: " + first_line(r.output));
  return id;
}

std::map<std::string, SlurmJobState> SlurmClient::alive_jobs(bool& ok) const {
  ++calls_;
  std::map<std::string, SlurmJobState> jobs;
  const ProcessResult r =
      run_process({"squeue", "-h", "-u", std::to_string(::getuid()), "-o", "%i|%T|%N"}, 60);
  ok = r.started && r.exit_code == 0;
  if (!ok) return jobs;
  std::istringstream lines(r.output);
  std::string line;
  while (std::getline(lines, line)) {
    const auto a = line.find('|');
    const auto b = line.find('|', a == std::string::npos ? a : a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    jobs[line.substr(0, a)] = {line.substr(a + 1, b - a - 1), line.substr(b + 1)};
  }
  return jobs;
}

int SlurmClient::node_count(const std::string& partition) const {
  std::vector<std::string> argv = {"sinfo", "-h", "-N", "-o", "%N"};
  if (!partition.empty()) argv.push_back("--partition=" + partition);
  const ProcessResult r = run_process(argv, 30);
  std::set<std::string> nodes;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) nodes.insert(line);
  return static_cast<int>(nodes.size());
}

void SlurmClient::cancel(const std::vector<std::string>& job_ids) const {
  if (job_ids.empty()) return;
  std::vector<std::string> argv = {"scancel"};
  argv.insert(argv.end(), job_ids.begin(), job_ids.end());
  run_process(argv, 60);
}

}  // namespace pipeline
