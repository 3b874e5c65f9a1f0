#pragma once
// Finite-difference checks: central differences of the scalar loss, (L(x+ε) − L(x−ε)) / 2ε,
// against the tape's analytic gradients. Per op: perturb one operand of one op as that op
// alone sees it and replay the tape from there (checks that op's VJP given its incoming
// residual). Per parameter: perturb the parameter everywhere it is used and run the whole
// forward (checks the summed gradient).
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "gradscope/tape.h"

namespace gs {

struct CheckOptions {
  double eps = 1e-6;   // step
  double atol = 1e-5;  // pass when |analytic − numeric| ≤ atol + rtol·|numeric|
  double rtol = 1e-3;
  int max_entries = 24;  // entries checked per tensor; 0 = every entry
  uint64_t seed = 7;     // which entries
  // gradcheck's defaults in double; in float a larger step and the tolerance float can honestly meet.
  static CheckOptions defaults(DType d);
};

struct EntryCheck {
  int64_t index = 0;
  double analytic = 0, numeric = 0;
  double abs_err() const;
  double rel_err() const;  // |a − n| / max(|a|, |n|), 0 when both are 0
};

struct TensorCheck {
  std::string label;   // "input h.0.ln_1 ← wpe" or "param h.0.ln_1.weight"
  bool is_param = false;
  int slot = -1;       // operand slot in the op (per-op checks), or parameter index (per-parameter)
  int64_t checked = 0;
  double max_abs_err = 0, max_rel_err = 0;
  bool pass = true;
  std::vector<EntryCheck> entries;
};

struct OpCheck {
  int op = -1;
  std::string name;
  std::vector<TensorCheck> tensors;
  int64_t checked = 0;
  double max_abs_err = 0, max_rel_err = 0;
  bool pass = true;
};

struct CheckReport {
  std::vector<OpCheck> ops;
  std::vector<TensorCheck> params;
  bool pass = true;
  bool cancelled = false;
};

// The tape must hold a finished forward and backward. Every check leaves the tape's stored
// values exactly as it found them.
template <class T>
OpCheck check_op(Tape<T>& tape, int k, const CheckOptions& opt);
template <class T>
TensorCheck check_param(Tape<T>& tape, int param, const CheckOptions& opt);

using Progress = std::function<void(int done, int total)>;
template <class T>
CheckReport check_all(Tape<T>& tape, const CheckOptions& opt, bool with_params, const Progress& progress = {},
                      const std::atomic<bool>* cancel = nullptr);

// Error of the numeric derivative against the analytic one as the step shrinks: truncation
// error (∝ ε²) on the right, round-off (∝ 1/ε) on the left.
struct EpsPoint {
  double eps, numeric, abs_err;
};
template <class T>
std::vector<EpsPoint> error_vs_eps(Tape<T>& tape, int k, bool is_param, int slot, int64_t index,
                                   const std::vector<double>& eps_values);
std::vector<double> default_eps_sweep();  // 1e-1 … 1e-12

}  // namespace gs
