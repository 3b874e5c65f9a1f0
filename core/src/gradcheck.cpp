#include "gradscope/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <optional>

#include "gradcheck_mirror.h"
#include "gradscope/error.h"
#include "gradscope/rng.h"

namespace gs {

// [SECTION] kinds and options

namespace {
constexpr CheckKindInfo kKinds[] = {
    {"entries", "entries",
     "each checked entry nudged by ±ε as this op alone sees it, the tape replayed to the loss: "
     "∂L/∂entry against the entry of the backward's share"},
    {"direction", "direction",
     "the whole tensor nudged along a direction v, replayed to the loss: "
     "(L(x+εv) − L(x−εv))/2ε against ⟨share, v⟩"},
    {"local", "op-local direction",
     "the whole tensor nudged along v and only this op run again: "
     "⟨incoming residual, Δoutput⟩/2ε against ⟨share, v⟩ (this op's backward, given what reaches it)"},
};
}  // namespace

const CheckKindInfo& info(CheckKind k) { return kKinds[static_cast<int>(k)]; }

CheckKind parse_check_kind(const std::string& id) {
  for (int i = 0; i < 3; ++i)
    if (id == kKinds[i].id) return static_cast<CheckKind>(i);
  throw Error("unknown check mode '" + id + "' (entries, direction or local)");
}

CheckOptions CheckOptions::defaults(DType) {
  // The numeric side runs in double for both dtypes (a float tape's on its double mirror), so
  // both get gradcheck's step and tolerances; a float tape's entries add their own round-off.
  return CheckOptions{};
}

double EntryCheck::abs_err() const { return std::abs(analytic - numeric); }
double EntryCheck::rel_err() const {
  const double den = std::max(std::abs(analytic), std::abs(numeric));
  return den == 0 ? 0.0 : abs_err() / den;
}
double DirectionCheck::rel_err() const {
  const double den = std::max(std::abs(analytic), std::abs(numeric));
  return den == 0 ? 0.0 : abs_err() / den;
}

std::vector<double> default_eps_sweep() {
  std::vector<double> e;
  for (int p = 1; p <= 12; ++p) e.push_back(std::pow(10.0, -p));
  return e;
}

int first_failure_from_loss(const CheckReport& r) {
  int best = -1;
  for (const OpCheck& c : r.ops)
    if (c.checked > 0 && !c.pass && c.op > best) best = c.op;
  return best;
}

template <class T>
std::vector<int> find_ops(const Tape<T>& tape, const std::string& comma_list) {
  std::vector<int> out;
  for (const std::string& name : split_comma_list(comma_list)) {
    if (name.empty()) throw Error("an empty op name in '" + printable(comma_list) + "'");
    const int k = tape.find_op(name);
    if (k < 0) throw Error("no op named '" + printable(name) + "' (gradscope-cli ops lists them)");
    if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// [SECTION] helpers

template <class T>
const Tensor<T>& operand(Tape<T>& tape, int k, bool is_param, int slot) {
  const auto& op = tape.op(k);
  return is_param ? tape.model().params()[op.par[slot]].data : tape.value(op.in[slot]).data;
}

template <class T>
std::string operand_label(const Tape<T>& tape, int k, bool is_param, int s) {
  const auto& op = tape.op(k);
  return is_param ? "param " + tape.model().params()[op.par[s]].name
                  : "input " + std::to_string(s) + " (" + tape.value(op.in[s]).name + ")";
}

// FLOPs of replaying ops k … N−1 forward (an op that moves data costs its output's size).
template <class T>
std::vector<double> replay_costs(const Tape<T>& tape) {
  std::vector<double> from(tape.size() + 1, 0.0);
  for (int k = tape.size() - 1; k >= 0; --k)
    from[k] = from[k + 1] + std::max<double>(double(tape.op(k).flops.fwd), double(tape.value(tape.op(k).out).data.size()));
  return from;
}

template <class T>
int first_use(const Tape<T>& tape, int param) {
  for (int k = 0; k < tape.size(); ++k)
    for (int p : tape.op(k).par)
      if (p == param) return k;
  return 0;
}

uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t z = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// [SECTION] entries: one entry at a time, replayed to the loss

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

// Keeps the comparison nearest to failing (a NaN counts as the worst): its allowance is the
// tensor's noise floor, |a − n| / allowance its ratio.
void keep_worst(TensorCheck& tc, bool& first, double err, double allowed) {
  double ratio = allowed > 0 ? err / allowed : (err == 0 ? 0.0 : INFINITY);
  if (std::isnan(ratio)) ratio = INFINITY;
  if (first || ratio > tc.max_ratio) {
    tc.max_ratio = ratio;
    tc.noise_floor = allowed;
    first = false;
  }
}

void finish(TensorCheck& tc, const CheckOptions& opt) {
  tc.kind = CheckKind::entries;
  tc.checked = static_cast<int64_t>(tc.entries.size());
  bool first = true;
  for (const auto& e : tc.entries) {
    tc.max_abs_err = std::max(tc.max_abs_err, e.abs_err());
    tc.max_rel_err = std::max(tc.max_rel_err, e.rel_err());
    if (!(e.abs_err() <= e.allowed(opt))) tc.pass = false;
    keep_worst(tc, first, e.abs_err(), e.allowed(opt));
  }
}

// [SECTION] directions: one comparison per tensor

// The direction v = c·g + z: a multiple of the analytic gradient g plus a random ±1 vector z,
// with c = ‖g‖₁/‖g‖₂² so that both parts weigh the same in Σ|gᵢ||vᵢ|, the sum the analytic
// side's round-off (the noise floor) is proportional to. The gradient part adds ‖g‖₁ to ⟨g, v⟩,
// so the numeric side is judged where the loss moves most and a wrong sign or scale cannot
// hide; the random part catches errors at right angles to the claimed gradient (whose
// projection on g is zero) — a purely random direction alone would give a small ⟨g, v⟩, and g
// alone would miss those errors; weighing g no more than z keeps the floor from growing with a
// peaked g (a log-softmax's one-hot targets) and swamping what z can see. Where the two parts
// (nearly) cancel, |c·gᵢ + zᵢ| < ½, the entry takes the gradient part c·gᵢ alone (|c·gᵢ| is
// then between ½ and 1½): otherwise the entry would hardly move or not at all, and a tensor of
// one entry (a lesson's scalar a, or any tensor whose entries have one magnitude, c·gᵢ = ±1)
// would be left out half the time — a flipped sign there would pass. v is 0 on entries that
// are not finite (masked −∞ scores): nothing to nudge there.
// An operand's unperturbed values, read as double (a double tensor, or a float tape's own values
// where a float mirror's copy is being perturbed in place).
template <class S>
struct Values {
  const S* p = nullptr;
  double operator[](int64_t i) const { return static_cast<double>(p[i]); }
};

template <class T>
struct Direction {
  const T* g = nullptr;
  double c = 0;  // ‖g‖₁ / ‖g‖₂² (0 when g = 0: v = z)
  uint64_t seed = 0;

  template <class X>
  Direction(const Tensor<T>& grad, const X& x, uint64_t s) : g(grad.data), seed(s) {
    double l1 = 0, l2 = 0;
    for (int64_t i = 0; i < grad.size(); ++i) {
      if (!std::isfinite(static_cast<double>(x[i]))) continue;
      const double gi = static_cast<double>(g[i]);
      l1 += std::abs(gi);
      l2 += gi * gi;
    }
    c = l2 > 0 ? l1 / l2 : 0.0;
  }
  // z's signs, 64 entries per hash (the loops run in order, so the last block is kept).
  mutable int64_t block = -1;
  mutable uint64_t bits = 0;
  double z(int64_t i) const {
    if ((i >> 6) != block) {
      block = i >> 6;
      bits = mix(seed, uint64_t(block));
    }
    return (bits >> (i & 63)) & 1 ? 1.0 : -1.0;
  }
  template <class X>
  double operator()(int64_t i, X xi) const {
    if (!std::isfinite(static_cast<double>(xi))) return 0.0;
    const double a = c * double(g[i]), zi = z(i), v = a + zi;
    return std::abs(v) < 0.5 ? a : v;
  }
};

// The analytic side along the step actually taken: a = ⟨g, x⁺ − x⁻⟩/2h and Σ|gᵢ||x⁺ᵢ − x⁻ᵢ|/2h.
struct Analytic {
  double value = 0, abs_sum = 0, gv = 0, vv = 0, gg = 0;
  int64_t moved = 0;
};

template <class T, class X>
Analytic analytic_along(const Tensor<T>& g, const X& x, const Direction<T>& dir, double h) {
  Analytic a;
  const int64_t n = g.size();
  for (int64_t i = 0; i < n; ++i) {
    const double v = dir(i, x[i]);
    if (v == 0) continue;
    const double dx = (x[i] + h * v) - (x[i] - h * v);
    const double gi = static_cast<double>(g[i]);
    a.value += gi * dx;
    a.abs_sum += std::abs(gi * dx);
    a.gv += gi * v;
    a.vv += v * v;
    a.gg += gi * gi;
    ++a.moved;
  }
  a.value /= 2 * h;
  a.abs_sum /= 2 * h;
  return a;
}

// ⟨g, x⁺ − x⁻⟩/2h for another gradient (the same backward in double) along the same steps.
template <class S, class T, class X>
double project(const Tensor<S>& g, const X& x, const Direction<T>& dir, double h) {
  double a = 0;
  for (int64_t i = 0; i < g.size(); ++i) {
    const double v = dir(i, x[i]);
    if (v != 0) a += static_cast<double>(g[i]) * ((x[i] + h * v) - (x[i] - h * v));
  }
  return a / (2 * h);
}

template <class X, class V>
void fill_perturbed(double* out, int64_t n, const X& x, const V& v, double h) {
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] + h * v(i, x[i]);
}

// Judges one comparison: first at ε; when the difference is beyond both sides' round-off, the
// numeric side is evaluated again at 2ε and the change (truncation, ∝ ε², plus noise) is added
// to its floor; when it still is, float's round-off in the analytic value is measured (`measure`
// gives the same value computed in double, NaN where it cannot) and twice it is added, before
// the verdict. `eval(h, a, numeric, roundoff)` gives both sides at step h.
template <class Eval, class Measure>
DirectionCheck judge(double eps, double k_analytic, double u, Eval&& eval, Measure&& measure) {
  DirectionCheck d;
  d.eps = eps;
  Analytic a1;
  double n1 = 0, r1 = 0;
  eval(eps, a1, n1, r1);
  d.analytic = a1.value;
  d.numeric = n1;
  d.entries = a1.moved;
  d.along_gradient = a1.gg > 0 && a1.vv > 0 ? a1.gv / std::sqrt(a1.gg * a1.vv) : 0.0;
  d.floor_analytic = k_analytic * u * a1.abs_sum;
  d.floor_numeric = kNumericK * std::ldexp(1.0, -53) * r1 / (2 * eps);
  if (!d.pass()) {
    Analytic a2;
    double n2 = 0, r2 = 0;
    eval(2 * eps, a2, n2, r2);
    d.numeric_2eps = n2;
    d.floor_numeric += std::abs((n1 - a1.value) - (n2 - a2.value));
  }
  if (!d.pass()) {
    const double ad = measure();
    if (!std::isnan(ad)) d.roundoff_measured = std::abs(d.analytic - ad);
  }
  return d;
}

void finish(TensorCheck& tc, CheckKind kind) {
  tc.kind = kind;
  tc.checked = static_cast<int64_t>(tc.directions.size());
  bool first = true;
  for (const auto& d : tc.directions) {
    tc.max_abs_err = std::max(tc.max_abs_err, d.abs_err());
    tc.max_rel_err = std::max(tc.max_rel_err, d.rel_err());
    if (!d.pass()) tc.pass = false;
    keep_worst(tc, first, d.abs_err(), d.noise_floor());
  }
  for (const auto& s : tc.sums) tc.pass = tc.pass && s.pass;
}

}  // namespace

// [SECTION] the checker

template <class T>
struct Checker<T>::Impl {
  Tape<T>& tape;
  detail::NumericTape<T> nt;
  std::vector<double> replay_from_cost;
  std::map<std::pair<int, int>, DirectionCheck> local_param_shares;  // (op, param slot) → its op-local check

