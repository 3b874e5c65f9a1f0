#pragma once
// The language-model head (tied to wte), log-softmax over the last dimension (GPT-2's
// vocabulary, softmax_ce's classes), and the mean negative log-likelihood of the targets.
#include "ops/common.h"
#include "ops/embedding.h"
#include "ops/linear.h"

namespace gs::ops {

struct LmHead {
  // in f (M,C)   par wte (V,C)   out logits (M,V) = f·wteᵀ
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const auto &f = c.in(0), &wte = c.par(0);
    const int64_t M = f.rows(), C = f.cols(), V = wte.dim(0);
    mat(c.out(), M, V).noalias() = mat(f, M, C) * mat(wte, V, C).transpose();
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    const auto &f = c.in(0), &wte = c.par(0);
    const auto& dZ = c.dout();
    const int64_t M = f.rows(), C = f.cols(), V = wte.dim(0);
    if (c.need_din(0)) mat(c.din(0), M, C).noalias() = mat(dZ, M, V) * mat(wte, V, C);
    if (c.need_dpar(0)) mat(c.dpar(0), V, C).noalias() = mat(dZ, M, V).transpose() * mat(f, M, C);
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    const int64_t mm = 2 * c.out().size() * c.in(0).cols();  // 2·B·T·C·V
    return {mm, (c.need_din(0) ? mm : 0) + (c.need_dpar(0) ? mm : 0), 0};
  }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = "A matmul with the token-embedding matrix itself (weight tying): ∂L/∂f goes back through wte, "
              "and wte collects a second gradient share here besides the embedding's.";
    ld.items.push_back(view_item("wte   (∂L/∂f = ∂L/∂logits·wte)", c.par(0)));
    ld.items.push_back(view_item("f   (∂L/∂wte += (∂L/∂logits)ᵀ·f)", c.in(0)));
  }
  template <class T>
  static void explain(ChainCtx<T>& c) {
    explain_product(c, true, "logits");
  }
};

struct LogSoftmax {
  // in z (M,V)   out ℓ (M,V) = z − logΣexp(z), per row
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const auto& z = c.in(0);
    const int64_t V = z.cols();
    // Per row, on Eigen arrays (vectorised max, exp and sums over the vocabulary).
    parallel_for(z.rows(), 5 * V, [&](int64_t r) {
      const Eigen::Map<const Eigen::Array<T, 1, Eigen::Dynamic>> x(z.data + r * V, V);
      Eigen::Map<Eigen::Array<T, 1, Eigen::Dynamic>> l(c.out().data + r * V, V);
      const T mx = x.maxCoeff();
      const T lse = mx + std::log((x - mx).exp().sum());
      l = x - lse;
    });
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    if (!c.need_din(0)) return;
    const auto& l = c.out();
    const auto& g = c.dout();
    const int64_t V = l.cols();
    const bool drop = c.mistake(Mistake::dropped_term);
    parallel_for(l.rows(), 4 * V, [&](int64_t r) {
      using Row = Eigen::Map<const Eigen::Array<T, 1, Eigen::Dynamic>>;
      const Row gr(g.data + r * V, V), lr(l.data + r * V, V);
      Eigen::Map<Eigen::Array<T, 1, Eigen::Dynamic>> dz(c.din(0).data + r * V, V);
      const T s = drop ? T(0) : gr.sum();  // drop, planted: forgets the normaliser's pull, −p·Σ∂L/∂ℓ
      dz = gr - lr.exp() * s;
    });
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    const int64_t n = c.out().size();
    // Forward per element: max, subtract, exp, sum, subtract. Backward: sum, exp, multiply, subtract.
    return {5 * n, 0, c.need_din(0) ? 4 * n : 0};
  }
  template <class T>
  static bool supports(const OpCtx<T>& c, Mistake m) {
    return m == Mistake::dropped_term && c.need_din(0);
  }
  template <class T>
  static void local(const OpCtx<T>& c, int row, LocalDerivative<T>& ld) {
    const auto& l = c.out();
    const int64_t M = l.rows(), V = l.cols();
    ld.text = "Row Jacobian ∂ℓ_i/∂z_j = δ_ij − p_j. Chained with the NLL's −onehot(y)/M it collapses to the "
              "fused cross-entropy gradient (P − onehot(y))/M: push up the target, push down the rest "
              "in proportion to their probability.";
    auto J = owned_item<T>("Jacobian I − 1·pᵀ of row " + std::to_string(row) + " (V×V)", {V, V});
    for (int64_t i = 0; i < V; ++i)
      for (int64_t j = 0; j < V; ++j) J.tensor[i * V + j] = (i == j ? T(1) : T(0)) - std::exp(l[row * V + j]);
    if (V <= 4096) ld.items.push_back(std::move(J));
    // Followed by the NLL: the fused view, with the NLL's targets.
    const auto& out = c.tape.value(c.op.out);
    if (out.uses.size() != 1 || c.tape.op(out.uses[0].op).type != OpType::nll) return;
    const auto& y = c.tape.value(c.tape.op(out.uses[0].op).in[1]).data;
    auto ce = owned_item<T>("fused cross-entropy P − onehot(y)", l.shape);
    for (int64_t m = 0; m < M; ++m) {
      for (int64_t j = 0; j < V; ++j) ce.tensor[m * V + j] = std::exp(l[m * V + j]);
      ce.tensor[m * V + id_at(y, m)] -= T(1);
    }
    ld.items.push_back(std::move(ce));
  }
  // ∂L/∂z[r,j] = Σ_i J_r[i,j]·∂L/∂ℓ[r,i], J_r[i,j] = δ_ij − p_j
  template <class T>
  static void explain(ChainCtx<T>& c) {
    const Tensor<T>& l = c.out();
    const int64_t V = l.dim(-1), row = c.index / V, j = c.index % V;
    const double pj = std::exp(static_cast<double>(l[row * V + j]));
    c.r.ld_row = static_cast<int>(row);
    c.r.local_tensor = {Part::local, 0};
    c.r.local_name = "J";
    c.r.over_name = "i";
    c.r.how = "row " + std::to_string(row) + "'s Jacobian (column " + std::to_string(j) + ") times the incoming row";
    for (int64_t i = 0; i < V; ++i) c.add((i == j ? 1.0 : 0.0) - pj, i * V + j, c.g(row * V + i), row * V + i, i);
  }
  // The last item, the fused P − onehot(y), is laid out like the input.
  static Aligned aligned(int n_local) {
    if (n_local == 0) return {true};
    return {true, {n_local - 1}};
  }
};

