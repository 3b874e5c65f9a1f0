#pragma once
// The arithmetic of the lesson models (docs/programs.md): one learned number times a tensor, one
// learned number added, the error against a target, and the mean squared error. Every entry
// moves on its own, so each local derivative is a number or an entrywise map — the tutorial's
// table, "local derivative wrt input: a".
#include "ops/common.h"

namespace gs::ops {

// Σ_i a[i]·b[i] in double, then rounded once: a scalar parameter's gradient.
template <class T>
T dot(const T* a, const T* b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += double(a[i]) * double(b[i]);
  return static_cast<T>(s);
}

struct MulParam {
  // in x (any shape)   par a ()   out y = a·x
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const T a = c.par(0)[0];
    const T* x = c.in(0).data;
    T* y = c.out().data;
    for (int64_t i = 0, n = c.out().size(); i < n; ++i) y[i] = a * x[i];
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    const T* x = c.in(0).data;
    const T* g = c.dout().data;
    const int64_t n = c.dout().size();
    if (c.need_din(0)) {
      // planted: multiplies by x, the other factor, where a belongs
      const bool wrong = c.mistake(Mistake::wrong_derivative);
      const T a = c.par(0)[0];
      T* dx = c.din(0).data;
      for (int64_t i = 0; i < n; ++i) dx[i] = (wrong ? x[i] : a) * g[i];
    }
    if (c.need_dpar(0)) c.dpar(0)[0] = dot(x, g, n);
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    const int64_t n = c.out().size();
    // Backward: a·g per entry for ∂L/∂x; x·g summed (2 per entry) for ∂L/∂a.
    return {n, 0, (c.need_din(0) ? n : 0) + (c.need_dpar(0) ? 2 * n : 0)};
  }
  template <class T>
  static bool supports(const OpCtx<T>& c, Mistake m) {
    return m == Mistake::wrong_derivative && c.need_din(0);
  }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "A product of two things: moving x by one moves y by a, and moving a by one moves y by x. So the "
              "gradient reaching x is a times the incoming residual, and a's gradient is x times it (summed "
              "over every entry a touched).";
    ld.items.push_back(scalar_item<T>("∂y/∂x = a", c.par(0)[0]));
    ld.items.push_back(view_item("∂y/∂a = x", c.in(0)));
  }
  template <class T>
  static void explain(ChainCtx<T>& c) {
    if (c.din) {
      c.one_to_one(static_cast<double>(c.par(0)[0]), c.par_label(0), {Part::local, 0}, -1);
      return;
    }
    c.r.local_tensor = {Part::local, 1};
    c.r.local_name = "x";
    c.r.over_name = "i";
    c.r.how = "a multiplied every entry: its gradient is x times the incoming residual, summed over the entries";
    for (int64_t i = 0; i < c.G.size(); ++i) c.add(static_cast<double>(c.in(0)[i]), i, c.g(i), i, i);
  }
  static Aligned aligned(int) { return {true, {1}}; }
};

struct AddParam {
  // in x (any shape)   par b ()   out y = x + b
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const T b = c.par(0)[0];
    const T* x = c.in(0).data;
    T* y = c.out().data;
    for (int64_t i = 0, n = c.out().size(); i < n; ++i) y[i] = x[i] + b;
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    if (c.need_din(0)) c.din(0).copy_from(c.dout());
    if (c.need_dpar(0)) {
      double s = 0;
      for (T g : c.dout()) s += double(g);
      c.dpar(0)[0] = static_cast<T>(s);
    }
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    const int64_t n = c.out().size();
    return {n, 0, c.need_dpar(0) ? n : 0};  // ∂L/∂b sums the incoming residual
  }
  template <class T>
  static void local(const OpCtx<T>&, int, LocalDerivative<T>& ld) {
    ld.text = "An addition: moving x or b by one moves y by one. The incoming residual passes through unchanged, "
              "and b's gradient is that residual summed over every entry b was added to.";
    ld.items.push_back(scalar_item<T>("∂y/∂x = 1", T(1)));
    ld.items.push_back(scalar_item<T>("∂y/∂b = 1", T(1)));
  }
  template <class T>
  static void explain(ChainCtx<T>& c) {
    if (c.din) {
      c.one_to_one(1.0, "1", {Part::local, 0}, -1);
      return;
    }
    // b: the residual summed over every entry b was added to
    c.r.local_tensor = {Part::local, 1};
    c.r.local_name = "1";
    c.r.over_name = "i";
    c.r.how = "b was added to every entry: its gradient is the incoming residual summed over all of them";
    for (int64_t i = 0; i < c.G.size(); ++i) c.add(1.0, -1, c.g(i), i, i);
  }
  static Aligned aligned(int) { return {true}; }
};

