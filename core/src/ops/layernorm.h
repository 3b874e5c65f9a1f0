#pragma once
// LayerNorm over the last dimension (biased variance, ε = 1e-5), with learned γ and β.
#include "ops/common.h"

namespace gs::ops {

struct LayerNorm {
  static constexpr double kEps = 1e-5;

  // Kept for the backward: each row's mean and 1/√(σ² + ε).
  static std::vector<std::pair<std::string, Shape>> saved(const Shape& out) {
    const Shape rows{numel(out) / out.back()};
    return {{"mean", rows}, {"rstd", rows}};
  }

  // in x (M,C)   par γ (C), β (C)   out y (M,C)   saved mean (M), rstd (M)
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const auto& x = c.in(0);
    const auto &g = c.par(0), &b = c.par(1);
    const auto &mean = c.op.saved[0], &rstd = c.op.saved[1];
    const int64_t M = x.rows(), C = x.cols();
    parallel_for(M, C * 8, [&](int64_t m) {
      const T* xr = x.data + m * C;
      T* yr = c.out().data + m * C;
      T mu = 0;
      for (int64_t i = 0; i < C; ++i) mu += xr[i];
      mu /= T(C);
      T var = 0;
      for (int64_t i = 0; i < C; ++i) var += (xr[i] - mu) * (xr[i] - mu);
      var /= T(C);
      const T rs = T(1) / std::sqrt(var + T(kEps));
      for (int64_t i = 0; i < C; ++i) yr[i] = (xr[i] - mu) * rs * g[i] + b[i];
      mean[m] = mu;
      rstd[m] = rs;
    });
  }

  template <class T>
  static void backward(const OpCtx<T>& c) {
    const auto& x = c.in(0);
    const auto& g = c.par(0);
    const auto& dy = c.dout();
    const auto &mean = c.op.saved[0], &rstd = c.op.saved[1];
    const int64_t M = x.rows(), C = x.cols();
    const bool drop = c.mistake(Mistake::dropped_term);
    if (c.need_din(0)) {
      const auto& dx = c.din(0);
      parallel_for(M, C * 8, [&](int64_t m) {
        const T* xr = x.data + m * C;
        const T* dyr = dy.data + m * C;
        T* dxr = dx.data + m * C;
        // v = dy ⊙ γ;  mean(v);  mean(v ⊙ x̂)
        T sv = 0, svx = 0;
        for (int64_t i = 0; i < C; ++i) {
          const T xh = (xr[i] - mean[m]) * rstd[m];
          const T v = dyr[i] * g[i];
          sv += v;
          svx += v * xh;
        }
        sv /= T(C);
        svx /= T(C);
        if (drop) svx = 0;  // planted: forgets that x̂ depends on x through σ²
        for (int64_t i = 0; i < C; ++i) {
          const T xh = (xr[i] - mean[m]) * rstd[m];
          dxr[i] = (dyr[i] * g[i] - sv - xh * svx) * rstd[m];
        }
      });
    }
    if (c.need_dpar(0) || c.need_dpar(1)) {
      const auto &dg = c.dpar(0), &db = c.dpar(1);
      if (!dg.empty()) dg.fill(T(0));
      if (!db.empty()) db.fill(T(0));
      for (int64_t m = 0; m < M; ++m)
        for (int64_t i = 0; i < C; ++i) {
          const T d = dy[m * C + i];
          if (!dg.empty()) dg[i] += d * (x[m * C + i] - mean[m]) * rstd[m];
          if (!db.empty()) db[i] += d;
        }
    }
  }

