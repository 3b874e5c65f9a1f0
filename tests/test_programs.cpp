// The lesson programs (docs/programs.md): each one's loss and every gradient against the formulas
// worked out here by hand (plain loops over the values the tape holds, no engine code), its full
// finite-difference check in double, training lowering its loss, a planted mistake found where it
// was planted, and --set: values, sizes and the errors of bad ones.
#include <gtest/gtest.h>

#include <cmath>

#include "gradscope/error.h"
#include "gradscope/gradcheck.h"
#include "gradscope/program.h"
#include "gradscope/train.h"
#include "test_util.h"

namespace gs {
namespace {

using test::Built;

Built<double> run(const std::string& program, std::vector<std::string> sets = {}, ModelSpec spec = {}) {
  return test::build_program<double>(program, std::move(sets), std::move(spec));
}

// Values as the tape holds them.
std::vector<double> values(const Tape<double>& t, const std::string& name) {
  const int id = t.find_input(name);
  const Tensor<double>& x = id >= 0 ? t.value(id).data : t.model().param(name).data;
  return {x.begin(), x.end()};
}
std::vector<double> grad(const Tape<double>& t, const std::string& param) {
  const auto& g = t.model().param(param).grad;
  return {g.begin(), g.end()};
}
void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << what << "[" << i << "]";
}

// GELU, tanh form, and its slope, written out from the formula.
double gelu(double u) { return 0.5 * u * (1 + std::tanh(std::sqrt(2 / M_PI) * (u + 0.044715 * u * u * u))); }
double gelu_slope(double u) {
  const double s = std::sqrt(2 / M_PI) * (u + 0.044715 * u * u * u), th = std::tanh(s);
  return 0.5 * (1 + th) + 0.5 * u * (1 - th * th) * std::sqrt(2 / M_PI) * (1 + 3 * 0.044715 * u * u);
}

// [SECTION] the scalar models at their defaults, by hand

TEST(program_line, defaults_by_hand) {
  // a 0.5, b 0, x 2, t 3: y1 = 1, y2 = 1, y3 = −2, L = 4; ∂L/∂y3 = 2·y3 = −4, ∂L/∂b = −4, ∂L/∂a = −4·x = −8.
  auto b = run("line");
  EXPECT_EQ(b.tape->size(), 4);
  EXPECT_DOUBLE_EQ(b.tape->loss(), 4.0);
  EXPECT_DOUBLE_EQ(grad(*b.tape, "a")[0], -8.0);
  EXPECT_DOUBLE_EQ(grad(*b.tape, "b")[0], -4.0);
  // The tutorial's table: every op's incoming and outgoing residual.
  const auto& t = *b.tape;
  EXPECT_DOUBLE_EQ(t.incoming(t.find_op("y3"))[0], -4.0);  // r4 = 2·y3
  // x is data, but its outgoing residual is shown as the tutorial does: r1 = r2·a = −4·0.5.
  EXPECT_DOUBLE_EQ(t.op(t.find_op("y1")).din[0][0], -2.0);
  EXPECT_TRUE(t.op(t.find_op("y3")).din[1].empty());  // the target gets none
  EXPECT_EQ(t.op(0).name, "y1");
  EXPECT_EQ(t.op(3).name, "L");
}

TEST(program_line, points_from_set) {
  // Three points: P from the lists. L = mean((a·x + b − t)²).
  auto b = run("line", {"x=1,2,3", "t=2,1,0", "a=-1", "b=0.5"});
  const std::vector<double> x{1, 2, 3}, t{2, 1, 0};
  double L = 0, da = 0, db = 0;
  for (int i = 0; i < 3; ++i) {
    const double e = -1 * x[i] + 0.5 - t[i];
    L += e * e / 3;
    da += 2 * e * x[i] / 3;
    db += 2 * e / 3;
  }
  EXPECT_NEAR(b.tape->loss(), L, 1e-14);
  EXPECT_NEAR(grad(*b.tape, "a")[0], da, 1e-14);
  EXPECT_NEAR(grad(*b.tape, "b")[0], db, 1e-14);
  EXPECT_EQ(b.model->config().dim("P"), 3);
  // One value fills every point.
  auto c = run("line", {"x=1,2,3", "t=5"});
  EXPECT_EQ(values(*c.tape, "t"), (std::vector<double>{5, 5, 5}));
}

TEST(program_two_layers, defaults_by_hand) {
  // x 1, a1 2, b1 0, a2 0.5, b2 0, t 2: y2 = 2, y4 = 1, y5 = −1, L = 1.
  // r5 = 2·y5 = −2: ∂L/∂b2 = −2, ∂L/∂a2 = −2·y2 = −4; r2 = −2·a2 = −1: ∂L/∂b1 = −1, ∂L/∂a1 = −1·x = −1.
  auto b = run("two_layers");
  EXPECT_DOUBLE_EQ(b.tape->loss(), 1.0);
  EXPECT_DOUBLE_EQ(grad(*b.tape, "b2")[0], -2.0);
  EXPECT_DOUBLE_EQ(grad(*b.tape, "a2")[0], -4.0);
  EXPECT_DOUBLE_EQ(grad(*b.tape, "b1")[0], -1.0);
  EXPECT_DOUBLE_EQ(grad(*b.tape, "a1")[0], -1.0);
}

TEST(program_activation, defaults_by_hand) {
  // x 1, a1 1, b1 0, a2 1, b2 0, t 2: u = 1, g = GELU(1), y5 = g − 2, L = y5².
  auto b = run("activation");
  const double g = gelu(1.0), y5 = g - 2, r = 2 * y5;
  EXPECT_NEAR(b.tape->loss(), y5 * y5, 1e-15);
  EXPECT_NEAR(grad(*b.tape, "b2")[0], r, 1e-15);
  EXPECT_NEAR(grad(*b.tape, "a2")[0], r * g, 1e-15);
  EXPECT_NEAR(grad(*b.tape, "b1")[0], r * 1 * gelu_slope(1.0), 1e-15);
  EXPECT_NEAR(grad(*b.tape, "a1")[0], r * 1 * gelu_slope(1.0) * 1, 1e-15);
}

TEST(program_branch, defaults_by_hand) {
  // y2 = 2 feeds y3 = a2·y2 and the skip y5 = y4 + y2: y5 = 3, y6 = 1, L = 1, r = 2.
  // ∂L/∂y2 = r·a2 (through layer 2) + r (the skip) = 1 + 2 = 3: the two shares add.
  auto b = run("branch");
  EXPECT_DOUBLE_EQ(b.tape->loss(), 1.0);
  EXPECT_DOUBLE_EQ(grad(*b.tape, "b2")[0], 2.0);
  EXPECT_DOUBLE_EQ(grad(*b.tape, "a2")[0], 4.0);
  EXPECT_DOUBLE_EQ(grad(*b.tape, "b1")[0], 3.0);
  EXPECT_DOUBLE_EQ(grad(*b.tape, "a1")[0], 3.0);
  const auto& t = *b.tape;
  const auto& y2 = t.value(t.op(t.find_op("y2")).out);
  ASSERT_EQ(y2.uses.size(), 2u);
  EXPECT_DOUBLE_EQ(y2.grad[0], 3.0);
  EXPECT_DOUBLE_EQ(t.op(y2.uses[0].op).din[y2.uses[0].slot][0], 1.0);  // layer 2's share
  EXPECT_DOUBLE_EQ(t.op(y2.uses[1].op).din[y2.uses[1].slot][0], 2.0);  // the skip's share
}

// [SECTION] the matrix models, against loops written from their formulas

TEST(program_matrix, formulas) {
  for (auto sets : {std::vector<std::string>{}, std::vector<std::string>{"n=2", "m=2", "p=3", "b=1,-1,0.5"}}) {
    auto bt = run("matrix", sets);
    const auto& t = *bt.tape;
    const int64_t n = t.model().config().dim("n"), m = t.model().config().dim("m"), p = t.model().config().dim("p");
    const auto X = values(t, "X"), W = values(t, "W"), b = values(t, "b"), Y0 = values(t, "target");
    std::vector<double> D(n * p), dW(m * p, 0), db(p, 0);
    double L = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < p; ++j) {
        double y = b[j];
        for (int64_t k = 0; k < m; ++k) y += X[i * m + k] * W[k * p + j];
        D[i * p + j] = y - Y0[i * p + j];
        L += D[i * p + j] * D[i * p + j] / double(n * p);
      }
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < p; ++j) {
        const double r = 2 * D[i * p + j] / double(n * p);
        db[j] += r;
        for (int64_t k = 0; k < m; ++k) dW[k * p + j] += X[i * m + k] * r;  // Xᵀ·∂L/∂Y
      }
    EXPECT_NEAR(t.loss(), L, 1e-13);
    expect_near(grad(t, "W"), dW, 1e-13, "grad.W");
    expect_near(grad(t, "b"), db, 1e-13, "grad.b");
    EXPECT_EQ(t.model().param("W").grad.shape, t.model().param("W").data.shape);  // a gradient has its tensor's shape
  }
}

