#pragma once
// Linear (Conv1D layout): Y = X·W + b with W in×out. A frozen W (LoRA mode) needs only ∂L/∂X,
// half of the backward matmul work.
#include "ops/common.h"

namespace gs::ops {

// The chain rule of Y (M,N) = X (M,K)·W (K,N) (+ b), for linear, matmul, LoRA's down-projection
// and the tied head (W = wteᵀ, wte V×C, read transposed): `y` names the output. The summed index
// is named by the program's letters where it has them: ∂L/∂X[m,k] sums over Y's columns (p of
// the `matrix` lesson's X [n,m]·W [m,p]), ∂L/∂W and ∂L/∂b over X's rows (its n).
template <class T>
void explain_product(ChainCtx<T>& c, bool tied, const char* y) {
  const Tensor<T>& X = c.in(0);
  const Tensor<T>& Wt = c.par(0);
  const int64_t K = X.dim(-1), M = X.size() / K, N = c.G.dim(-1);
  auto W = [&](int64_t kk, int64_t n) { return tied ? Wt[n * K + kk] : Wt[kk * N + n]; };
  auto Wi = [&](int64_t kk, int64_t n) { return tied ? n * K + kk : kk * N + n; };
  const std::string w = c.par_label(0), x = tied ? "f" : "X";
  ChainRule& r = c.r;
  if (c.din) {
    const int64_t m = c.index / K, kk = c.index % K;
    r.local_tensor = {Part::local, 0};
    r.local_name = w;
    r.over_name = c.col_axis(c.out_axes(), tied ? "v" : "n");
    r.how = "row " + std::to_string(m) + " of ∂L/∂" + y + " times " + (tied ? "column " : "row ") + std::to_string(kk) +
            " of " + w + (tied ? "" : " (a column of " + w + "ᵀ)") + ": one product per output";
    for (int64_t n = 0; n < N; ++n) c.add(static_cast<double>(W(kk, n)), Wi(kk, n), c.g(m * N + n), m * N + n, n);
  } else if (c.slot == 0) {
    // ∂L/∂W[kk,n] = Σ_m X[m,kk]·G[m,n]; lm_head's wte[v,c] = Σ_m G[m,v]·f[m,c].
    const int64_t kk = tied ? c.index % K : c.index / N, n = tied ? c.index / K : c.index % N;
    r.local_tensor = {Part::local, 1};
    r.local_name = x;
    r.over_name = c.row_axis(c.in_axes(0), "m");
    r.how = "column " + std::to_string(kk) + " of " + x + " times column " + std::to_string(n) + " of ∂L/∂" + y +
            ": one product per row (position)";
    for (int64_t m = 0; m < M; ++m) c.add(static_cast<double>(X[m * K + kk]), m * K + kk, c.g(m * N + n), m * N + n, m);
  } else {  // the bias: Σ over the rows
    const int64_t n = c.index;
    r.local_tensor = {Part::local, 2};
    r.local_name = "1";
    r.over_name = c.row_axis(c.out_axes(), "m");
    r.how = "the bias was added to every row: column " + std::to_string(n) + " of ∂L/∂Y summed over the rows";
    for (int64_t m = 0; m < M; ++m) c.add(1.0, -1, c.g(m * N + n), m * N + n, m);
  }
}

struct Linear {
  // in X (M,in)   par W (in,out), b (out)   out Y (M,out)
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const auto &X = c.in(0), &W = c.par(0), &b = c.par(1);
    const int64_t M = X.rows(), K = X.cols(), N = W.dim(1);
    auto Y = mat(c.out(), M, N);
    Y.noalias() = mat(X, M, K) * mat(W, K, N);
    Y.rowwise() += rowvec(b);
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    const auto &X = c.in(0), &W = c.par(0);
    const auto& dY = c.dout();
    const int64_t M = X.rows(), K = X.cols(), N = W.dim(1);
    if (c.need_din(0)) {
      auto dX = mat(c.din(0), M, K);
      if (c.mistake(Mistake::missing_transpose))
        dX.noalias() = mat(dY, M, N) * mat(W, K, N);  // planted: W where Wᵀ belongs (needs K == N)
      else
        dX.noalias() = mat(dY, M, N) * mat(W, K, N).transpose();
    }
    if (c.need_dpar(0)) mat(c.dpar(0), K, N).noalias() = mat(X, M, K).transpose() * mat(dY, M, N);
    if (c.need_dpar(1)) rowvec(c.dpar(1)) = mat(dY, M, N).colwise().sum();
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    const int64_t M = c.in(0).rows(), K = c.in(0).cols(), N = c.par(0).dim(1);
    const int64_t mm = 2 * M * K * N;
    return {mm + M * N, (c.need_din(0) ? mm : 0) + (c.need_dpar(0) ? mm : 0), c.need_dpar(1) ? M * N : 0};
  }
  template <class T>
  static bool supports(const OpCtx<T>& c, Mistake m) {
    return m == Mistake::missing_transpose && c.need_din(0) && c.par(0).dim(0) == c.par(0).dim(1);
  }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "A matmul's local derivative is the other operand: a change in X moves Y through W (so the "
              "gradient goes back through Wᵀ), a change in W moves Y through X (so it goes back through Xᵀ).";
    ld.items.push_back(view_item("Wᵀ   (∂L/∂X = ∂L/∂Y·Wᵀ)", c.par(0), true));
    ld.items.push_back(view_item("X   (∂L/∂W = Xᵀ·∂L/∂Y)", c.in(0)));
    ld.items.push_back(scalar_item<T>("∂Y/∂b = 1", T(1)));
  }
  template <class T>
  static void explain(ChainCtx<T>& c) {
    explain_product(c, false, "Y");
  }
};