  explicit Impl(Tape<T>& t) : tape(t), nt(t), replay_from_cost(replay_costs(t)) {}

  static constexpr double u() { return unit_roundoff<T>(); }

  uint64_t seed_for(const CheckOptions& opt, int k, bool is_param, int s) const {
    return mix(mix(opt.seed, uint64_t(k) + 1), uint64_t(s) * 2 + is_param);
  }

  // ---- op-local: ⟨r, f(x+hv) − f(x−hv)⟩/2h against ⟨g, Δx⟩/2h
  DirectionCheck local_direction(int k, bool is_param, int slot, const CheckOptions& opt) {
    const Op<T>& op = tape.op(k);
    const Tensor<T>& g = is_param ? op.dpar[slot] : op.din[slot];
    const detail::Site site = nt.local(k);
    Tape<double>& dt = *site.tape;
    const Op<double>& dop = dt.op(site.op);
    const Tensor<double>& x = is_param ? dt.model().params()[dop.par[slot]].data : dt.value(dop.in[slot]).data;
    const Tensor<double>& out = dt.value(dop.out).data;
    const int64_t n = x.size(), m = out.size();
    double* plus = nt.scratch(m, 1);
    const Tensor<T>& r = tape.incoming(k);
    // xs: the unperturbed values; target: where x ± hv goes (an Override, or a mirror's own copy
    // of a parameter, put back from the float tape after each run: no second copy of a wte).
    auto check = [&](const auto& xs, double* target, const Override<double>* ov, auto&& put_back) {
      const Direction<T> dir(g, xs, seed_for(opt, k, is_param, slot));
      auto v = [&](int64_t i, double xi) { return dir(i, xi); };
      auto eval = [&](double h, Analytic& a, double& num, double& round) {
        fill_perturbed(target, n, xs, v, h);
        dt.forward_op(site.op, ov);
        std::copy(out.begin(), out.end(), plus);
        fill_perturbed(target, n, xs, v, -h);
        dt.forward_op(site.op, ov);
        put_back();
        num = 0;
        round = 0;
        for (int64_t i = 0; i < m; ++i) {
          const double ri = static_cast<double>(r[i]);
          if (plus[i] == out[i]) continue;  // unmoved (a masked −∞ score stays −∞)
          num += ri * (plus[i] - out[i]);
          round += std::abs(ri) * (std::abs(plus[i]) + std::abs(out[i]));
        }
        num /= 2 * h;
        a = analytic_along(g, xs, dir, h);
      };
      // The same backward in double, from the same float values and incoming residual.
      auto measure = [&]() -> double {
        if constexpr (detail::NumericTape<T>::kSelf) {
          return NAN;
        } else {
          const detail::Site b = nt.local_backward(k);
          const Op<double>& bop = b.tape->op(b.op);
          const Tensor<double>& gd = is_param ? bop.dpar[slot] : bop.din[slot];
          if (gd.empty() || gd.size() != g.size()) return NAN;
          return project(gd, xs, dir, opt.eps);
        }
      };
      return judge(opt.eps, kLocalK, u(), eval, measure);
    };
    DirectionCheck d;
    if constexpr (!detail::NumericTape<T>::kSelf) {
      if (is_param) {
        const Tensor<T>& src = tape.model().params()[op.par[slot]].data;
        d = check(Values<T>{src.data}, x.data, nullptr, [&] {
          for (int64_t i = 0; i < n; ++i) x[i] = static_cast<double>(src[i]);
        });
        return d;
      }
    }
    Override<double> ov{site.op, is_param, slot, Tensor<double>{nt.scratch(n, 0), x.shape}};
    d = check(Values<double>{x.data}, ov.tensor.data, &ov, [] {});
    nt.restore_local(k);
    return d;
  }

