#include "gradscope/train.h"

#include <cmath>

#include "gradscope/error.h"

namespace gs {

void OptimizerOptions::validate() const {
  if (kind != "sgd" && kind != "adamw") throw Error("unknown optimizer '" + kind + "' (expected sgd or adamw)");
  if (!(lr > 0) || !std::isfinite(lr)) throw Error("--lr must be a positive number");
  if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) throw Error("AdamW betas must lie in [0, 1)");
  if (!(weight_decay >= 0)) throw Error("--weight-decay must be >= 0");
}

template <class T>
void optimizer_step(Model<T>& model, const OptimizerOptions& opt, int step) {
  const double bc1 = 1 - std::pow(opt.beta1, step), bc2 = 1 - std::pow(opt.beta2, step);
  for (auto& p : model.params()) {
    if (!p.trainable) continue;
    const int64_t n = p.data.size();
    if (opt.kind == "sgd") {
      for (int64_t i = 0; i < n; ++i) p.data[i] -= static_cast<T>(opt.lr) * p.grad[i];
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
    }
  }
}

template void optimizer_step(Model<float>&, const OptimizerOptions&, int);
template void optimizer_step(Model<double>&, const OptimizerOptions&, int);

}  // namespace gs
