#pragma once
// The operators of a model of one's own (program `custom`): a + b, a − b, a · b, a / b and
// max(a, b), entry by entry. The operands have the same shape, or one is a single number (used for
// every entry), or one is a vector [m] beside a matrix [n,m] (used for every row); either may be a
// number written in the text (OpAttrs::constant), which takes no gradient.
//
// A smaller operand is read at entry i % its size, the same rule for all three cases, and its
// gradient adds up the contributions of every entry it was used for: "a value used several times
// sums its gradients", inside one op. The local derivative of each operand is the map of
// ∂y/∂operand at every output entry: 1 for a sum, the other operand for a product (CS231n's "add
// distributes, multiply swaps").
#include <string>
#include <vector>

#include "ops/common.h"

namespace gs::ops {

namespace binary {

// Operand s (0 left, 1 right) of a binary op: an index into the op's operands, or -1 for the
// number written in the text.
template <class T>
int operand(const OpCtx<T>& c, int s) {
  const int k = c.attrs().const_side;
  if (k < 0) return s;
  return s == k ? -1 : 0;
}

// Reads both operands at each output entry.
template <class T>
struct Reader {
  const OpCtx<T>& c;
  const T* p[2] = {nullptr, nullptr};
  int64_t size[2] = {1, 1};
  T k = 0;
  explicit Reader(const OpCtx<T>& ctx) : c(ctx), k(static_cast<T>(ctx.attrs().constant)) {
    for (int s = 0; s < 2; ++s) {
      const int a = operand(c, s);
      if (a < 0) continue;
      p[s] = c.in(a).data;
      size[s] = c.in(a).size();
    }
  }
  T at(int s, int64_t i) const { return p[s] ? p[s][i % size[s]] : k; }
};

// y = f(a, b) at every output entry.
template <class Impl, class T>
void forward(const OpCtx<T>& c) {
  const Reader<T> r(c);
  T* y = c.out().data;
  for (int64_t i = 0, n = c.out().size(); i < n; ++i) y[i] = Impl::value(r.at(0, i), r.at(1, i));
}

// ∂L/∂a = Σ (∂y/∂a)·∂L/∂y over the entries a was used for; the same for b. Impl::slope(s, a, b)
// is ∂y/∂(operand s) at one entry; Impl::wrong_slope the planted one.
template <class Impl, class T>
void backward(const OpCtx<T>& c) {
  const Reader<T> r(c);
  const T* g = c.dout().data;
  const int64_t n = c.out().size();
  const bool wrong = c.mistake(Mistake::wrong_derivative);
  for (int s = 0; s < 2; ++s) {
    const int a = operand(c, s);
    if (a < 0 || !c.need_din(a)) continue;
    T* d = c.din(a).data;
    const int64_t m = c.din(a).size();
    auto term = [&](int64_t i) {
      const T sl = wrong ? Impl::wrong_slope(s, r.at(0, i), r.at(1, i)) : Impl::slope(s, r.at(0, i), r.at(1, i));
      return sl * g[i];
    };
    if (m == n) {
      for (int64_t i = 0; i < n; ++i) d[i] = term(i) + T(0);  // + 0: no −0 shown
    } else {  // broadcast: the sum over every entry it was used for, in double, rounded once
      std::vector<double> acc(static_cast<size_t>(m), 0.0);
      for (int64_t i = 0; i < n; ++i) acc[static_cast<size_t>(i % m)] += static_cast<double>(term(i));
      for (int64_t j = 0; j < m; ++j) d[j] = static_cast<T>(acc[static_cast<size_t>(j)]);
    }
  }
}

// Forward: `fwd` FLOPs per output entry. Backward, per operand that needs its gradient: `bwd[s]`
// per output entry, plus one per entry to add up a broadcast operand's contributions.
template <class T>
Flops flops(const OpCtx<T>& c, int64_t fwd, const int64_t (&bwd)[2]) {
  const int64_t n = c.out().size();
  int64_t b = 0;
  for (int s = 0; s < 2; ++s) {
    const int a = operand(c, s);
    if (a < 0 || !c.need_din(a)) continue;
    b += bwd[s] * n + (c.in(a).size() < n ? n : 0);
  }
  return {fwd * n, 0, b};
}

template <class T>
bool supports_wrong(const OpCtx<T>& c, Mistake m) {
  if (m != Mistake::wrong_derivative) return false;
  for (int a = 0; a < c.n_in(); ++a)
    if (c.need_din(a)) return true;
  return false;
}

// A wrong derivative planted where only the right side's slope can be wrong (a − b, a / b): that
// side must be an operand whose gradient is needed.
template <class T>
bool supports_wrong_right(const OpCtx<T>& c, Mistake m) {
  const int b = operand(c, 1);
  return m == Mistake::wrong_derivative && b >= 0 && c.need_din(b);
}

// The operand's name in the equations: the value's name, or the number written in the text.
template <class T>
std::string name(const OpCtx<T>& c, int s) {
  const int a = operand(c, s);
  if (a >= 0) return c.in_name(a);
  char b[32];
  std::snprintf(b, sizeof b, "%g", c.attrs().constant);
  return b;
}

// One map per operand (not for a number in the text): ∂y/∂operand at every output entry, or one
// number when it is the same everywhere (`constant_slope`).
template <class Impl, class T>
void local(const OpCtx<T>& c, LocalDerivative<T>& ld, const std::string (&formula)[2], const double* constant_slope) {
  const Reader<T> r(c);
  const int64_t n = c.out().size();
  for (int s = 0; s < 2; ++s) {
    if (operand(c, s) < 0) continue;
    const std::string label = "∂" + out_name(c) + "/∂" + name(c, s) + " = " + formula[s];
    if (constant_slope) {
      ld.items.push_back(scalar_item<T>(label, static_cast<T>(constant_slope[s])));
      continue;
    }
    auto it = owned_item<T>(label, c.out().shape);
    for (int64_t i = 0; i < n; ++i) it.tensor[i] = Impl::slope(s, r.at(0, i), r.at(1, i));
    ld.items.push_back(std::move(it));
  }
}

// The chain rule of one entry of an operand's gradient: ∂y/∂operand times the incoming residual,
// at the same place — or, for an operand used for several entries (a number beside a vector, a
// row vector beside a matrix), summed over every entry it was used for. `constant_slope`: the
// local-derivative items are single numbers (a sum, a difference).
template <class Impl, class T>
void explain(ChainCtx<T>& c, bool constant_slope) {
  const int a = c.operand();
  const int k = c.op.attrs.const_side;
  const int s = k < 0 ? a : k == 0 ? 1 : 0;  // the side of the operator this operand stands on
  const T kc = static_cast<T>(c.op.attrs.constant);
  auto side = [&](int which, int64_t i) -> T {
    if (which == k) return kc;
    const int arg = k < 0 ? which : 0;
    const Tensor<T>& t = c.in(arg);
    return t[i % t.size()];
  };
  const int64_t n = c.G.size(), m = c.in(a).size();
  c.r.local_tensor = {Part::local, a};
  c.r.local_name = "∂" + c.tape.value(c.op.out).name + "/∂" + c.in_name(a);
  auto term = [&](int64_t i, int64_t over) {
    c.add(static_cast<double>(Impl::slope(s, side(0, i), side(1, i))), constant_slope ? -1 : i, c.g(i), i, over);
  };
  if (m == n) {
    c.r.how = "entry by entry: the local derivative times the incoming residual at the same place";
    term(c.index, -1);
    return;
  }
  const bool one = m == 1;
  c.r.over_name = one ? "i" : "row";
  c.r.how = one ? c.in_name(a) + " was used for every entry: its gradient adds up what each one sends back"
                : c.in_name(a) + " was used for every row: its gradient adds up this column of every row";
  for (int64_t i = c.index; i < n; i += m) term(i, one ? i : i / m);
}

}  // namespace binary

struct Add {
  // in a, b (or one of them a number)   out y = a + b
  template <class T> static T value(T a, T b) { return a + b; }
  template <class T> static T slope(int, T, T) { return T(1); }
  template <class T> static T wrong_slope(int, T, T) { return T(1); }
  template <class T> static void forward(const OpCtx<T>& c) { binary::forward<Add>(c); }
  template <class T> static void backward(const OpCtx<T>& c) { binary::backward<Add>(c); }
  // The gradient is routed unchanged (no arithmetic) unless a broadcast operand sums it.
  template <class T> static Flops flops(const OpCtx<T>& c) { return binary::flops(c, 1, {0, 0}); }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "An addition hands the same gradient to both sides: moving either operand by one moves the sum by "
              "one (\"add distributes\"). An operand used for several entries adds up their gradients.";
    const double ones[2] = {1, 1};
    binary::local<Add>(c, ld, {"1", "1"}, ones);
  }
  template <class T>
  static void explain(ChainCtx<T>& c) { binary::explain<Add>(c, true); }
  static Aligned aligned(int) { return {true}; }
};