TEST(program_softmax_ce, formulas) {
  for (auto sets : {std::vector<std::string>{}, std::vector<std::string>{"n=3", "K=4", "y=0,3,1"}}) {
    auto bt = run("softmax_ce", sets);
    const auto& t = *bt.tape;
    const int64_t n = t.model().config().dim("n"), m = t.model().config().dim("m"), K = t.model().config().dim("K");
    const auto x = values(t, "x"), W = values(t, "W"), b = values(t, "b"), y = values(t, "y");
    std::vector<double> dW(m * K, 0), db(K, 0);
    double L = 0;
    for (int64_t i = 0; i < n; ++i) {
      std::vector<double> z(K), P(K);
      double mx = -1e300, s = 0;
      for (int64_t c = 0; c < K; ++c) {
        z[c] = b[c];
        for (int64_t k = 0; k < m; ++k) z[c] += x[i * m + k] * W[k * K + c];
        mx = std::max(mx, z[c]);
      }
      for (int64_t c = 0; c < K; ++c) s += std::exp(z[c] - mx);
      for (int64_t c = 0; c < K; ++c) P[c] = std::exp(z[c] - mx) / s;
      const int64_t yi = static_cast<int64_t>(y[i]);
      L -= std::log(P[yi]) / double(n);
      for (int64_t c = 0; c < K; ++c) {
        const double r = (P[c] - (c == yi ? 1 : 0)) / double(n);  // P − onehot(y), over n rows
        db[c] += r;
        for (int64_t k = 0; k < m; ++k) dW[k * K + c] += x[i * m + k] * r;
      }
    }
    EXPECT_NEAR(t.loss(), L, 1e-13);
    expect_near(grad(t, "W"), dW, 1e-13, "grad.W");
    expect_near(grad(t, "b"), db, 1e-13, "grad.b");
  }
}

