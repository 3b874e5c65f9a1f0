#pragma once
// The matrix product A @ B of a model of one's own (program `custom`), where either side may be a
// parameter or a value: [n,k] @ [k,m] → [n,m]. A vector on the left is one row ([k] @ [k,m] → [m]),
// a vector on the right one column ([n,k] @ [k] → [n]), and two vectors give their dot product.
// Its local derivative is the other operand: ∂L/∂A = ∂L/∂Y·Bᵀ, ∂L/∂B = Aᵀ·∂L/∂Y.
#include "ops/common.h"

namespace gs::ops {

struct MatProd {
  // Sizes n, k, m of the product, from the operands' shapes (a vector is one row or one column).
  struct Dims {
    int64_t n, k, m;
  };
  template <class T>
  static Dims dims(const Tensor<T>& A, const Tensor<T>& B) {
    const int64_t n = A.rank() == 2 ? A.dim(0) : 1, k = A.dim(-1);
    const int64_t m = B.rank() == 2 ? B.dim(1) : 1;
    return {n, k, m};
  }
  template <class T>
  static Dims dims(const OpCtx<T>& c) {
    return dims(c.in(0), c.in(1));
  }
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const Dims d = dims(c);
    mat(c.out(), d.n, d.m).noalias() = mat(c.in(0), d.n, d.k) * mat(c.in(1), d.k, d.m);
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    const Dims d = dims(c);
    const auto G = mat(c.dout(), d.n, d.m);
    const bool skip_t = c.mistake(Mistake::missing_transpose);
    if (c.need_din(0)) {
      if (skip_t)  // planted: B where Bᵀ belongs (needs k == m)
        mat(c.din(0), d.n, d.k).noalias() = G * mat(c.in(1), d.k, d.m);
      else
        mat(c.din(0), d.n, d.k).noalias() = G * mat(c.in(1), d.k, d.m).transpose();
    }
    if (c.need_din(1)) mat(c.din(1), d.k, d.m).noalias() = mat(c.in(0), d.n, d.k).transpose() * G;
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    const Dims d = dims(c);
    const int64_t mm = 2 * d.n * d.k * d.m;
    return {mm, 0, (c.need_din(0) ? mm : 0) + (c.need_din(1) ? mm : 0)};
  }
  template <class T>
  static bool supports(const OpCtx<T>& c, Mistake m) {
    const Dims d = dims(c);
    return m == Mistake::missing_transpose && c.need_din(0) && d.k == d.m && d.k > 1;
  }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    const std::string a = c.in_name(0), b = c.in_name(1);
    ld.text = "A matrix product's local derivative is the other operand: a change in " + a + " moves the result "
              "through " + b + " (so its gradient goes back through " + b + "ᵀ), a change in " + b + " moves it "
              "through " + a + " (back through " + a + "ᵀ).";
    ld.items.push_back(view_item(b + "ᵀ   (∂L/∂" + a + " = ∂L/∂Y·" + b + "ᵀ)", c.in(1), true));
    ld.items.push_back(view_item(a + "   (∂L/∂" + b + " = " + a + "ᵀ·∂L/∂Y)", c.in(0)));
  }
  template <class T>
  static void explain(ChainCtx<T>& c) {
    const Tensor<T>& A = c.in(0);
    const Tensor<T>& B = c.in(1);
    const Dims d = dims(A, B);
    const std::string a = c.in_name(0), b = c.in_name(1);
    if (c.operand() == 0) {  // ∂L/∂A[i,q] = Σ_j ∂L/∂Y[i,j]·B[q,j]
      const int64_t i = c.index / d.k, q = c.index % d.k;
      c.r.local_tensor = {Part::local, 0};
      c.r.local_name = b;
      c.r.over_name = "j";
      c.r.how = "row " + std::to_string(i) + " of ∂L/∂Y times row " + std::to_string(q) + " of " + b + " (a column of " + b +
                "ᵀ): one product per column j of the result";
      for (int64_t j = 0; j < d.m; ++j) c.add(static_cast<double>(B[q * d.m + j]), q * d.m + j, c.g(i * d.m + j), i * d.m + j, j);
    } else {  // ∂L/∂B[q,j] = Σ_i A[i,q]·∂L/∂Y[i,j]
      const int64_t q = c.index / d.m, j = c.index % d.m;
      c.r.local_tensor = {Part::local, 1};
      c.r.local_name = a;
      c.r.over_name = "i";
      c.r.how = "column " + std::to_string(q) + " of " + a + " times column " + std::to_string(j) +
                " of ∂L/∂Y: one product per row i of the result";
      for (int64_t i = 0; i < d.n; ++i) c.add(static_cast<double>(A[i * d.k + q]), i * d.k + q, c.g(i * d.m + j), i * d.m + j, i);
    }
  }
};

}  // namespace gs::ops
