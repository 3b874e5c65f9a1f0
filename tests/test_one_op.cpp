// Every op type on a tape of that op alone (as ggml's test-backend-ops builds a graph of one op):
// random inputs fed through y = a·x (a = 1, trainable) so each operand needs its gradient, the op,
// and a loss L = mean(out²) (after a softmax for the causal mask, whose −∞ entries have no
// square). The op's backward is checked against central differences at every entry, and every
// mistake it supports must make that check fail. Its chain-rule explanation (gradscope/chain_rule.h)
// must add up to every entry of every gradient it sends back, and stop adding up under each mistake.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "gradscope/chain_rule.h"
#include "gradscope/gradcheck.h"
#include "gradscope/rng.h"
#include "gradscope/session.h"
#include "programs/program_base.h"

namespace gs {
namespace {

struct Case {
  OpType type;
  std::vector<Shape> in;           // operand shapes
  std::vector<int64_t> id_limit;   // per operand: > 0 for an id input (a raw leaf of ids below it)
  std::vector<Shape> par;
  Shape out;
  OpAttrs attrs = {};
  bool positive = false;           // inputs in [0.5, 2.5) rather than normal (log's, a divisor's)
  // The loss is mean((out + 1)²) rather than mean(out²): where a relu outputs 0, out² would send
  // back no residual, and a wrong slope there could not be seen.
  bool shift = false;
  // Plant only this mistake (none: every one the op supports); for a relu of one number, where a
  // wrong slope shows only below 0 and a flipped sign only above.
  Mistake only = Mistake::none;
  bool negative = false;           // inputs in (−2.5, −0.5]
};

// The program of one case: parameters p0 …, inputs x0 …, feeds f0 = a0·x0 …, the op, the loss.
class OneOp final : public prog::ProgramOf<OneOp> {
 public:
  explicit OneOp(Case c) : c_(std::move(c)) {}
  const char* name() const override { return "one_op"; }
  const char* description() const override { return "one op alone"; }
  std::vector<Slot> slots(const Config&) const override { return {}; }
  void validate(const Config&) const override {}
  double estimated_bytes(const Config&) const override { return 0; }

  template <class T>
  void declare_t(Model<T>& m) const {
    Rng rng(11);
    for (size_t j = 0; j < c_.par.size(); ++j) {
      Param<T>& p = m.add("p" + std::to_string(j), c_.par[j], true);
      for (auto& x : p.data) x = static_cast<T>(rng.normal(0.0, 0.7));
    }
    for (size_t i = 0; i < c_.in.size(); ++i)
      if (c_.id_limit[i] == 0) m.add("a" + std::to_string(i), {}, true).data[0] = T(1);
    if (c_.shift) m.add("shift", {}, true).data[0] = T(1);
  }
  template <class T>
  void record_t(Recorder<T>& r, const Config&) const {
    using Op = typename Recorder<T>::OpSpec;
    std::vector<int> in;
    for (size_t i = 0; i < c_.in.size(); ++i) {
      const int x = r.input("x" + std::to_string(i));
      if (c_.id_limit[i] > 0) {
        in.push_back(x);
        continue;
      }
      in.push_back(r.op(Op{.type = OpType::mul_param, .name = "f" + std::to_string(i), .in = {x},
                           .par = {r.param("a" + std::to_string(i))}, .out = c_.in[i]}));
    }
    std::vector<int> par;
    for (size_t j = 0; j < c_.par.size(); ++j) par.push_back(r.param("p" + std::to_string(j)));
    int y = r.op(Op{.type = c_.type, .name = "op", .in = in, .par = par, .out = c_.out, .attrs = c_.attrs});
    if (c_.out.empty()) return;  // the op is a loss itself
    if (c_.type == OpType::causal_mask) y = r.op(Op{.type = OpType::softmax, .name = "softmax", .in = {y}, .out = c_.out});
    if (c_.shift) y = r.op(Op{.type = OpType::add_param, .name = "shift", .in = {y}, .par = {r.param("shift")}, .out = c_.out});
    r.op(Op{.type = OpType::mean_square, .name = "L", .in = {y}, .out = {}});
  }
  Inputs inputs() const {
    Rng rng(5);
    Inputs out;
    for (size_t i = 0; i < c_.in.size(); ++i) {
      Input x;
      x.name = "x" + std::to_string(i);
      x.shape = c_.in[i];
      x.integer = c_.id_limit[i] > 0;
      x.id_limit = c_.id_limit[i];
      for (int64_t k = 0; k < numel(x.shape); ++k) {
        const double v = x.integer ? double(rng.below(static_cast<uint32_t>(x.id_limit))) : rng.normal(0.0, 1.0);
        const double away = 0.5 + std::fmod(std::fabs(v), 2.0);
        x.values.push_back(c_.positive ? away : c_.negative ? -away : v);
      }
      out.push_back(std::move(x));
    }
    return out;
  }

