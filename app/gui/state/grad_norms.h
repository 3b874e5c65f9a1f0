#pragma once
// Gradient norms per layer for the training view (no ImGui, no GL): every trainable
// parameter's ‖∂L/∂p‖ grouped by where it lives, as the program recorded it (Param::group):
// GPT-2's embeddings, each block (LoRA's A and B included), the head; a lesson's layers.
#include <cmath>
#include <string>
#include <vector>

#include "gradscope/model.h"

namespace gs::app {

struct NormGroup {
  std::string title;  // the group: "embeddings", "block 0" …, "head and loss"; "layer 1" …
  double norm = 0;    // √(Σ over the group's trainable parameters of ‖grad‖²)
  bool frozen = true; // no trainable parameter in the group (LoRA: embeddings, ln_f)
  struct Part {
    std::string name;
    double norm = -1;  // −1: frozen
  };
  std::vector<Part> parts;
};

// norms[i] is the gradient norm of names[i] (in group groups[i]), or −1 for a frozen parameter.
std::vector<NormGroup> group_grad_norms(const std::vector<std::string>& names, const std::vector<std::string>& groups,
                                        const std::vector<double>& norms);

template <class T>
std::vector<NormGroup> grad_norms_by_layer(const Model<T>& model) {
  std::vector<std::string> names, groups;
  std::vector<double> norms;
  for (const auto& p : model.params()) {
    names.push_back(p.name);
    groups.push_back(p.group);
    if (!p.trainable || p.grad.empty()) {
      norms.push_back(-1);
      continue;
    }
    double s = 0;
    for (int64_t i = 0; i < p.grad.size(); ++i) s += static_cast<double>(p.grad[i]) * static_cast<double>(p.grad[i]);
    norms.push_back(s);  // squared; rooted below
  }
  for (double& n : norms)
    if (n >= 0) n = std::sqrt(n);
  return group_grad_norms(names, groups, norms);
}

}  // namespace gs::app
