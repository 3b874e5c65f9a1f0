#pragma once
// Functions of one value, entry by entry, for a model of one's own (program `custom`): −x, x ** c,
// relu, tanh, sigmoid, exp, log and abs. Each output entry depends on its own input entry only, so
// the local derivative is one map of slopes f′(x), and the backward multiplies it into the
// incoming residual entry by entry (micrograd's `_backward` of each function, on whole tensors).
//
// Each op type below is its own home: its value, its slope, the slope a planted mistake uses, its
// words and its FLOPs; the loops they share are the helpers at the top.
#include <cmath>
#include <string>

#include "ops/common.h"

namespace gs::ops {

namespace unary {

// y = f(x) entry by entry.
template <class Impl, class T>
void forward(const OpCtx<T>& c) {
  const Tensor<T>& x = c.in(0);
  T* y = c.out().data;
  const double k = c.attrs().constant;
  for (int64_t i = 0, n = x.size(); i < n; ++i) y[i] = Impl::value(x[i], k);
}

// ∂L/∂x = f′(x) ⊙ ∂L/∂y, with the planted slope where a mistake is planted.
template <class Impl, class T>
void backward(const OpCtx<T>& c) {
  if (!c.need_din(0)) return;
  const Tensor<T>& x = c.in(0);
  const Tensor<T>& y = c.out();
  const T* g = c.dout().data;
  T* dx = c.din(0).data;
  const double k = c.attrs().constant;
  const bool wrong = c.mistake(Mistake::wrong_derivative);
  for (int64_t i = 0, n = x.size(); i < n; ++i)
    dx[i] = (wrong ? Impl::wrong_slope(x[i], y[i], k) : Impl::slope(x[i], y[i], k)) * g[i] + T(0);  // + 0: no −0 shown
}

// The slopes f′(x) as one map (a number when x is one number).
template <class Impl, class T>
void local(const OpCtx<T>& c, LocalDerivative<T>& ld, const std::string& label) {
  const Tensor<T>& x = c.in(0);
  auto it = owned_item<T>(label, x.shape);
  const double k = c.attrs().constant;
  for (int64_t i = 0, n = x.size(); i < n; ++i) it.tensor[i] = Impl::slope(x[i], c.out()[i], k);
  ld.items.push_back(std::move(it));
}

// n entries: `fwd` FLOPs each forward, `bwd` each backward (the slope and its product with ∂L/∂y).
template <class T>
Flops flops(const OpCtx<T>& c, int64_t fwd, int64_t bwd) {
  const int64_t n = c.out().size();
  return {fwd * n, 0, c.need_din(0) ? bwd * n : 0};
}

template <class T>
bool supports_wrong(const OpCtx<T>& c, Mistake m) {
  return m == Mistake::wrong_derivative && c.need_din(0);
}

// The chain rule of one entry: its slope f′(x) at that entry times the incoming residual there.
template <class Impl, class T>
void explain(ChainCtx<T>& c, const std::string& slope_name) {
  const T sl = Impl::slope(c.in(0)[c.index], c.out()[c.index], c.op.attrs.constant);
  c.one_to_one(static_cast<double>(sl), slope_name, {Part::local, 0}, c.index);
}

}  // namespace unary

struct Neg {
  // in x   out y = −x
  template <class T> static T value(T x, double) { return -x; }
  template <class T> static T slope(T, T, double) { return T(-1); }
  template <class T> static T wrong_slope(T, T, double) { return T(1); }  // forgets the minus
  template <class T> static void forward(const OpCtx<T>& c) { unary::forward<Neg>(c); }
  template <class T> static void backward(const OpCtx<T>& c) { unary::backward<Neg>(c); }
  template <class T> static Flops flops(const OpCtx<T>& c) { return unary::flops(c, 1, 1); }
  template <class T> static bool supports(const OpCtx<T>& c, Mistake m) { return unary::supports_wrong(c, m); }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "A minus sign: moving " + c.in_name(0) + " up by one moves the result down by one, so the gradient "
              "comes back with its sign flipped.";
    ld.items.push_back(scalar_item<T>("∂" + out_name(c) + "/∂" + c.in_name(0) + " = −1", T(-1)));
  }
  template <class T>
  static void explain(ChainCtx<T>& c) { c.one_to_one(-1.0, "−1", {Part::local, 0}, -1); }
  static Aligned aligned(int) { return {true}; }
};

