#include "tensor_grid.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace gs::app {

namespace {

template <class T>
TensorStats stats_of(const T* p, int64_t n, int64_t cols) {
  TensorStats s;
  s.n = n;
  double sum = 0, sq = 0, row_sum = 0, row_abs = 0, max_row_sum = 0, max_row_abs = 0;
  bool first = true;
  cols = std::max<int64_t>(cols, 1);
  for (int64_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(p[i]);
    if (i % cols == 0 && i > 0) {
      max_row_sum = std::max(max_row_sum, std::abs(row_sum));
      max_row_abs = std::max(max_row_abs, row_abs);
      row_sum = row_abs = 0;
    }
    if (std::isfinite(v)) {
      row_sum += v;
      row_abs += std::abs(v);
      s.abs_sum += std::abs(v);
    }
    if (std::isnan(v)) {
      ++s.nan;
      continue;
    }
    if (std::isinf(v)) {
      ++(v < 0 ? s.neg_inf : s.pos_inf);
      continue;
    }
    ++s.finite;
    sum += v;
    sq += v * v;
    if (first) {
      s.min = s.max = v;
      first = false;
    } else {
      s.min = std::min(s.min, v);
      s.max = std::max(s.max, v);
    }
  }
  s.mean = s.finite ? sum / static_cast<double>(s.finite) : 0.0;
  s.norm = std::sqrt(sq);
  s.absmax = std::max(std::abs(s.min), std::abs(s.max));
  max_row_sum = std::max(max_row_sum, std::abs(row_sum));
  max_row_abs = std::max(max_row_abs, row_abs);
  // Round-off of T: a sum this much smaller than the sum of sizes is zero.
  const double eps = sizeof(T) == 4 ? 1e-5 : 1e-12;
  s.mean_is_roundoff = s.finite > 1 && s.mean != 0 && std::abs(sum) <= eps * s.abs_sum;
  s.rows_sum_to_zero = cols > 1 && n > cols - 1 && s.finite == n && max_row_abs > 0 && max_row_sum <= eps * max_row_abs * 10;
  return s;
}

float to_float(double v) {
  if (std::isnan(v) || std::isinf(v)) return static_cast<float>(v);
  return static_cast<float>(std::clamp(v, -static_cast<double>(FLT_MAX), static_cast<double>(FLT_MAX)));
}

// The value a block keeps: NaN wins, then the largest |v| (−∞ and +∞ count as largest).
inline bool beats(double cand, double best) {
  if (std::isnan(best)) return false;
  if (std::isnan(cand)) return true;
  return std::abs(cand) > std::abs(best);
}

template <class T>
void pool(const T* p, const TensorRef& t, DisplayGrid& g) {
  const int64_t fc = t.flat_cols();
  for (int r = 0; r < g.rows; ++r) {
    const int64_t r0 = r * g.block_rows, r1 = std::min(g.src_rows, r0 + g.block_rows);
    for (int c = 0; c < g.cols; ++c) {
      const int64_t c0 = c * g.block_cols, c1 = std::min(g.src_cols, c0 + g.block_cols);
      double best = 0;
      bool have = false;
      for (int64_t rr = r0; rr < r1; ++rr)
        for (int64_t cc = c0; cc < c1; ++cc) {
          const double v = static_cast<double>(t.transposed ? p[cc * fc + rr] : p[rr * fc + cc]);
          if (!have || beats(v, best)) {
            best = v;
            have = true;
          }
        }
      g.values[static_cast<size_t>(r) * g.cols + c] = to_float(best);
    }
  }
}

}  // namespace

TensorStats compute_stats(const TensorRef& t) {
  if (t.empty()) return {};
  return t.f64 ? stats_of(static_cast<const double*>(t.data), t.size(), t.flat_cols())
               : stats_of(static_cast<const float*>(t.data), t.size(), t.flat_cols());
}

DisplayGrid reduce_for_display(const TensorRef& t, int max_side) {
  DisplayGrid g;
  if (t.empty() || t.size() == 0) return g;
  max_side = std::max(max_side, 1);
  g.src_rows = t.rows();
  g.src_cols = t.cols();
  g.block_rows = (g.src_rows + max_side - 1) / max_side;
  g.block_cols = (g.src_cols + max_side - 1) / max_side;
  g.rows = static_cast<int>((g.src_rows + g.block_rows - 1) / g.block_rows);
  g.cols = static_cast<int>((g.src_cols + g.block_cols - 1) / g.block_cols);
  g.values.assign(static_cast<size_t>(g.rows) * g.cols, 0.0f);
  if (t.f64)
    pool(static_cast<const double*>(t.data), t, g);
  else
    pool(static_cast<const float*>(t.data), t, g);
  return g;
}

int64_t cell_source_index(const TensorRef& t, const DisplayGrid& g, int r, int c) {
  if (t.empty() || r < 0 || c < 0 || r >= g.rows || c >= g.cols) return -1;
  const int64_t r0 = r * g.block_rows, r1 = std::min(g.src_rows, r0 + g.block_rows);
  const int64_t c0 = c * g.block_cols, c1 = std::min(g.src_cols, c0 + g.block_cols);
  int64_t best_i = t.flat_index(r0, c0);
  double best = t.at(best_i);
  for (int64_t rr = r0; rr < r1; ++rr)
    for (int64_t cc = c0; cc < c1; ++cc) {
      const int64_t i = t.flat_index(rr, cc);
      if (beats(t.at(i), best)) {
        best = t.at(i);
        best_i = i;
      }
    }
  return best_i;
}

}  // namespace gs::app