TEST(program_layernorm, formulas) {
  auto bt = run("layernorm", {"n=3", "C=5"});
  const auto& t = *bt.tape;
  const int64_t n = 3, C = 5;
  const auto x = values(t, "x"), g = values(t, "ln.weight"), be = values(t, "ln.bias"), Y0 = values(t, "target");
  std::vector<double> dg(C, 0), db(C, 0);
  double L = 0;
  for (int64_t i = 0; i < n; ++i) {
    double mu = 0, var = 0;
    for (int64_t c = 0; c < C; ++c) mu += x[i * C + c] / C;
    for (int64_t c = 0; c < C; ++c) var += (x[i * C + c] - mu) * (x[i * C + c] - mu) / C;
    for (int64_t c = 0; c < C; ++c) {
      const double xh = (x[i * C + c] - mu) / std::sqrt(var + 1e-5);
      const double d = g[c] * xh + be[c] - Y0[i * C + c];
      L += d * d / double(n * C);
      const double r = 2 * d / double(n * C);
      dg[c] += r * xh;
      db[c] += r;
    }
  }
  EXPECT_NEAR(t.loss(), L, 1e-13);
  expect_near(grad(t, "ln.weight"), dg, 1e-13, "grad.ln.weight");
  expect_near(grad(t, "ln.bias"), db, 1e-13, "grad.ln.bias");
  // Each row of ∂L/∂x sums to 0: shifting a row by a constant does not change its normalised values.
  const auto& dx = t.op(t.find_op("y")).din[0];
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t c = 0; c < C; ++c) s += dx[i * C + c];
    EXPECT_NEAR(s, 0.0, 1e-15);
  }
}

