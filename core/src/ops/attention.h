#pragma once
// The attention core, op by op: S = Q·Kᵀ, S' = S/√d, causal mask, P = softmax, O = P·V.
// Tensors are (…,T,T) scores or (…,T,d) per-head vectors — (B,H,T,T) in GPT-2, (T,T) for the
// one head of the `attention` lesson; each leading index is an independent matrix problem. The full T×T is computed (and counted) even where the mask later hides it,
// as the FLOP table of "Backpropagating through GPT-2" does.
#include "ops/common.h"

namespace gs::ops {

struct QueryKey {
  // in q (…,T,d), k (…,T,d)   out S (…,T,T)
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const auto &q = c.in(0), &k = c.in(1);
    const int64_t Tn = q.dim(-2), d = q.dim(-1), BH = q.size() / (Tn * d);
    parallel_for(BH, Tn * Tn * d, [&](int64_t i) {
      mat(c.out(), Tn, Tn, i * Tn * Tn).noalias() = mat(q, Tn, d, i * Tn * d) * mat(k, Tn, d, i * Tn * d).transpose();
    });
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    const auto &q = c.in(0), &k = c.in(1);
    const auto& dS = c.dout();
    const int64_t Tn = q.dim(-2), d = q.dim(-1), BH = q.size() / (Tn * d);
    const bool mistake = c.mistake(Mistake::missing_transpose);
    parallel_for(BH, 2 * Tn * Tn * d, [&](int64_t i) {
      auto dSi = mat(dS, Tn, Tn, i * Tn * Tn);
      if (c.need_din(0)) mat(c.din(0), Tn, d, i * Tn * d).noalias() = dSi * mat(k, Tn, d, i * Tn * d);
      if (c.need_din(1)) {
        auto dk = mat(c.din(1), Tn, d, i * Tn * d);
        if (mistake)
          dk.noalias() = dSi * mat(q, Tn, d, i * Tn * d);  // planted: ∂L/∂S where (∂L/∂S)ᵀ belongs
        else
          dk.noalias() = dSi.transpose() * mat(q, Tn, d, i * Tn * d);
      }
    });
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    const int64_t mm = 2 * c.out().size() * c.in(0).dim(-1);  // 2·B·H·T·T·d
    return {mm, (c.need_din(0) ? mm : 0) + (c.need_din(1) ? mm : 0), 0};
  }
  template <class T>
  static bool supports(const OpCtx<T>& c, Mistake m) {
    return m == Mistake::missing_transpose && c.need_din(1);  // the key's (value's) gradient takes the transpose
  }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "Each score S[i,j] = q_i·k_j. Moving q_i moves row i of S through K; moving k_j moves column j "
              "through Q, which is why the key's gradient takes (∂L/∂S)ᵀ.";
    ld.items.push_back(view_item("K   (∂L/∂Q = ∂L/∂S·K)", c.in(1)));
    ld.items.push_back(view_item("Q   (∂L/∂K = (∂L/∂S)ᵀ·Q)", c.in(0)));
  }
  // S (…,T,T) = Q (…,T,d) · Kᵀ
  template <class T>
  static void explain(ChainCtx<T>& c) {
    const Tensor<T>& Q = c.in(0);
    const Tensor<T>& Kt = c.in(1);
    const int64_t d = Q.dim(-1), Tn = Q.dim(-2);
    const int64_t bh = c.index / (Tn * d), p = (c.index / d) % Tn, e = c.index % d;
    const int64_t s0 = bh * Tn * Tn, v0 = bh * Tn * d;
    if (c.slot == 0) {  // ∂L/∂Q[p,e] = Σ_j ∂L/∂S[p,j]·K[j,e]
      c.r.local_tensor = {Part::local, 0};
      c.r.local_name = "K";
      c.r.over_name = "key j";
      c.r.how = "query row " + std::to_string(p) + " of ∂L/∂S times column " + std::to_string(e) + " of K";
      for (int64_t j = 0; j < Tn; ++j)
        c.add(static_cast<double>(Kt[v0 + j * d + e]), v0 + j * d + e, c.g(s0 + p * Tn + j), s0 + p * Tn + j, j);
    } else {  // ∂L/∂K[p,e] = Σ_i ∂L/∂S[i,p]·Q[i,e]
      c.r.local_tensor = {Part::local, 1};
      c.r.local_name = "Q";
      c.r.over_name = "query i";
      c.r.how = "key column " + std::to_string(p) + " of ∂L/∂S (a row of (∂L/∂S)ᵀ) times column " + std::to_string(e) + " of Q";
      for (int64_t i = 0; i < Tn; ++i)
        c.add(static_cast<double>(Q[v0 + i * d + e]), v0 + i * d + e, c.g(s0 + i * Tn + p), s0 + i * Tn + p, i);
    }
  }
};