struct Sub {
  // in a, b (or one of them a number)   out y = a − b
  template <class T> static T value(T a, T b) { return a - b; }
  template <class T> static T slope(int s, T, T) { return s == 0 ? T(1) : T(-1); }
  template <class T> static T wrong_slope(int, T, T) { return T(1); }  // forgets the minus on b
  template <class T> static void forward(const OpCtx<T>& c) { binary::forward<Sub>(c); }
  template <class T> static void backward(const OpCtx<T>& c) { binary::backward<Sub>(c); }
  // a's gradient is a copy; b's is negated, one per entry.
  template <class T> static Flops flops(const OpCtx<T>& c) { return binary::flops(c, 1, {0, 1}); }
  template <class T> static bool supports(const OpCtx<T>& c, Mistake m) { return binary::supports_wrong_right(c, m); }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "A difference: the left side moves the result one-for-one, the right side moves it the other way, "
              "so its gradient comes back with a minus sign.";
    const double sl[2] = {1, -1};
    binary::local<Sub>(c, ld, {"1", "−1"}, sl);
  }
  template <class T>
  static void explain(ChainCtx<T>& c) { binary::explain<Sub>(c, true); }
  static Aligned aligned(int) { return {true}; }
};

struct Mul {
  // in a, b (or one of them a number)   out y = a·b
  template <class T> static T value(T a, T b) { return a * b; }
  template <class T> static T slope(int s, T a, T b) { return s == 0 ? b : a; }
  template <class T> static T wrong_slope(int s, T a, T b) { return s == 0 ? a : b; }  // its own value, not the other's
  template <class T> static void forward(const OpCtx<T>& c) { binary::forward<Mul>(c); }
  template <class T> static void backward(const OpCtx<T>& c) { binary::backward<Mul>(c); }
  template <class T> static Flops flops(const OpCtx<T>& c) { return binary::flops(c, 1, {1, 1}); }
  // x · x (one value on both sides): its own value and the other's are the same, so the planted
  // slope would be the right one and nothing could find it.
  template <class T>
  static bool supports(const OpCtx<T>& c, Mistake m) {
    const bool same = binary::operand(c, 0) >= 0 && binary::operand(c, 1) >= 0 && c.in(0).data == c.in(1).data;
    return !same && binary::supports_wrong(c, m);
  }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    const std::string a = binary::name(c, 0), b = binary::name(c, 1);
    ld.text = "A product swaps: the slope with respect to " + a + " is " + b + ", and with respect to " + b + " it is " +
              a + " (\"multiply swaps\"). Each operand's gradient is the other operand times the incoming residual.";
    binary::local<Mul>(c, ld, {b, a}, nullptr);
  }
  template <class T>
  static void explain(ChainCtx<T>& c) { binary::explain<Mul>(c, false); }
  static Aligned aligned(int n_local) { return {true, n_local >= 2 ? std::vector<int>{0, 1} : std::vector<int>{0}}; }
};