 private:
  Case c_;
};

struct Built {
  std::unique_ptr<OneOp> program;
  std::unique_ptr<Model<double>> model;
  std::unique_ptr<Tape<double>> tape;
  int op = -1;
};

Built build(const Case& c) {
  Built b;
  b.program = std::make_unique<OneOp>(c);
  Config cfg;
  cfg.program = "one_op";
  b.model = std::make_unique<Model<double>>(cfg, *b.program);
  b.tape = std::make_unique<Tape<double>>(*b.model, b.program->inputs());
  b.op = b.tape->find_op("op");
  b.tape->forward();
  b.tape->backward();
  return b;
}

Case case_of(OpType t) {
  const Shape BTC{2, 3, 4}, BHTd{2, 2, 3, 2}, BHTT{2, 2, 3, 3};
  switch (t) {
    case OpType::embedding: return {t, {{2, 3}}, {5}, {{5, 4}}, BTC};
    case OpType::pos_embedding: return {t, {BTC}, {0}, {{6, 4}}, BTC};
    case OpType::layernorm: return {t, {{3, 5}}, {0}, {{5}, {5}}, {3, 5}};
    case OpType::linear: return {t, {{3, 4}}, {0}, {{4, 4}, {4}}, {3, 4}};
    case OpType::matmul: return {t, {{3, 4}}, {0}, {{4, 4}}, {3, 4}};
    case OpType::lora_down: return {t, {{3, 4}}, {0}, {{4, 2}}, {3, 2}};
    case OpType::lora_up: return {t, {{3, 4}, {3, 2}}, {0, 0}, {{2, 4}}, {3, 4}, {.scale = 1.5}};
    case OpType::split_heads: return {t, {{2, 3, 12}}, {0}, {}, BHTd, {.part = 1}};
    case OpType::query_key: return {t, {BHTd, BHTd}, {0, 0}, {}, BHTT};
    case OpType::scale: return {t, {BHTT}, {0}, {}, BHTT, {.d = 4}};
    case OpType::causal_mask: return {t, {{2, 3, 3}}, {0}, {}, {2, 3, 3}};
    case OpType::softmax: return {t, {{2, 3, 4}}, {0}, {}, {2, 3, 4}};
    case OpType::attn_value: return {t, {BHTT, BHTd}, {0, 0}, {}, BHTd};
    case OpType::merge_heads: return {t, {BHTd}, {0}, {}, BTC};
    case OpType::residual_add: return {t, {{3, 4}, {3, 4}}, {0, 0}, {}, {3, 4}};
    case OpType::gelu: return {t, {{3, 4}}, {0}, {}, {3, 4}};
    case OpType::mul_param: return {t, {{5}}, {0}, {{}}, {5}};
    case OpType::add_param: return {t, {{5}}, {0}, {{}}, {5}};
    case OpType::subtract: return {t, {{5}, {5}}, {0, 0}, {}, {5}};
    case OpType::mean_square: return {t, {{6}}, {0}, {}, {}};
    case OpType::lm_head: return {t, {{3, 4}}, {0}, {{5, 4}}, {3, 5}};
    case OpType::log_softmax: return {t, {{3, 5}}, {0}, {}, {3, 5}};
    case OpType::nll: return {t, {{3, 5}, {3}}, {0, 5}, {}, {}};
    // The ops of a model of one's own (program custom); their other forms are below.
    case OpType::add:
    case OpType::sub:
    case OpType::mul:
    case OpType::max: return {t, {{3, 4}, {3, 4}}, {0, 0}, {}, {3, 4}};
    case OpType::div: return {t, {{3, 4}, {3, 4}}, {0, 0}, {}, {3, 4}, {}, true};
    case OpType::neg:
    case OpType::relu: return {t, {{3, 4}}, {0}, {}, {3, 4}, {}, false, true};
    case OpType::tanh:
    case OpType::sigmoid:
    case OpType::exp:
    case OpType::abs: return {t, {{3, 4}}, {0}, {}, {3, 4}};
    case OpType::pow: return {t, {{3, 4}}, {0}, {}, {3, 4}, {.constant = 2}};
    case OpType::log: return {t, {{3, 4}}, {0}, {}, {3, 4}, {}, true};
    case OpType::sum:
    case OpType::mean: return {t, {{3, 4}}, {0}, {}, {}};
    case OpType::matprod: return {t, {{3, 4}, {4, 2}}, {0, 0}, {}, {3, 2}};
  }
  return {};
}

// Whether explain_entry's sum is the stored entry at every entry of every gradient op k sends
// back (its outgoing residuals, not of ids, and its parameter gradients); `fails` counts the
// entries where it is not, `explained` those it explained.
struct Explained {
  int64_t explained = 0, fails = 0;
  std::string first;  // the first entry that failed, in words
};
Explained explain_every_entry(const Tape<double>& tape, int k) {
  Explained e;
  const Op<double>& op = tape.op(k);
  auto each = [&](Part part, const std::vector<Tensor<double>>& grads) {
    for (size_t slot = 0; slot < grads.size(); ++slot) {
      if (grads[slot].empty() || (part == Part::outgoing && tape.value(op.in[slot]).integer)) continue;
      for (int64_t i = 0; i < grads[slot].size(); ++i) {
        const ChainRule r = explain_entry(tape, k, {part, static_cast<int>(slot)}, i);
        ++e.explained;
        if (r.ok && r.agrees()) continue;
        if (!e.fails++)
          e.first = std::string(part == Part::outgoing ? "din" : "dpar") + std::to_string(slot) + "[" + std::to_string(i) +
                    "]: " + (r.ok ? "sum " + std::to_string(r.sum) + " vs stored " + std::to_string(r.stored) : r.why_not);
      }
    }
  };
  each(Part::outgoing, op.din);
  each(Part::param_grad, op.dpar);
  return e;
}

// The op of case c alone: its backward matches central differences at every entry, and every
// mistake it supports (at least one) makes that check fail.
void check_case(const Case& c, const std::string& what) {
  SCOPED_TRACE(what);
  Built b = build(c);
  ASSERT_GE(b.op, 0);
  ASSERT_EQ(b.tape->op(b.op).type, c.type);
  ASSERT_TRUE(b.tape->op(b.op).needs_backward());
  CheckOptions opt;
  opt.max_entries = 0;  // every entry
  const OpCheck oc = check_op(*b.tape, b.op, opt);
  EXPECT_GT(oc.checked, 0);
  EXPECT_TRUE(oc.pass) << "max abs err " << oc.max_abs_err;
  EXPECT_LT(oc.max_abs_err, 1e-8);
  const Explained ex = explain_every_entry(*b.tape, b.op);
  EXPECT_GT(ex.explained, 0);
  EXPECT_EQ(ex.fails, 0) << "the chain rule of " << ex.first;
  // Every mistake it supports is caught by the same check, and by the chain rule of some entry.
  int planted = 0;
  for (int m = 1; m < kNumMistakes; ++m) {
    const Mistake mk = static_cast<Mistake>(m);
    if (!b.tape->supports(b.op, mk) || (c.only != Mistake::none && mk != c.only)) continue;
    ++planted;
    b.tape->set_mistake(b.op, mk);
    b.tape->forward();
    b.tape->backward();
    EXPECT_FALSE(check_op(*b.tape, b.op, opt).pass) << info(mk).id;
    EXPECT_GT(explain_every_entry(*b.tape, b.op).fails, 0) << info(mk).id << ": the chain rule still adds up";
    b.tape->set_mistake(b.op, Mistake::none);
  }
  EXPECT_GT(planted, 0) << "every op sends some gradient back, so at least a flipped sign can be planted";
}

void check_alone(OpType type) { check_case(case_of(type), info(type).name); }

#define GS_ONE_OP_TEST(id, impl, name, rowj, extra, plain, fwd, local, bwd) \
  TEST(one_op, id) { check_alone(OpType::id); }
GS_OP_TYPES(GS_ONE_OP_TEST)
#undef GS_ONE_OP_TEST

// The attention ops read their sizes from the operands: the same op on (T,d) matrices, one head.
TEST(one_op, attention_ops_on_plain_matrices) {
  for (Case c : {Case{OpType::query_key, {{3, 2}, {3, 2}}, {0, 0}, {}, {3, 3}},
                 Case{OpType::attn_value, {{3, 3}, {3, 2}}, {0, 0}, {}, {3, 2}},
                 Case{OpType::scale, {{3, 3}}, {0}, {}, {3, 3}, {.d = 2}}}) {
    Built b = build(c);
    CheckOptions opt;
    opt.max_entries = 0;
    const OpCheck oc = check_op(*b.tape, b.op, opt);
    EXPECT_TRUE(oc.pass) << info(c.type).name << " " << oc.max_abs_err;
  }
}

// [SECTION] the ops of a model of one's own, in every form the language gives them

std::string shape_text(const Shape& s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? "," : "") + std::to_string(s[i]);
  return t + "]";
}

std::string case_text(const Case& c) {
  std::string t = info(c.type).name;
  for (const Shape& s : c.in) t += " " + shape_text(s);
  if (c.attrs.const_side >= 0) t += " with the number " + std::to_string(c.attrs.constant) + (c.attrs.const_side ? " right" : " left");
  else if (c.type == OpType::pow) t += " ** " + std::to_string(c.attrs.constant);
  return t;
}

// + − · / max: equal shapes, a number beside a matrix (either side), a row vector [m] beside a
// matrix [n,m] (either side: used for every row, its gradient summed over them), and a number
// written in the text on either side (no operand, no gradient). max's number is 0.3, inside the
// inputs' range, so that the operand wins some entries and loses others.
TEST(one_op, binary_ops_broadcast_and_numbers) {
  const Shape M{3, 4}, row{4}, one{};
  for (OpType t : {OpType::add, OpType::sub, OpType::mul, OpType::div, OpType::max}) {
    const bool pos = t == OpType::div;  // a divisor away from 0
    std::vector<Case> cases = {
        {t, {M, M}, {0, 0}, {}, M, {}, pos},       {t, {one, M}, {0, 0}, {}, M, {}, pos},
        {t, {M, one}, {0, 0}, {}, M, {}, pos},     {t, {row, M}, {0, 0}, {}, M, {}, pos},
        {t, {M, row}, {0, 0}, {}, M, {}, pos},     {t, {one, one}, {0, 0}, {}, one, {}, pos},
        {t, {row}, {0}, {}, row, {.constant = t == OpType::max ? 0.3 : 1.7, .const_side = 0}, pos},
        {t, {M}, {0}, {}, M, {.constant = 0.3, .const_side = 1}, pos},
    };
    for (const Case& c : cases) check_case(c, case_text(c));
  }
}

// Functions of one value: on a matrix, a vector and one number; powers 2, 3 and ½ (of positive
// values); log of positive values.
TEST(one_op, unary_ops_on_every_shape) {
  for (OpType t : {OpType::neg, OpType::relu, OpType::tanh, OpType::sigmoid, OpType::exp, OpType::log, OpType::abs}) {
    for (const Shape& s : {Shape{3, 4}, Shape{5}, Shape{}}) {
      const Case c{t, {s}, {0}, {}, s, {}, t == OpType::log, t == OpType::relu};
      if (t == OpType::relu && s.empty()) continue;  // below
      check_case(c, case_text(c));
    }
  }
  // relu of one number: above 0 a flipped sign shows, below 0 a wrong slope (1 for 0).
  Case above{OpType::relu, {{}}, {0}, {}, {}, {}, true, true, Mistake::flipped_sign};
  check_case(above, "relu [] above 0");
  Case below = above;
  below.only = Mistake::wrong_derivative;
  below.positive = false;
  below.negative = true;
  check_case(below, "relu [] below 0");
  for (double k : {2.0, 3.0, 0.5}) {
    const Case c{OpType::pow, {{3, 4}}, {0}, {}, {3, 4}, {.constant = k}, k == 0.5};
    check_case(c, case_text(c));
  }
  // The existing softmax and log_softmax on one vector (a custom model's softmax(x)).
  for (OpType t : {OpType::softmax, OpType::log_softmax}) {
    const Case c{t, {{5}}, {0}, {}, {5}};
    check_case(c, case_text(c));
  }
}

// sum and mean of a matrix, a vector and one number.
TEST(one_op, reductions_of_every_shape) {
  for (OpType t : {OpType::sum, OpType::mean})
    for (const Shape& s : {Shape{3, 4}, Shape{5}, Shape{}}) {
      const Case c{t, {s}, {0}, {}, {}};
      check_case(c, case_text(c));
    }
}

// A @ B: [n,k]@[k,m], square (where a missing transpose can be planted), a vector on the left (one
// row), on the right (one column), and two vectors (their dot product).
TEST(one_op, matprod_of_matrices_and_vectors) {
  const std::vector<Case> cases = {
      {OpType::matprod, {{3, 4}, {4, 2}}, {0, 0}, {}, {3, 2}}, {OpType::matprod, {{3, 4}, {4, 4}}, {0, 0}, {}, {3, 4}},
      {OpType::matprod, {{4}, {4, 2}}, {0, 0}, {}, {2}},       {OpType::matprod, {{3, 4}, {4}}, {0, 0}, {}, {3}},
      {OpType::matprod, {{4}, {4}}, {0, 0}, {}, {}},
  };
  for (const Case& c : cases) check_case(c, case_text(c));
  Built sq = build(cases[1]);
  EXPECT_TRUE(sq.tape->supports(sq.op, Mistake::missing_transpose));
}

// The harness above feeds every operand as a value. In a model of one's own a leaf is a parameter
// that the op reads directly (Op::args), mixed with values, inputs and numbers, and a value or a
// parameter may be both operands of one op (u * u). One model with every new op reading parameters
// (W, b, s0, c, v), an input (x) and values: every op and every parameter passes the check at every
// entry, and each mistake each op supports is found, walking back from the loss, at that op (a
// forgotten accumulation: somewhere, since the shares' sum is what it breaks).
TEST(one_op, custom_ops_reading_parameters) {
  ModelSpec spec;
  spec.program = "custom";
  spec.dtype = "f64";
  spec.model_text =
      "a = W + b\nd = s0 - W\nm = W * x\nq = b / c\nM = max(W, x)\nn = -W\np = W ** 3\n"
      "r = relu(W)\nt = tanh(b)\ng = sigmoid(W)\ne = exp(b)\nl = log(c)\nab = abs(x)\nS = sum(W)\n"
      "me = mean(b)\nP = W @ v\nuu = v * v\nk = c * 2\n"
      "L = sum(a * d) + sum(m / M) + sum(q) * l + sum(n * p) + sum(r + g) + sum(t * e) + sum(ab * W) + S * me"
      " + sum(P) + sum(uu) * k";
  spec.sets = {"W=0.5,-1.2,0.8;1.4,-0.3,-0.7", "x=0.2,0.9,-1.1;0.6,-0.4,1.3", "b=0.3,-0.8,1.1",
               "s0=0.4", "c=1.6", "v=0.7,-0.5,1.2"};
  spec.inputs = "x";
  Session<double> s(spec);
  Tape<double>& tape = *s.tape;
  tape.forward();
  tape.backward();
  CheckOptions opt;
  opt.max_entries = 0;
  const CheckReport clean = check_all(tape, opt, true);
  EXPECT_TRUE(clean.pass);
  for (const OpCheck& c : clean.ops) EXPECT_TRUE(c.pass) << c.name << " " << c.max_abs_err;
  for (const TensorCheck& p : clean.params) EXPECT_TRUE(p.pass) << p.label;
  std::set<OpType> types;
  int planted = 0;
  for (int k = 0; k < tape.size(); ++k) {
    types.insert(tape.op(k).type);
    for (int mk = 1; mk < kNumMistakes; ++mk) {
      const Mistake m = static_cast<Mistake>(mk);
      if (!tape.supports(k, m)) continue;
      ++planted;
      tape.set_mistake(k, m);
      tape.forward();
      tape.backward();
      const CheckReport r = check_all(tape, opt, true);
      EXPECT_FALSE(r.pass) << tape.op(k).name << ": " << info(m).id;
      if (m != Mistake::forgotten_accumulation) EXPECT_EQ(first_failure_from_loss(r), k) << tape.op(k).name << ": " << info(m).id;
      tape.set_mistake(k, Mistake::none);
    }
  }
  tape.forward();
  tape.backward();
  EXPECT_TRUE(check_all(tape, opt, true).pass) << "every mistake taken out again";
  for (OpType t : {OpType::add, OpType::sub, OpType::mul, OpType::div, OpType::max, OpType::neg, OpType::pow,
                   OpType::relu, OpType::tanh, OpType::sigmoid, OpType::exp, OpType::log, OpType::abs, OpType::sum,
                   OpType::mean, OpType::matprod})
    EXPECT_TRUE(types.count(t)) << info(t).name << " is not in the model";
  EXPECT_GT(planted, tape.size());  // a flipped sign at every op, and more
}

}  // namespace
}  // namespace gs