struct Nll {
  // in ℓ (M,V), y (M) target ids   out loss () = −mean_m ℓ[m, y[m]]
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const auto& l = c.in(0);
    const auto& y = c.in(1);
    const int64_t M = l.rows(), V = l.cols();
    T s = 0;
    for (int64_t m = 0; m < M; ++m) s += l[m * V + id_at(y, m)];
    c.out()[0] = -s / T(M);
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    if (!c.need_din(0)) return;
    const auto& d = c.din(0);
    const int64_t M = d.rows(), V = d.cols();
    d.fill(T(0));
    for (int64_t m = 0; m < M; ++m) d[m * V + id_at(c.in(1), m)] = -c.dout()[0] / T(M);
  }
  template <class T>
  static Flops flops(const OpCtx<T>& c) {
    return {c.in(0).rows() + 1, 0, 0};  // backward: indexing and assignment only
  }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    const int64_t M = c.in(0).rows(), V = c.in(0).cols();
    ld.text = "The loss reads one log-probability per row (the target's) and averages over the M = " +
              std::to_string(M) + " rows: its derivative is −1/M at each target and 0 everywhere else.";
    auto it = owned_item<T>("∂loss/∂ℓ = −onehot(y)/M", c.in(0).shape);
    for (int64_t m = 0; m < M; ++m) it.tensor[m * V + id_at(c.in(1), m)] = T(-1) / T(M);
    ld.items.push_back(std::move(it));
  }
  template <class T>
  static void explain(ChainCtx<T>& c) {
    const Tensor<T>& y = c.in(1);
    const int64_t V = c.in(0).dim(-1), M = c.in(0).size() / V, m = c.index / V, v = c.index % V;
    const bool target_here = static_cast<int64_t>(y[m]) == v;
    c.r.local_tensor = {Part::local, 0};
    c.r.local_name = "−1/M at the target";
    c.r.how = target_here ? "the target of this row: −1/M times ∂L/∂L = 1"
                          : "not the target of this row: the loss does not read it (0)";
    c.add(target_here ? -1.0 / static_cast<double>(M) : 0.0, c.index, c.g(0), 0);
  }
  static Aligned aligned(int) { return {false, {0}}; }
};

}  // namespace gs::ops