struct Div {
  // in a, b (or one of them a number)   out y = a / b
  template <class T> static T value(T a, T b) { return a / b; }
  template <class T> static T slope(int s, T a, T b) { return s == 0 ? T(1) / b : -a / (b * b); }
  template <class T> static T wrong_slope(int s, T a, T b) { return s == 0 ? T(1) / b : a / (b * b); }  // drops the minus
  template <class T> static void forward(const OpCtx<T>& c) { binary::forward<Div>(c); }
  template <class T> static void backward(const OpCtx<T>& c) { binary::backward<Div>(c); }
  // a: 1/b, times ∂L/∂y (2); b: b², a/b², negate, times ∂L/∂y (4).
  template <class T> static Flops flops(const OpCtx<T>& c) { return binary::flops(c, 1, {2, 4}); }
  template <class T> static bool supports(const OpCtx<T>& c, Mistake m) { return binary::supports_wrong_right(c, m); }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    const std::string a = binary::name(c, 0), b = binary::name(c, 1);
    ld.text = "A quotient: the top moves it by 1/" + b + "; the bottom moves it by −" + a + "/" + b +
              "² (a larger divisor makes the result smaller).";
    binary::local<Div>(c, ld, {"1/" + b, "−" + a + "/" + b + "²"}, nullptr);
  }
  template <class T>
  static void explain(ChainCtx<T>& c) { binary::explain<Div>(c, false); }
  static Aligned aligned(int n_local) { return {true, n_local >= 2 ? std::vector<int>{0, 1} : std::vector<int>{0}}; }
};

struct Max {
  // in a, b (or one of them a number)   out y = max(a, b)
  template <class T> static T value(T a, T b) { return a >= b ? a : b; }
  // The larger side takes the whole gradient; on a tie, the left one (as a router picks one way).
  template <class T> static T slope(int s, T a, T b) { return (s == 0) == (a >= b) ? T(1) : T(0); }
  template <class T> static T wrong_slope(int, T, T) { return T(1); }  // routes to both sides
  template <class T> static void forward(const OpCtx<T>& c) { binary::forward<Max>(c); }
  template <class T> static void backward(const OpCtx<T>& c) { binary::backward<Max>(c); }
  // A comparison per entry forward; backward a routing, no arithmetic.
  template <class T> static Flops flops(const OpCtx<T>& c) { return binary::flops(c, 1, {0, 0}); }
  template <class T> static bool supports(const OpCtx<T>& c, Mistake m) { return binary::supports_wrong(c, m); }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "A router: the larger operand passes through, so it gets the whole gradient (slope 1) and the "
              "other gets none (slope 0). On a tie the left one takes it.";
    binary::local<Max>(c, ld, {"1 where it is the larger", "1 where it is the larger"}, nullptr);
  }
  template <class T>
  static void explain(ChainCtx<T>& c) { binary::explain<Max>(c, false); }
  static Aligned aligned(int n_local) { return {true, n_local >= 2 ? std::vector<int>{0, 1} : std::vector<int>{0}}; }
};

}  // namespace gs::ops
