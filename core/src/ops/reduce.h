#pragma once
// Reductions of a model of one's own (program `custom`): sum(x) and mean(x), every entry to one
// number. Every entry moves the result one-for-one (the mean: by 1/N), so the incoming residual,
// one number, is handed back to every entry alike.
#include <string>

#include "ops/common.h"

namespace gs::ops {

namespace reduce {

// y = k·Σ x (in double, rounded once).
template <class T>
void forward(const OpCtx<T>& c, double k) {
  double s = 0;
  for (T v : c.in(0)) s += static_cast<double>(v);
  c.out()[0] = static_cast<T>(k * s);
}

// ∂L/∂x_i = k·∂L/∂y for every entry.
template <class T>
void backward(const OpCtx<T>& c, double k) {
  if (!c.need_din(0)) return;
  c.din(0).fill(static_cast<T>(k * static_cast<double>(c.dout()[0])));
}

// The chain rule of one entry: k (1, or 1/N for the mean) times the one incoming number.
template <class T>
void explain(ChainCtx<T>& c, double k, const char* name) {
  c.r.local_tensor = {Part::local, 0};
  c.r.local_name = name;
  c.r.how = "every entry moves the result alike: the local derivative times the one incoming number";
  c.add(k, -1, c.g(0), 0);
}

}  // namespace reduce

struct Sum {
  // in x (N entries)   out y () = Σ x
  template <class T> static void forward(const OpCtx<T>& c) { reduce::forward(c, 1.0); }
  template <class T> static void backward(const OpCtx<T>& c) { reduce::backward(c, 1.0); }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    // Forward: N − 1 additions (counted N); backward: a copy of one number to every entry, no arithmetic.
    return {c.in(0).size(), 0, 0};
  }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "A sum: every entry of " + c.in_name(0) + " moves the total one-for-one, so every entry gets the "
              "incoming residual unchanged.";
    ld.items.push_back(scalar_item<T>("∂" + out_name(c) + "/∂" + c.in_name(0) + "_i = 1", T(1)));
  }
  template <class T>
  static void explain(ChainCtx<T>& c) { reduce::explain(c, 1.0, "1"); }
};

struct Mean {
  // in x (N entries)   out y () = (1/N)·Σ x
  template <class T> static void forward(const OpCtx<T>& c) { reduce::forward(c, 1.0 / static_cast<double>(c.in(0).size())); }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    // planted: forgets the 1/N
    const double k = c.mistake(Mistake::wrong_derivative) ? 1.0 : 1.0 / static_cast<double>(c.in(0).size());
    reduce::backward(c, k);
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    // Forward: the sum and one division; backward: ∂L/∂y / N once, then copied.
    return {c.in(0).size() + 1, 0, c.need_din(0) ? 1 : 0};
  }
  template <class T>
  static bool supports(const OpCtx<T>& c, Mistake m) {
    return m == Mistake::wrong_derivative && c.need_din(0) && c.in(0).size() > 1;
  }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    const int64_t n = c.in(0).size();
    ld.text = "A mean: every entry of " + c.in_name(0) + " moves it by 1/N, N = " + std::to_string(n) +
              ", so every entry gets the incoming residual divided by N.";
    ld.items.push_back(scalar_item<T>("∂" + out_name(c) + "/∂" + c.in_name(0) + "_i = 1/N", static_cast<T>(1.0 / static_cast<double>(n))));
  }
  template <class T>
  static void explain(ChainCtx<T>& c) { reduce::explain(c, 1.0 / static_cast<double>(c.in(0).size()), "1/N"); }
};

}  // namespace gs::ops
