// A model of one's own (program `custom`, docs/custom.md): CS231n's circuit and sigmoid neuron
// against the numbers worked by hand in the issue and the course notes, the full
// finite-difference check in double, planted mistakes found at their op, the staged sigmoid
// equal to the one-op sigmoid (what lesson 02c says), lesson files, and every kind of parser
// error with its line and column.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "gradscope/error.h"
#include "gradscope/gradcheck.h"
#include "gradscope/lesson.h"
#include "gradscope/model_text.h"
#include "gradscope/program.h"
#include "gradscope/train.h"
#include "test_util.h"

namespace gs {
namespace {

test::Built<double> build(const std::string& model, std::vector<std::string> sets, const std::string& inputs = "") {
  ModelSpec spec;
  spec.model_text = model;
  if (!inputs.empty()) spec.inputs = inputs;
  return test::build_program<double>("custom", std::move(sets), spec);
}

// A leaf's gradient: a parameter's, or an input's (the value's summed gradient).
std::vector<double> grad(const Tape<double>& t, const std::string& leaf) {
  const int id = t.find_input(leaf);
  const Tensor<double>& g = id >= 0 ? t.value(id).grad : t.model().param(leaf).grad;
  return {g.begin(), g.end()};
}

// [SECTION] worked by hand

TEST(custom, cs231n_circuit_by_hand) {
  // q = x + y = 3, f = q·z = −12; ∂f/∂z = q = 3, ∂f/∂q = z = −4 reaches x and y unchanged.
  auto b = build("q = x + y\nf = q * z", {"x=-2", "y=5", "z=-4"});
  ASSERT_EQ(b.tape->size(), 2);
  EXPECT_EQ(b.tape->op(0).name, "q");
  EXPECT_EQ(b.tape->op(1).name, "f");
  EXPECT_EQ(b.tape->op(0).type, OpType::add);
  EXPECT_EQ(b.tape->op(1).type, OpType::mul);
  EXPECT_DOUBLE_EQ(b.tape->loss(), -12.0);
  EXPECT_DOUBLE_EQ(grad(*b.tape, "x")[0], -4.0);
  EXPECT_DOUBLE_EQ(grad(*b.tape, "y")[0], -4.0);
  EXPECT_DOUBLE_EQ(grad(*b.tape, "z")[0], 3.0);
}

TEST(custom, cs231n_sigmoid_neuron_by_hand) {
  // w = [2, −3, −3], x = [−1, −2]: dot = 1, f = σ(1); ∂f/∂dot = σ(1)(1 − σ(1)).
  const double s = 1 / (1 + std::exp(-1.0)), d = s * (1 - s);
  for (const char* model : {"f = sigmoid(w0*x0 + w1*x1 + w2)", "f = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))"}) {
    auto b = build(model, {"w0=2", "w1=-3", "w2=-3", "x0=-1", "x1=-2"}, "x0,x1");
    EXPECT_NEAR(b.tape->loss(), s, 1e-15) << model;
    EXPECT_NEAR(b.tape->loss(), 0.73, 0.005) << model;  // the notes' rounded figures
    const double want_w[] = {-1 * d, -2 * d, d}, want_x[] = {2 * d, -3 * d};
    const double notes_w[] = {-0.20, -0.39, 0.20}, notes_x[] = {0.39, -0.59};
    for (int i = 0; i < 3; ++i) {
      const double g = grad(*b.tape, "w" + std::to_string(i))[0];
      EXPECT_NEAR(g, want_w[i], 1e-15) << model << " w" << i;
      EXPECT_NEAR(g, notes_w[i], 0.005) << model << " w" << i;
    }
    for (int i = 0; i < 2; ++i) {
      const double g = grad(*b.tape, "x" + std::to_string(i))[0];
      EXPECT_NEAR(g, want_x[i], 1e-15) << model << " x" << i;
      EXPECT_NEAR(g, notes_x[i], 0.005) << model << " x" << i;
    }
    // Inputs are data: no parameter of that name, never trained.
    EXPECT_LT(b.model->find("x0"), 0);
    EXPECT_GE(b.tape->find_input("x0"), 0);
  }
}

TEST(custom, staged_and_one_op_sigmoid_agree) {
  // Lesson 02c's claim: four small ops or one sigmoid, the same gradients (to round-off).
  const std::vector<std::string> sets = {"w0=2", "w1=-3", "w2=-3", "x0=-1", "x1=-2"};
  auto one = build("dot = w0*x0 + w1*x1 + w2\nf = sigmoid(dot)", sets, "x0,x1");
  auto staged = build("dot = w0*x0 + w1*x1 + w2\nf = 1 / (1 + exp(-dot))", sets, "x0,x1");
  EXPECT_EQ(one.tape->size() + 3, staged.tape->size());
  EXPECT_NEAR(one.tape->loss(), staged.tape->loss(), 1e-15);
  for (const char* leaf : {"w0", "w1", "w2", "x0", "x1"})
    EXPECT_NEAR(grad(*one.tape, leaf)[0], grad(*staged.tape, leaf)[0], 1e-15) << leaf;
}

TEST(custom, broadcasting_sums_the_gradient_of_the_smaller_operand) {
  // Y = X + b with X [2,3] and b [3]: ∂L/∂b_j = Σ_rows ∂L/∂Y; with L = sum(Y ⊙ Y), ∂L/∂Y = 2Y.
  auto b = build("Y = X + b\nL = sum(Y * Y)", {"X=1,2,3;4,5,6", "b=0.5,-1,2"}, "X");
  const std::vector<double> g = grad(*b.tape, "b");
  ASSERT_EQ(g.size(), 3u);
  const double X[2][3] = {{1, 2, 3}, {4, 5, 6}}, bb[3] = {0.5, -1, 2};
  for (int j = 0; j < 3; ++j) EXPECT_DOUBLE_EQ(g[j], 2 * (X[0][j] + bb[j]) + 2 * (X[1][j] + bb[j])) << j;
  // A scalar used for every entry sums over all of them: L = sum(c * X) gives ∂L/∂c = Σ X = 21.
  auto c = build("L = sum(c * X)", {"X=1,2,3;4,5,6", "c=2"}, "X");
  EXPECT_DOUBLE_EQ(grad(*c.tape, "c")[0], 21.0);
  EXPECT_EQ(grad(*c.tape, "X"), std::vector<double>(6, 2.0));
}

TEST(custom, a_value_used_twice_adds_its_shares) {
  // f = x·x + x: ∂f/∂x = 2x + 1 = 7 at x = 3, from three shares (two in one op).
  auto b = build("f = x * x + x", {"x=3"});
  EXPECT_DOUBLE_EQ(b.tape->loss(), 12.0);
  EXPECT_DOUBLE_EQ(grad(*b.tape, "x")[0], 7.0);
}

// [SECTION] the checks, training, mistakes

const char* kModels[][3] = {
    {"q = x + y\nf = q * z", "x=-2;y=5;z=-4", ""},
    {"f = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))", "w0=2;w1=-3;w2=-3;x0=-1;x1=-2", "x0,x1"},
    {"pre = w * x + b\nh = relu(pre)\nL = mean((h - t) ** 2)", "w=1;b=-0.5;x=-2,1,3;t=1,1,3", "x,t"},
    {"h = tanh(X @ W1 + b1)\ny = h @ W2 + b2\nL = mean((y - t) ** 2)",
     "X=-1|-0.5|0.5|1;t=1|0.25|0.25|1;W1=1.5,-1,0.5|;b1=0.5,0,-0.5;W2=0.5|0.8|-0.5;b2=0", "X,t"},
    {"p = softmax(z)\nl = log_softmax(z * 2)\nL = sum(p * l) + mean(abs(z - m)) + max(z, m) @ v", "z=0.3,-1.2,2;m=0.5;v=1,-2,0.5", ""},
    {"g = gelu(u) - sigmoid(-u) ** 3 / (2 + exp(u))\nL = sum(log(g * g + 1))", "u=0.7,-0.4,1.3", ""},
};

// "a=1;b=2,3;W=1,2|3,4" → --set items ('|' separates matrix rows, as ';' on the command line).
std::vector<std::string> sets_of(const std::string& s) {
  std::vector<std::string> out;
  for (size_t a = 0, b; a <= s.size(); a = b + 1) {
    b = s.find(';', a);
    if (b == std::string::npos) b = s.size();
    std::string item = s.substr(a, b - a);
    for (char& ch : item)
      if (ch == '|') ch = ';';
    out.push_back(item);
  }
  return out;
}

TEST(custom, full_finite_difference_check_in_double) {
  for (const auto& m : kModels) {
    auto b = build(m[0], sets_of(m[1]), m[2]);
    CheckOptions opt;
    opt.max_entries = 0;
    const CheckReport r = check_all(*b.tape, opt, true);
    EXPECT_TRUE(r.pass) << m[0];
    int checked = 0;
    for (const auto& oc : r.ops) {
      checked += oc.checked > 0;
      EXPECT_LT(oc.max_abs_err, 1e-7) << m[0] << " " << oc.name;
    }
    EXPECT_EQ(checked, b.tape->size()) << m[0];
    for (const auto& tc : r.params) EXPECT_GT(tc.checked, 0) << m[0] << " " << tc.label;
  }
}

TEST(custom, training_moves_parameters_never_inputs) {
  auto b = build(kModels[3][0], sets_of(kModels[3][1]), kModels[3][2]);
  const double before = b.tape->loss();
  const Tensor<double>& X = b.tape->value(b.tape->find_input("X")).data;
  const std::vector<double> x0(X.begin(), X.end());
  OptimizerOptions opt;
  opt.lr = 0.1;
  for (int step = 1; step <= 20; ++step) {
    b.tape->forward();
    b.tape->backward();
    optimizer_step(*b.model, opt, step);
  }
  b.tape->forward();
  EXPECT_LT(b.tape->loss(), before / 4);
  EXPECT_EQ(std::vector<double>(X.begin(), X.end()), x0);
}

TEST(custom, planted_mistake_is_found_at_its_op) {
  struct Case {
    int model;
    const char* op;
    Mistake m;
  };
  const Case cases[] = {
      {0, "f", Mistake::wrong_derivative}, {0, "q", Mistake::flipped_sign},  // q's operands are both parameters
      {1, "f", Mistake::wrong_derivative}, {1, "f.2", Mistake::wrong_derivative},
      {2, "h", Mistake::wrong_derivative}, {2, "L.2", Mistake::wrong_derivative},
      {2, "L", Mistake::wrong_derivative}, {3, "h", Mistake::wrong_derivative},
      {3, "y.1", Mistake::flipped_sign},   {4, "L.4", Mistake::wrong_derivative},
      {5, "g.3", Mistake::wrong_derivative},
  };
  for (const Case& c : cases) {
    const auto& m = kModels[c.model];
    auto b = build(m[0], sets_of(m[1]), m[2]);
    const int k = b.tape->find_op(c.op);
    ASSERT_GE(k, 0) << m[0] << " " << c.op;
    ASSERT_TRUE(b.tape->supports(k, c.m)) << c.op << " " << info(c.m).id;
    b.tape->set_mistake(k, c.m);
    b.tape->forward();
    b.tape->backward();
    CheckOptions opt;
    opt.max_entries = 0;
    const CheckReport r = check_all(*b.tape, opt, false);
    EXPECT_FALSE(r.pass) << c.op;
    EXPECT_EQ(first_failure_from_loss(r), k) << m[0] << ": " << c.op << " " << info(c.m).id;
  }
}

TEST(custom, forgotten_accumulation_where_a_leaf_is_used_twice) {
  // x feeds a and b; b runs later, so in the backward it adds its share first and a's backward
  // must add to it. Overwriting loses b's share of ∂L/∂x.
  auto b = build("a = x * 3\nc = x * x\nL = a + c", {"x=2"});
  const int k = b.tape->find_op("a");
  ASSERT_TRUE(b.tape->supports(k, Mistake::forgotten_accumulation));
  b.tape->set_mistake(k, Mistake::forgotten_accumulation);
  b.tape->forward();
  b.tape->backward();
  EXPECT_DOUBLE_EQ(grad(*b.tape, "x")[0], 3.0);  // 3 + 2x = 7 when right
}

// [SECTION] names, shapes and settings

TEST(custom, ops_are_named_by_their_line) {
  auto b = build("f = (x + y) * z\nL = f ** 2 - 1", {"x=1", "y=2", "z=3"});
  std::vector<std::string> names;
  for (const auto& op : b.tape->ops()) names.push_back(op.name);
  EXPECT_EQ(names, (std::vector<std::string>{"f.1", "f", "L.1", "L"}));
  EXPECT_DOUBLE_EQ(b.tape->loss(), 80.0);
}

TEST(custom, matrices_from_rows_and_matrix_products) {
  // [1,2]@[2,2] → [2]; a vector on the right is a column.
  auto b = build("v = x @ W\nL = sum(v) + W @ x @ x", {"x=1,2", "W=1,2;3,4"});
  EXPECT_EQ(b.model->param("W").data.shape, (Shape{2, 2}));
  // x@W = [7, 10]; W@x = [5, 11]; (W@x)@x = 5 + 22 = 27.
  EXPECT_DOUBLE_EQ(b.tape->loss(), 17.0 + 27.0);
  // A column [2,1] times a row [1,3]: the outer product, Σ = (2 + 3)·(1 + 2 + 3).
  auto one_row = build("L = sum(A @ W)", {"A=2;3", "W=1,2,3;"});
  EXPECT_EQ(one_row.model->param("A").data.shape, (Shape{2, 1}));
  EXPECT_EQ(one_row.model->param("W").data.shape, (Shape{1, 3}));
  EXPECT_DOUBLE_EQ(one_row.tape->loss(), 30.0);
}

TEST(custom, settings_are_refused_by_other_programs_and_checked) {
  ModelSpec s;
  s.program = "line";
  s.model_text = "f = x";
  try {
    resolve(s);
    FAIL() << "--model on line was taken";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--model applies to custom, not to line"), std::string::npos) << e.what();
  }
  ModelSpec c;
  c.program = "custom";
  EXPECT_THROW(resolve(c), Error);  // no model
  c.model_text = "f = x * 2";
  c.model_file = "/nonexistent";
  EXPECT_THROW(resolve(c), Error);  // both
  c.model_file.reset();
  c.sets = {"x=1"};
  c.inputs = "y";
  try {
    resolve(c);
    FAIL() << "an input that is no leaf was taken";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a leaf"), std::string::npos) << e.what();
  }
  ModelSpec l;
  l.program = "lora_linear";
  l.lora_alpha = std::nan("");
  EXPECT_THROW(resolve(l), Error);
  l.lora_alpha = 1;
  l.lora_rank = 0;
  EXPECT_THROW(resolve(l), Error);
}

TEST(custom, the_dump_config_records_the_model) {
  auto b = build("q = x + y\nf = q * z", {"x=-2", "y=5", "z=-4"}, "x");
  const std::string j = b.model->config().json();
  EXPECT_NE(j.find("\"program\":\"custom\""), std::string::npos) << j;
  EXPECT_NE(j.find("q = x + y\\nf = q * z"), std::string::npos) << j;
  EXPECT_NE(j.find("\"inputs\":[\"x\"]"), std::string::npos) << j;
}

// [SECTION] the parser's errors, one per kind, with line and column

struct Bad {
  const char* text;
  int line, col;
  const char* says;
};

TEST(custom, parser_errors_with_line_and_column) {
  const Bad cases[] = {
      {"f = foo(x)", 1, 5, "`foo` is not a function; the functions are relu"},
      {"q = x + y\nf = q(2)", 2, 5, "`q` is a value, not a function"},
      {"f = x +", 1, 8, "expected a value after `+`"},
      {"f = * x", 1, 5, "expected a value"},
      {"f = (x + y", 1, 5, "this `(` is never closed"},
      {"f = x + y)", 1, 10, "a `)` without its `(`"},
      {"f = x y", 1, 7, "a missing operator?"},
      {"f = x ** y", 1, 7, "the exponent of `**` must be a number"},
      {"f = x * 2\nf = x * 3", 2, 1, "`f` is assigned twice"},
      {"x = x + 1", 1, 5, "used in the line that assigns it"},
      {"q = h * 2\nh = x + 1", 2, 1, "is used on line 1 before this line assigns it"},
      {"y = x", 1, 1, "computes nothing"},
      {"", 1, 1, "the model is empty"},
      {"# only a comment\n\n", 1, 1, "the model is empty"},
      {"f = x\n", 1, 1, "computes nothing"},
      {"c = 2", 1, 1, "the model only names numbers"},
      {"f = x * 2\nc = 3", 2, 1, "is a number written in the text"},
      {"f x + 1", 1, 3, "expected `=` after `f`"},
      {"2 = x", 1, 1, "a line starts with the name it assigns"},
      {"f = x $ 2", 1, 7, "`$` has no meaning here"},
      {"f = [1, 2]", 1, 5, "values are not written in the model"},
      {"f = 2x", 1, 6, "a number is followed by a letter"},
      {"f = max(x)", 1, 5, "`max` takes two values"},
      {"f = exp(x, y)", 1, 5, "`exp` takes one value"},
      {"f = exp", 1, 5, "`exp` is a function: call it with parentheses"},
      {"exp = x * 2", 1, 1, "is the name of a function"},
      {"f = 1e999 * x", 1, 5, "is not a number"},
  };
  for (const Bad& b : cases) {
    try {
      parse_model_text(b.text);
      ADD_FAILURE() << "parsed: " << b.text;
    } catch (const ModelTextError& e) {
      EXPECT_EQ(e.line(), b.line) << b.text << " → " << e.what();
      EXPECT_EQ(e.col(), b.col) << b.text << " → " << e.what();
      EXPECT_NE(e.message().find(b.says), std::string::npos) << b.text << " → " << e.what();
    }
  }
}

TEST(custom, other_spellings_and_comments_parse) {
  // − (U+2212), · and ×, ^ for **, ';' between lines, comments.
  const ModelText m = parse_model_text("g = x \u2212 y   # a difference\nh = g \u00b7 z; k = h \u00d7 2 ^ 2\nf = -k");
  ASSERT_EQ(m.lines.size(), 4u);
  EXPECT_EQ(m.leaves, (std::vector<std::string>{"x", "y", "z"}));
  auto b = build("g = x \u2212 y\nh = g \u00b7 z; k = h \u00d7 2 ^ 2\nf = -k", {"x=5", "y=2", "z=3"});
  EXPECT_DOUBLE_EQ(b.tape->loss(), -36.0);
  // A column is counted in characters: the error after · is at column 9, not at its byte.
  try {
    parse_model_text("h = g \u00b7 $");
    FAIL();
  } catch (const ModelTextError& e) {
    EXPECT_EQ(e.col(), 9) << e.what();
  }
}

TEST(custom, shape_errors_name_both_shapes) {
  const struct {
    const char* model;
    std::vector<std::string> sets;
    const char* says;
    int line, col;
  } cases[] = {
      {"f = sum(a + b)", {"a=1,2", "b=1,2,3"}, "here a vector [2] and a vector [3]", 1, 11},
      {"f = sum(A @ B)", {"A=1,2;3,4", "B=1,2,3"}, "a matrix [2,2] @ a vector [3]", 1, 11},
      {"f = a * 2", {"a=1,2"}, "must be one number; `f` is a vector [2]", 1, 1},
      {"f = a * b", {"a=1"}, "the leaf `b` has no value", 1, 9},
      {"f = sum(A + v)", {"A=1,2;3,4", "v=1,2,3"}, "here a matrix [2,2] and a vector [3]", 1, 11},
      {"f = softmax(a)", {"a=1"}, "`softmax` works along each row", 1, 5},
  };
  for (const auto& c : cases) {
    ModelSpec s;
    s.program = "custom";
    s.model_text = c.model;
    s.sets = c.sets;
    try {
      resolve(s);
      ADD_FAILURE() << "resolved: " << c.model;
    } catch (const ModelTextError& e) {
      EXPECT_NE(e.message().find(c.says), std::string::npos) << e.what();
      EXPECT_EQ(e.line(), c.line) << e.what();
      EXPECT_EQ(e.col(), c.col) << e.what();
      EXPECT_EQ(std::string(e.what()).rfind("model:", 0), 0u) << e.what();
    }
  }
}

TEST(custom, limits_hold) {
  // Too long, too deep, too many lines: a clear error, never a crash.
  EXPECT_THROW(parse_model_text(std::string(ModelTextLimits::kMaxChars + 1, ' ')), ModelTextError);
  EXPECT_THROW(parse_model_text("f = " + std::string(2000, '(') + "x" + std::string(2000, ')')), ModelTextError);
  EXPECT_THROW(parse_model_text("f = " + std::string(3000, '-') + "x"), ModelTextError);
  std::string lines;
  for (int i = 0; i <= ModelTextLimits::kMaxLines; ++i) lines += "v" + std::to_string(i) + " = x * " + std::to_string(i) + "\n";
  EXPECT_THROW(parse_model_text(lines), ModelTextError);
  // An op whose output would be too large: a matrix product of two long vectors' outer shapes.
  ModelSpec s;
  s.program = "custom";
  s.model_text = "f = sum(A @ B)";
  std::string a = "A=", b = "B=";
  for (int i = 0; i < 300; ++i) a += std::string(i ? ";" : "") + "1";
  for (int i = 0; i < 300; ++i) b += std::string(i ? "," : "") + "1";
  s.sets = {a, b + ";"};
  EXPECT_THROW(resolve(s), ModelTextError);
}

// [SECTION] lesson files

TEST(custom, a_lesson_file_with_a_model_of_its_own) {
  test::Scratch dir;
  const std::string path = (dir.dir / "mine.toml").string();
  auto write = [&](const std::string& text) { std::ofstream(path) << text; };
  write(R"(title = "mine"
program = "custom"

[custom]
model = """
q = x + y
f = q * z
"""
inputs = ["x"]

[values]
x = -2
y = 5
z = -4

[[step]]
text = "go"
at = "backward q"
)");
  const Lesson l = load_lesson(path);
  auto b = test::build_program<double>("custom", l.spec.sets, l.spec);
  EXPECT_DOUBLE_EQ(b.tape->loss(), -12.0);
  EXPECT_DOUBLE_EQ(grad(*b.tape, "x")[0], -4.0);

  // An error in the model points into the file: `foo` is on file line 7, column 5.
  write("title = \"bad\"\nprogram = \"custom\"\n\n[custom]\nmodel = \"\"\"\nq = x + y\nf = foo(q)\n\"\"\"\n\n[values]\nx = 1\ny = 2\n\n[[step]]\ntext = \"go\"\n");
  try {
    load_lesson(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ":7:5: `foo` is not a function", 0), 0u) << e.what();
  }
  // On the model's first line, inside a one-line string: the column counts from the file's.
  write("title = \"bad\"\nprogram = \"custom\"\n[custom]\nmodel = \"f = x $ 2\"\n[values]\nx = 1\n[[step]]\ntext = \"go\"\n");
  try {
    load_lesson(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ":4:16:", 0), 0u) << e.what();
  }
  // A leaf without a value, an input that is no leaf, a value for no leaf, no [custom] at all.
  const struct {
    const char* text;
    const char* says;
  } bad[] = {
      {"title = \"b\"\nprogram = \"custom\"\n[custom]\nmodel = \"f = x * z\"\n[values]\nx = 1\n[[step]]\ntext = \"go\"\n",
       ":4:18: the leaf `z` has no value"},
      {"title = \"b\"\nprogram = \"custom\"\n[custom]\nmodel = \"f = x * 2\"\ninputs = [\"q\"]\n[values]\nx = 1\n[[step]]\ntext = \"go\"\n",
       ":5:10: 'q' is not a leaf"},
      {"title = \"b\"\nprogram = \"custom\"\n[custom]\nmodel = \"f = x * 2\"\n[values]\nx = 1\nw = 2\n[[step]]\ntext = \"go\"\n",
       ":7:1: program custom has no parameter, input or size 'w' (it has x)"},
      {"title = \"b\"\nprogram = \"custom\"\n[values]\nx = 1\n[[step]]\ntext = \"go\"\n", ":2:11: program \"custom\" needs its model"},
      {"title = \"b\"\nprogram = \"line\"\n[custom]\nmodel = \"f = x * 2\"\n[[step]]\ntext = \"go\"\n",
       "[custom] holds the model of program \"custom\""},
  };
  for (const auto& c : bad) {
    write(c.text);
    try {
      load_lesson(path);
      ADD_FAILURE() << "loaded: " << c.text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos) << e.what();
    }
  }
}

TEST(custom, every_shipped_custom_lesson_loads_and_checks) {
  int n = 0;
  for (const Lesson& l : load_lessons(default_lessons_dir())) {
    if (l.spec.program != "custom") continue;
    ++n;
    auto b = test::build_program<double>("custom", l.spec.sets, l.spec);
    CheckOptions opt;
    opt.max_entries = 0;
    EXPECT_TRUE(check_all(*b.tape, opt, true).pass) << l.id;
  }
  EXPECT_GE(n, 3);
}

}  // namespace
}  // namespace gs
