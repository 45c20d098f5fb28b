#include "plan/explain.hpp"

#include <set>

namespace pipeline {

std::string explain(const SweepPlan& sweep, const Cache* cache) {
  const Plan& plan = sweep.merged;
  const auto entries = cache ? cache->entries() : std::vector<Cache::Entry>{};
  std::set<std::size_t> will_run;
  std::string out;
  std::size_t cached_count = 0;
  for (std::size_t i = 0; i < plan.stages.size(); ++i) {
    const PlannedStage& s = plan.stages[i];
    const std::string head = s.id + " (" + s.type->info.name + ", key " + s.key.substr(0, 12) + "): ";
    if (cache && Cache::cacheable(s) && cache->has(s.key)) {
      out += head + "from cache\n";
      ++cached_count;
      continue;
    }
    will_run.insert(i);
    if (!cache) {
      out += head + "runs (the cache is off)\n";
      continue;
    }
    if (!Cache::cacheable(s)) {
      out += head + "runs (its outputs are not cached: " +
             (s.type->info.cacheable && !s.type->info.outputs.empty() ? std::string("it writes a file, or no codec fits them")
                                                                    : std::string("it runs for its side effects")) + ")\n";
      continue;
    }
    // The latest cached run of the same stage, to say what differs.
    const Value now = Cache::describe(plan, s);
    const Cache::Entry* closest = nullptr;
    for (const auto& e : entries) {
      const Value* d = e.manifest.find("stage");
      if (d && d->find("stage") && d->find("stage")->str() == now.find("stage")->str() &&
          d->find("type")->str() == s.type->info.name && (!closest || e.written > closest->written))
        closest = &e;
    }
    if (!closest) {
      out += head + "runs (never run before)\n";
      continue;
    }
    const Value& was = *closest->manifest.find("stage");
    std::vector<std::string> reasons;
    for (const auto& [name, value] : now.find("params")->entries()) {
      const Value* old = was.find("params") ? was.find("params")->find(name) : nullptr;
      if (!old || old->canonical_json() != value.canonical_json())
        reasons.push_back("parameter " + name + " " + (old ? old->str() : "(unset)") + " -> " + value.str());
    }
    for (const auto& in : s.inputs) {
      const Value* old = was.find("inputs") ? was.find("inputs")->find(in.port) : nullptr;
      const Value* cur = now.find("inputs")->find(in.port);
      if (!old || old->str() != cur->str())
        reasons.push_back("input " + in.port + " from " + plan.stages[in.producer].id +
                          (will_run.count(in.producer) ? ", which runs" : ", which changed"));
    }
    if (was.find("seed") && was.find("seed")->str() != now.find("seed")->str()) reasons.push_back("seed changed");
    if (was.find("plugin_version") && was.find("plugin_version")->str() != now.find("plugin_version")->str())
      reasons.push_back("plugin version " + was.find("plugin_version")->str() + " -> " + now.find("plugin_version")->str());
    if (reasons.empty()) reasons.push_back("its input files or plugin build changed");
    std::string joined;
    for (const auto& r : reasons) joined += (joined.empty() ? "" : "; ") + r;
    out += head + "runs (" + joined + ")\n";
  }
  out += std::to_string(plan.stages.size()) + " stage instances in " + std::to_string(sweep.trials.size()) +
         " trial(s): " + std::to_string(cached_count) + " from cache, " + std::to_string(will_run.size()) + " to run\n";
  return out;
}

}  // namespace pipeline
