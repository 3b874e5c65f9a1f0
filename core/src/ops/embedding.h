#pragma once
// Token embedding: a gather of wte rows. Its backward is a scatter-add, so a token that occurs
// twice collects both rows' gradients.
#include "ops/common.h"

namespace gs::ops {

// Token id m of the input (held as a number, like every value).
template <class T>
int64_t id_at(const Tensor<T>& ids, int64_t m) {
  return static_cast<int64_t>(ids[m]);
}

struct Embedding {
  // in x (B,T) token ids   par wte (V,C)   out X (B,T,C) = wte[x]
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const auto& wte = c.par(0);
    const int64_t C = wte.dim(1), M = c.out().rows();
    const auto& x = c.in(0);
    for (int64_t m = 0; m < M; ++m) std::copy_n(wte.data + id_at(x, m) * C, C, c.out().data + m * C);
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    if (!c.need_dpar(0)) return;
    const auto& dwte = c.dpar(0);
    const auto& dX = c.dout();
    const int64_t C = dwte.dim(1), M = dX.rows();
    const auto& x = c.in(0);
    dwte.fill(T(0));
    const bool forget = c.mistake(Mistake::forgotten_accumulation);
    for (int64_t m = 0; m < M; ++m) {
      T* row = dwte.data + id_at(x, m) * C;
      const T* g = dX.data + m * C;
      for (int64_t i = 0; i < C; ++i) row[i] = forget ? g[i] : row[i] + g[i];
    }
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    // Forward is a copy; backward adds each of the M rows into wte's gradient.
    return {0, 0, c.need_dpar(0) ? c.out().size() : 0};
  }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    const int64_t M = c.out().rows(), V = c.par(0).dim(0);
    ld.text = "Row (b,t) of X is row x[b,t] of wte: the derivative is a one-hot selector, one 1 per position.";
    auto it = owned_item<T>("one-hot(x): position × vocabulary", {M, V});
    for (int64_t m = 0; m < M; ++m) it.tensor[m * V + id_at(c.in(0), m)] = T(1);
    ld.items.push_back(std::move(it));
  }
  // wte[v,c]: Σ over the positions that read token v (the ids themselves get no gradient)
  template <class T>
  static void explain(ChainCtx<T>& c) {
    const Tensor<T>& x = c.in(0);
    const int64_t C = c.G.dim(-1), M = c.G.size() / C, V = c.par(0).dim(0), v = c.index / C, ch = c.index % C;
    c.r.local_tensor = {Part::local, 0};
    c.r.local_name = "one-hot";
    c.r.over_name = "position";
    c.r.how = "a repeated token adds up its rows: the positions that read this token";
    for (int64_t m = 0; m < M; ++m)
      if (id_at(x, m) == v) c.add(1.0, m * V + v, c.g(m * C + ch), m * C + ch, m);
    if (c.terms.empty()) c.r.how = "no position reads this token: 0";
  }
};

struct PosEmbedding {
  // in X (B,T,C)   par wpe (n_ctx,C)   out H (B,T,C) = X + wpe[t]
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const auto& X = c.in(0);
    const auto& wpe = c.par(0);
    const int64_t B = X.dim(0), Tn = X.dim(1), C = X.dim(2);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < Tn; ++t)
        for (int64_t i = 0; i < C; ++i) {
          const int64_t k = (b * Tn + t) * C + i;
          c.out()[k] = X[k] + wpe[t * C + i];
        }
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    const auto& dH = c.dout();
    const int64_t B = dH.dim(0), Tn = dH.dim(1), C = dH.dim(2);
    if (c.need_din(0)) c.din(0).copy_from(dH);
    if (c.need_dpar(0)) {
      const auto& dwpe = c.dpar(0);
      dwpe.fill(T(0));
      for (int64_t b = 0; b < B; ++b)
        for (int64_t k = 0; k < Tn * C; ++k) dwpe[k] += dH[b * Tn * C + k];
    }
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    const int64_t B = c.out().dim(0), TC = c.out().dim(1) * c.out().dim(2);
    // Forward: one add per element. Backward: summing over the batch, (B−1)·T·C adds.
    return {B * TC, 0, c.need_dpar(0) ? (B - 1) * TC : 0};
  }
  template <class T>
  static void local(const OpCtx<T>&, int, LocalDerivative<T>& ld) {
    ld.text = "An addition: each output entry moves one-for-one with its token-embedding entry and with its "
              "position's wpe entry.";
    ld.items.push_back(scalar_item<T>("∂H/∂X = ∂H/∂wpe[t] = 1", T(1)));
  }
  template <class T>
  static void explain(ChainCtx<T>& c) {
    if (c.din) {
      c.one_to_one(1.0, "1", {Part::local, 0}, -1);
      return;
    }
    // wpe[t,c]: Σ over the batch rows of ∂L/∂H[b,t,c]
    const int64_t B = c.G.dim(0), Tn = c.G.dim(1), C = c.G.dim(2), t = c.index / C, ch = c.index % C;
    c.r.local_tensor = {Part::local, 0};
    c.r.local_name = "1";
    c.r.over_name = "b";
    if (t >= Tn) {
      c.r.how = "position " + std::to_string(t) + " is beyond the text (T = " + std::to_string(Tn) + "): 0";
      return;
    }
    c.r.how = "every batch row adds its position's residual";
    for (int64_t b = 0; b < B; ++b) c.add(1.0, -1, c.g((b * Tn + t) * C + ch), (b * Tn + t) * C + ch, b);
  }
  static Aligned aligned(int) { return {true}; }
};

}  // namespace gs::ops
