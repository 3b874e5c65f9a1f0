#include "grad_norms.h"

#include <cmath>
#include <algorithm>

namespace gs::app {

std::vector<NormGroup> group_grad_norms(const std::vector<std::string>& names, const std::vector<std::string>& groups,
                                        const std::vector<double>& norms) {
  // One group per recorded group, in the order the groups first appear.
  std::vector<NormGroup> out;
  for (size_t i = 0; i < names.size() && i < norms.size() && i < groups.size(); ++i) {
    const std::string title = groups[i].empty() ? "parameters" : groups[i];
    auto it = std::find_if(out.begin(), out.end(), [&](const NormGroup& g) { return g.title == title; });
    if (it == out.end()) {
      out.push_back({});
      it = out.end() - 1;
      it->title = title;
    }
    it->parts.push_back({names[i], norms[i]});
    if (!(norms[i] < 0)) {  // trainable (a NaN norm too: it must not read as frozen)
      it->frozen = false;
      it->norm += norms[i] * norms[i];
    }
  }
  for (NormGroup& g : out) g.norm = std::sqrt(g.norm);
  return out;
}

}  // namespace gs::app