struct Pow {
  // in x   attrs.constant c   out y = x ** c
  template <class T> static T value(T x, double k) { return k == 2 ? x * x : static_cast<T>(std::pow(x, T(k))); }
  template <class T> static T slope(T x, T, double k) {
    return k == 2 ? T(2) * x : static_cast<T>(k * std::pow(x, T(k - 1)));
  }
  template <class T> static T wrong_slope(T x, T, double k) {  // forgets to lower the power: c·x^c
    return static_cast<T>(k * std::pow(x, T(k)));
  }
  template <class T> static void forward(const OpCtx<T>& c) { unary::forward<Pow>(c); }
  template <class T> static void backward(const OpCtx<T>& c) { unary::backward<Pow>(c); }
  // A power counted as one FLOP; its slope c·x^(c−1) two, its product with ∂L/∂y one.
  template <class T> static Flops flops(const OpCtx<T>& c) { return unary::flops(c, 1, 3); }
  template <class T> static bool supports(const OpCtx<T>& c, Mistake m) { return unary::supports_wrong(c, m); }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    const std::string k = num_text(c.attrs().constant), km1 = num_text(c.attrs().constant - 1), x = c.in_name(0);
    ld.text = "A power: the slope of " + x + " ** " + k + " is " + k + "·" + x + " ** " + km1 +
              ", the power rule. Each entry has its own slope at its own value.";
    unary::local<Pow>(c, ld, "∂" + out_name(c) + "/∂" + x + " = " + k + "·" + x + " ** " + km1);
  }
  template <class T>
  static void explain(ChainCtx<T>& c) { unary::explain<Pow>(c, "c·x^(c−1)"); }
  static Aligned aligned(int) { return {true, {0}}; }
  static std::string num_text(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", v);
    return b;
  }
};

struct Relu {
  // in x   out y = max(x, 0)
  template <class T> static T value(T x, double) { return x > T(0) ? x : T(0); }
  template <class T> static T slope(T x, T, double) { return x > T(0) ? T(1) : T(0); }
  template <class T> static T wrong_slope(T, T, double) { return T(1); }  // lets every gradient through
  template <class T> static void forward(const OpCtx<T>& c) { unary::forward<Relu>(c); }
  template <class T> static void backward(const OpCtx<T>& c) { unary::backward<Relu>(c); }
  template <class T> static Flops flops(const OpCtx<T>& c) { return unary::flops(c, 1, 1); }
  template <class T> static bool supports(const OpCtx<T>& c, Mistake m) { return unary::supports_wrong(c, m); }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "A gate: where " + c.in_name(0) + " > 0 the value passes and so does its gradient (slope 1); "
              "where it is 0 or below, the output is 0 and no gradient passes (slope 0). A ReLU whose input is "
              "negative for every example is 'dead': nothing before it learns.";
    unary::local<Relu>(c, ld, "∂" + out_name(c) + "/∂" + c.in_name(0) + " = 1 if " + c.in_name(0) + " > 0, else 0");
  }
  template <class T>
  static void explain(ChainCtx<T>& c) { unary::explain<Relu>(c, "1 if x > 0"); }
  static Aligned aligned(int) { return {true, {0}}; }
};

struct Tanh {
  // in x   out y = tanh(x)
  template <class T> static T value(T x, double) { return std::tanh(x); }
  template <class T> static T slope(T, T y, double) { return T(1) - y * y; }
  template <class T> static T wrong_slope(T, T y, double) { return y; }  // uses tanh itself as its slope
  template <class T> static void forward(const OpCtx<T>& c) { unary::forward<Tanh>(c); }
  template <class T> static void backward(const OpCtx<T>& c) { unary::backward<Tanh>(c); }
  // tanh counted as one FLOP; backward 1 − y², times ∂L/∂y: three.
  template <class T> static Flops flops(const OpCtx<T>& c) { return unary::flops(c, 1, 3); }
  template <class T> static bool supports(const OpCtx<T>& c, Mistake m) { return unary::supports_wrong(c, m); }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "A squashing curve between −1 and 1. Its slope is 1 − y², read off the output: 1 at 0, "
              "near 0 where the curve is flat (|" + c.in_name(0) + "| large), so a saturated tanh passes little gradient.";
    unary::local<Tanh>(c, ld, "∂" + out_name(c) + "/∂" + c.in_name(0) + " = 1 − y²");
  }
  template <class T>
  static void explain(ChainCtx<T>& c) { unary::explain<Tanh>(c, "1 − y²"); }
  static Aligned aligned(int) { return {true, {0}}; }
};

