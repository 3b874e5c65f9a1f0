#include "gradscope/train.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "gradscope/error.h"

namespace gs {

void OptimizerOptions::validate() const {
  if (kind != "sgd" && kind != "adamw") throw Error("unknown optimizer '" + kind + "' (expected sgd or adamw)");
  if (!(lr > 0) || !std::isfinite(lr)) throw Error("--lr must be a positive number");
  if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) throw Error("AdamW betas must lie in [0, 1)");
  if (!(weight_decay >= 0) || !std::isfinite(weight_decay)) throw Error("--weight-decay must be a finite number >= 0");
}

void OptimizerOptions::validate(DType dtype) const {
  validate();
  if (dtype == DType::f32 && lr > std::numeric_limits<float>::max()) {
    char b[64];
    snprintf(b, sizeof b, "%g", lr);
    throw Error(std::string("--lr ") + b + " is beyond the range of f32 (about 3.4e+38)");
  }
}

template <class T>
StepReport optimizer_step(Model<T>& model, const OptimizerOptions& opt, int step) {
  const double bc1 = 1 - std::pow(opt.beta1, step), bc2 = 1 - std::pow(opt.beta2, step);
  StepReport report;
  // Every value the step writes is checked as it is written (no second pass).
  auto count = [&](const Param<T>& p, int64_t bad) {
    if (bad && report.nonfinite == 0) report.first = p.name;
    report.nonfinite += bad;
  };
  for (auto& p : model.params()) {
    if (!p.trainable) continue;
    const int64_t n = p.data.size();
    int64_t bad = 0;
    if (opt.kind == "sgd") {
      for (int64_t i = 0; i < n; ++i) {
        p.data[i] -= static_cast<T>(opt.lr) * p.grad[i];
        bad += !std::isfinite(p.data[i]);
      }
      count(p, bad);
      continue;
    }
    if (p.m.empty()) {
      p.m = model.alloc(p.data.shape);
      p.v = model.alloc(p.data.shape);
    }
    for (int64_t i = 0; i < n; ++i) {
      const double g = p.grad[i];
      const double m = opt.beta1 * p.m[i] + (1 - opt.beta1) * g;
      const double v = opt.beta2 * p.v[i] + (1 - opt.beta2) * g * g;
      p.m[i] = static_cast<T>(m);
      p.v[i] = static_cast<T>(v);
      const double update = (m / bc1) / (std::sqrt(v / bc2) + opt.eps) + opt.weight_decay * p.data[i];
      p.data[i] = static_cast<T>(p.data[i] - opt.lr * update);
      bad += !std::isfinite(p.data[i]);
    }
    count(p, bad);
  }
  return report;
}

std::string StepReport::text() const {
  if (nonfinite == 0) return "";
  return std::to_string(nonfinite) + " parameter value" + (nonfinite == 1 ? " is" : "s are") +
         " NaN or infinite (first in " + first + ")";
}

template StepReport optimizer_step(Model<float>&, const OptimizerOptions&, int);
template StepReport optimizer_step(Model<double>&, const OptimizerOptions&, int);

}  // namespace gs