TEST(program_attention, formulas) {
  auto bt = run("attention");
  const auto& t = *bt.tape;
  const int64_t T = 3, C = 2, d = 2;
  const auto X = values(t, "X"), Wq = values(t, "Wq"), Wk = values(t, "Wk"), Wv = values(t, "Wv"), Y0 = values(t, "target");
  auto proj = [&](const std::vector<double>& W) {
    std::vector<double> o(T * d, 0);
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = 0; j < d; ++j)
        for (int64_t c = 0; c < C; ++c) o[i * d + j] += X[i * C + c] * W[c * d + j];
    return o;
  };
  const auto q = proj(Wq), k = proj(Wk), v = proj(Wv);
  std::vector<double> P(T * T, 0), O(T * d, 0);
  for (int64_t i = 0; i < T; ++i) {
    double s = 0;
    for (int64_t j = 0; j <= i; ++j) {  // key j ≤ query i
      double dot = 0;
      for (int64_t c = 0; c < d; ++c) dot += q[i * d + c] * k[j * d + c];
      P[i * T + j] = std::exp(dot / std::sqrt(double(d)));
      s += P[i * T + j];
    }
    for (int64_t j = 0; j <= i; ++j) P[i * T + j] /= s;
    for (int64_t j = 0; j <= i; ++j)
      for (int64_t c = 0; c < d; ++c) O[i * d + c] += P[i * T + j] * v[j * d + c];
  }
  double L = 0;
  for (int64_t i = 0; i < T * d; ++i) L += (O[i] - Y0[i]) * (O[i] - Y0[i]) / double(T * d);
  EXPECT_NEAR(t.loss(), L, 1e-13);
  // ∂L/∂Wv = Xᵀ·(Pᵀ·∂L/∂O), by hand.
  std::vector<double> dO(T * d), dv(T * d, 0), dWv(C * d, 0);
  for (int64_t i = 0; i < T * d; ++i) dO[i] = 2 * (O[i] - Y0[i]) / double(T * d);
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = 0; j <= i; ++j)
      for (int64_t c = 0; c < d; ++c) dv[j * d + c] += P[i * T + j] * dO[i * d + c];
  for (int64_t c = 0; c < C; ++c)
    for (int64_t j = 0; j < d; ++j)
      for (int64_t i = 0; i < T; ++i) dWv[c * d + j] += X[i * C + c] * dv[i * d + j];
  expect_near(grad(t, "Wv"), dWv, 1e-13, "grad.Wv");
  // The first query sees only itself: P[0][0] = 1.
  EXPECT_NEAR(t.value(t.op(t.find_op("P")).out).data[0], 1.0, 1e-15);
}

TEST(program_lora_linear, formulas) {
  // B = 0 at the start: the adapted layer is the frozen one, dA = (α/r)·Xᵀ·(∂L/∂Y2·Bᵀ) = 0.
  auto b0 = run("lora_linear");
  const auto& t0 = *b0.tape;
  for (double g : grad(t0, "A")) EXPECT_EQ(g, 0.0);
  EXPECT_TRUE(t0.model().param("W").grad.empty());  // frozen: no gradient computed
  EXPECT_TRUE(t0.model().param("b").grad.empty());
  // With B set, r 2, α 3: every formula by hand.
  auto bt = run("lora_linear", {"B=0.5,-1,0.25,2,1,0,-0.5,0.75"}, [] {
    ModelSpec s;
    s.lora_rank = 2;
    s.lora_alpha = 3;
    return s;
  }());
  const auto& t = *bt.tape;
  const int64_t n = 2, m = 4, p = 4, r = 2;
  const double sc = 3.0 / 2.0;
  const auto X = values(t, "X"), W = values(t, "W"), b = values(t, "b"), A = values(t, "A"), B = values(t, "B"),
             Y0 = values(t, "target");
  std::vector<double> U(n * r, 0), D(n * p, 0);
  double L = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < r; ++k)
      for (int64_t c = 0; c < m; ++c) U[i * r + k] += X[i * m + c] * A[c * r + k];
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < p; ++j) {
      double y = b[j];
      for (int64_t c = 0; c < m; ++c) y += X[i * m + c] * W[c * p + j];
      for (int64_t k = 0; k < r; ++k) y += sc * U[i * r + k] * B[k * p + j];
      D[i * p + j] = y - Y0[i * p + j];
      L += D[i * p + j] * D[i * p + j] / double(n * p);
    }
  std::vector<double> dB(r * p, 0), dU(n * r, 0), dA(m * r, 0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < p; ++j) {
      const double g = 2 * D[i * p + j] / double(n * p);
      for (int64_t k = 0; k < r; ++k) {
        dB[k * p + j] += sc * U[i * r + k] * g;
        dU[i * r + k] += sc * g * B[k * p + j];
      }
    }
  for (int64_t c = 0; c < m; ++c)
    for (int64_t k = 0; k < r; ++k)
      for (int64_t i = 0; i < n; ++i) dA[c * r + k] += X[i * m + c] * dU[i * r + k];
  EXPECT_NEAR(t.loss(), L, 1e-13);
  expect_near(grad(t, "B"), dB, 1e-13, "grad.B");
  expect_near(grad(t, "A"), dA, 1e-13, "grad.A");
}

