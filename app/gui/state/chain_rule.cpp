#include "chain_rule.h"

#include <algorithm>

#include "format.h"

namespace gs::app {

namespace {
std::string fmt(double v) { return num_short(v); }
}  // namespace

std::string tensor_key(TensorId id) {
  const char* p = "out";
  switch (id.part) {
    case Part::input: p = "in"; break;
    case Part::param: p = "par"; break;
    case Part::output: return "out";
    case Part::incoming: return "incoming";
    case Part::outgoing: p = "din"; break;
    case Part::param_grad: p = "dpar"; break;
    case Part::local: p = "ld"; break;
  }
  return p + std::to_string(id.slot);
}

bool parse_tensor_key(const std::string& key, TensorId& id) {
  if (key == "out") return id = {Part::output, 0}, true;
  if (key == "incoming") return id = {Part::incoming, 0}, true;
  const struct {
    const char* prefix;
    Part part;
  } kinds[] = {{"dpar", Part::param_grad}, {"din", Part::outgoing}, {"par", Part::param}, {"in", Part::input}, {"ld", Part::local}};
  for (const auto& k : kinds) {
    const std::string pre = k.prefix;
    if (key.size() > pre.size() && key.compare(0, pre.size(), pre) == 0) {
      const std::string n = key.substr(pre.size());
      if (n.empty() || n.size() > 3 || !std::all_of(n.begin(), n.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        return false;
      id = {k.part, std::stoi(n)};
      return true;
    }
  }
  return false;
}

std::string arithmetic(const ChainRule& r) {
  if (!r.ok) return r.why_not;
  const std::string pre = r.scale != 1.0 ? "(α/r) " + fmt(r.scale) + " × " : "";
  if (r.n_terms == 0) return r.how;
  if (r.n_terms == 1 && r.over_name.empty()) {
    const ChainTerm& t = r.terms[0];
    return pre + "local derivative " + r.local_name + " " + fmt(t.local) + " × incoming " + fmt(t.incoming) + " = " +
           fmt(r.sum);
  }
  std::string s = pre + "Σ over " + r.over_name + " of " + r.local_name + " × incoming (" + std::to_string(r.n_terms) +
                  (r.n_terms == 1 ? " term" : " terms") + ") = " + fmt(r.sum);
  if (r.n_terms > 1) {
    s += "\n" + std::string(static_cast<int64_t>(r.terms.size()) < r.n_terms ? "largest: " : "");
    for (size_t i = 0; i < r.terms.size(); ++i) {
      const ChainTerm& t = r.terms[i];
      if (i) s += " + ";
      s += fmt(t.local) + "×" + fmt(t.incoming);
      if (t.over >= 0) s += " (" + r.over_name + " " + std::to_string(t.over) + ")";
    }
    if (static_cast<int64_t>(r.terms.size()) < r.n_terms) s += " + …";
  }
  return s;
}

std::string agreement(const ChainRule& r) {
  if (!r.ok) return "";
  if (r.agrees()) return "= the stored entry " + fmt(r.stored) + " ✓";
  return "≠ the stored entry " + fmt(r.stored) + ": this op's backward does not follow its local derivative";
}

}  // namespace gs::app
