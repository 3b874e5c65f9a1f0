#pragma once
// Finite-difference checks: central differences, (F(x+εv) − F(x−εv)) / 2ε, against the tape's
// analytic gradients. Three kinds, each saying exactly what it compares:
//
//   entries    one entry of one operand of one op, nudged as that op alone sees it, the tape
//              replayed from that op to the loss: the entry's share of ∂L/∂operand against
//              the numeric derivative of the loss (the backprop tutorial's check; what the lessons show).
//   direction  the whole operand nudged at once along a direction v, replayed to the loss:
//              ⟨share, v⟩ against the derivative of the loss along v (two replays per tensor
//              instead of two per entry).
//   local      the whole operand nudged along v and only this op run again: ⟨share, v⟩
//              against ⟨incoming residual, Δoutput⟩ / 2ε. Checks exactly this op's backward,
//              given its incoming residual; the cheapest, and the default for large models.
//
// Per parameter: the parameter perturbed everywhere it is used (entries, direction), or, for
// local, each op's share of its gradient checked op-locally plus the identity that the
// gradient is the sum of its shares. Every op check also verifies that identity for each of
// its operands that feeds several ops (the residual stream, qkv, the tied wte), naming the op
// that overwrote the sum instead of adding to it.
//
// The numeric side always runs in double. For a float tape the perturbed evaluations run on a
// double-precision mirror of the model (the same ops, the float values converted exactly), so
// the estimate is good enough to judge float's gradients; a float gradient is then judged
// against its own round-off (the noise floor), which every result reports beside its error.
// The numbers behind each floor are in docs/checks.md.
#include <atomic>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "gradscope/tape.h"

namespace gs {

// [SECTION] kinds and options

enum class CheckKind : uint8_t { entries, direction, local };

struct CheckKindInfo {
  const char* id;     // "local": what --mode takes
  const char* title;  // "op-local direction"
  const char* what;   // one line: what is compared
};
const CheckKindInfo& info(CheckKind k);
// "entries" | "direction" | "local"; throws gs::Error naming the choices for anything else.
CheckKind parse_check_kind(const std::string& id);

struct CheckOptions {
  double eps = 1e-6;   // step per entry (along v, whose entries are of order 1, for directions)
  double atol = 1e-5;  // entries: pass when |analytic − numeric| ≤ atol + rtol·|numeric| (+ float's floor)
  double rtol = 1e-3;
  int max_entries = 24;  // entries checked per tensor; 0 = every entry
  uint64_t seed = 7;     // which entries, which random directions
  CheckKind kind = CheckKind::entries;
  // gradcheck's defaults, the entrywise kind. The numeric side runs in double for both dtypes.
  static CheckOptions defaults(DType d);
};

// The check a model gets when nobody chooses: entries where every requested entry replayed to
// the loss costs little (the tiny model, the small lesson shapes), op-local directions where it
// does not (the 124M shape: hours of replays against seconds).
template <class T>
CheckOptions default_check_options(const Tape<T>& tape);

// Unit round-off of the tape's scalar type: 2⁻²⁴ for float, 2⁻⁵³ for double.
template <class T>
constexpr double unit_roundoff() {
  return std::ldexp(1.0, -std::numeric_limits<T>::digits);
}

// Round-off allowances for an analytic value computed in the tape's type, in units of
// u·Σ|gᵢ||vᵢ| (u the unit round-off, g the analytic gradient, v the direction or the unit
// vector of one entry). kLocalK covers one op's backward; kChainK everything from the loss
// down to the op (replays to the loss). docs/checks.md gives the measured ratios they cover.
constexpr double kLocalK = 16;
constexpr double kChainK = 64;
// The numeric side's round-off: kNumericK·u_double·(Σ|terms|) / ε.
constexpr double kNumericK = 16;

// [SECTION] results

struct EntryCheck {
  int64_t index = 0;
  double analytic = 0, numeric = 0;
  // Float tapes: the analytic entry's round-off, kChainK·u_f·|a|, plus twice its measured value
  // |a − a_d| when the comparison did not settle it without (see DirectionCheck); 0 in double.
  double floor = 0;
  double abs_err() const;
  double rel_err() const;  // |a − n| / max(|a|, |n|), 0 when both are 0
  double allowed(const CheckOptions& o) const { return o.atol + o.rtol * std::abs(numeric) + floor; }
};

// One directional comparison: the analytic ⟨share, Δx⟩/2ε against the central difference
// along the same Δx = x⁺ − x⁻ (the step actually taken, ≈ 2εv).
struct DirectionCheck {
  double analytic = 0, numeric = 0;
  double numeric_2eps = NAN;  // the same at 2ε, evaluated when the first comparison did not settle it
  double eps = 0;
  double floor_analytic = 0;  // K·u·Σ|gᵢ||vᵢ|: how far the analytic value's round-off can move it
  double floor_numeric = 0;   // the numeric side's round-off, + |n(ε) − n(2ε)| when that was evaluated
  // Float tapes, when the comparison still did not settle it: |a − a_d|, a_d the same analytic
  // value from the same backward run in double on the same float values — float's round-off in
  // a, measured (the floor takes it twice). NaN when not measured.
  double roundoff_measured = NAN;
  double along_gradient = 0;  // the share of v along the analytic gradient (cosine; 0: purely random)
  int64_t entries = 0;        // entries v moves
  double noise_floor() const {
    return floor_analytic + floor_numeric + (std::isnan(roundoff_measured) ? 0.0 : 2 * roundoff_measured);
  }
  double abs_err() const { return std::abs(analytic - numeric); }
  double rel_err() const;
  bool pass() const { return abs_err() <= noise_floor(); }  // false for NaN
};

// The identity ∂L/∂X = Σ over X's users of their shares, for an operand used by several ops.
struct SumCheck {
  std::string label;     // "h.0.res_1 (h.0.ln_2 + h.1.ln_1)"
  bool is_param = false;
  int users = 0;
  double max_abs_err = 0;  // |∂L/∂X − Σ shares| at the entry nearest to failing (largest ratio to tol)
  double tol = 0;          // the summation's own round-off at that entry
  int culprit = -1;        // the op whose share overwrote the sum (-1: none found, or the sum holds)
  bool pass = true;        // for the op this check belongs to: false when the sum fails and it is
                           // the culprit, or no culprit could be named
};

struct TensorCheck {
  std::string label;   // "input 0 (h.0.ln_1 ← wpe)" or "param h.0.ln_1.weight"
  bool is_param = false;
  int slot = -1;       // operand slot in the op (per-op checks), or parameter index (per-parameter)
  CheckKind kind = CheckKind::entries;
  int64_t checked = 0;  // comparisons made (entries, or directions)
  double max_abs_err = 0, max_rel_err = 0;
  double noise_floor = 0;  // the allowance of the comparison nearest to failing
  double max_ratio = 0;    // max over comparisons of |a − n| / allowance (pass ⇔ ≤ 1)
  bool pass = true;
  std::vector<EntryCheck> entries;
  std::vector<DirectionCheck> directions;
  std::vector<SumCheck> sums;  // per-parameter local checks: the Σ-of-shares identity
};

struct OpCheck {
  int op = -1;
  std::string name;
  CheckKind kind = CheckKind::entries;
  std::vector<TensorCheck> tensors;
  std::vector<SumCheck> sums;  // operands with several users
  int64_t checked = 0;
  double max_abs_err = 0, max_rel_err = 0;
  double noise_floor = 0, max_ratio = 0;
  bool pass = true;
};

struct CheckReport {
  CheckKind kind = CheckKind::entries;
  std::vector<OpCheck> ops;
  std::vector<TensorCheck> params;
  bool pass = true;
  bool cancelled = false;
};

// The first op, walking backward from the loss, whose check fails: where the backward is first
// wrong (ops after it pass). -1 when every checked op passes.
int first_failure_from_loss(const CheckReport& r);

struct CheckProgress {
  int done = 0, total = 0;   // ops and parameters
  double work_done = 0, work_total = 0;  // estimated cost of the same (for a time-left estimate)
  const char* phase = "";    // "preparing a double-precision mirror", "checking ops", …
};
using Progress = std::function<void(const CheckProgress&)>;

// [SECTION] checking

// Runs checks on one tape, keeping what they need between calls (the double mirror of a float
// tape and scratch buffers, built on first use). The tape must hold a finished forward and
// backward, and its parameters, batch and mistakes must not change while a Checker lives.
// Every check leaves the tape's stored values exactly as it found them.
template <class T>
class Checker {
 public:
  explicit Checker(Tape<T>& tape);
  ~Checker();
  Checker(const Checker&) = delete;
  Checker& operator=(const Checker&) = delete;