  template <class T>
  static bool supports(const OpCtx<T>& c, Mistake m) {
    return m == Mistake::dropped_term && c.need_din(0);
  }

  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    const int64_t n = c.out().size();
    // Forward per element: mean 1, variance 3, normalise 2, scale and shift 2.
    // Backward ("Backpropagating through GPT-2"): input 8, γ 2, β 1 per element.
    return {8 * n, (c.need_din(0) ? 8 * n : 0) + (c.need_dpar(0) ? 2 * n : 0) + (c.need_dpar(1) ? n : 0), 0};
  }

  template <class T>
  static void local(const OpCtx<T>& c, int row, LocalDerivative<T>& ld) {
    const auto& x = c.in(0);
    const auto& g = c.par(0);
    const int64_t C = x.cols();
    const T mu = c.op.saved[0][row], rs = c.op.saved[1][row];
    ld.text = "Each row is normalised on its own, so each row has its own C×C Jacobian; entry [j,i] is ∂y_j/∂x_i. "
              "The −1/C and −x̂_i·x̂_j/C terms are the pull of the mean and of the variance.";
    auto J = owned_item<T>("Jacobian ∂y/∂x of row " + std::to_string(row) + " (C×C)", {C, C});
    for (int64_t j = 0; j < C; ++j) {
      const T xj = (x[row * C + j] - mu) * rs;
      for (int64_t i = 0; i < C; ++i) {
        const T xi = (x[row * C + i] - mu) * rs;
        J.tensor[j * C + i] = g[j] * rs * ((i == j ? T(1) : T(0)) - T(1) / T(C) - xi * xj / T(C));
      }
    }
    ld.items.push_back(std::move(J));
    auto xh = owned_item<T>("∂y/∂γ = x̂ (all rows)", c.out().shape);
    for (int64_t m = 0; m < x.rows(); ++m)
      for (int64_t i = 0; i < C; ++i)
        xh.tensor[m * C + i] = (x[m * C + i] - c.op.saved[0][m]) * c.op.saved[1][m];
    ld.items.push_back(std::move(xh));
    ld.items.push_back(scalar_item<T>("∂y/∂β = 1", T(1)));
  }
  template <class T>
  static void explain(ChainCtx<T>& c) {
    const Tensor<T>& x = c.in(0);
    const int64_t C = x.dim(-1), M = x.size() / C;
    const Tensor<T>& mean = c.op.saved[0];
    const Tensor<T>& rstd = c.op.saved[1];
    auto xhat = [&](int64_t m, int64_t i) {
      return (static_cast<double>(x[m * C + i]) - static_cast<double>(mean[m])) * static_cast<double>(rstd[m]);
    };
    if (c.din) {  // ∂L/∂x[m,i] = Σ_j J_m[j,i]·∂L/∂y[m,j]
      const int64_t m = c.index / C, i = c.index % C;
      const Tensor<T>& g = c.par(0);
      const double rs = static_cast<double>(rstd[m]), xi = xhat(m, i);
      c.r.ld_row = static_cast<int>(m);
      c.r.local_tensor = {Part::local, 0};
      c.r.local_name = "J";
      c.r.over_name = "j";
      c.r.how = "row " + std::to_string(m) + "'s Jacobian (column " + std::to_string(i) + ") times the incoming row";
      for (int64_t j = 0; j < C; ++j) {
        const double Jji = static_cast<double>(g[j]) * rs *
                           ((i == j ? 1.0 : 0.0) - 1.0 / static_cast<double>(C) - xi * xhat(m, j) / static_cast<double>(C));
        c.add(Jji, j * C + i, c.g(m * C + j), m * C + j, j);
      }
    } else if (c.slot == 0) {  // γ[i] = Σ_m x̂[m,i]·∂L/∂y[m,i]
      const int64_t i = c.index;
      c.r.local_tensor = {Part::local, 1};
      c.r.local_name = "x̂";
      c.r.over_name = "m";
      c.r.how = "column " + std::to_string(i) + " of x̂ times column " + std::to_string(i) + " of ∂L/∂y, summed over the rows";
      for (int64_t m = 0; m < M; ++m) c.add(xhat(m, i), m * C + i, c.g(m * C + i), m * C + i, m);
    } else {  // β[i] = Σ_m ∂L/∂y[m,i]
      const int64_t i = c.index;
      c.r.local_tensor = {Part::local, 2};
      c.r.local_name = "1";
      c.r.over_name = "m";
      c.r.how = "β was added to every row: column " + std::to_string(i) + " of ∂L/∂y summed over the rows";
      for (int64_t m = 0; m < M; ++m) c.add(1.0, -1, c.g(m * C + i), m * C + i, m);
    }
  }
  static Aligned aligned(int) { return {true, {1}}; }
};

}  // namespace gs::ops
