#pragma once
// Adding two values (GPT-2's residual stream, the `branch` lesson's y4 + y2) and GELU: each
// output entry depends on the matching input entries only.
#include <algorithm>

#include "ops/common.h"

namespace gs::ops {

struct ResidualAdd {
  // in H (B,T,C), F (B,T,C)   out H' = H + F
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const T* H = c.in(0).data;
    const T* F = c.in(1).data;
    T* out = c.out().data;
    const int64_t n = c.out().size();
    for (int64_t i = 0; i < n; ++i) out[i] = H[i] + F[i];
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    // The gradient is routed unchanged to both branches: no arithmetic ("Backpropagating through GPT-2" counts 0).
    for (int i = 0; i < 2; ++i)
      if (c.need_din(i)) c.din(i).copy_from(c.dout());
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    return {c.out().size(), 0, 0};
  }
  template <class T>
  static void local(const OpCtx<T>&, int, LocalDerivative<T>& ld) {
    ld.text = "An addition: both inputs move the output one-for-one, so the same gradient flows back into both. "
              "Where an input was also used elsewhere (the stream H by its branch), its gradient is the sum of this "
              "share and the other use's.";
    ld.items.push_back(scalar_item<T>("∂H'/∂H = ∂H'/∂F = 1", T(1)));
  }
  template <class T>
  static void explain(ChainCtx<T>& c) {
    c.one_to_one(1.0, "1", {Part::local, 0}, -1);
  }
  static Aligned aligned(int) { return {true}; }
};

struct Gelu {
  static constexpr double kA = 0.7978845608028654;  // √(2/π)
  static constexpr double kB = 0.044715;

  // in u (B,T,4C)   out g (B,T,4C)
  // The loops run on Eigen arrays in chunks: Eigen vectorises tanh (float) and the arithmetic,
  // where a scalar std::tanh per entry would dominate the whole MLP's elementwise time.
  template <class T>
  using Arr = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
  template <class T>
  using CArr = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
  static constexpr int64_t kChunk = 4096;

  // tanh(√(2/π)·(u + 0.044715·u³)), entry by entry.
  template <class T>
  static void inner_tanh(const CArr<T>& u, Arr<T>& out) {
    out = (T(kA) * (u + T(kB) * u.cube())).tanh();
  }
  // The slope g'(u) of m entries: the backward's factor and the local derivative.
  template <class T>
  static void slope(const T* u_in, T* out_p, int64_t m) {
    const CArr<T> u(u_in, m);
    Arr<T> out(out_p, m);
    inner_tanh(u, out);  // th, then the slope in place
    out = T(0.5) * (T(1) + out) + T(0.5 * kA) * u * (T(1) + T(3 * kB) * u.square()) * (T(1) - out.square());
  }

  // g(u) of m entries.
  template <class T>
  static void values(const T* u_in, T* out_p, int64_t m) {
    const CArr<T> u(u_in, m);
    Arr<T> g(out_p, m);
    inner_tanh(u, g);
    g = T(0.5) * u * (T(1) + g);
  }
  // One entry, through the same code.
  template <class T>
  static T value(T u) {
    T g;
    values(&u, &g, 1);
    return g;
  }
  template <class T>
  static T derivative(T u) {
    T d;
    slope(&u, &d, 1);
    return d;
  }

  template <class T>
  static void forward(const OpCtx<T>& c) {
    const int64_t n = c.in(0).size();
    parallel_for((n + kChunk - 1) / kChunk, 12 * kChunk, [&](int64_t b) {
      const int64_t i0 = b * kChunk;
      values(c.in(0).data + i0, c.out().data + i0, std::min(kChunk, n - i0));
    });
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    if (!c.need_din(0)) return;
    const int64_t n = c.in(0).size();
    const bool wrong = c.mistake(Mistake::wrong_derivative);
    parallel_for((n + kChunk - 1) / kChunk, 20 * kChunk, [&](int64_t b) {
      const int64_t i0 = b * kChunk, m = std::min(kChunk, n - i0);
      if (wrong) {  // planted: keeps ½(1 + tanh(s)), forgets the term from s depending on u
        Arr<T> out(c.din(0).data + i0, m);
        inner_tanh(CArr<T>(c.in(0).data + i0, m), out);
        out = T(0.5) * (T(1) + out);
      } else {
        slope(c.in(0).data + i0, c.din(0).data + i0, m);
      }
      Arr<T>(c.din(0).data + i0, m) *= CArr<T>(c.dout().data + i0, m);
    });
  }
  template <class T>
  static bool supports(const OpCtx<T>& c, Mistake m) {
    return m == Mistake::wrong_derivative && c.need_din(0);
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    const int64_t n = c.out().size();
    // Forward per element: u³ 2, ·0.044715 1, +u 1, ·√(2/π) 1, tanh 1, 1+ 1, ·u 1, ·½ 1.
    // Backward per element: 19, as "Backpropagating through GPT-2" counts PyTorch's gelu_backward.
    return {9 * n, c.need_din(0) ? 19 * n : 0, 0};
  }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "Elementwise: each entry's slope g'(u) at its own input. g'(0) = ½; above 1 only past u ≈ 0.75 "
              "(at most about 1.13, near u ≈ 1.5), back to 1 for large u; slightly negative for u below about "
              "−0.75, and near 0 for very negative u.";
    auto it = owned_item<T>("g'(u)", c.in(0).shape);
    slope(c.in(0).data, it.tensor.data, c.in(0).size());
    ld.items.push_back(std::move(it));
  }
  // ∂L/∂u[i] = g′(u[i])·∂L/∂g[i]: one product, at the same place in both.
  template <class T>
  static void explain(ChainCtx<T>& c) {
    const LocalDerivative<T> ld = c.tape.local_derivative(c.k, 0);
    if (ld.items.empty() || ld.items[0].tensor.size() != c.G.size()) return;
    c.one_to_one(static_cast<double>(ld.items[0].tensor[c.index]), "g′(u)", {Part::local, 0}, c.index);
  }
  static Aligned aligned(int) { return {true, {0}}; }
};

}  // namespace gs::ops