  OpCheck op(int k, const CheckOptions& opt);
  TensorCheck param(int param, const CheckOptions& opt);
  // ops: the op indices to check (nullptr: every op with a backward); with_params: the
  // parameters those ops use (every trainable one when ops is nullptr).
  CheckReport all(const CheckOptions& opt, bool with_params, const std::vector<int>* ops = nullptr,
                  const Progress& progress = {}, const std::atomic<bool>* cancel = nullptr);
  Tape<T>& tape() { return tape_; }

  struct Impl;

 private:
  Tape<T>& tape_;
  std::unique_ptr<Impl> impl_;
};

// One-shot forms (a Checker for the one call).
template <class T>
OpCheck check_op(Tape<T>& tape, int k, const CheckOptions& opt);
template <class T>
TensorCheck check_param(Tape<T>& tape, int param, const CheckOptions& opt);
template <class T>
CheckReport check_all(Tape<T>& tape, const CheckOptions& opt, bool with_params, const Progress& progress = {},
                      const std::atomic<bool>* cancel = nullptr);

// Op indices for a comma list of op names; throws gs::Error naming the first unknown one.
template <class T>
std::vector<int> find_ops(const Tape<T>& tape, const std::string& comma_list);

// Error of the numeric derivative (replayed in the tape's own type) against the analytic one as
// the step shrinks: truncation error (∝ ε²) on the right, round-off (∝ 1/ε) on the left.
struct EpsPoint {
  double eps, numeric, abs_err;
};
template <class T>
std::vector<EpsPoint> error_vs_eps(Tape<T>& tape, int k, bool is_param, int slot, int64_t index,
                                   const std::vector<double>& eps_values);
std::vector<double> default_eps_sweep();  // 1e-1 … 1e-12

}  // namespace gs