// [SECTION] every program: the full check, training, a planted mistake

const char* kLessons[] = {"line", "two_layers", "activation", "branch", "matrix",
                          "softmax_ce", "layernorm", "attention", "lora_linear"};

TEST(programs, full_finite_difference_check_in_double) {
  for (const char* p : kLessons) {
    auto b = run(p, std::string(p) == "lora_linear" ? std::vector<std::string>{"B=0.3"} : std::vector<std::string>{});
    CheckOptions opt;
    opt.max_entries = 0;
    const CheckReport r = check_all(*b.tape, opt, true);
    EXPECT_TRUE(r.pass) << p;
    int checked = 0;
    for (const auto& oc : r.ops) {
      checked += oc.checked > 0;
      EXPECT_LT(oc.max_abs_err, 1e-8) << p << " " << oc.name;
    }
    EXPECT_GT(checked, 0) << p;
    for (const auto& tc : r.params) EXPECT_GT(tc.checked, 0) << p << " " << tc.label;
  }
}

TEST(programs, training_lowers_the_loss) {
  for (const char* p : kLessons)
    for (const char* kind : {"sgd", "adamw"}) {
      auto b = run(p);
      const double before = b.tape->loss();
      OptimizerOptions opt;
      opt.kind = kind;
      opt.lr = std::string(kind) == "sgd" ? 0.02 : 0.01;
      for (int step = 1; step <= 20; ++step) {
        b.tape->forward();
        b.tape->backward();
        optimizer_step(*b.model, opt, step);
      }
      b.tape->forward();
      EXPECT_LT(b.tape->loss(), before) << p << " " << kind;
    }
}

TEST(programs, frozen_parameters_never_move) {
  auto b = run("lora_linear");
  const auto W = values(*b.tape, "W");
  OptimizerOptions opt;
  for (int step = 1; step <= 5; ++step) {
    b.tape->forward();
    b.tape->backward();
    optimizer_step(*b.model, opt, step);
  }
  EXPECT_EQ(values(*b.tape, "W"), W);
}

// Walking back from the loss, the first op whose per-op check fails.
int first_failure(const CheckReport& r) {
  int k = -1;
  for (const auto& oc : r.ops)
    if (oc.checked > 0 && !oc.pass) k = std::max(k, oc.op);
  return k;
}

TEST(programs, planted_mistake_is_found_where_planted) {
  struct Case {
    const char* program;
    const char* op;
    Mistake m;
  };
  const Case cases[] = {
      {"line", "y3", Mistake::flipped_sign},          {"line", "L", Mistake::wrong_derivative},
      {"two_layers", "y3", Mistake::wrong_derivative}, {"activation", "g", Mistake::wrong_derivative},
      {"branch", "y3", Mistake::forgotten_accumulation}, {"matrix", "L", Mistake::flipped_sign},
      {"softmax_ce", "logp", Mistake::dropped_term},  {"layernorm", "y", Mistake::dropped_term},
      {"attention", "P", Mistake::dropped_term},      {"attention", "S", Mistake::missing_transpose},
      {"attention", "scale", Mistake::forgotten_scale}, {"lora_linear", "Y2", Mistake::forgotten_scale},
  };
  for (const Case& c : cases) {
    std::vector<std::string> sets;
    ModelSpec spec;
    if (std::string(c.program) == "lora_linear") {
      sets = {"B=0.3,-0.2,0.5,0.1"};
      spec.lora_alpha = 2;  // α/r = 2: forgetting it shows
    }
    auto b = run(c.program, sets, spec);
    const int k = b.tape->find_op(c.op);
    ASSERT_GE(k, 0) << c.program << " " << c.op;
    ASSERT_TRUE(b.tape->supports(k, c.m)) << c.program << " " << c.op << " " << info(c.m).id;
    b.tape->set_mistake(k, c.m);
    b.tape->forward();
    b.tape->backward();
    CheckOptions opt;
    opt.max_entries = 0;
    const CheckReport r = check_all(*b.tape, opt, false);
    EXPECT_FALSE(r.pass) << c.program << " " << c.op;
    EXPECT_EQ(first_failure(r), k) << c.program << " " << c.op << " " << info(c.m).id;
    if (c.m == Mistake::forgotten_accumulation) {
      // This op's own share is right and the value's sum wrong: the Σ-of-shares check names this
      // op as the one that overwrote the sum, and the op that produced the value fails too (its
      // incoming residual lost a share).
      const int producer = b.tape->value(b.tape->op(k).in[0]).producer;
      for (const OpCheck& oc : r.ops) {
        if (oc.op == k) {
          for (const TensorCheck& tc : oc.tensors) EXPECT_TRUE(tc.pass) << c.program << " " << tc.label;
          bool named = false;
          for (const SumCheck& sc : oc.sums) named = named || (!sc.pass && sc.culprit == k);
          EXPECT_TRUE(named) << c.program << " " << c.op;
        }
        if (oc.op == producer) EXPECT_FALSE(oc.pass) << c.program << " " << oc.name;
      }
    }
  }
}

