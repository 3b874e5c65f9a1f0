#pragma once
// One optimiser step over every trainable parameter (full: all base weights; LoRA: the A and
// B matrices only — frozen parameters are never touched).
#include <string>

#include "gradscope/model.h"

namespace gs {

struct OptimizerOptions {
  std::string kind = "adamw";  // "sgd" | "adamw"
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double weight_decay = 0.0;  // AdamW's decoupled decay
  void validate() const;      // throws gs::Error (unknown kind, lr <= 0 …)
};

// `step` counts from 1 (AdamW's bias correction).
template <class T>
void optimizer_step(Model<T>& model, const OptimizerOptions& opt, int step);

}  // namespace gs
