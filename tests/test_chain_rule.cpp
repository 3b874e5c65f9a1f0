// The chain rule of one entry (gradscope/chain_rule.h), without the app: for every op type, on
// the lesson programs and GPT-2 tiny, the products explain_entry names add up to the stored
// gradient entry; a planted mistake in an op's backward makes them disagree there; the summed
// index is named by the tensors' own axis letters; and an op type without an explanation says so.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "gradscope/chain_rule.h"
#include "ops/dispatch.h"
#include "test_util.h"

namespace gs {
namespace {

// GPT-2 tiny in f64 on a text whose letters repeat (a repeated token is where the embedding's
// gradient rows add up).
ModelSpec tiny_spec() {
  ModelSpec s;
  s.preset = "tiny";
  s.dtype = "f64";
  s.text = "the theme of the thesis";
  s.seq = 8;  // the first T+1 letters: t, h and e come twice
  return s;
}

// The programs whose tapes hold every op type between them. A new op type needs a program here
// that records it (and a case in test_one_op.cpp).
std::vector<std::pair<std::string, ModelSpec>> programs() {
  std::vector<std::pair<std::string, ModelSpec>> v;
  for (const char* p : {"line", "branch", "matrix", "softmax_ce", "layernorm", "attention", "lora_linear"})
    v.push_back({p, ModelSpec{}});
  v.push_back({"custom", test::every_custom_op_spec()});
  v.push_back({"gpt2", tiny_spec()});
  ModelSpec lora = tiny_spec();
  lora.lora_rank = 2;
  lora.lora_targets = "attn.c_attn,mlp.c_fc";
  v.push_back({"gpt2", lora});
  return v;
}

// Built, with every parameter moved off its initial value (LoRA's B starts at 0, which would
// leave the adapter's gradients all zero), forward and backward done.
test::Built<double> built(const std::string& name, const ModelSpec& spec) {
  test::Built<double> b = test::build_program<double>(name, spec.sets, spec);
  test::randomize(b, 17);
  return b;
}


// Every tensor of op k the chain rule explains: its outgoing residuals (not of ids) and its
// parameter gradients that were computed.
std::vector<TensorId> explained_tensors(const Tape<double>& tape, int k) {
  const Op<double>& op = tape.op(k);
  std::vector<TensorId> v;
  for (size_t i = 0; i < op.in.size(); ++i)
    if (!op.din[i].empty() && !tape.value(op.in[i]).integer) v.push_back({Part::outgoing, static_cast<int>(i)});
  for (size_t j = 0; j < op.par.size(); ++j)
    if (!op.dpar[j].empty()) v.push_back({Part::param_grad, static_cast<int>(j)});
  return v;
}

const Tensor<double>& stored(const Tape<double>& tape, int k, TensorId id) {
  const Op<double>& op = tape.op(k);
  return id.part == Part::outgoing ? op.din[id.slot] : op.dpar[id.slot];
}

TEST(chain_rule, every_op_types_terms_add_up_to_the_stored_entry) {
  std::set<OpType> seen;
  int explained = 0;
  for (const auto& [name, spec] : programs()) {
    const auto b = built(name, spec);
    const Tape<double>& tape = *b.tape;
    for (int k = 0; k < tape.size(); ++k) {
      const Op<double>& op = tape.op(k);
      for (TensorId id : explained_tensors(tape, k)) {
        const Tensor<double>& g = stored(tape, k, id);
        for (int64_t i : test::probes(g)) {
          const ChainRule r = explain_entry(tape, k, id, i);
          const std::string what = name + " " + op.name + " " + (id.part == Part::outgoing ? "din" : "dpar") +
                                   std::to_string(id.slot) + "[" + std::to_string(i) + "]";
          ASSERT_TRUE(r.ok) << what << ": " << r.why_not;
          EXPECT_EQ(r.stored, g[i]) << what;
          EXPECT_TRUE(r.agrees()) << what << ": sum " << r.sum << " vs " << r.stored;
          EXPECT_NEAR(r.sum, r.stored, 1e-9 * (1 + std::fabs(r.stored))) << what;
          EXPECT_FALSE(r.how.empty()) << what;
          ++explained;
        }
        seen.insert(op.type);
      }
    }
  }
  EXPECT_EQ(static_cast<int>(seen.size()), kNumOpTypes) << "an op type none of the programs records";
  EXPECT_GT(explained, 500);
}

// The check has teeth: an op whose backward no longer follows its local derivative (a planted
// mistake) shows as a sum that is not the stored entry, for every op type.
TEST(chain_rule, a_planted_mistake_makes_the_sum_disagree_for_every_op_type) {
  std::map<OpType, std::string> caught;
  for (const auto& [name, spec] : programs()) {
    auto b = built(name, spec);
    Tape<double>& tape = *b.tape;
    for (int k = 0; k < tape.size(); ++k) {
      const OpType type = tape.op(k).type;
      if (caught.count(type)) continue;
      // A flipped sign where the op sends a residual back; the embedding has only wte's
      // gradient, where a repeated token's rows must add up.
      const Mistake m = type == OpType::embedding ? Mistake::forgotten_accumulation : Mistake::flipped_sign;
      if (!tape.supports(k, m)) continue;
      auto disagrees_somewhere = [&] {
        for (TensorId id : explained_tensors(tape, k)) {
          const Tensor<double>& g = stored(tape, k, id);
          for (int64_t i = 0; i < g.size(); ++i) {
            const ChainRule r = explain_entry(tape, k, id, i);
            if (r.ok && !r.agrees()) return true;
          }
        }
        return false;
      };
      ASSERT_FALSE(disagrees_somewhere()) << name << " " << tape.op(k).name << " before planting";
      tape.set_mistake(k, m);
      tape.forward();
      tape.backward();
      if (disagrees_somewhere()) caught[type] = name + " " + tape.op(k).name;
      tape.set_mistake(k, Mistake::none);
      tape.forward();
      tape.backward();
    }
  }
  for (int t = 0; t < kNumOpTypes; ++t)
    EXPECT_TRUE(caught.count(static_cast<OpType>(t))) << info(static_cast<OpType>(t)).name << ": no planted mistake showed";
}

// The `matrix` lesson, Y = X·W + b with X [n,m], W [m,p]: ∂L/∂X[2,0] sums over the p columns of
// the output, ∂L/∂W[2,0] and ∂L/∂b[0] over the n rows; the words say so in the program's letters.
TEST(chain_rule, the_summed_index_is_named_by_the_programs_axis_letters) {
  const auto b = built("matrix", {});
  const Tape<double>& tape = *b.tape;
  const int k = tape.find_op("Y");
  ASSERT_GE(k, 0);
  const Tensor<double>& X = tape.value(tape.op(k).in[0]).data;
  const Tensor<double>& W = tape.model().params()[tape.op(k).par[0]].data;
  const int64_t n = X.dim(0), m = X.dim(1), p = W.dim(1);
  ASSERT_GT(n, 2);
  ASSERT_GT(m, 2);
  ASSERT_NE(n, p);  // the term counts tell the two sums apart
  const ChainRule dx = explain_entry(tape, k, {Part::outgoing, 0}, 2 * m + 0);
  ASSERT_TRUE(dx.ok) << dx.why_not;
  EXPECT_EQ(dx.over_name, "p");
  EXPECT_EQ(dx.n_terms, p);
  const ChainRule dw = explain_entry(tape, k, {Part::param_grad, 0}, 2 * p + 0);
  ASSERT_TRUE(dw.ok) << dw.why_not;
  EXPECT_EQ(dw.over_name, "n");
  EXPECT_EQ(dw.n_terms, n);
  const ChainRule db = explain_entry(tape, k, {Part::param_grad, 1}, 0);
  ASSERT_TRUE(db.ok) << db.why_not;
  EXPECT_EQ(db.over_name, "n");

  // GPT-2's rows run over B and T together: one flat row index, named as before; its columns
  // have letters (4C for the MLP's hidden layer).
  const auto g = built("gpt2", tiny_spec());
  const int fc = g.tape->find_op("h.0.mlp.c_fc");
  ASSERT_GE(fc, 0);
  EXPECT_EQ(explain_entry(*g.tape, fc, {Part::outgoing, 0}, 0).over_name, "4C");
  EXPECT_EQ(explain_entry(*g.tape, fc, {Part::param_grad, 0}, 0).over_name, "m");
}

// An op type whose header has no `explain` is not asked (explain_entry then says it has no
// chain-rule explanation yet), and one without `aligned` lines nothing up; every op type of the
// table has an explanation.
struct NoExplanation {};
struct WithAlignment {
  static ops::Aligned aligned(int) { return {true, {0}}; }
};

TEST(chain_rule, an_op_type_without_an_explanation_says_so) {
  const auto b = built("line", {});
  const Tape<double>& tape = *b.tape;
  ChainRule r;
  ops::ChainCtx<double> c{tape, 0, tape.op(0), true, 0, 0, tape.value(tape.op(0).out).grad, r};
  EXPECT_FALSE(ops::op_explain<NoExplanation>(c));
  EXPECT_TRUE(c.terms.empty());
  EXPECT_FALSE(ops::op_aligned<NoExplanation>(1).values);
  EXPECT_TRUE(ops::op_aligned<WithAlignment>(1).values);
  for (int t = 0; t < kNumOpTypes; ++t) {
    const bool has = ops::visit(static_cast<OpType>(t), [&](auto impl) {
      return requires(ops::ChainCtx<double>& x) { decltype(impl)::explain(x); };
    });
    EXPECT_TRUE(has) << info(static_cast<OpType>(t)).name;
  }
}

TEST(chain_rule, says_why_where_there_is_nothing_to_explain) {
  const auto b = built("gpt2", tiny_spec());
  const Tape<double>& tape = *b.tape;
  const int emb = tape.find_op("wte");
  ASSERT_GE(emb, 0);
  EXPECT_NE(explain_entry(tape, emb, {Part::outgoing, 0}, 0).why_not.find("ids"), std::string::npos);
  EXPECT_EQ(explain_entry(tape, -1, {Part::outgoing, 0}, 0).why_not, "no such op");
  EXPECT_FALSE(explain_entry(tape, emb, {Part::output, 0}, 0).ok);
  EXPECT_EQ(explain_entry(tape, emb, {Part::param_grad, 0}, -1).why_not, "no such entry");
}

}  // namespace
}  // namespace gs
