#pragma once
// A tensor as the views show it (no GL, no ImGui): a 2-D grid (all leading dimensions as rows,
// the last as columns, optionally transposed), reduced by max-abs pooling to at most
// max_side × max_side cells for big ones (wte is 50257×768), with its summary numbers.
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "gradscope/tensor.h"

namespace gs::app {

// A read-only reference to a float or double tensor.
struct TensorRef {
  const void* data = nullptr;
  bool f64 = false;
  Shape shape;
  bool transposed = false;  // show the 2-D flattening transposed (a matmul's Wᵀ)

  template <class T>
  static TensorRef of(const Tensor<T>& t, bool transposed = false) {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
    return TensorRef{t.data, std::is_same_v<T, double>, t.shape, transposed};
  }
  bool empty() const { return data == nullptr; }
  int64_t size() const { return numel(shape); }
  double at(int64_t flat) const {
    return f64 ? static_cast<const double*>(data)[flat] : static_cast<const float*>(data)[flat];
  }
  // The 2-D flattening before any transpose: rows × cols.
  int64_t flat_rows() const { return shape.empty() ? 1 : size() / std::max<int64_t>(shape.back(), 1); }
  int64_t flat_cols() const { return shape.empty() ? 1 : shape.back(); }
  // The grid as shown.
  int64_t rows() const { return transposed ? flat_cols() : flat_rows(); }
  int64_t cols() const { return transposed ? flat_rows() : flat_cols(); }
  // Flat index of the entry shown at (r, c).
  int64_t flat_index(int64_t r, int64_t c) const { return transposed ? c * flat_cols() + r : r * flat_cols() + c; }
};

struct TensorStats {
  int64_t n = 0;            // entries
  int64_t finite = 0;       // entries that are neither ±∞ nor NaN
  int64_t neg_inf = 0, pos_inf = 0, nan = 0;
  double min = 0, max = 0, mean = 0, norm = 0;  // over the finite entries (norm: L2)
  double absmax = 0;
  double abs_sum = 0;             // Σ|x| over the finite entries
  // The mean is round-off, not a number to read: |Σx| is within the type's rounding of Σ|x|
  // (a gradient whose rows each sum to 0 shows a mean like −2.9e−20).
  bool mean_is_roundoff = false;
  bool rows_sum_to_zero = false;  // every row of the 2-D flattening sums to 0 (up to round-off)
  bool all_zero() const { return finite == n && absmax == 0; }
};
TensorStats compute_stats(const TensorRef& t);

struct DisplayGrid {
  int rows = 0, cols = 0;            // cells shown
  int64_t src_rows = 0, src_cols = 0;  // the tensor's grid
  int64_t block_rows = 1, block_cols = 1;  // source entries per cell (1×1 unless pooled)
  std::vector<float> values;         // rows × cols, row-major; ±∞ and NaN kept
  bool pooled() const { return block_rows > 1 || block_cols > 1; }
};

// Max-abs pooling to at most max_side per side: each cell keeps the entry of largest |value|
// in its block (with its sign); a block holding a NaN shows NaN. Finite doubles beyond float
// range are clamped so they are not mistaken for ±∞.
DisplayGrid reduce_for_display(const TensorRef& t, int max_side = 512);

// The source entry a cell stands for: itself, or for a pooled cell the max-abs entry of its block.
int64_t cell_source_index(const TensorRef& t, const DisplayGrid& g, int r, int c);

}  // namespace gs::app
