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
  void validate() const;      // throws gs::Error (unknown kind, lr <= 0, a non-finite lr or decay …)
  void validate(DType dtype) const;  // also: the lr must be a number of that type (1e300 is not an f32)
};

// What a step left behind: how many parameter values it made NaN or ±∞ (0: all finite).
struct StepReport {
  int64_t nonfinite = 0;
  std::string first;   // the first parameter holding one
  std::string text() const;  // "" or "3 parameter values are NaN or infinite (first in wte.weight)"
};

// `step` counts from 1 (AdamW's bias correction). Every value written is checked for finiteness.
template <class T>
StepReport optimizer_step(Model<T>& model, const OptimizerOptions& opt, int step);

}  // namespace gs
