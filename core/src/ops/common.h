#pragma once
// Shared helpers for the op headers: row-major Eigen maps over tape buffers, and a parallel
// loop that only forks when there is enough work to pay for it.
#include <Eigen/Core>
#include <cmath>
#include <limits>

#include "gradscope/tape.h"
#include "ops/chain.h"

namespace gs::ops {

template <class T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using MatMap = Eigen::Map<RowMat<T>>;
template <class T>
using RowVecMap = Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>;

// A (rows × cols) row-major view of `t` starting `offset` elements in.
template <class T>
MatMap<T> mat(const Tensor<T>& t, int64_t rows, int64_t cols, int64_t offset = 0) {
  return MatMap<T>(t.data + offset, rows, cols);
}
template <class T>
RowVecMap<T> rowvec(const Tensor<T>& t) {
  return RowVecMap<T>(t.data, t.size());
}

// Runs f(i) for i in [0, n); forks threads only when n·cost is large. The small case never
// enters OpenMP at all: an `omp parallel if (false)` still costs a microsecond or so in libgomp,
// which the replays of the finite-difference checks (a million small ops) paid as most of their time.
template <class F>
inline void parallel_for(int64_t n, int64_t cost_per_item, F&& f) {
  if (n * cost_per_item <= (1 << 15)) {
    for (int64_t i = 0; i < n; ++i) f(i);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) f(i);
}

// The op's output as the views name it ("f", "h.2"): the y of ∂y/∂x in its labels.
template <class T>
const std::string& out_name(const OpCtx<T>& c) {
  return c.tape.value(c.op.out).name;
}

// A local-derivative item that owns its tensor.
template <class T>
typename LocalDerivative<T>::Item owned_item(std::string label, Shape shape) {
  typename LocalDerivative<T>::Item it;
  it.label = std::move(label);
  it.owned = std::make_shared<OwnedTensor<T>>(std::move(shape));
  it.tensor = it.owned->view();
  return it;
}
// A local-derivative item that shows a tensor already on the tape.
template <class T>
typename LocalDerivative<T>::Item view_item(std::string label, const Tensor<T>& t, bool transposed = false) {
  typename LocalDerivative<T>::Item it;
  it.label = std::move(label);
  it.tensor = t;
  it.transposed = transposed;
  return it;
}
// A 0-d item holding one number (a constant local derivative: 1, 1/√d).
template <class T>
typename LocalDerivative<T>::Item scalar_item(std::string label, T v) {
  auto it = owned_item<T>(std::move(label), {});
  it.tensor[0] = v;
  return it;
}

}  // namespace gs::ops