struct Scale {
  // in S (…,T,T)   out S' = S/√d   attr d (the head size)
  template <class T>
  static T factor(const OpCtx<T>& c) {
    return T(1) / std::sqrt(T(c.attrs().d));
  }
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const T f = factor(c);
    const T* S = c.in(0).data;
    T* out = c.out().data;
    const int64_t n = c.out().size();
    for (int64_t i = 0; i < n; ++i) out[i] = S[i] * f;
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    if (!c.need_din(0)) return;
    const T f = c.mistake(Mistake::forgotten_scale) ? T(1) : factor(c);  // planted: forgets 1/√d
    const T* d = c.dout().data;
    T* dx = c.din(0).data;
    const int64_t n = c.dout().size();
    for (int64_t i = 0; i < n; ++i) dx[i] = d[i] * f;
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    const int64_t n = c.out().size();
    return {n, c.need_din(0) ? n : 0, 0};
  }
  template <class T>
  static bool supports(const OpCtx<T>& c, Mistake m) {
    return m == Mistake::forgotten_scale && c.need_din(0);
  }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "Scaling by a constant: the derivative is that constant everywhere, 1/√d with d = " +
              std::to_string(c.attrs().d) + ".";
    ld.items.push_back(scalar_item<T>("∂S'/∂S = 1/√d", factor(c)));
  }
  template <class T>
  static void explain(ChainCtx<T>& c) {
    c.one_to_one(1.0 / std::sqrt(static_cast<double>(c.op.attrs.d)), "1/√d", {Part::local, 0}, -1);
  }
  static Aligned aligned(int) { return {true}; }
};

struct CausalMask {
  // in S' (…,T,T)   out M: S' on and below the diagonal, −∞ above
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const auto& S = c.in(0);
    const int64_t Tn = S.dim(-1), rows = S.rows();
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = r % Tn;  // query position
      for (int64_t j = 0; j < Tn; ++j)
        c.out()[r * Tn + j] = j <= i ? S[r * Tn + j] : -std::numeric_limits<T>::infinity();
    }
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    if (!c.need_din(0)) return;
    const auto& d = c.dout();
    const int64_t Tn = d.dim(-1), rows = d.rows();
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = r % Tn;
      for (int64_t j = 0; j < Tn; ++j) c.din(0)[r * Tn + j] = j <= i ? d[r * Tn + j] : T(0);
    }
  }
  template <class T>
  static Flops flops(const OpCtx<T>&) {
    return {};  // selection only
  }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    const int64_t Tn = c.in(0).dim(-1);
    ld.text = "Entries a query may see pass through unchanged (1); future keys are replaced by −∞ and get no "
              "gradient (0).";
    auto m = owned_item<T>("mask: 1 where key ≤ query (T×T)", {Tn, Tn});
    for (int64_t i = 0; i < Tn; ++i)
      for (int64_t j = 0; j <= i; ++j) m.tensor[i * Tn + j] = T(1);
    ld.items.push_back(std::move(m));
  }
  template <class T>
  static void explain(ChainCtx<T>& c) {
    const int64_t Tn = c.G.dim(-1), i = (c.index / Tn) % Tn, j = c.index % Tn;
    c.one_to_one(j <= i ? 1.0 : 0.0, "mask", {Part::local, 0}, i * Tn + j);
    if (j > i) c.r.how = "a future key: the mask is 0 here, so no gradient reaches this score";
  }
  static Aligned aligned(int) { return {true}; }
};