  // ---- direction: (L(x+hv) − L(x−hv))/2h with op k alone seeing x ± hv
  DirectionCheck replay_direction(int k, bool is_param, int slot, const CheckOptions& opt) {
    const Op<T>& op = tape.op(k);
    const Tensor<T>& g = is_param ? op.dpar[slot] : op.din[slot];
    const detail::Site site = nt.replay(k);
    Tape<double>& dt = *site.tape;
    const Op<double>& dop = dt.op(k);
    const Tensor<double>& x = is_param ? dt.model().params()[dop.par[slot]].data : dt.value(dop.in[slot]).data;
    const Values<double> xs{x.data};
    const Direction<T> dir(g, xs, seed_for(opt, k, is_param, slot));
    Override<double> ov{k, is_param, slot, Tensor<double>{nt.scratch(x.size(), 0), x.shape}};
    auto v = [&](int64_t i, double xi) { return dir(i, xi); };
    const double ops_replayed = double(tape.size() - k);
    auto eval = [&](double h, Analytic& a, double& num, double& round) {
      fill_perturbed(ov.tensor.data, x.size(), xs, v, h);
      const double lp = dt.replay_from(k, &ov);
      fill_perturbed(ov.tensor.data, x.size(), xs, v, -h);
      const double lm = dt.replay_from(k, &ov);
      num = (lp - lm) / (2 * h);
      round = (std::abs(lp) + std::abs(lm)) * ops_replayed;  // each op replayed may round at the loss's scale
      a = analytic_along(g, xs, dir, h);
    };
    // The whole backward in double (the mirror's own pass), then the float values back in place.
    auto measure = [&]() -> double {
      if constexpr (detail::NumericTape<T>::kSelf) {
        return NAN;
      } else {
        const Op<double>& fop = nt.full_backward().op(k);
        nt.replay(k);
        const Tensor<double>& gd = is_param ? fop.dpar[slot] : fop.din[slot];
        if (gd.empty()) return NAN;
        return project(gd, xs, dir, opt.eps);
      }
    };
    return judge(opt.eps, kChainK, u(), eval, measure);
  }