struct MatMul {
  // in X (M,in)   par W (in,out)   out Y (M,out) = X·W
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const auto &X = c.in(0), &W = c.par(0);
    const int64_t M = X.rows(), K = X.cols(), N = W.dim(1);
    mat(c.out(), M, N).noalias() = mat(X, M, K) * mat(W, K, N);
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    const auto &X = c.in(0), &W = c.par(0);
    const auto& dY = c.dout();
    const int64_t M = X.rows(), K = X.cols(), N = W.dim(1);
    if (c.need_din(0)) {
      auto dX = mat(c.din(0), M, K);
      if (c.mistake(Mistake::missing_transpose))
        dX.noalias() = mat(dY, M, N) * mat(W, K, N);  // planted: W where Wᵀ belongs (needs K == N)
      else
        dX.noalias() = mat(dY, M, N) * mat(W, K, N).transpose();
    }
    if (c.need_dpar(0)) mat(c.dpar(0), K, N).noalias() = mat(X, M, K).transpose() * mat(dY, M, N);
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    const int64_t mm = 2 * c.in(0).rows() * c.in(0).cols() * c.par(0).dim(1);
    return {mm, (c.need_din(0) ? mm : 0) + (c.need_dpar(0) ? mm : 0), 0};
  }
  template <class T>
  static bool supports(const OpCtx<T>& c, Mistake m) {
    return m == Mistake::missing_transpose && c.need_din(0) && c.par(0).dim(0) == c.par(0).dim(1);
  }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "A matmul's local derivative is the other operand: a change in X moves Y through W (so the "
              "gradient goes back through Wᵀ), a change in W moves Y through X (so W's gradient is Xᵀ·∂L/∂Y, "
              "which has W's shape).";
    ld.items.push_back(view_item("Wᵀ   (∂L/∂X = ∂L/∂Y·Wᵀ)", c.par(0), true));
    ld.items.push_back(view_item("X   (∂L/∂W = Xᵀ·∂L/∂Y)", c.in(0)));
  }
  template <class T>
  static void explain(ChainCtx<T>& c) {
    explain_product(c, false, "Y");
  }
};

struct LoraDown {
  // in X (M,in)   par A (in,r)   out U (M,r)
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const auto &X = c.in(0), &A = c.par(0);
    const int64_t M = X.rows(), K = X.cols(), R = A.dim(1);
    mat(c.out(), M, R).noalias() = mat(X, M, K) * mat(A, K, R);
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    const auto &X = c.in(0), &A = c.par(0);
    const auto& dU = c.dout();
    const int64_t M = X.rows(), K = X.cols(), R = A.dim(1);
    if (c.need_din(0)) mat(c.din(0), M, K).noalias() = mat(dU, M, R) * mat(A, K, R).transpose();
    if (c.need_dpar(0)) mat(c.dpar(0), K, R).noalias() = mat(X, M, K).transpose() * mat(dU, M, R);
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    const int64_t mm = 2 * c.in(0).rows() * c.in(0).cols() * c.par(0).dim(1);
    return {mm, 0, (c.need_din(0) ? mm : 0) + (c.need_dpar(0) ? mm : 0)};
  }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "LoRA's down-projection is a plain matmul: the local derivatives are the other operands.";
    ld.items.push_back(view_item("Aᵀ   (∂L/∂X = ∂L/∂U·Aᵀ)", c.par(0), true));
    ld.items.push_back(view_item("X   (∂L/∂A = Xᵀ·∂L/∂U)", c.in(0)));
  }
  template <class T>
  static void explain(ChainCtx<T>& c) {
    explain_product(c, false, "U");
  }
};