struct Subtract {
  // in y (any shape), t (the same shape)   out d = y − t
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const T* y = c.in(0).data;
    const T* t = c.in(1).data;
    T* d = c.out().data;
    for (int64_t i = 0, n = c.out().size(); i < n; ++i) d[i] = y[i] - t[i];
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    const T* g = c.dout().data;
    const int64_t n = c.dout().size();
    if (c.need_din(0)) c.din(0).copy_from(c.dout());
    if (c.need_din(1))
      for (int64_t i = 0; i < n; ++i) c.din(1)[i] = -g[i];
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    const int64_t n = c.out().size();
    return {n, 0, c.need_din(1) ? n : 0};
  }
  template <class T>
  static void local(const OpCtx<T>&, int, LocalDerivative<T>& ld) {
    ld.text = "The error: the prediction minus the target. The prediction moves it one-for-one, so the residual "
              "passes back unchanged; the target is data, so nothing is sent to it.";
    ld.items.push_back(scalar_item<T>("∂d/∂y = 1", T(1)));
    ld.items.push_back(scalar_item<T>("∂d/∂t = −1  (the target: no gradient needed)", T(-1)));
  }
  template <class T>
  static void explain(ChainCtx<T>& c) {
    c.one_to_one(c.slot == 0 ? 1.0 : -1.0, c.slot == 0 ? "1" : "−1", {Part::local, c.slot}, -1);
  }
  static Aligned aligned(int) { return {true}; }
};

struct MeanSquare {
  // in d (any shape, N entries)   out L () = (1/N)·Σ d²
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const int64_t n = c.in(0).size();
    c.out()[0] = static_cast<T>(dot(c.in(0).data, c.in(0).data, n) / T(n));
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    if (!c.need_din(0)) return;
    const int64_t n = c.in(0).size();
    // planted: forgets the 2 of d(d²)/dd
    const T k = (c.mistake(Mistake::wrong_derivative) ? T(1) : T(2)) / T(n) * c.dout()[0];
    const T* d = c.in(0).data;
    for (int64_t i = 0; i < n; ++i) c.din(0)[i] = k * d[i];
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    const int64_t n = c.in(0).size();
    // Forward: square and add each entry, one division. Backward: (2/N)·d, two per entry.
    return {2 * n + 1, 0, c.need_din(0) ? 2 * n : 0};
  }
  template <class T>
  static bool supports(const OpCtx<T>& c, Mistake m) {
    return m == Mistake::wrong_derivative && c.need_din(0);
  }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    const int64_t n = c.in(0).size();
    ld.text = "Where backprop starts: the derivative of d² is 2d, and the mean divides by N = " + std::to_string(n) +
              ". This is the first residual; ∂L/∂L = 1 multiplies it.";
    auto it = owned_item<T>("∂L/∂d = 2·d/N", c.in(0).shape);
    for (int64_t i = 0; i < n; ++i) it.tensor[i] = T(2) * c.in(0)[i] / T(n);
    ld.items.push_back(std::move(it));
  }
  // ∂L/∂d[i] = 2d[i]/N times ∂L/∂L, the one entry of the incoming residual
  template <class T>
  static void explain(ChainCtx<T>& c) {
    const double n = static_cast<double>(c.in(0).size());
    c.r.local_tensor = {Part::local, 0};
    c.r.local_name = "2d/N";
    c.r.how = "where backprop starts: 2d/N times ∂L/∂L = 1";
    c.add(2.0 * static_cast<double>(c.in(0)[c.index]) / n, c.index, c.g(0), 0);
  }
  static Aligned aligned(int) { return {false, {0}}; }
};

}  // namespace gs::ops
