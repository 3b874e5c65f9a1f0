#include "gradscope/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "gradscope/rng.h"

namespace gs {

CheckOptions CheckOptions::defaults(DType d) {
  CheckOptions o;
  if (d == DType::f32) {
    o.eps = 1e-3;
    o.atol = 1e-3;
    o.rtol = 1e-2;
  }
  return o;
}

double EntryCheck::abs_err() const { return std::abs(analytic - numeric); }
double EntryCheck::rel_err() const {
  const double den = std::max(std::abs(analytic), std::abs(numeric));
  return den == 0 ? 0.0 : abs_err() / den;
}

std::vector<double> default_eps_sweep() {
  std::vector<double> e;
  for (int p = 1; p <= 12; ++p) e.push_back(std::pow(10.0, -p));
  return e;
}

namespace {

// Which entries to check: all if few; else half among entries with a non-zero gradient
// (embedding rows of tokens that occur) and half anywhere, without repeats.
template <class T>
std::vector<int64_t> pick_entries(const Tensor<T>& grad, int max_entries, uint64_t seed) {
  const int64_t n = grad.size();
  std::vector<int64_t> out;
  if (max_entries <= 0 || n <= max_entries) {
    out.resize(n);
    std::iota(out.begin(), out.end(), 0);
    return out;
  }
  Rng rng(seed);
  std::vector<int64_t> nonzero;
  for (int64_t i = 0; i < n; ++i)
    if (grad[i] != T(0)) nonzero.push_back(i);
  std::vector<char> taken(n, 0);
  auto take = [&](int64_t i) {
    if (!taken[i]) {
      taken[i] = 1;
      out.push_back(i);
    }
  };
  // The largest-gradient entry always, then samples.
  int64_t big = 0;
  for (int64_t i = 1; i < n; ++i)
    if (std::abs(grad[i]) > std::abs(grad[big])) big = i;
  take(big);
  for (int tries = 0; tries < 4 * max_entries && !nonzero.empty() && int(out.size()) < max_entries / 2; ++tries)
    take(nonzero[rng.below(static_cast<uint32_t>(nonzero.size()))]);
  for (int tries = 0; tries < 8 * max_entries && int(out.size()) < max_entries; ++tries)
    take(static_cast<int64_t>(rng.below(static_cast<uint32_t>(std::min<int64_t>(n, UINT32_MAX)))));
  std::sort(out.begin(), out.end());
  return out;
}

void finish(TensorCheck& tc, const CheckOptions& opt) {
  tc.checked = static_cast<int64_t>(tc.entries.size());
  for (const auto& e : tc.entries) {
    tc.max_abs_err = std::max(tc.max_abs_err, e.abs_err());
    tc.max_rel_err = std::max(tc.max_rel_err, e.rel_err());
    if (!(e.abs_err() <= opt.atol + opt.rtol * std::abs(e.numeric))) tc.pass = false;
  }
}

// Central difference of the loss in one entry of op k's operand, as op k alone sees it.
template <class T>
double numeric_op(Tape<T>& tape, Override<T>& ov, int64_t i, double eps) {
  const T orig = ov.tensor[i];
  ov.tensor[i] = static_cast<T>(orig + eps);
  const double lp = tape.replay_from(ov.op, &ov);
  ov.tensor[i] = static_cast<T>(orig - eps);
  const double lm = tape.replay_from(ov.op, &ov);
  ov.tensor[i] = orig;
  // Divide by the step actually taken, which in float is not exactly 2ε.
  const double step = double(static_cast<T>(orig + eps)) - double(static_cast<T>(orig - eps));
  return (lp - lm) / step;
}

template <class T>
const Tensor<T>& operand(Tape<T>& tape, int k, bool is_param, int slot) {
  const auto& op = tape.op(k);
  return is_param ? tape.model().params()[op.par[slot]].data : tape.value(op.in[slot]).data;
}

}  // namespace

template <class T>
OpCheck check_op(Tape<T>& tape, int k, const CheckOptions& opt) {
  const Op<T>& op = tape.op(k);
  OpCheck oc;
  oc.op = k;
  oc.name = op.name;
  for (int pass = 0; pass < 2; ++pass) {
    const bool is_param = pass == 1;
    const auto& shares = is_param ? op.dpar : op.din;
    for (int s = 0; s < static_cast<int>(shares.size()); ++s) {
      if (shares[s].empty()) continue;
      TensorCheck tc;
      tc.is_param = is_param;
      tc.slot = s;
      tc.label = is_param ? "param " + tape.model().params()[op.par[s]].name
                          : "input " + std::to_string(s) + " (" + tape.value(op.in[s]).name + ")";
      const Tensor<T>& src = operand(tape, k, is_param, s);
      OwnedTensor<T> copy(src.shape);
      std::copy(src.begin(), src.end(), copy.buf.begin());
      Override<T> ov{k, is_param, s, copy.view()};
      for (int64_t i : pick_entries(shares[s], opt.max_entries, opt.seed ^ (uint64_t(k) << 8) ^ (s + 2 * pass))) {
        if (!std::isfinite(static_cast<double>(src[i]))) continue;  // a masked −∞ score: nothing to perturb
        EntryCheck e;
        e.index = i;
        e.analytic = static_cast<double>(shares[s][i]);
        e.numeric = numeric_op(tape, ov, i, opt.eps);
        tc.entries.push_back(e);
      }
      finish(tc, opt);
      oc.checked += tc.checked;
      oc.max_abs_err = std::max(oc.max_abs_err, tc.max_abs_err);
      oc.max_rel_err = std::max(oc.max_rel_err, tc.max_rel_err);
      oc.pass = oc.pass && tc.pass;
      oc.tensors.push_back(std::move(tc));
    }
  }
  tape.replay_from(k);  // put back every value the perturbed replays overwrote
  return oc;
}

template <class T>
TensorCheck check_param(Tape<T>& tape, int param, const CheckOptions& opt) {
  Param<T>& p = tape.model().params()[param];
  TensorCheck tc;
  tc.label = "param " + p.name;
  tc.is_param = true;
  tc.slot = param;
  if (p.grad.empty()) return tc;
  for (int64_t i : pick_entries(p.grad, opt.max_entries, opt.seed ^ (uint64_t(param) << 20))) {
    const T orig = p.data[i];
    p.data[i] = static_cast<T>(orig + opt.eps);
    const double lp = tape.replay_from(0);
    p.data[i] = static_cast<T>(orig - opt.eps);
    const double lm = tape.replay_from(0);
    const double step = double(static_cast<T>(orig + opt.eps)) - double(static_cast<T>(orig - opt.eps));
    p.data[i] = orig;
    tc.entries.push_back({i, static_cast<double>(p.grad[i]), (lp - lm) / step});
  }
  tape.replay_from(0);
  finish(tc, opt);
  return tc;
}

template <class T>
CheckReport check_all(Tape<T>& tape, const CheckOptions& opt, bool with_params, const Progress& progress,
                      const std::atomic<bool>* cancel) {
  CheckReport r;
  std::vector<int> ops;
  for (int k = 0; k < tape.size(); ++k)
    if (tape.op(k).needs_backward()) ops.push_back(k);
  std::vector<int> params;
  if (with_params)
    for (int i = 0; i < static_cast<int>(tape.model().params().size()); ++i)
      if (tape.model().params()[i].trainable) params.push_back(i);
  const int total = static_cast<int>(ops.size() + params.size());
  int done = 0;
  for (int k : ops) {
    if (cancel && cancel->load()) {
      r.cancelled = true;
      return r;
    }
    r.ops.push_back(check_op(tape, k, opt));
    r.pass = r.pass && r.ops.back().pass;
    if (progress) progress(++done, total);
  }
  for (int i : params) {
    if (cancel && cancel->load()) {
      r.cancelled = true;
      return r;
    }
    r.params.push_back(check_param(tape, i, opt));
    r.pass = r.pass && r.params.back().pass;
    if (progress) progress(++done, total);
  }
  return r;
}

template <class T>
std::vector<EpsPoint> error_vs_eps(Tape<T>& tape, int k, bool is_param, int slot, int64_t index,
                                   const std::vector<double>& eps_values) {
  const auto& op = tape.op(k);
  const Tensor<T>& share = is_param ? op.dpar[slot] : op.din[slot];
  const double analytic = share.empty() ? 0.0 : static_cast<double>(share[index]);
  const Tensor<T>& src = operand(tape, k, is_param, slot);
  OwnedTensor<T> copy(src.shape);
  std::copy(src.begin(), src.end(), copy.buf.begin());
  Override<T> ov{k, is_param, slot, copy.view()};
  std::vector<EpsPoint> out;
  for (double eps : eps_values) {
    const T orig = ov.tensor[index];
    if (static_cast<T>(orig + eps) == static_cast<T>(orig - eps)) continue;  // step below the type's resolution
    const double n = numeric_op(tape, ov, index, eps);
    out.push_back({eps, n, std::abs(n - analytic)});
  }
  tape.replay_from(k);
  return out;
}

#define GS_INSTANTIATE(T)                                                                                     \
  template OpCheck check_op(Tape<T>&, int, const CheckOptions&);                                              \
  template TensorCheck check_param(Tape<T>&, int, const CheckOptions&);                                       \
  template CheckReport check_all(Tape<T>&, const CheckOptions&, bool, const Progress&, const std::atomic<bool>*); \
  template std::vector<EpsPoint> error_vs_eps(Tape<T>&, int, bool, int, int64_t, const std::vector<double>&);
GS_INSTANTIATE(float)
GS_INSTANTIATE(double)
#undef GS_INSTANTIATE

}  // namespace gs