  // ---- a parameter perturbed everywhere along v, replayed from its first use
  DirectionCheck param_direction(int param, const CheckOptions& opt) {
    Param<T>& p = tape.model().params()[param];
    const int first = first_use(tape, param);
    const detail::Site site = nt.replay(first);
    Tape<double>& dt = *site.tape;
    const Tensor<double>& x = dt.model().params()[param].data;
    const int64_t n = x.size();
    // The unperturbed values: a float tape's own (its mirror's copy is put back from them), or a
    // copy of a double tape's.
    double* orig = nullptr;
    if constexpr (detail::NumericTape<T>::kSelf) {
      orig = nt.scratch(n, 2);
      std::copy(x.begin(), x.end(), orig);
    }
    auto check = [&](const auto& xs) {
      const Direction<T> dir(p.grad, xs, mix(opt.seed, 0x70617261ULL + uint64_t(param)));
      auto v = [&](int64_t i, double xi) { return dir(i, xi); };
      const double ops_replayed = double(tape.size() - first);
      auto eval = [&](double h, Analytic& a, double& num, double& round) {
        fill_perturbed(x.data, n, xs, v, h);
        const double lp = dt.replay_from(first);
        fill_perturbed(x.data, n, xs, v, -h);
        const double lm = dt.replay_from(first);
        for (int64_t i = 0; i < n; ++i) x[i] = xs[i];
        num = (lp - lm) / (2 * h);
        round = (std::abs(lp) + std::abs(lm)) * ops_replayed;
        a = analytic_along(p.grad, xs, dir, h);
      };
      auto measure = [&]() -> double {
        if constexpr (detail::NumericTape<T>::kSelf) {
          return NAN;
        } else {
          const Tensor<double>& gd = nt.full_backward().model().params()[param].grad;
          nt.replay(first);
          if (gd.empty()) return NAN;
          return project(gd, xs, dir, opt.eps);
        }
      };
      return judge(opt.eps, kChainK, u(), eval, measure);
    };
    DirectionCheck d;
    if constexpr (detail::NumericTape<T>::kSelf)
      d = check(Values<double>{orig});
    else
      d = check(Values<T>{p.data.data});
    nt.restore_replay(first);
    return d;
  }

