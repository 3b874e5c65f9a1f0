// Per op type: its backward against central differences in double on several shapes (GPT-2 with
// a repeated token, T = n_ctx, one head, batch > 1, LoRA on every target; and every lesson
// model), its local derivative against a numerical Jacobian of that op alone, its FLOP formula,
// and small hand-worked cases. test_one_op.cpp checks each type on a tape of that op alone.
#include <gtest/gtest.h>

#include <cmath>

#include "gradscope/gradcheck.h"
#include "ops/elementwise.h"
#include "test_util.h"

namespace gs {
namespace {

using test::Built;

// The shapes every op is checked on.
std::vector<Built<double>> shapes() {
  std::vector<Built<double>> out;
  // T = n_ctx, two heads, a token (1) repeated three times.
  out.push_back(test::build<double>(test::small_config(2, 2, 16, 13, 8, 8, 1), {1, 5, 1, 7, 1, 3, 12, 5, 0}));
  // One head, batch of 2.
  out.push_back(test::build<double>(test::small_config(1, 1, 8, 11, 10, 5, 2)));
  // Four heads of size 3, LoRA on all four linears with a non-zero B.
  Config c = test::small_config(1, 4, 12, 9, 6, 6, 1);
  c.lora_rank = 2;
  c.lora_alpha = 4;
  c.lora_targets = {LoraTarget::attn_c_attn, LoraTarget::attn_c_proj, LoraTarget::mlp_c_fc, LoraTarget::mlp_c_proj};
  out.push_back(test::build<double>(c));
  // The lesson models (indices 3 …), so every op type of the table is on some tape.
  for (const char* p : {"line", "two_layers", "activation", "branch", "matrix", "softmax_ce", "layernorm", "attention",
                        "lora_linear"})
    out.push_back(test::build_program<double>(p));
  {
    const ModelSpec c = test::every_custom_op_spec();
    out.push_back(test::build_program<double>("custom", c.sets, c));
  }
  for (size_t i = 0; i < out.size(); ++i) test::randomize(out[i], 100 + i);
  return out;
}


std::vector<Built<double>>& fixtures() {
  static std::vector<Built<double>> s = shapes();
  return s;
}

// The fixture of a lesson program by name.
Tape<double>& lesson(const std::string& program) {
  for (auto& b : fixtures())
    if (b.tape->config().program == program) return *b.tape;
  throw std::runtime_error("no fixture for " + program);
}

void gradcheck_type(OpType type) {
  int seen = 0;
  for (auto& b : fixtures()) {
    CheckOptions opt;
    opt.max_entries = 0;  // every entry
    for (int k = 0; k < b.tape->size(); ++k) {
      if (b.tape->op(k).type != type || !b.tape->op(k).needs_backward()) continue;
      ++seen;
      const OpCheck oc = check_op(*b.tape, k, opt);
      EXPECT_GT(oc.checked, 0) << oc.name;
      EXPECT_TRUE(oc.pass) << oc.name << " max abs err " << oc.max_abs_err << " max rel err " << oc.max_rel_err;
      EXPECT_LT(oc.max_abs_err, 1e-7) << oc.name;
    }
  }
  EXPECT_GT(seen, 0) << "no op of type " << info(type).name << " in the test shapes";
}

#define GS_GRADCHECK_TEST(id, impl, name, rowj, extra, plain, fwd, local, bwd) \
  TEST(op_##id, gradcheck) { gradcheck_type(OpType::id); }
GS_OP_TYPES(GS_GRADCHECK_TEST)
#undef GS_GRADCHECK_TEST

// [SECTION] local derivatives against a numerical Jacobian of the op alone

// ∂(op k's output)/∂(one operand entry), by central differences through op k only.
std::vector<double> jacobian_column(Tape<double>& tape, int k, bool is_param, int slot, int64_t idx) {
  const auto& op = tape.op(k);
  const Tensor<double>& src = is_param ? tape.model().params()[op.par[slot]].data : tape.value(op.in[slot]).data;
  OwnedTensor<double> copy(src.shape);
  std::copy(src.begin(), src.end(), copy.buf.begin());
  Override<double> ov{k, is_param, slot, copy.view()};
  const double eps = 1e-6;
  const Tensor<double>& out = tape.value(op.out).data;
  copy.buf[idx] += eps;
  tape.forward_op(k, &ov);
  std::vector<double> plus(out.begin(), out.end());
  copy.buf[idx] -= 2 * eps;
  tape.forward_op(k, &ov);
  std::vector<double> col(out.size());
  for (int64_t i = 0; i < out.size(); ++i) {
    // A masked score stays −∞ on both sides: it does not move.
    col[i] = std::isinf(plus[i]) && std::isinf(out[i]) ? 0.0 : (plus[i] - out[i]) / (2 * eps);
  }
  tape.forward_op(k);
  return col;
}

const LocalDerivative<double>::Item& item(const LocalDerivative<double>& ld, size_t i) {
  EXPECT_LT(i, ld.items.size());
  return ld.items.at(i);
}

// Entry [r][c] of an item as displayed (transposed items show tensorᵀ).
double shown(const LocalDerivative<double>::Item& it, int64_t r, int64_t c) {
  const int64_t cols = it.tensor.dim(-1);
  if (it.transposed) return it.tensor[c * cols + r];
  return it.tensor[r * cols + c];
}

int first_op(const Tape<double>& tape, OpType t) {
  for (int k = 0; k < tape.size(); ++k)
    if (tape.op(k).type == t) return k;
  return -1;
}

constexpr double kTol = 1e-7;

TEST(op_embedding, local_derivative) {
  auto& tape = *fixtures()[0].tape;
  const int k = first_op(tape, OpType::embedding);
  const auto ld = tape.local_derivative(k);
  const int64_t C = tape.config().n_embd, V = tape.config().vocab_size, M = tape.batch().B * tape.batch().T;
  for (int64_t v : {int64_t(1), int64_t(2), V - 1})
    for (int64_t c : {int64_t(0), C - 1}) {
      auto col = jacobian_column(tape, k, true, 0, v * C + c);
      for (int64_t m = 0; m < M; ++m) EXPECT_NEAR(col[m * C + c], shown(item(ld, 0), m, v), kTol);
    }
}

TEST(op_pos_embedding, local_derivative) {
  auto& tape = *fixtures()[1].tape;  // batch 2: wpe[t] moves both rows
  const int k = first_op(tape, OpType::pos_embedding);
  const double one = item(tape.local_derivative(k), 0).tensor[0];
  const int64_t C = tape.config().n_embd, Tn = tape.batch().T;
  auto col = jacobian_column(tape, k, false, 0, 3);
  EXPECT_NEAR(col[3], one, kTol);
  col = jacobian_column(tape, k, true, 0, 2 * C + 1);  // wpe[2][1]
  EXPECT_NEAR(col[2 * C + 1], one, kTol);
  EXPECT_NEAR(col[Tn * C + 2 * C + 1], one, kTol);
  double rest = 0;
  for (double x : col) rest += std::abs(x);
  EXPECT_NEAR(rest, 2 * one, 1e-6);
}

TEST(op_layernorm, local_derivative) {
  auto& tape = *fixtures()[0].tape;
  const int k = first_op(tape, OpType::layernorm);
  const int row = 3;
  const auto ld = tape.local_derivative(k, row);
  const int64_t C = tape.config().n_embd;
  for (int64_t i = 0; i < C; ++i) {
    auto col = jacobian_column(tape, k, false, 0, row * C + i);
    for (int64_t j = 0; j < C; ++j) EXPECT_NEAR(col[row * C + j], shown(item(ld, 0), j, i), kTol) << i << "," << j;
  }
  auto col = jacobian_column(tape, k, true, 0, 5);  // γ[5] moves y[m][5] by x̂[m][5]
  for (int64_t m = 0; m < tape.batch().T; ++m) EXPECT_NEAR(col[m * C + 5], shown(item(ld, 1), m, 5), kTol);
}

void check_matmul_items(Tape<double>& tape, int k, bool second_is_param, double scale) {
  // Item 0 is the operand the gradient of input 0 goes through (shown as Wᵀ); item 1 is the
  // left operand (X) that the weight's gradient goes through.
  const auto ld = tape.local_derivative(k);
  const auto& op = tape.op(k);
  const auto& X = tape.value(op.in[0]).data;
  const int64_t K = X.cols();
  const auto& Y = tape.value(op.out).data;
  const int64_t N = Y.cols();
  const int64_t m = 1, kk = K - 1, n = N / 2;
  auto col = jacobian_column(tape, k, false, 0, m * K + kk);  // ∂Y[m][n]/∂X[m][kk] = W[kk][n] = (Wᵀ)[n][kk]
  EXPECT_NEAR(col[m * N + n], scale * shown(item(ld, 0), n, kk), kTol);
  if (second_is_param) {
    auto col2 = jacobian_column(tape, k, true, 0, kk * N + n);  // ∂Y[m][n]/∂W[kk][n] = X[m][kk]
    EXPECT_NEAR(col2[m * N + n], scale * shown(item(ld, 1), m, kk), kTol);
  }
}

TEST(op_linear, local_derivative) {
  auto& tape = *fixtures()[0].tape;
  check_matmul_items(tape, first_op(tape, OpType::linear), true, 1.0);
  auto col = jacobian_column(tape, first_op(tape, OpType::linear), true, 1, 2);  // bias
  EXPECT_NEAR(col[2], 1.0, kTol);
}

TEST(op_lora_down, local_derivative) {
  auto& tape = *fixtures()[2].tape;
  check_matmul_items(tape, first_op(tape, OpType::lora_down), true, 1.0);
}

TEST(op_lora_up, local_derivative) {
  auto& tape = *fixtures()[2].tape;
  const int k = first_op(tape, OpType::lora_up);
  const auto ld = tape.local_derivative(k);
  const double s = tape.op(k).attrs.scale;
  const auto& U = tape.value(tape.op(k).in[1]).data;
  const int64_t R = U.cols(), N = tape.value(tape.op(k).out).data.cols();
  auto col = jacobian_column(tape, k, false, 0, 7);  // ∂Y'/∂Y = 1
  EXPECT_NEAR(col[7], item(ld, 0).tensor[0], kTol);
  col = jacobian_column(tape, k, false, 1, 2 * R + 1);  // ∂Y'[2][n]/∂U[2][1] = s·B[1][n] = s·(Bᵀ)[n][1]
  for (int64_t n = 0; n < N; ++n) EXPECT_NEAR(col[2 * N + n], s * shown(item(ld, 1), n, 1), kTol);
  col = jacobian_column(tape, k, true, 0, 1 * N + 4);  // ∂Y'[m][4]/∂B[1][4] = s·U[m][1]
  for (int64_t m = 0; m < U.rows(); ++m) EXPECT_NEAR(col[m * N + 4], s * shown(item(ld, 2), m, 1), kTol);
}

TEST(op_split_heads, local_derivative) {
  auto& tape = *fixtures()[0].tape;
  for (int part = 0; part < 3; ++part) {
    const int k = first_op(tape, OpType::split_heads) + part;
    ASSERT_EQ(tape.op(k).attrs.part, part);
    const double one = item(tape.local_derivative(k), 0).tensor[0];
    const int64_t C = tape.config().n_embd, d = tape.config().head_size();
    // qkv[t=2][part·C + d + 1] is head 1's entry 1 at t=2.
    auto col = jacobian_column(tape, k, false, 0, 2 * 3 * C + part * C + d + 1);
    const int64_t Tn = tape.batch().T;
    double total = 0;
    for (double x : col) total += std::abs(x);
    EXPECT_NEAR(col[(1 * Tn + 2) * d + 1], one, kTol);
    EXPECT_NEAR(total, one, 1e-6);
  }
}

TEST(op_merge_heads, local_derivative) {
  auto& tape = *fixtures()[0].tape;
  const int k = first_op(tape, OpType::merge_heads);
  const double one = item(tape.local_derivative(k), 0).tensor[0];
  const int64_t C = tape.config().n_embd, d = tape.config().head_size(), Tn = tape.batch().T;
  auto col = jacobian_column(tape, k, false, 0, (1 * Tn + 4) * d + 2);  // head 1, t 4, entry 2
  EXPECT_NEAR(col[4 * C + d + 2], one, kTol);
}

TEST(op_query_key, local_derivative) {
  auto& tape = *fixtures()[0].tape;
  const int k = first_op(tape, OpType::query_key);
  const auto ld = tape.local_derivative(k);
  const int64_t Tn = tape.batch().T, d = tape.config().head_size();
  const int64_t i = 5, c = 2;
  auto col = jacobian_column(tape, k, false, 0, i * d + c);  // ∂S[i][j]/∂q[i][c] = k[j][c]
  for (int64_t j = 0; j < Tn; ++j) EXPECT_NEAR(col[i * Tn + j], shown(item(ld, 0), j, c), kTol);
  const int64_t j = 3;
  col = jacobian_column(tape, k, false, 1, j * d + c);  // ∂S[i][j]/∂k[j][c] = q[i][c]
  for (int64_t r = 0; r < Tn; ++r) EXPECT_NEAR(col[r * Tn + j], shown(item(ld, 1), r, c), kTol);
}

TEST(op_scale, local_derivative) {
  auto& tape = *fixtures()[0].tape;
  const int k = first_op(tape, OpType::scale);
  const double f = item(tape.local_derivative(k), 0).tensor[0];
  EXPECT_NEAR(f, 1.0 / std::sqrt(double(tape.config().head_size())), 1e-15);
  auto col = jacobian_column(tape, k, false, 0, 9);
  EXPECT_NEAR(col[9], f, kTol);
}

TEST(op_causal_mask, local_derivative) {
  auto& tape = *fixtures()[0].tape;
  const int k = first_op(tape, OpType::causal_mask);
  const auto ld = tape.local_derivative(k);
  const int64_t Tn = tape.batch().T;
  for (int64_t i = 0; i < Tn; ++i)
    for (int64_t j = 0; j < Tn; ++j) {
      auto col = jacobian_column(tape, k, false, 0, i * Tn + j);
      EXPECT_NEAR(col[i * Tn + j], shown(item(ld, 0), i, j), kTol) << i << "," << j;
    }
}

TEST(op_softmax, local_derivative) {
  auto& tape = *fixtures()[0].tape;
  const int k = first_op(tape, OpType::softmax);
  const int row = 6;  // query 6 sees keys 0…6
  const auto ld = tape.local_derivative(k, row);
  const int64_t Tn = tape.batch().T;
  for (int64_t i = 0; i <= 6; ++i) {
    auto col = jacobian_column(tape, k, false, 0, row * Tn + i);
    for (int64_t j = 0; j < Tn; ++j) EXPECT_NEAR(col[row * Tn + j], shown(item(ld, 0), j, i), kTol);
  }
}

TEST(op_attn_value, local_derivative) {
  auto& tape = *fixtures()[0].tape;
  const int k = first_op(tape, OpType::attn_value);
  const auto ld = tape.local_derivative(k);
  const int64_t Tn = tape.batch().T, d = tape.config().head_size();
  const int64_t i = 6, j = 2;
  auto col = jacobian_column(tape, k, false, 0, i * Tn + j);  // ∂O[i][c]/∂P[i][j] = v[j][c] = (Vᵀ)[c][j]
  for (int64_t c = 0; c < d; ++c) EXPECT_NEAR(col[i * d + c], shown(item(ld, 0), c, j), kTol);
  col = jacobian_column(tape, k, false, 1, j * d + 1);  // ∂O[r][1]/∂v[j][1] = P[r][j]
  for (int64_t r = 0; r < Tn; ++r) EXPECT_NEAR(col[r * d + 1], shown(item(ld, 1), r, j), kTol);
}

TEST(op_residual_add, local_derivative) {
  auto& tape = *fixtures()[0].tape;
  const int k = first_op(tape, OpType::residual_add);
  const double one = item(tape.local_derivative(k), 0).tensor[0];
  EXPECT_NEAR(jacobian_column(tape, k, false, 0, 11)[11], one, kTol);
  EXPECT_NEAR(jacobian_column(tape, k, false, 1, 12)[12], one, kTol);
}

TEST(op_gelu, local_derivative) {
  auto& tape = *fixtures()[0].tape;
  const int k = first_op(tape, OpType::gelu);
  const auto ld = tape.local_derivative(k);
  for (int64_t i : {int64_t(0), int64_t(17), int64_t(100), tape.value(tape.op(k).out).data.size() - 1})
    EXPECT_NEAR(jacobian_column(tape, k, false, 0, i)[i], item(ld, 0).tensor[i], kTol);
}

TEST(op_lm_head, local_derivative) {
  auto& tape = *fixtures()[0].tape;
  const int k = first_op(tape, OpType::lm_head);
  const auto ld = tape.local_derivative(k);
  const int64_t C = tape.config().n_embd, V = tape.config().vocab_size, M = tape.batch().T;
  auto col = jacobian_column(tape, k, false, 0, 2 * C + 3);  // ∂logits[2][v]/∂f[2][3] = wte[v][3]
  for (int64_t v = 0; v < V; ++v) EXPECT_NEAR(col[2 * V + v], shown(item(ld, 0), v, 3), kTol);
  col = jacobian_column(tape, k, true, 0, 4 * C + 3);  // ∂logits[m][4]/∂wte[4][3] = f[m][3]
  for (int64_t m = 0; m < M; ++m) EXPECT_NEAR(col[m * V + 4], shown(item(ld, 1), m, 3), kTol);
}

TEST(op_log_softmax, local_derivative) {
  auto& tape = *fixtures()[0].tape;
  const int k = first_op(tape, OpType::log_softmax);
  const int row = 2;
  const auto ld = tape.local_derivative(k, row);
  const int64_t V = tape.config().vocab_size, M = tape.batch().T;
  for (int64_t j = 0; j < V; ++j) {
    auto col = jacobian_column(tape, k, false, 0, row * V + j);
    for (int64_t i = 0; i < V; ++i) EXPECT_NEAR(col[row * V + i], shown(item(ld, 0), i, j), kTol);
  }
  // The fused item, divided by B·T, is the loss's gradient with respect to the logits.
  const auto& fused = item(ld, 1).tensor;
  const auto& dz = tape.op(k).din[0];
  for (int64_t i = 0; i < fused.size(); ++i) EXPECT_NEAR(fused[i] / double(M), dz[i], 1e-12);
}

TEST(op_nll, local_derivative) {
  auto& tape = *fixtures()[0].tape;
  const int k = first_op(tape, OpType::nll);
  const auto ld = tape.local_derivative(k);
  const int64_t V = tape.config().vocab_size;
  for (int64_t i : {int64_t(0), 3 * V + tape.batch().y[3], 5 * V + 2})
    EXPECT_NEAR(jacobian_column(tape, k, false, 0, i)[0], item(ld, 0).tensor[i], kTol);
}

TEST(op_matmul, local_derivative) {
  auto& tape = lesson("attention");
  check_matmul_items(tape, first_op(tape, OpType::matmul), true, 1.0);
}

TEST(op_mul_param, local_derivative) {
  auto& tape = lesson("two_layers");
  const int k = tape.find_op("y3");  // y3 = a2·y2
  const auto ld = tape.local_derivative(k);
  EXPECT_NEAR(jacobian_column(tape, k, false, 0, 0)[0], item(ld, 0).tensor[0], kTol);  // ∂y/∂x = a
  EXPECT_EQ(item(ld, 0).tensor.rank(), 0);                                              // one number
  EXPECT_NEAR(jacobian_column(tape, k, true, 0, 0)[0], item(ld, 1).tensor[0], kTol);   // ∂y/∂a = x
}

TEST(op_add_param, local_derivative) {
  auto& tape = lesson("line");
  const int k = tape.find_op("y2");
  const auto ld = tape.local_derivative(k);
  EXPECT_NEAR(jacobian_column(tape, k, false, 0, 0)[0], item(ld, 0).tensor[0], kTol);
  EXPECT_NEAR(jacobian_column(tape, k, true, 0, 0)[0], item(ld, 1).tensor[0], kTol);
}

TEST(op_subtract, local_derivative) {
  auto& tape = lesson("matrix");
  const int k = tape.find_op("D");
  const auto ld = tape.local_derivative(k);
  EXPECT_NEAR(jacobian_column(tape, k, false, 0, 3)[3], item(ld, 0).tensor[0], kTol);
  EXPECT_NEAR(jacobian_column(tape, k, false, 1, 5)[5], item(ld, 1).tensor[0], kTol);  // the target: −1
  EXPECT_EQ(item(ld, 1).tensor[0], -1.0);
}

TEST(op_mean_square, local_derivative) {
  auto& tape = lesson("layernorm");
  const int k = tape.find_op("L");
  const auto ld = tape.local_derivative(k);
  const int64_t n = tape.value(tape.op(k).in[0]).data.size();
  for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(jacobian_column(tape, k, false, 0, i)[0], item(ld, 0).tensor[i], kTol);
}

// [SECTION] FLOP formulas on a known shape: B=2, T=5, C=8, H=1 (d=8), V=11, full fine-tuning.

TEST(op_flops, formulas) {
  auto& tape = *fixtures()[1].tape;
  const int64_t B = 2, Tn = 5, C = 8, H = 1, d = 8, V = 11, M = B * Tn;
  auto flops = [&](OpType t) { return tape.op(first_op(tape, t)).flops; };
  EXPECT_EQ(flops(OpType::layernorm).fwd, 8 * M * C);
  EXPECT_EQ(flops(OpType::layernorm).bwd_seed, 11 * M * C);
  EXPECT_EQ(flops(OpType::linear).fwd, 2 * M * C * 3 * C + M * 3 * C);  // c_attn
  EXPECT_EQ(flops(OpType::linear).bwd_seed, 4 * M * C * 3 * C);
  EXPECT_EQ(flops(OpType::linear).bwd_extra, M * 3 * C);
  EXPECT_EQ(flops(OpType::query_key).bwd_seed, 4 * B * H * Tn * Tn * d);
  EXPECT_EQ(flops(OpType::attn_value).bwd_seed, 4 * B * H * Tn * Tn * d);
  EXPECT_EQ(flops(OpType::scale).bwd_seed, B * H * Tn * Tn);
  EXPECT_EQ(flops(OpType::softmax).bwd_seed, 4 * B * H * Tn * Tn);
  EXPECT_EQ(flops(OpType::gelu).bwd_seed, 19 * M * 4 * C);
  EXPECT_EQ(flops(OpType::residual_add).bwd(), 0);
  EXPECT_EQ(flops(OpType::lm_head).bwd_seed, 4 * M * C * V);
  EXPECT_EQ(flops(OpType::log_softmax).bwd_extra, 4 * M * V);
  EXPECT_EQ(flops(OpType::log_softmax).bwd_seed, 0);
  EXPECT_EQ(flops(OpType::nll).bwd(), 0);
  EXPECT_EQ(flops(OpType::embedding).bwd_extra, M * C);
  EXPECT_EQ(flops(OpType::pos_embedding).bwd_extra, (B - 1) * Tn * C);
  EXPECT_EQ(flops(OpType::split_heads).bwd(), 0);
  EXPECT_EQ(flops(OpType::causal_mask).bwd(), 0);
}

TEST(op_flops, lesson_ops) {
  // matrix: n 4, m 3, p 2 (N = 8 entries of D).
  auto& m = lesson("matrix");
  EXPECT_EQ(m.op(m.find_op("Y")).flops.fwd, 2 * 4 * 3 * 2 + 4 * 2);
  EXPECT_EQ(m.op(m.find_op("D")).flops.fwd, 8);
  EXPECT_EQ(m.op(m.find_op("D")).flops.bwd(), 0);  // the target needs no gradient
  EXPECT_EQ(m.op(m.find_op("L")).flops.fwd, 2 * 8 + 1);
  EXPECT_EQ(m.op(m.find_op("L")).flops.bwd(), 2 * 8);
  // line: P = 1; y1 = a·x: ∂L/∂x (the tutorial's r1, 1) and ∂L/∂a (2); y2 = y1 + b: 1 for ∂L/∂b.
  auto& l = lesson("line");
  EXPECT_EQ(l.op(l.find_op("y1")).flops.bwd(), 3);
  EXPECT_EQ(l.op(l.find_op("y2")).flops.bwd(), 1);
  // two_layers: y3 = a2·y2 needs ∂L/∂y2 (1) and ∂L/∂a2 (2).
  auto& t = lesson("two_layers");
  EXPECT_EQ(t.op(t.find_op("y3")).flops.bwd(), 3);
  // attention: T 3, C 2, d 2: q = X·Wq is 2·3·2·2 forward, ∂L/∂X and ∂L/∂Wq backward.
  auto& a = lesson("attention");
  EXPECT_EQ(a.op(a.find_op("q")).flops.fwd, 24);
  EXPECT_EQ(a.op(a.find_op("q")).flops.bwd(), 48);
  // lora_linear: X needs no gradient, W and b are frozen: the frozen layer needs no backward at all.
  auto& lr = lesson("lora_linear");
  EXPECT_EQ(lr.op(lr.find_op("Y")).flops.bwd(), 0);
}

TEST(op_flops, lora_frozen_weight_needs_only_dx) {
  auto& tape = *fixtures()[2].tape;
  const int64_t M = 6, C = 12;
  // Layer 0's c_attn: its input has nothing trainable upstream, and W, b are frozen: no backward at all.
  const int k0 = first_op(tape, OpType::linear);
  EXPECT_EQ(tape.op(k0).flops.bwd(), 0);
  const int k = tape.find_op("h.0.attn.c_proj");
  EXPECT_EQ(tape.op(k).flops.bwd_seed, 2 * M * C * C);  // ∂L/∂X only: the LoRA path upstream needs it
  EXPECT_EQ(tape.op(k).flops.bwd_extra, 0);              // no bias gradient
  const int kd = first_op(tape, OpType::lora_down);
  EXPECT_EQ(tape.op(kd).flops.bwd_extra, 2 * M * C * 2);  // dA only: nothing trainable lies before layer 0's LoRA
}

// [SECTION] small cases worked by hand

TEST(op_softmax, hand_worked) {
  // Scores (0, ln 2, −∞ masked): p = (1/3, 2/3, 0). With ∂L/∂P = (1, 0, 0):
  // Σ_j g_j·p_j = 1/3, ∂L/∂x = p ⊙ (g − 1/3) = (1/3·2/3, 2/3·(−1/3), 0) = (2/9, −2/9, 0).
  std::vector<double> x{0, std::log(2.0), -INFINITY}, p(3), g{1, 0, 0}, dx(3);
  double mx = std::log(2.0), s = 0;
  for (int j = 0; j < 3; ++j) s += (p[j] = std::exp(x[j] - mx));
  for (auto& v : p) v /= s;
  EXPECT_NEAR(p[0], 1.0 / 3, 1e-15);
  EXPECT_NEAR(p[1], 2.0 / 3, 1e-15);
  EXPECT_EQ(p[2], 0.0);
  // The same through the engine's op: a 1-head model's softmax row 1 (query 1 sees keys 0, 1).
  auto& tape = *fixtures()[1].tape;
  const int k = first_op(tape, OpType::softmax);
  const auto ld = tape.local_derivative(k, 1);
  const auto& J = ld.items[0].tensor;
  const auto& P = tape.value(tape.op(k).out).data;
  const int64_t Tn = tape.batch().T;
  EXPECT_NEAR(J[0 * Tn + 0], P[Tn] * (1 - P[Tn]), 1e-15);       // p0(1 − p0)
  EXPECT_NEAR(J[0 * Tn + 1], -P[Tn] * P[Tn + 1], 1e-15);         // −p0·p1
  EXPECT_NEAR(P[Tn] + P[Tn + 1], 1.0, 1e-14);                    // two keys visible
  EXPECT_EQ(P[Tn + 2], 0.0);                                      // a future key gets nothing
}

TEST(op_gelu, hand_worked) {
  // g(1) = ½(1 + tanh(√(2/π)·1.044715)) = 0.8411919906082768 (tanh approximation)
  EXPECT_NEAR(ops::Gelu::value(1.0), 0.8411919906082768, 1e-15);
  EXPECT_NEAR(ops::Gelu::value(0.0), 0.0, 0.0);
  EXPECT_NEAR(ops::Gelu::derivative(0.0), 0.5, 1e-15);
}

TEST(op_layernorm, hand_worked) {
  // Row 0 of the first LayerNorm, recomputed from the definition in long double.
  auto& tape = *fixtures()[1].tape;
  const int k = first_op(tape, OpType::layernorm);
  const auto& x = tape.value(tape.op(k).in[0]).data;
  const auto& y = tape.value(tape.op(k).out).data;
  const auto& g = tape.model().params()[tape.op(k).par[0]].data;
  const auto& b = tape.model().params()[tape.op(k).par[1]].data;
  const int64_t C = x.cols();
  // Row 0 recomputed by hand in long double.
  long double mu = 0, var = 0;
  for (int64_t i = 0; i < C; ++i) mu += x[i];
  mu /= C;
  for (int64_t i = 0; i < C; ++i) var += (x[i] - mu) * (x[i] - mu);
  var /= C;
  for (int64_t i = 0; i < C; ++i)
    EXPECT_NEAR(y[i], double((x[i] - mu) / std::sqrt(var + 1e-5L) * g[i] + b[i]), 1e-13);
}

TEST(op_embedding, repeated_token_sums_rows) {
  // Token 1 occurs at positions 0, 2 and 4: its wte gradient row is the sum of those three rows.
  auto& tape = *fixtures()[0].tape;
  const int k = first_op(tape, OpType::embedding);
  const auto& dX = tape.incoming(k);
  const auto& share = tape.op(k).dpar[0];
  const int64_t C = tape.config().n_embd;
  for (int64_t c = 0; c < C; ++c)
    EXPECT_NEAR(share[1 * C + c], dX[0 * C + c] + dX[2 * C + c] + dX[4 * C + c], 1e-15);
  for (int64_t c = 0; c < C; ++c) EXPECT_EQ(share[2 * C + c], 0.0);  // token 2 never occurs
}

}  // namespace
}  // namespace gs