struct LoraUp {
  // in Y (M,out), U (M,r)   par B (r,out)   out Y' (M,out) = Y + (α/r)·U·B
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const auto &Y = c.in(0), &U = c.in(1), &Bm = c.par(0);
    const int64_t M = Y.rows(), N = Y.cols(), R = U.cols();
    auto out = mat(c.out(), M, N);
    out.noalias() = mat(U, M, R) * mat(Bm, R, N);
    out = mat(Y, M, N) + T(c.attrs().scale) * out;
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    const auto &U = c.in(1), &Bm = c.par(0);
    const auto& dO = c.dout();
    const int64_t M = dO.rows(), N = dO.cols(), R = U.cols();
    const T s = c.mistake(Mistake::forgotten_scale) ? T(1) : T(c.attrs().scale);
    if (c.need_din(0)) c.din(0).copy_from(dO);
    if (c.need_din(1)) mat(c.din(1), M, R).noalias() = s * (mat(dO, M, N) * mat(Bm, R, N).transpose());
    if (c.need_dpar(0)) mat(c.dpar(0), R, N).noalias() = s * (mat(U, M, R).transpose() * mat(dO, M, N));
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    const int64_t M = c.out().rows(), N = c.out().cols(), R = c.in(1).cols();
    const int64_t mm = 2 * M * R * N;
    // Forward: U·B, the α/r scaling and the add. Backward: two matmuls and their scalings.
    return {mm + 2 * M * N, 0, (c.need_din(1) ? mm + M * R : 0) + (c.need_dpar(0) ? mm + R * N : 0)};
  }
  template <class T>
  static bool supports(const OpCtx<T>& c, Mistake m) {
    return m == Mistake::forgotten_scale && (c.need_din(1) || c.need_dpar(0));
  }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "The base output passes straight through (derivative 1); the low-rank path is a matmul scaled "
              "by α/r = " + std::to_string(c.attrs().scale) + ".";
    ld.items.push_back(scalar_item<T>("∂Y'/∂Y = 1", T(1)));
    ld.items.push_back(view_item("Bᵀ   (∂L/∂U = (α/r)·∂L/∂Y'·Bᵀ)", c.par(0), true));
    ld.items.push_back(view_item("U   (∂L/∂B = (α/r)·Uᵀ·∂L/∂Y')", c.in(1)));
  }
  // Y' (M,N) = Y + s·U (M,R) · B (R,N); the summed index named as in explain_product.
  template <class T>
  static void explain(ChainCtx<T>& c) {
    const double s = c.op.attrs.scale;
    const int64_t N = c.G.dim(-1), M = c.G.size() / N;
    if (c.din && c.slot == 0) {
      c.one_to_one(1.0, "1", {Part::local, 0}, -1);
      return;
    }
    const Tensor<T>& U = c.in(1);
    const Tensor<T>& Bm = c.par(0);
    const int64_t R = U.dim(-1);
    c.r.scale = s;
    if (c.din) {  // ∂L/∂U[m,rr] = s·Σ_n G[m,n]·B[rr,n]
      const int64_t m = c.index / R, rr = c.index % R;
      c.r.local_tensor = {Part::local, 1};
      c.r.local_name = "B";
      c.r.over_name = c.col_axis(c.out_axes(), "n");
      c.r.how = "(α/r) times row " + std::to_string(m) + " of ∂L/∂Y′ times row " + std::to_string(rr) + " of B";
      for (int64_t n = 0; n < N; ++n) c.add(static_cast<double>(Bm[rr * N + n]), rr * N + n, c.g(m * N + n), m * N + n, n);
    } else {  // ∂L/∂B[rr,n] = s·Σ_m U[m,rr]·G[m,n]
      const int64_t rr = c.index / N, n = c.index % N;
      c.r.local_tensor = {Part::local, 2};
      c.r.local_name = "U";
      c.r.over_name = c.row_axis(c.in_axes(1), "m");
      c.r.how = "(α/r) times column " + std::to_string(rr) + " of U times column " + std::to_string(n) + " of ∂L/∂Y′";
      for (int64_t m = 0; m < M; ++m) c.add(static_cast<double>(U[m * R + rr]), m * R + rr, c.g(m * N + n), m * N + n, m);
    }
  }
};

}  // namespace gs::ops