  // ---- entries on the numeric side (double tape: the tape itself, as it always was)
  TensorCheck op_entries(int k, bool is_param, int s, const CheckOptions& opt) {
    const Op<T>& op = tape.op(k);
    const auto& share = is_param ? op.dpar[s] : op.din[s];
    TensorCheck tc;
    const Tensor<T>& src = operand(tape, k, is_param, s);
    const auto picked = pick_entries(share, opt.max_entries, opt.seed ^ (uint64_t(k) << 8) ^ (s + 2 * is_param));
    if constexpr (detail::NumericTape<T>::kSelf) {
      OwnedTensor<T> copy(src.shape);
      std::copy(src.begin(), src.end(), copy.buf.begin());
      Override<T> ov{k, is_param, s, copy.view()};
      for (int64_t i : picked) {
        if (!std::isfinite(static_cast<double>(src[i]))) continue;  // a masked −∞ score: nothing to perturb
        EntryCheck e;
        e.index = i;
        e.analytic = static_cast<double>(share[i]);
        e.numeric = numeric_op(tape, ov, i, opt.eps);
        tc.entries.push_back(e);
      }
    } else {
      const detail::Site site = nt.replay(k);
      Tape<double>& dt = *site.tape;
      const Tensor<double>& x = is_param ? dt.model().params()[dt.op(k).par[s]].data : dt.value(dt.op(k).in[s]).data;
      Override<double> ov{k, is_param, s, Tensor<double>{nt.scratch(x.size(), 0), x.shape}};
      std::copy(x.begin(), x.end(), ov.tensor.data);
      for (int64_t i : picked) {
        if (!std::isfinite(x[i])) continue;
        EntryCheck e;
        e.index = i;
        e.analytic = static_cast<double>(share[i]);
        e.numeric = numeric_op(dt, ov, i, opt.eps);
        e.floor = kChainK * u() * std::abs(e.analytic);
        if (!(e.abs_err() <= e.allowed(opt))) {
          // Float's round-off in this entry, measured: the whole backward in double.
          const Op<double>& fop = nt.full_backward().op(k);
          nt.replay(k);
          const Tensor<double>& gd = is_param ? fop.dpar[s] : fop.din[s];
          if (!gd.empty()) e.floor += 2 * std::abs(e.analytic - gd[i]);
        }
        tc.entries.push_back(e);
      }
    }
    finish(tc, opt);
    return tc;
  }

  TensorCheck param_entries(int param, const CheckOptions& opt) {
    Param<T>& p = tape.model().params()[param];
    TensorCheck tc;
    const int first = first_use(tape, param);
    // Ops before the first use do not read the parameter: replaying from there gives the loss
    // replaying from op 0 would, bit for bit.
    if constexpr (detail::NumericTape<T>::kSelf) {
      for (int64_t i : pick_entries(p.grad, opt.max_entries, opt.seed ^ (uint64_t(param) << 20))) {
        const T orig = p.data[i];
        p.data[i] = static_cast<T>(orig + opt.eps);
        const double lp = tape.replay_from(first);
        p.data[i] = static_cast<T>(orig - opt.eps);
        const double lm = tape.replay_from(first);
        const double step = double(static_cast<T>(orig + opt.eps)) - double(static_cast<T>(orig - opt.eps));
        p.data[i] = orig;
        tc.entries.push_back({i, static_cast<double>(p.grad[i]), (lp - lm) / step});
      }
      tape.replay_from(first);
    } else {
      const detail::Site site = nt.replay(first);
      Tape<double>& dt = *site.tape;
      const Tensor<double>& x = dt.model().params()[param].data;
      for (int64_t i : pick_entries(p.grad, opt.max_entries, opt.seed ^ (uint64_t(param) << 20))) {
        const double orig = x[i];
        x[i] = orig + opt.eps;
        const double lp = dt.replay_from(first);
        x[i] = orig - opt.eps;
        const double lm = dt.replay_from(first);
        const double step = (orig + opt.eps) - (orig - opt.eps);
        x[i] = orig;
        EntryCheck e{i, static_cast<double>(p.grad[i]), (lp - lm) / step};
        e.floor = kChainK * u() * std::abs(e.analytic);
        if (!(e.abs_err() <= e.allowed(opt))) {
          const Tensor<double>& gd = nt.full_backward().model().params()[param].grad;
          nt.replay(first);
          if (!gd.empty()) e.floor += 2 * std::abs(e.analytic - gd[i]);
        }
        tc.entries.push_back(e);
      }
    }
    finish(tc, opt);
    return tc;
  }

