#include "grad_norms.h"

#include <cmath>
#include <map>

namespace gs::app {

int param_layer(const std::string& name) {
  if (name.size() < 4 || name.compare(0, 2, "h.") != 0) return -1;
  size_t i = 2;
  int l = 0;
  bool digit = false;
  while (i < name.size() && name[i] >= '0' && name[i] <= '9') {
    l = l * 10 + (name[i] - '0');
    if (l > 1000000) return -1;
    digit = true;
    ++i;
  }
  return digit && i < name.size() && name[i] == '.' ? l : -1;
}

std::vector<NormGroup> group_grad_norms(const std::vector<std::string>& names, const std::vector<double>& norms) {
  // Order: embeddings, blocks by index, ln_f, other.
  NormGroup emb, lnf, other;
  emb.title = "embeddings";
  lnf.title = "ln_f";
  other.title = "other";
  std::map<int, NormGroup> blocks;
  for (size_t i = 0; i < names.size() && i < norms.size(); ++i) {
    const std::string& n = names[i];
    NormGroup* g;
    const int l = param_layer(n);
    if (l >= 0) {
      auto [it, fresh] = blocks.try_emplace(l);
      if (fresh) {
        it->second.title = "block " + std::to_string(l);
        it->second.layer = l;
      }
      g = &it->second;
    } else if (n.rfind("wte.", 0) == 0 || n.rfind("wpe.", 0) == 0) {
      g = &emb;
    } else if (n.rfind("ln_f.", 0) == 0) {
      g = &lnf;
    } else {
      g = &other;
    }
    g->parts.push_back({n, norms[i]});
    if (!(norms[i] < 0)) {  // trainable (a NaN norm too: it must not read as frozen)
      g->frozen = false;
      g->norm += norms[i] * norms[i];
    }
  }
  std::vector<NormGroup> out;
  auto add = [&](NormGroup& g) {
    if (g.parts.empty()) return;
    g.norm = std::sqrt(g.norm);
    out.push_back(std::move(g));
  };
  add(emb);
  for (auto& [l, g] : blocks) add(g);
  add(lnf);
  add(other);
  return out;
}

}  // namespace gs::app