struct Softmax {
  // in M (…,T,T)   out P (…,T,T), softmax over the last dimension
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const auto& X = c.in(0);
    const int64_t N = X.cols();
    parallel_for(X.rows(), 5 * N, [&](int64_t r) {
      const T* x = X.data + r * N;
      T* p = c.out().data + r * N;
      T mx = -std::numeric_limits<T>::infinity();
      for (int64_t j = 0; j < N; ++j) mx = std::max(mx, x[j]);
      T sum = 0;
      for (int64_t j = 0; j < N; ++j) sum += (p[j] = std::exp(x[j] - mx));
      for (int64_t j = 0; j < N; ++j) p[j] /= sum;
    });
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    if (!c.need_din(0)) return;
    const auto& P = c.out();
    const auto& dP = c.dout();
    const int64_t N = P.cols();
    const bool drop = c.mistake(Mistake::dropped_term);
    parallel_for(P.rows(), 4 * N, [&](int64_t r) {
      const T* p = P.data + r * N;
      const T* g = dP.data + r * N;
      T* dx = c.din(0).data + r * N;
      T dot = 0;
      for (int64_t j = 0; j < N; ++j) dot += g[j] * p[j];
      if (drop) dot = 0;  // planted: keeps diag(p), drops −p·pᵀ
      for (int64_t j = 0; j < N; ++j) dx[j] = p[j] * (g[j] - dot);
    });
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    const int64_t n = c.out().size();
    // Forward per element: max, subtract, exp, sum, divide. Backward ("Backpropagating through GPT-2"): 4 per element.
    return {5 * n, c.need_din(0) ? 4 * n : 0, 0};
  }
  template <class T>
  static bool supports(const OpCtx<T>& c, Mistake m) {
    return m == Mistake::dropped_term && c.need_din(0);
  }
  template <class T>
  static void local(const OpCtx<T>& c, int row, LocalDerivative<T>& ld) {
    const auto& P = c.out();
    const int64_t N = P.cols();
    ld.text = "Every output of a row shares one denominator, so every input of the row moves every output: "
              "J = diag(p) − p·pᵀ. Rows are independent.";
    auto J = owned_item<T>("Jacobian diag(p) − p·pᵀ of row " + std::to_string(row) + " (T×T)", {N, N});
    const T* p = P.data + int64_t(row) * N;
    for (int64_t i = 0; i < N; ++i)
      for (int64_t j = 0; j < N; ++j) J.tensor[i * N + j] = (i == j ? p[i] : T(0)) - p[i] * p[j];
    ld.items.push_back(std::move(J));
  }
  // ∂L/∂M[r,j] = Σ_i J_r[i,j]·∂L/∂P[r,i], J_r = diag(p) − p·pᵀ of row r
  template <class T>
  static void explain(ChainCtx<T>& c) {
    const Tensor<T>& P = c.out();
    const int64_t N = P.dim(-1), row = c.index / N, j = c.index % N;
    const T* p = P.data + row * N;
    c.r.ld_row = static_cast<int>(row);
    c.r.local_tensor = {Part::local, 0};
    c.r.local_name = "J";
    c.r.over_name = "i";
    c.r.how = "row " + std::to_string(row) + "'s Jacobian (column " + std::to_string(j) + ") times the incoming row";
    for (int64_t i = 0; i < N; ++i) {
      const double Jij = (i == j ? static_cast<double>(p[i]) : 0.0) - static_cast<double>(p[i]) * static_cast<double>(p[j]);
      c.add(Jij, i * N + j, c.g(row * N + i), row * N + i, i);
    }
  }
  static Aligned aligned(int) { return {true}; }
};

