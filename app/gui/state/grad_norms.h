#pragma once
// Gradient norms per layer for the training view (no ImGui, no GL): every trainable
// parameter's ‖∂L/∂p‖ grouped by where it lives: the embeddings (wte, wpe), each block
// ("h.{l}." — LoRA's A and B included), the final layernorm, anything else.
#include <cmath>
#include <string>
#include <vector>

#include "gradscope/model.h"

namespace gs::app {

struct NormGroup {
  std::string title;  // "embeddings", "block 0" …, "ln_f", "other"
  int layer = -1;     // block index; −1 for the others
  double norm = 0;    // √(Σ over the group's trainable parameters of ‖grad‖²)
  bool frozen = true; // no trainable parameter in the group (LoRA: embeddings, ln_f)
  struct Part {
    std::string name;
    double norm = -1;  // −1: frozen
  };
  std::vector<Part> parts;
};

// "h.3.mlp.c_fc.weight" → 3; −1 outside the blocks.
int param_layer(const std::string& name);

// norms[i] is the gradient norm of names[i], or −1 for a frozen parameter.
std::vector<NormGroup> group_grad_norms(const std::vector<std::string>& names, const std::vector<double>& norms);

template <class T>
std::vector<NormGroup> grad_norms_by_layer(const Model<T>& model) {
  std::vector<std::string> names;
  std::vector<double> norms;
  for (const auto& p : model.params()) {
    names.push_back(p.name);
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
  return group_grad_norms(names, norms);
}

}  // namespace gs::app
