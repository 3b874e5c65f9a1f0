// Every op type on a tape of that op alone (as ggml's test-backend-ops builds a graph of one op):
// random inputs fed through y = a·x (a = 1, trainable) so each operand needs its gradient, the op,
// and a loss L = mean(out²) (after a softmax for the causal mask, whose −∞ entries have no
// square). The op's backward is checked against central differences at every entry, and every
// mistake it supports must make that check fail. Its chain-rule explanation (gradscope/chain_rule.h)
// must add up to every entry of every gradient it sends back, and stop adding up under each mistake.
#include <gtest/gtest.h>

#include "gradscope/chain_rule.h"
#include "gradscope/gradcheck.h"
#include "gradscope/rng.h"
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
      for (int64_t k = 0; k < numel(x.shape); ++k)
        x.values.push_back(x.integer ? double(rng.below(static_cast<uint32_t>(x.id_limit))) : rng.normal(0.0, 1.0));
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

void check_alone(OpType type) {
  Built b = build(case_of(type));
  ASSERT_GE(b.op, 0);
  ASSERT_EQ(b.tape->op(b.op).type, type);
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
    if (!b.tape->supports(b.op, mk)) continue;
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

}  // namespace
}  // namespace gs