struct AttnValue {
  // in P (…,T,T), v (…,T,d)   out O (…,T,d)
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const auto &P = c.in(0), &v = c.in(1);
    const int64_t Tn = v.dim(-2), d = v.dim(-1), BH = v.size() / (Tn * d);
    parallel_for(BH, Tn * Tn * d, [&](int64_t i) {
      mat(c.out(), Tn, d, i * Tn * d).noalias() = mat(P, Tn, Tn, i * Tn * Tn) * mat(v, Tn, d, i * Tn * d);
    });
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    const auto &P = c.in(0), &v = c.in(1);
    const auto& dO = c.dout();
    const int64_t Tn = v.dim(-2), d = v.dim(-1), BH = v.size() / (Tn * d);
    const bool mistake = c.mistake(Mistake::missing_transpose);
    parallel_for(BH, 2 * Tn * Tn * d, [&](int64_t i) {
      auto dOi = mat(dO, Tn, d, i * Tn * d);
      if (c.need_din(0)) mat(c.din(0), Tn, Tn, i * Tn * Tn).noalias() = dOi * mat(v, Tn, d, i * Tn * d).transpose();
      if (c.need_din(1)) {
        auto dv = mat(c.din(1), Tn, d, i * Tn * d);
        if (mistake)
          dv.noalias() = mat(P, Tn, Tn, i * Tn * Tn) * dOi;  // planted: P where Pᵀ belongs
        else
          dv.noalias() = mat(P, Tn, Tn, i * Tn * Tn).transpose() * dOi;
      }
    });
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    const int64_t mm = 2 * c.in(0).size() * c.in(1).dim(-1);  // 2·B·H·T·T·d
    return {mm, (c.need_din(0) ? mm : 0) + (c.need_din(1) ? mm : 0), 0};
  }
  template <class T>
  static bool supports(const OpCtx<T>& c, Mistake m) {
    return m == Mistake::missing_transpose && c.need_din(1);  // the key's (value's) gradient takes the transpose
  }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "Each output row is a P-weighted mix of value rows: moving P moves O through Vᵀ's role, moving "
              "a value row moves every output that attends to it (Pᵀ).";
    ld.items.push_back(view_item("Vᵀ   (∂L/∂P = ∂L/∂O·Vᵀ)", c.in(1), true));
    ld.items.push_back(view_item("P   (∂L/∂V = Pᵀ·∂L/∂O)", c.in(0)));
  }
  // O (…,T,d) = P (…,T,T) · V (…,T,d)
  template <class T>
  static void explain(ChainCtx<T>& c) {
    const Tensor<T>& P = c.in(0);
    const Tensor<T>& Vv = c.in(1);
    const int64_t d = Vv.dim(-1), Tn = Vv.dim(-2);
    if (c.slot == 0) {  // ∂L/∂P[i,j] = Σ_e ∂L/∂O[i,e]·V[j,e]
      const int64_t bh = c.index / (Tn * Tn), i = (c.index / Tn) % Tn, j = c.index % Tn;
      const int64_t v0 = bh * Tn * d;
      c.r.local_tensor = {Part::local, 0};
      c.r.local_name = "V";
      c.r.over_name = "e";
      c.r.how = "row " + std::to_string(i) + " of ∂L/∂O times value row " + std::to_string(j) + " (a column of Vᵀ)";
      for (int64_t e = 0; e < d; ++e)
        c.add(static_cast<double>(Vv[v0 + j * d + e]), v0 + j * d + e, c.g(v0 + i * d + e), v0 + i * d + e, e);
    } else {  // ∂L/∂V[j,e] = Σ_i P[i,j]·∂L/∂O[i,e]
      const int64_t bh = c.index / (Tn * d), j = (c.index / d) % Tn, e = c.index % d;
      const int64_t p0 = bh * Tn * Tn, v0 = bh * Tn * d;
      c.r.local_tensor = {Part::local, 1};
      c.r.local_name = "P";
      c.r.over_name = "query i";
      c.r.how = "column " + std::to_string(j) + " of P (who attends to value " + std::to_string(j) + ") times column " +
                std::to_string(e) + " of ∂L/∂O";
      for (int64_t i = 0; i < Tn; ++i)
        c.add(static_cast<double>(P[p0 + i * Tn + j]), p0 + i * Tn + j, c.g(v0 + i * d + e), v0 + i * d + e, i);
    }
  }
};

}  // namespace gs::ops
