#include "plan/explain.hpp"

#include <set>

namespace pipeline {
namespace {

// What changed in the plugins of the extensions a stage uses, e.g. "layer type elu: plugin
// binary changed".
std::vector<std::string> extension_changes(const Value& was, const Value& now) {
  std::vector<std::string> out;
  const Value* before = was.find("extensions");
  const Value* after = now.find("extensions");
  if (!before || !after || !before->is_map() || !after->is_map()) return out;
  auto name_of = [](const std::string& key) {
    const auto colon = key.find(':');
    return describe_extension({key.substr(0, colon), colon == std::string::npos ? "" : key.substr(colon + 1)});
  };
  auto field = [](const Value& v, const char* f) {
    const Value* x = v.is_map() ? v.find(f) : nullptr;
    return x ? x->str() : std::string();
  };
  for (const auto& [key, cur] : after->entries()) {
    const Value* old = before->find(key);
    const std::string what = name_of(key);
    // An extension used or dropped follows from a parameter change, which is reported already.
    if (!old) continue;
    if (field(*old, "plugin") != field(cur, "plugin"))
      out.push_back(what + ": now from plugin " + field(cur, "plugin") + " (was " + field(*old, "plugin") + ")");
    else if (field(*old, "version") != field(cur, "version"))
      out.push_back(what + ": plugin version " + field(*old, "version") + " -> " + field(cur, "version"));
    else if (field(*old, "sha256") != field(cur, "sha256"))
      out.push_back(what + ": plugin binary changed");
  }
  return out;
}

}  // namespace

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
      if (!e.valid) continue;
      const Value* d = e.manifest.find("stage");
      const Value* id = d->find("stage");
      const Value* type = d->find("type");
      if (id && type && id->str() == now.find("stage")->str() && type->str() == s.type->info.name &&
          (!closest || e.written > closest->written))
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
    if (const Value* old_files = was.find("files"); old_files && old_files->is_map())
      for (const auto& [name, digest] : now.find("files")->entries()) {
        const Value* before = old_files->find(name);
        if (before && before->str() != digest.str())
          reasons.push_back("input file " + (name.rfind("file:", 0) == 0 ? name.substr(5) : name) + " changed");
      }
    if (was.find("plugin_version") && was.find("plugin_version")->str() != now.find("plugin_version")->str())
      reasons.push_back("plugin version " + was.find("plugin_version")->str() + " -> " + now.find("plugin_version")->str());
    else if (was.find("plugin_sha256") && was.find("plugin_sha256")->str() != now.find("plugin_sha256")->str())
      reasons.push_back("stage type " + s.type->info.name + ": plugin binary changed");
    for (const auto& r : extension_changes(was, now)) reasons.push_back(r);
    if (was.find("core_sha256") && was.find("core_sha256")->str() != now.find("core_sha256")->str())
      reasons.push_back("the pipeline core library changed");
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