  // ---- Σ of shares: ∂L/∂X against the sum of its users' shares
  struct Users {
    std::vector<int> ops;
    std::vector<const Tensor<T>*> shares;
  };

  SumCheck sum_check(const Tensor<T>& total, const Users& us, const std::string& what, bool is_param, int k) {
    SumCheck sc;
    sc.is_param = is_param;
    sc.users = static_cast<int>(us.ops.size());
    sc.label = what + " (";
    for (size_t i = 0; i < us.ops.size(); ++i) sc.label += (i ? " + " : "") + tape.op(us.ops[i]).name;
    sc.label += ")";
    const int64_t n = total.size();
    const double slack = 2.0 * double(us.ops.size()) * u();
    // |total − Σ_{users ≤ j} shares| against the summation's round-off, for the prefix ending at j.
    // (err, tol) reported at the entry nearest to failing: the largest err/tol, else the largest tol.
    auto worst = [&](size_t upto, double* err, double* tol) {
      bool ok = true;
      double best = -1;
      *err = 0;
      *tol = 0;
      for (int64_t i = 0; i < n; ++i) {
        double s = 0, a = 0;
        for (size_t j = 0; j <= upto; ++j) {
          const double x = static_cast<double>((*us.shares[j])[i]);
          s += x;
          a += std::abs(x);
        }
        const double e = std::abs(static_cast<double>(total[i]) - s), t = slack * (a + std::abs(double(total[i])));
        if (!(e <= t)) ok = false;
        const double ratio = t > 0 ? e / t : (e == 0 ? 0.0 : INFINITY);
        if (!(ratio <= best) || (ratio == best && t > *tol)) {
          best = std::isnan(ratio) ? INFINITY : ratio;
          *err = e;
          *tol = t;
        }
      }
      return ok;
    };
    double err = 0, tol = 0;
    if (worst(us.ops.size() - 1, &err, &tol)) {
      sc.max_abs_err = err;
      sc.tol = tol;
      return sc;
    }
    sc.max_abs_err = err;
    sc.tol = tol;
    // The backward runs users from the last to the first; a user that copies its share instead of
    // adding it drops every share added before it, leaving the sum of the shares of users up to
    // itself. The latest such prefix names it.
    for (size_t j = us.ops.size() - 1; j-- > 0;) {
      double e2, t2;
      if (worst(j, &e2, &t2)) {
        sc.culprit = us.ops[j];
        break;
      }
    }
    sc.pass = sc.culprit >= 0 && sc.culprit != k;
    return sc;
  }

  std::vector<SumCheck> sums_of(int k) {
    std::vector<SumCheck> out;
    const Op<T>& op = tape.op(k);
    for (size_t i = 0; i < op.in.size(); ++i) {
      const Value<T>& v = tape.value(op.in[i]);
      if (op.din[i].empty() || v.grad.empty() || v.uses.size() < 2) continue;
      Users us;
      std::vector<Use> uses = v.uses;
      std::sort(uses.begin(), uses.end(), [](const Use& a, const Use& b) { return a.op < b.op; });
      for (const Use& u : uses) {
        const auto& share = tape.op(u.op).din[u.slot];
        if (share.empty()) continue;
        us.ops.push_back(u.op);
        us.shares.push_back(&share);
      }
      if (us.ops.size() >= 2) out.push_back(sum_check(v.grad, us, "∂L/∂" + v.name, false, k));
    }
    for (size_t j = 0; j < op.par.size(); ++j)
      if (!op.dpar[j].empty())
        if (auto sc = param_sum(op.par[j], k)) out.push_back(*sc);
    return out;
  }

  std::optional<SumCheck> param_sum(int param, int k) {
    const Param<T>& p = tape.model().params()[param];
    if (p.grad.empty()) return std::nullopt;
    Users us;
    for (int q = 0; q < tape.size(); ++q)
      for (size_t j = 0; j < tape.op(q).par.size(); ++j)
        if (tape.op(q).par[j] == param && !tape.op(q).dpar[j].empty()) {
          us.ops.push_back(q);
          us.shares.push_back(&tape.op(q).dpar[j]);
        }
    if (us.ops.size() < 2) return std::nullopt;
    return sum_check(p.grad, us, "∂L/∂" + p.name, true, k);
  }