struct Sigmoid {
  // in x   out y = 1 / (1 + exp(−x))
  template <class T> static T value(T x, double) {
    // Written so that exp never overflows: for x < 0, e^x / (1 + e^x).
    if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
    const T e = std::exp(x);
    return e / (T(1) + e);
  }
  template <class T> static T slope(T, T y, double) { return y * (T(1) - y); }
  template <class T> static T wrong_slope(T, T y, double) { return y; }  // forgets the (1 − σ)
  template <class T> static void forward(const OpCtx<T>& c) { unary::forward<Sigmoid>(c); }
  template <class T> static void backward(const OpCtx<T>& c) { unary::backward<Sigmoid>(c); }
  // Forward: negate, exp, add, divide; backward: 1 − y, times y, times ∂L/∂y.
  template <class T> static Flops flops(const OpCtx<T>& c) { return unary::flops(c, 4, 3); }
  template <class T> static bool supports(const OpCtx<T>& c, Mistake m) { return unary::supports_wrong(c, m); }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "The logistic curve σ(x) = 1/(1 + e^−x), between 0 and 1. Its slope is σ·(1 − σ), read off the "
              "output: at most ¼ (at 0), and tiny where the neuron is sure of itself.";
    unary::local<Sigmoid>(c, ld, "∂" + out_name(c) + "/∂" + c.in_name(0) + " = y·(1 − y)");
  }
  template <class T>
  static void explain(ChainCtx<T>& c) { unary::explain<Sigmoid>(c, "y·(1 − y)"); }
  static Aligned aligned(int) { return {true, {0}}; }
};

struct Exp {
  // in x   out y = exp(x)
  template <class T> static T value(T x, double) { return std::exp(x); }
  template <class T> static T slope(T, T y, double) { return y; }
  template <class T> static T wrong_slope(T x, T, double) { return x; }  // the input where e^x belongs
  template <class T> static void forward(const OpCtx<T>& c) { unary::forward<Exp>(c); }
  template <class T> static void backward(const OpCtx<T>& c) { unary::backward<Exp>(c); }
  template <class T> static Flops flops(const OpCtx<T>& c) { return unary::flops(c, 1, 1); }
  template <class T> static bool supports(const OpCtx<T>& c, Mistake m) { return unary::supports_wrong(c, m); }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "The exponential is its own slope: d/dx e^x = e^x, so the local derivative is the output itself.";
    unary::local<Exp>(c, ld, "∂" + out_name(c) + "/∂" + c.in_name(0) + " = e^" + c.in_name(0) + " = y");
  }
  template <class T>
  static void explain(ChainCtx<T>& c) { unary::explain<Exp>(c, "e^x"); }
  static Aligned aligned(int) { return {true, {0}}; }
};

struct Log {
  // in x (> 0)   out y = ln(x)
  template <class T> static T value(T x, double) { return std::log(x); }
  template <class T> static T slope(T x, T, double) { return T(1) / x; }
  template <class T> static T wrong_slope(T x, T, double) { return x; }  // x where 1/x belongs
  template <class T> static void forward(const OpCtx<T>& c) { unary::forward<Log>(c); }
  template <class T> static void backward(const OpCtx<T>& c) { unary::backward<Log>(c); }
  // Backward: 1/x, times ∂L/∂y.
  template <class T> static Flops flops(const OpCtx<T>& c) { return unary::flops(c, 1, 2); }
  template <class T> static bool supports(const OpCtx<T>& c, Mistake m) { return unary::supports_wrong(c, m); }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "The natural logarithm: its slope is 1/x, steep near 0 and flat for large x. (Below 0 it has no "
              "value: the entries show nan.)";
    unary::local<Log>(c, ld, "∂" + out_name(c) + "/∂" + c.in_name(0) + " = 1/" + c.in_name(0));
  }
  template <class T>
  static void explain(ChainCtx<T>& c) { unary::explain<Log>(c, "1/x"); }
  static Aligned aligned(int) { return {true, {0}}; }
};

struct Abs {
  // in x   out y = |x|
  template <class T> static T value(T x, double) { return std::fabs(x); }
  // At 0 the slope is taken as 0 (as PyTorch does): the subgradient in the middle.
  template <class T> static T slope(T x, T, double) { return x > T(0) ? T(1) : x < T(0) ? T(-1) : T(0); }
  template <class T> static T wrong_slope(T, T, double) { return T(1); }  // forgets the sign
  template <class T> static void forward(const OpCtx<T>& c) { unary::forward<Abs>(c); }
  template <class T> static void backward(const OpCtx<T>& c) { unary::backward<Abs>(c); }
  template <class T> static Flops flops(const OpCtx<T>& c) { return unary::flops(c, 1, 1); }
  template <class T> static bool supports(const OpCtx<T>& c, Mistake m) { return unary::supports_wrong(c, m); }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "The absolute value: slope +1 where " + c.in_name(0) + " > 0, −1 where it is below 0 (0 exactly at 0, "
              "where the corner has no single slope).";
    unary::local<Abs>(c, ld, "∂" + out_name(c) + "/∂" + c.in_name(0) + " = sign(" + c.in_name(0) + ")");
  }
  template <class T>
  static void explain(ChainCtx<T>& c) { unary::explain<Abs>(c, "sign(x)"); }
  static Aligned aligned(int) { return {true, {0}}; }
};

}  // namespace gs::ops
