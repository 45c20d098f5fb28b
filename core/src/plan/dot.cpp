#include "plan/dot.hpp"

namespace pipeline {
namespace {
std::string escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}
}  // namespace

std::string to_dot(const Plan& plan) {
  std::string out = "digraph \"" + escaped(plan.experiment) + "\" {\n";
  out += "  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n";
  for (const auto& s : plan.stages)
    out += "  \"" + escaped(s.id) + "\" [label=\"" + escaped(s.id) + "\\n(" +
           escaped(s.type->info.name) + ")\"" + (s.type->info.compute ? ", penwidth=2" : "") + "];\n";
  for (const auto& s : plan.stages)
    for (const auto& in : s.inputs) {
      const auto& producer = plan.stages[in.producer];
      std::string label = in.producer_port == in.port ? in.port : in.producer_port + " -> " + in.port;
      out += "  \"" + escaped(producer.id) + "\" -> \"" + escaped(s.id) + "\" [label=\"" +
             escaped(label) + "\"];\n";
    }
  return out + "}\n";
}

}  // namespace pipeline