  // ---- one op, one parameter
  OpCheck op_check(int k, const CheckOptions& opt) {
    const Op<T>& op = tape.op(k);
    OpCheck oc;
    oc.op = k;
    oc.name = op.name;
    oc.kind = opt.kind;
    for (int pass = 0; pass < 2; ++pass) {
      const bool is_param = pass == 1;
      const auto& shares = is_param ? op.dpar : op.din;
      for (int s = 0; s < static_cast<int>(shares.size()); ++s) {
        if (shares[s].empty()) continue;
        TensorCheck tc;
        if (opt.kind == CheckKind::entries) {
          tc = op_entries(k, is_param, s, opt);
        } else {
          const DirectionCheck d =
              opt.kind == CheckKind::local ? local_direction(k, is_param, s, opt) : replay_direction(k, is_param, s, opt);
          if (opt.kind == CheckKind::local && is_param) local_param_shares[{k, s}] = d;
          tc.directions.push_back(d);
          finish(tc, opt.kind);
        }
        tc.is_param = is_param;
        tc.slot = s;
        tc.label = operand_label(tape, k, is_param, s);
        oc.tensors.push_back(std::move(tc));
      }
    }
    if (opt.kind == CheckKind::entries) {
      if constexpr (detail::NumericTape<T>::kSelf) tape.replay_from(k);  // put back what the replays overwrote
    } else if (opt.kind == CheckKind::direction) {
      nt.restore_replay(k);
    }
    for (size_t i = 0; i < oc.tensors.size(); ++i) {
      const TensorCheck& tc = oc.tensors[i];
      oc.checked += tc.checked;
      oc.max_abs_err = std::max(oc.max_abs_err, tc.max_abs_err);
      oc.max_rel_err = std::max(oc.max_rel_err, tc.max_rel_err);
      if (i == 0 || tc.max_ratio > oc.max_ratio) {
        oc.max_ratio = tc.max_ratio;
        oc.noise_floor = tc.noise_floor;
      }
      oc.pass = oc.pass && tc.pass;
    }
    if (oc.checked > 0) {
      oc.sums = sums_of(k);
      for (const SumCheck& s : oc.sums) oc.pass = oc.pass && s.pass;
    }
    return oc;
  }

  TensorCheck param_check(int param, const CheckOptions& opt) {
    Param<T>& p = tape.model().params()[param];
    TensorCheck tc;
    tc.is_param = true;
    tc.slot = param;
    if (!p.grad.empty()) {
      if (opt.kind == CheckKind::entries) {
        tc = param_entries(param, opt);
      } else if (opt.kind == CheckKind::direction) {
        tc.directions.push_back(param_direction(param, opt));
        finish(tc, opt.kind);
      } else {
        // Each op's share checked op-locally, and the gradient the sum of the shares.
        for (int q = 0; q < tape.size(); ++q)
          for (size_t j = 0; j < tape.op(q).par.size(); ++j) {
            if (tape.op(q).par[j] != param || tape.op(q).dpar[j].empty()) continue;
            auto it = local_param_shares.find({q, int(j)});
            tc.directions.push_back(it != local_param_shares.end() ? it->second
                                                                   : local_direction(q, true, int(j), opt));
          }
        if (auto sc = param_sum(param, -1)) {
          sc->pass = sc->max_abs_err <= sc->tol;  // for the parameter: the sum itself must hold
          tc.sums.push_back(*sc);
        }
        finish(tc, opt.kind);
      }
    }
    tc.label = "param " + p.name;
    tc.is_param = true;
    tc.slot = param;
    if (tc.checked == 0 && p.grad.empty()) tc.kind = opt.kind;
    return tc;
  }

