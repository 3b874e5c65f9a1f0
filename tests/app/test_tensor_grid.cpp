// Tensors as the views show them: the 2-D grid, transposes, max-abs pooling of big tensors
// (masked −∞ and NaN kept), the numbers beside each map.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "format.h"
#include "tensor_grid.h"

namespace gs::app {
namespace {

template <class T>
Tensor<T> view(std::vector<T>& v, Shape s) {
  return Tensor<T>{v.data(), std::move(s)};
}

TEST(grid, small_tensor_is_shown_as_is) {
  std::vector<double> v{1, 2, 3, 4, 5, 6};
  const TensorRef t = TensorRef::of(view(v, {2, 3}));
  const DisplayGrid g = reduce_for_display(t);
  EXPECT_EQ(g.rows, 2);
  EXPECT_EQ(g.cols, 3);
  EXPECT_FALSE(g.pooled());
  for (int i = 0; i < 6; ++i) EXPECT_EQ(g.values[i], static_cast<float>(v[i]));
  EXPECT_EQ(cell_source_index(t, g, 1, 2), 5);
}

TEST(grid, leading_dimensions_become_rows) {
  std::vector<float> v(2 * 3 * 4 * 5);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  const TensorRef t = TensorRef::of(view(v, {2, 3, 4, 5}));
  const DisplayGrid g = reduce_for_display(t);
  EXPECT_EQ(g.rows, 24);
  EXPECT_EQ(g.cols, 5);
  EXPECT_EQ(g.values[7 * 5 + 2], 37.0f);
  EXPECT_EQ(multi_index_str(t.shape, 37), "[0,1,3,2]");
  EXPECT_EQ(multi_index_str({}, 0), "[]");
}

TEST(grid, transposed_view_swaps_rows_and_columns) {
  std::vector<double> v{1, 2, 3, 4, 5, 6};  // (2,3)
  const TensorRef t = TensorRef::of(view(v, {2, 3}), true);
  const DisplayGrid g = reduce_for_display(t);
  ASSERT_EQ(g.rows, 3);
  ASSERT_EQ(g.cols, 2);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 2; ++c) {
      EXPECT_EQ(g.values[r * 2 + c], static_cast<float>(v[c * 3 + r]));
      EXPECT_EQ(t.flat_index(r, c), c * 3 + r);
    }
}

TEST(grid, max_abs_pooling_keeps_the_largest_entry_with_its_sign) {
  std::vector<double> v(8 * 8, 0.5);
  // Block (0,1) of 2×2 cells: rows 0–1, cols 2–3.
  v[0 * 8 + 2] = 1;
  v[1 * 8 + 3] = -5;
  v[1 * 8 + 2] = 3;
  const TensorRef t = TensorRef::of(view(v, {8, 8}));
  const DisplayGrid g = reduce_for_display(t, 4);
  ASSERT_EQ(g.rows, 4);
  ASSERT_EQ(g.cols, 4);
  EXPECT_TRUE(g.pooled());
  EXPECT_EQ(g.block_rows, 2);
  EXPECT_EQ(g.values[0 * 4 + 1], -5.0f);
  EXPECT_EQ(g.values[0 * 4 + 0], 0.5f);
  EXPECT_EQ(cell_source_index(t, g, 0, 1), 1 * 8 + 3);
}

TEST(grid, pooling_keeps_masked_scores_and_nan) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> v(4 * 4, 1.0);
  v[0] = -inf;                              // block (0,0)
  v[2 * 4 + 2] = std::nan("");              // block (1,1)
  v[2 * 4 + 3] = 100;
  v[0 * 4 + 3] = 1e300;                     // block (0,1): finite, beyond float range
  const TensorRef t = TensorRef::of(view(v, {4, 4}));
  const DisplayGrid g = reduce_for_display(t, 2);
  ASSERT_EQ(g.rows, 2);
  EXPECT_TRUE(std::isinf(g.values[0]) && g.values[0] < 0);
  EXPECT_TRUE(std::isnan(g.values[3]));
  EXPECT_TRUE(std::isfinite(g.values[1]));
  EXPECT_EQ(g.values[1], std::numeric_limits<float>::max());
  EXPECT_EQ(g.values[2], 1.0f);
}

TEST(grid, big_embedding_is_reduced_to_at_most_512_a_side) {
  const int64_t V = 5000, C = 768;
  std::vector<float> v(static_cast<size_t>(V * C), 0.01f);
  v[static_cast<size_t>(4321 * C + 700)] = -9.0f;
  const TensorRef t = TensorRef::of(view(v, {V, C}));
  const DisplayGrid g = reduce_for_display(t, 512);
  EXPECT_LE(g.rows, 512);
  EXPECT_LE(g.cols, 512);
  EXPECT_EQ(g.src_rows, V);
  EXPECT_EQ(g.src_cols, C);
  const int r = static_cast<int>(4321 / g.block_rows), c = static_cast<int>(700 / g.block_cols);
  EXPECT_EQ(g.values[static_cast<size_t>(r) * g.cols + c], -9.0f);
  EXPECT_EQ(cell_source_index(t, g, r, c), 4321 * C + 700);
}

TEST(grid, stats_skip_masked_entries_and_count_them) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> v{3, -4, -inf, 0, std::nan("")};
  const TensorStats s = compute_stats(TensorRef::of(view(v, {5})));
  EXPECT_EQ(s.n, 5);
  EXPECT_EQ(s.finite, 3);
  EXPECT_EQ(s.neg_inf, 1);
  EXPECT_EQ(s.nan, 1);
  EXPECT_EQ(s.min, -4);
  EXPECT_EQ(s.max, 3);
  EXPECT_DOUBLE_EQ(s.mean, -1.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.norm, 5.0);
  EXPECT_EQ(s.absmax, 4);
  EXPECT_FALSE(s.all_zero());
  std::vector<float> z(6, 0.0f);
  EXPECT_TRUE(compute_stats(TensorRef::of(view(z, {2, 3}))).all_zero());
}

TEST(format, numbers_read_well) {
  EXPECT_EQ(human(16900), "16.90k");
  EXPECT_EQ(human(453.13e6), "453.13M");
  EXPECT_EQ(num(-0.5), "−0.5");
  EXPECT_EQ(num(-std::numeric_limits<double>::infinity()), "−∞");
  EXPECT_EQ(num_short(std::nan("")), "NaN");
  EXPECT_EQ(token_glyph(" "), "␣");
  EXPECT_EQ(token_glyph("\n"), "↵");
  EXPECT_EQ(token_glyph("a"), "a");
}

}  // namespace
}  // namespace gs::app