// [SECTION] --set and the flags

TEST(programs, dump_names_are_the_contract) {
  auto b = run("attention");
  std::vector<std::string> ops;
  for (const auto& op : b.tape->ops()) ops.push_back(op.name);
  EXPECT_EQ(ops, (std::vector<std::string>{"q", "k", "v", "S", "scale", "mask", "P", "O", "D", "L"}));
  auto m = run("lora_linear");
  ops.clear();
  for (const auto& op : m.tape->ops()) ops.push_back(op.name);
  EXPECT_EQ(ops, (std::vector<std::string>{"Y", "U", "Y2", "D", "L"}));
  auto s = run("softmax_ce");
  EXPECT_GE(s.tape->find_input("y"), 0);
  EXPECT_TRUE(s.tape->value(s.tape->find_input("y")).integer);
}

void expect_error(const std::string& program, std::vector<std::string> sets, const std::string& part,
                  ModelSpec spec = {}) {
  spec.program = program;
  spec.sets = std::move(sets);
  try {
    resolve(spec);
    ADD_FAILURE() << "no error for " << program << "; expected one mentioning '" << part << "'";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(part), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST(programs, bad_sets_name_the_problem) {
  expect_error("line", {"q=1"}, "no parameter, input or size 'q'");
  expect_error("line", {"a=1,2"}, "--set a: 2 values");
  expect_error("line", {"a=one"}, "'one'");
  expect_error("line", {"a=inf"}, "finite");
  expect_error("line", {"a"}, "NAME=V");
  expect_error("line", {"=3"}, "no name");
  expect_error("line", {"x=1,2", "t=1,2,3"}, "same number");
  expect_error("line", {"a=1", "a=2"}, "given twice");
  expect_error("softmax_ce", {"y=3"}, "class id");
  expect_error("softmax_ce", {"y=0.5"}, "class id");
  expect_error("matrix", {"n=0"}, "size n");
  expect_error("matrix", {"n=2.5"}, "size n");
  expect_error("matrix", {"X=1,2,3"}, "12 entries");
  expect_error("nosuch", {}, "unknown program 'nosuch'");
  ModelSpec with_text;
  with_text.text = "hello";
  expect_error("line", {}, "--text is a GPT-2 flag", with_text);
  ModelSpec with_layers;
  with_layers.layers = 3;
  expect_error("matrix", {}, "--layers", with_layers);
  ModelSpec rank;
  rank.lora_rank = 2;
  expect_error("line", {}, "--lora-rank", rank);
  expect_error("gpt2", {"a=1"}, "--set is for the lesson programs");
}

TEST(programs, lesson_programs_run_in_double_unless_asked) {
  EXPECT_EQ(resolve([] {
              ModelSpec s;
              s.program = "matrix";
              return s;
            }()).config.dtype,
            DType::f64);
  ModelSpec f;
  f.program = "matrix";
  f.dtype = "f32";
  EXPECT_EQ(resolve(f).config.dtype, DType::f32);
}

TEST(programs, seeded_values_follow_the_seed) {
  auto a = run("matrix"), b = run("matrix");
  EXPECT_EQ(values(*a.tape, "W"), values(*b.tape, "W"));
  ModelSpec s;
  s.seed = 7;
  auto c = run("matrix", {}, s);
  EXPECT_NE(values(*a.tape, "W"), values(*c.tape, "W"));
}

TEST(programs, only_gpt2_has_a_closed_form) {
  for (const char* p : kLessons) EXPECT_EQ(run(p).tape->closed_form_bwd(), -1) << p;
  // lora_linear: full fine-tuning would need W's and b's gradients, and the frozen layer's ∂L/∂X.
  auto l = run("lora_linear");
  EXPECT_GT(l.tape->full_finetune_bwd(), l.tape->total_flops().bwd());
}

}  // namespace
}  // namespace gs
