#pragma once
// The numbers of the Wiggle and Update views (no ImGui, no GL), each computed on a copy of the
// session so the tape on screen is never touched:
//  - wiggle: the loss as one parameter entry moves, the tangent of slope ∂L/∂p at its value, and
//    the central difference (L(p+ε) − L(p−ε)) / 2ε beside the analytic gradient; for `line` also
//    the loss over the (a, b) plane;
//  - update: one optimiser step as its own thing: every parameter before, the step, after; the
//    loss before and after beside the first-order prediction g·Δθ (= −η·‖g‖² for SGD), the same
//    over a sweep of learning rates (where the straight line stops predicting), and for models
//    with class targets the probability of each target before and after.
#include <cstdint>
#include <string>
#include <vector>

#include "any_session.h"
#include "gradscope/train.h"

namespace gs::app {

// Copies of models beyond this many parameters are not made for these views (the 124M shape).
constexpr int64_t kMaxViewParams = 4'000'000;

struct WiggleCurve {
  std::string param;
  int64_t index = 0;
  double value = 0;      // the entry now
  double loss = 0;       // L at it
  double analytic = 0;   // ∂L/∂p from the tape's backward
  double numeric = 0;    // (L(p+ε) − L(p−ε)) / 2ε
  double eps = 0;
  bool pass = false;     // |analytic − numeric| within the finite-difference tolerance of the run's dtype
  std::vector<double> xs, ls;  // the entry's values across the plot and the loss at each
  std::string error;     // "" when computed
};

// `half_width` ≤ 0: chosen from the value (max(1, 2|p|)). `points`: samples of the curve.
WiggleCurve wiggle_curve(const AnySession& live, const std::string& param, int64_t index, double half_width = 0,
                         int points = 41);

// The loss over a grid of two scalar parameters (line's a and b), row-major: ls[i*n + j] at
// (xs[j], ys[i]).
struct LossPlane {
  std::string px, py;
  std::vector<double> xs, ys, ls;
  double x = 0, y = 0, gx = 0, gy = 0;  // where the model is, and the gradient there
  std::string error;
};
LossPlane loss_plane(const AnySession& live, const std::string& px, const std::string& py, int n = 41);

struct UpdateRow {
  std::string param;
  int64_t n = 0;                          // entries
  std::vector<double> before, step, after;  // the first few entries (all of a small tensor)
  double grad_norm = 0, step_norm = 0;
  bool frozen = false;
};
struct TargetProb {
  std::string where;   // "position 3 → 'e'", "example 0 → class 2"
  double before = 0, after = 0;
};
struct UpdatePreview {
  OptimizerOptions opt;
  double loss_before = 0, loss_after = 0;
  double predicted = 0;  // first-order change g·Δθ (SGD: −η·‖g‖²)
  std::vector<UpdateRow> rows;
  std::vector<TargetProb> targets;
  struct Sweep {
    double lr, actual, predicted;
  };
  std::vector<Sweep> sweep;  // the same step at other learning rates
  std::string error;
};
// One step of `opt` (AdamW's step count `step`) on a copy of `live`; `entries` per parameter row.
UpdatePreview preview_update(const AnySession& live, const OptimizerOptions& opt, int step, int entries = 8);
// A step already taken, from the model before it to the model after (no sweep).
UpdatePreview describe_step(const AnySession& before, const AnySession& after, const OptimizerOptions& opt,
                            int entries = 8);

}  // namespace gs::app