  // Estimated cost of checking one op or parameter (for progress and time left).
  double op_cost(int k, const CheckOptions& opt) const {
    const Op<T>& op = tape.op(k);
    double n = 0;
    for (int pass = 0; pass < 2; ++pass) {
      const auto& shares = pass ? op.dpar : op.din;
      for (const auto& s : shares) {
        if (s.empty()) continue;
        const double own = std::max<double>(double(op.flops.fwd), double(tape.value(op.out).data.size())) + double(s.size());
        switch (opt.kind) {
          case CheckKind::local: n += 2 * own; break;
          case CheckKind::direction: n += 2 * replay_from_cost[k] + double(s.size()); break;
          case CheckKind::entries:
            n += 2 * double(opt.max_entries > 0 ? std::min<int64_t>(opt.max_entries, s.size()) : s.size()) *
                 replay_from_cost[k];
            break;
        }
      }
    }
    return n;
  }
  double param_cost(int param, const CheckOptions& opt) const {
    const auto& p = tape.model().params()[param];
    const double from = replay_from_cost[first_use(tape, param)];
    switch (opt.kind) {
      case CheckKind::local: return double(p.data.size());
      case CheckKind::direction: return 2 * from;
      case CheckKind::entries:
        return 2 * double(opt.max_entries > 0 ? std::min<int64_t>(opt.max_entries, p.data.size()) : p.data.size()) * from;
    }
    return 0;
  }
};

template <class T>
Checker<T>::Checker(Tape<T>& tape) : tape_(tape), impl_(std::make_unique<Impl>(tape)) {}
template <class T>
Checker<T>::~Checker() = default;

template <class T>
OpCheck Checker<T>::op(int k, const CheckOptions& opt) {
  if (k < 0 || k >= tape_.size()) throw Error("no op " + std::to_string(k) + " on the tape");
  return impl_->op_check(k, opt);
}

template <class T>
TensorCheck Checker<T>::param(int param, const CheckOptions& opt) {
  if (param < 0 || param >= static_cast<int>(tape_.model().params().size()))
    throw Error("no parameter " + std::to_string(param));
  return impl_->param_check(param, opt);
}

template <class T>
CheckReport Checker<T>::all(const CheckOptions& opt, bool with_params, const std::vector<int>* only,
                            const Progress& progress, const std::atomic<bool>* cancel) {
  CheckReport r;
  r.kind = opt.kind;
  std::vector<int> ops;
  for (int k = 0; k < tape_.size(); ++k)
    if (tape_.op(k).needs_backward() && (!only || std::find(only->begin(), only->end(), k) != only->end()))
      ops.push_back(k);
  std::vector<int> params;
  if (with_params)
    for (int i = 0; i < static_cast<int>(tape_.model().params().size()); ++i) {
      if (!tape_.model().params()[i].trainable) continue;
      bool used = !only;
      for (int k : ops)
        for (int p : tape_.op(k).par) used = used || p == i;
      if (used) params.push_back(i);
    }
  CheckProgress pr;
  pr.total = static_cast<int>(ops.size() + params.size());
  for (int k : ops) pr.work_total += impl_->op_cost(k, opt);
  for (int i : params) pr.work_total += impl_->param_cost(i, opt);
  auto report = [&](const char* phase) {
    pr.phase = phase;
    if (progress) progress(pr);
  };
  // Every op: build the mirrors up front (so the progress can say so). A few ops (--ops) build
  // only what they need on first use: at the 124M shape a block op's one-token mirror takes a
  // fraction of a second, the vocabulary-sized one seconds.
  const bool local_only = opt.kind == CheckKind::local;
  if (!only && !impl_->nt.prepared(local_only)) {
    report("building a double-precision mirror of the model");
    impl_->nt.prepare(local_only);
  }
  auto stop = [&] { return cancel && cancel->load(); };
  for (int k : ops) {
    if (stop()) {
      r.cancelled = true;
      return r;
    }
    report("checking ops");
    r.ops.push_back(impl_->op_check(k, opt));
    r.pass = r.pass && r.ops.back().pass;
    ++pr.done;
    pr.work_done += impl_->op_cost(k, opt);
  }
  for (int i : params) {
    if (stop()) {
      r.cancelled = true;
      return r;
    }
    report("checking parameters");
    r.params.push_back(impl_->param_check(i, opt));
    r.pass = r.pass && r.params.back().pass;
    ++pr.done;
    pr.work_done += impl_->param_cost(i, opt);
  }
  report("done");
  return r;
}

template <class T>
OpCheck check_op(Tape<T>& tape, int k, const CheckOptions& opt) {
  return Checker<T>(tape).op(k, opt);
}

template <class T>
TensorCheck check_param(Tape<T>& tape, int param, const CheckOptions& opt) {
  return Checker<T>(tape).param(param, opt);
}

template <class T>
CheckReport check_all(Tape<T>& tape, const CheckOptions& opt, bool with_params, const Progress& progress,
                      const std::atomic<bool>* cancel) {
  return Checker<T>(tape).all(opt, with_params, nullptr, progress, cancel);
}

template <class T>
CheckOptions default_check_options(const Tape<T>& tape) {
  CheckOptions o = CheckOptions::defaults(tape.config().dtype);
  // Entrywise replays of every requested entry, by the engine's forward FLOP counts.
  const std::vector<double> from = replay_costs(tape);
  double cost = 0;
  for (int k = 0; k < tape.size(); ++k) {
    const auto& op = tape.op(k);
    for (int pass = 0; pass < 2; ++pass)
      for (const auto& s : pass ? op.dpar : op.din)
        if (!s.empty()) cost += 2.0 * double(std::min<int64_t>(o.max_entries, s.size())) * from[k];
  }
  for (int i = 0; i < static_cast<int>(tape.model().params().size()); ++i) {
    const auto& p = tape.model().params()[i];
    if (p.trainable) cost += 2.0 * double(std::min<int64_t>(o.max_entries, p.data.size())) * from[first_use(tape, i)];
  }
  // ~2·10¹⁰ FLOPs is a few seconds of replays; beyond it the op-local check says as much in far less.
  if (cost > 2e10) o.kind = CheckKind::local;
  return o;
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
  template class Checker<T>;                                                                                 \
  template OpCheck check_op(Tape<T>&, int, const CheckOptions&);                                              \
  template TensorCheck check_param(Tape<T>&, int, const CheckOptions&);                                       \
  template CheckReport check_all(Tape<T>&, const CheckOptions&, bool, const Progress&, const std::atomic<bool>*); \
  template CheckOptions default_check_options(const Tape<T>&);                                                \
  template std::vector<int> find_ops(const Tape<T>&, const std::string&);                                     \
  template std::vector<EpsPoint> error_vs_eps(Tape<T>&, int, bool, int, int64_t, const std::vector<double>&);
GS_INSTANTIATE(float)
GS_INSTANTIATE(double)
#undef GS_INSTANTIATE

}  // namespace gs
