#include "layer_selection.hpp"

#include <fnmatch.h>

#include <set>

#include "pipeline/error.hpp"

namespace pipeline::transfer {

std::vector<ParamSpec> selection_params() {
  return {
      param_list("layers", "layer names or globs, e.g. [\"conv*\", fc1]", ParamType::string, Value::list()),
      param_list("range", "layer indices [first, last), 0-based; negative counts from the end", ParamType::integer,
                 Value::list()),
      param_int("all_but_last", "every layer except the last N that have parameters; -1: off", -1).range(-1, 1e6),
  };
}

void check_selection(const Params& p, Diagnostics& diag) {
  const bool any = !p.get("layers").items().empty() || !p.get("range").items().empty() || p.get_int("all_but_last") >= 0;
  if (!any) diag.error(p.location("layers"), "choose layers with 'layers', 'range' or 'all_but_last'");
  if (!p.get("range").items().empty() && p.get("range").size() != 2)
    diag.error(p.location("range"), "parameter 'range' needs two indices [first, last), got " + p.get("range").str());
}

std::vector<SelectedModule> select_modules(Model& model, const Params& p) {
  const auto modules = model.modules();
  std::set<std::size_t> chosen;  // indices into modules
  std::vector<std::size_t> top;  // the top-level layers' indices into modules
  for (std::size_t m = 0; m < modules.size(); ++m)
    if (modules[m].depth == 0) top.push_back(m);
  for (const auto& glob : p.get_string_list("layers")) {
    bool matched = false;
    for (std::size_t m = 0; m < modules.size(); ++m)
      if (fnmatch(glob.c_str(), modules[m].path.c_str(), 0) == 0) chosen.insert(m), matched = true;
    if (!matched) {
      std::string names;
      for (std::size_t t : top) names += (names.empty() ? "" : ", ") + modules[t].path;
      throw Error(ErrorCode::config_schema,
                  "no layer matches '" + glob + "' (layers: " + names + "; blocks' layers by path, e.g. 'layer1.*')",
                  p.location("layers"));
    }
  }
  const auto n = static_cast<std::int64_t>(top.size());
  const auto range = p.get_int_list("range");
  if (range.size() == 2) {
    auto index = [&](std::int64_t i) { return i < 0 ? n + i : i; };
    const std::int64_t first = index(range[0]), last = index(range[1]);
    if (first < 0 || last > n || first > last)
      throw Error(ErrorCode::config_schema, "range [" + std::to_string(range[0]) + ", " + std::to_string(range[1]) +
                                                ") does not fit a model of " + std::to_string(n) + " layers",
                  p.location("range"));
    for (std::int64_t i = first; i < last; ++i) chosen.insert(top[static_cast<std::size_t>(i)]);
  }
  if (const std::int64_t keep = p.get_int("all_but_last"); keep >= 0) {
    std::int64_t kept = 0;  // top-level layers with parameters left out, from the end
    for (std::size_t i = top.size(); i-- > 0;) {
      if (modules[top[i]].layer->has_parameters() && kept < keep) {
        ++kept;
        continue;
      }
      chosen.insert(top[i]);
    }
  }
  // The outermost selected modules only: a block acts on everything inside it.
  std::vector<SelectedModule> out;
  for (std::size_t m : chosen) {
    const std::string& path = modules[m].path;
    const bool inside = !out.empty() && path.rfind(out.back().path + ".", 0) == 0;
    if (!inside) out.push_back({path, modules[m].layer});
  }
  return out;
}

}  // namespace pipeline::transfer
