// What the inspector explains, computed without GL: the chain rule of one entry for every op
// type (which entries it came from, and that their products add up to the stored gradient), the
// labels of every axis, and the model's predictions (the top few equal a sort of the stored
// probabilities; their mean −log P(target) is the loss).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "../test_util.h"
#include "app_test_util.h"
#include "axis_labels.h"
#include "chain_rule.h"
#include "format.h"
#include "gradscope/session.h"
#include "predictions.h"

namespace gs::app {
namespace {

std::unique_ptr<Session<double>> computed(ModelSpec spec) {
  if (spec.program != "gpt2") spec.dtype = "f64";
  auto s = std::make_unique<Session<double>>(spec);
  s->tape->forward();
  s->tape->backward();
  return s;
}

ModelSpec program(const std::string& name) {
  ModelSpec s;
  s.program = name;
  return s;
}

// Every program a lesson uses, GPT-2 tiny, and GPT-2 tiny with LoRA on every target: together
// they hold every op type.
std::vector<ModelSpec> every_program() {
  std::vector<ModelSpec> v;
  for (const char* p : {"line", "two_layers", "activation", "branch", "matrix", "softmax_ce", "layernorm", "attention",
                        "lora_linear"})
    v.push_back(program(p));
  v.push_back(gs::test::every_custom_op_spec());
  v.push_back(test::tiny_spec());
  ModelSpec lora = test::tiny_spec();
  lora.lora_rank = 2;
  lora.lora_targets = "attn.c_attn,attn.c_proj,mlp.c_fc,mlp.c_proj";
  v.push_back(lora);
  return v;
}


const ChainMark* mark_of(const ChainRule& r, Part p, int slot = 0) {
  for (const ChainMark& m : r.marks)
    if (m.tensor == TensorId{p, slot}) return &m;
  return nullptr;
}

// [SECTION] the chain rule, op type by op type

TEST(chain_rule, every_gradient_entry_is_its_terms_summed_for_every_op_type) {
  std::set<OpType> seen;
  int explained = 0;
  for (const ModelSpec& spec : every_program()) {
    auto s = computed(spec);
    const Tape<double>& tape = *s->tape;
    for (int k = 0; k < tape.size(); ++k) {
      const Op<double>& op = tape.op(k);
      auto each = [&](Part part, size_t n, const std::vector<Tensor<double>>& grads) {
        for (size_t slot = 0; slot < n; ++slot) {
          if (grads[slot].empty()) continue;
          if (part == Part::outgoing && tape.value(op.in[slot]).integer) continue;
          for (int64_t i : gs::test::probes(grads[slot])) {
            const ChainRule r = explain_entry(tape, k, {part, static_cast<int>(slot)}, i);
            const std::string what = spec.program + " " + op.name + " " + tensor_key({part, static_cast<int>(slot)}) + "[" +
                                     std::to_string(i) + "]";
            ASSERT_TRUE(r.ok) << what << ": " << r.why_not;
            EXPECT_DOUBLE_EQ(r.stored, grads[slot][i]) << what;
            // The products of the entries it names add up to the stored gradient.
            EXPECT_NEAR(r.sum, r.stored, 1e-9 * (1 + std::fabs(r.stored))) << what << ": " << arithmetic(r);
            EXPECT_TRUE(r.agrees()) << what;
            ASSERT_FALSE(r.marks.empty()) << what;
            EXPECT_EQ(r.marks[0].tensor, (TensorId{part, static_cast<int>(slot)})) << what;
            // Every term's incoming entry is one the view lights up, and is the stored one.
            const Tensor<double>& G = tape.value(op.out).grad;
            const ChainMark* inc = mark_of(r, Part::incoming);
            for (const ChainTerm& t : r.terms) {
              ASSERT_GE(t.incoming_index, 0) << what;
              ASSERT_LT(t.incoming_index, G.size()) << what;
              EXPECT_DOUBLE_EQ(t.incoming, G[t.incoming_index]) << what;
              ASSERT_NE(inc, nullptr) << what;
              EXPECT_NE(std::find(inc->entries.begin(), inc->entries.end(), t.incoming_index), inc->entries.end()) << what;
            }
            EXPECT_LE(r.terms.size(), 4u) << what;
            EXPECT_FALSE(arithmetic(r).empty()) << what;
            ++explained;
          }
        }
      };
      each(Part::outgoing, op.in.size(), op.din);
      each(Part::param_grad, op.par.size(), op.dpar);
      if (op.needs_backward()) seen.insert(op.type);
    }
  }
  // Every op type of the table has been explained somewhere.
  EXPECT_EQ(static_cast<int>(seen.size()), kNumOpTypes);
  EXPECT_GT(explained, 500);
}

TEST(chain_rule, points_at_the_entries_the_formula_names) {
  auto s = computed(test::tiny_spec());
  const Tape<double>& tape = *s->tape;
  // A linear layer: ∂L/∂X[m,k] is row m of ∂L/∂Y times row k of W (all N of them).
  const int fc = tape.find_op("h.0.mlp.c_fc");
  ASSERT_GE(fc, 0);
  const Op<double>& op = tape.op(fc);
  const int64_t K = tape.value(op.in[0]).data.dim(-1), N = tape.value(op.out).data.dim(-1);
  const int64_t m = 3, kk = 5;
  const ChainRule r = explain_entry(tape, fc, {Part::outgoing, 0}, m * K + kk, 1000);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.n_terms, N);
  EXPECT_EQ(static_cast<int64_t>(r.terms.size()), N);  // max_terms 1000: every term kept
  const ChainMark* inc = mark_of(r, Part::incoming);
  const ChainMark* loc = mark_of(r, Part::local, 0);  // the Wᵀ item, which shows W's entries
  ASSERT_NE(inc, nullptr);
  ASSERT_NE(loc, nullptr);
  std::vector<int64_t> want_inc(N), want_loc(N);
  for (int64_t n = 0; n < N; ++n) want_inc[n] = m * N + n, want_loc[n] = kk * N + n;
  EXPECT_EQ(inc->entries, want_inc);
  EXPECT_EQ(loc->entries, want_loc);
  // The terms come largest first.
  for (size_t i = 1; i < r.terms.size(); ++i) EXPECT_GE(std::fabs(r.terms[i - 1].product()), std::fabs(r.terms[i].product()));

  // GELU: one product, at the same place in the local derivative and the incoming residual.
  const int gelu = tape.find_op("h.0.mlp.gelu");
  const ChainRule g = explain_entry(tape, gelu, {Part::outgoing, 0}, 17);
  ASSERT_TRUE(g.ok);
  EXPECT_EQ(g.n_terms, 1);
  EXPECT_EQ(g.terms[0].incoming_index, 17);
  EXPECT_EQ(g.terms[0].local_index, 17);
  EXPECT_EQ(g.local_name, "g′(u)");
  EXPECT_NE(arithmetic(g).find("×"), std::string::npos);
  EXPECT_NE(arithmetic(g).find("g′(u)"), std::string::npos);

  // Softmax: the row's Jacobian column times the incoming row, from that row's Jacobian.
  const int sm = tape.find_op("h.1.attn.softmax");
  const int64_t Tn = tape.value(tape.op(sm).out).data.dim(-1);
  const ChainRule j = explain_entry(tape, sm, {Part::outgoing, 0}, 2 * Tn + 1);
  ASSERT_TRUE(j.ok);
  EXPECT_EQ(j.ld_row, 2);
  EXPECT_EQ(j.n_terms, Tn);
  // The factors are the entries of the Jacobian the inspector shows for that row.
  const LocalDerivative<double> ld = tape.local_derivative(sm, 2);
  for (const ChainTerm& t : j.terms) EXPECT_NEAR(t.local, ld.items[0].tensor[t.local_index], 1e-15);

  // The embedding: wte's gradient row of a token sums the rows of the positions that read it.
  const int emb = tape.find_op("wte");
  const int64_t C = tape.value(tape.op(emb).out).data.dim(-1);
  const int32_t e = tape.batch().x[1];  // 'h'
  const int reads = static_cast<int>(std::count(tape.batch().x.begin(), tape.batch().x.end(), e));
  const ChainRule w = explain_entry(tape, emb, {Part::param_grad, 0}, e * C + 2);
  ASSERT_TRUE(w.ok);
  EXPECT_EQ(w.n_terms, reads);
  // A token the text never reads: no term, and the words say so.
  int32_t absent = 0;
  while (std::count(tape.batch().x.begin(), tape.batch().x.end(), absent)) ++absent;
  const ChainRule z = explain_entry(tape, emb, {Part::param_grad, 0}, absent * C);
  ASSERT_TRUE(z.ok);
  EXPECT_EQ(z.n_terms, 0);
  EXPECT_EQ(z.sum, 0.0);
  EXPECT_NE(arithmetic(z).find("no position reads"), std::string::npos);
}

// The `matrix` lesson, Y = X·W + b with X [n,m] and W [m,p]: the words name the index the sum
// runs over in the lesson's own letters (they said "Σ over n" for a sum over p).
TEST(chain_rule, the_words_name_the_summed_index_by_the_lessons_letters) {
  auto s = computed(program("matrix"));
  const Tape<double>& tape = *s->tape;
  const int k = tape.find_op("Y");
  ASSERT_GE(k, 0);
  const int64_t n = tape.value(tape.op(k).in[0]).data.dim(0), m = tape.value(tape.op(k).in[0]).data.dim(1),
                p = tape.value(tape.op(k).out).data.dim(1);
  const std::string dx = arithmetic(explain_entry(tape, k, {Part::outgoing, 0}, 2 * m));     // ∂L/∂X[2,0]
  const std::string dw = arithmetic(explain_entry(tape, k, {Part::param_grad, 0}, 2 * p));  // ∂L/∂W[2,0]
  EXPECT_EQ(dx.rfind("Σ over p of W × incoming (" + std::to_string(p) + " terms)", 0), 0u) << dx;
  EXPECT_EQ(dw.rfind("Σ over n of X × incoming (" + std::to_string(n) + " terms)", 0), 0u) << dw;
}

TEST(chain_rule, a_planted_mistake_shows_as_a_sum_that_is_not_the_stored_entry) {
  auto s = computed(program("line"));
  s->plant("y1=wrong_derivative");  // multiplies by x where a belongs
  s->tape->forward();
  s->tape->backward();
  const Tape<double>& tape = *s->tape;
  const int k = tape.find_op("y1");
  ASSERT_GE(k, 0);
  // ∂L/∂x of y1 = a·x is a × the incoming residual; the broken backward used x instead.
  const Tensor<double>& din = tape.op(k).din[0];
  ASSERT_FALSE(din.empty());
  const ChainRule r = explain_entry(tape, k, {Part::outgoing, 0}, 0);
  ASSERT_TRUE(r.ok);
  EXPECT_FALSE(r.agrees()) << arithmetic(r) << " vs " << r.stored;
  EXPECT_NE(agreement(r).find("≠"), std::string::npos);
}

TEST(chain_rule, says_why_where_there_is_nothing_to_explain) {
  auto s = computed(test::tiny_spec());
  const Tape<double>& tape = *s->tape;
  const int emb = tape.find_op("wte");
  const ChainRule ids = explain_entry(tape, emb, {Part::outgoing, 0}, 0);  // the token ids
  EXPECT_FALSE(ids.ok);
  EXPECT_NE(ids.why_not.find("ids"), std::string::npos);
  EXPECT_FALSE(explain_entry(tape, emb, {Part::incoming, 0}, 0).ok);
  EXPECT_FALSE(explain_entry(tape, emb, {Part::param_grad, 3}, 0).ok);
  EXPECT_FALSE(explain_entry(tape, emb, {Part::param_grad, 0}, -1).ok);
  EXPECT_FALSE(explain_entry(tape, emb, {Part::param_grad, 0}, 1 << 30).ok);
  EXPECT_FALSE(explain_entry(tape, tape.size(), {Part::outgoing, 0}, 0).ok);
  // The keys the views hover by read back.
  for (TensorId id : {TensorId{Part::input, 1}, TensorId{Part::param, 0}, TensorId{Part::output, 0},
                      TensorId{Part::incoming, 0}, TensorId{Part::outgoing, 2}, TensorId{Part::param_grad, 1},
                      TensorId{Part::local, 0}}) {
    TensorId back;
    ASSERT_TRUE(parse_tensor_key(tensor_key(id), back)) << tensor_key(id);
    EXPECT_EQ(back, id);
  }
  TensorId x;
  EXPECT_FALSE(parse_tensor_key("h.0.ln_1", x));
  EXPECT_FALSE(parse_tensor_key("din", x));
  EXPECT_FALSE(parse_tensor_key("din99999", x));
}

TEST(chain_rule, the_same_entry_is_found_in_every_map_that_has_it) {
  auto s = computed(test::tiny_spec());
  const Tape<double>& tape = *s->tape;
  const int gelu = tape.find_op("h.0.mlp.gelu");
  const LocalDerivative<double> ld = tape.local_derivative(gelu, 0);
  const auto marks = same_entry(tape, gelu, ld, {Part::outgoing, 0}, 9);
  std::set<std::string> keys;
  for (const ChainMark& m : marks) {
    keys.insert(tensor_key(m.tensor));
    EXPECT_EQ(m.entries, std::vector<int64_t>{9});
  }
  EXPECT_EQ(keys, (std::set<std::string>{"in0", "out", "incoming", "ld0"}));
  // A linear layer maps X to Y of another width: only each value's own two sides line up.
  const int fc = tape.find_op("h.0.mlp.c_fc");
  const LocalDerivative<double> lf = tape.local_derivative(fc, 0);
  keys.clear();
  for (const ChainMark& m : same_entry(tape, fc, lf, {Part::outgoing, 0}, 9)) keys.insert(tensor_key(m.tensor));
  EXPECT_EQ(keys, (std::set<std::string>{"in0"}));
  keys.clear();
  for (const ChainMark& m : same_entry(tape, fc, lf, {Part::incoming, 0}, 9)) keys.insert(tensor_key(m.tensor));
  EXPECT_EQ(keys, (std::set<std::string>{"out"}));
}

// [SECTION] labels of every axis

TokenText text_of(const Session<double>& s) {
  TokenText t;
  t.B = s.tape->batch().B;
  t.T = s.tape->batch().T;
  t.x = s.tape->batch().x;
  t.y = s.tape->batch().y;
  t.vocab = s.model->config().vocab_size;
  const Session<double>* p = &s;
  t.glyph = [p](int32_t id) { return token_glyph(p->token_text(id)); };
  return t;
}

TEST(axis_labels, positions_read_their_tokens_heads_mark_blocks_and_the_vocabulary_names_columns) {
  auto s = computed(test::tiny_spec());
  const Tape<double>& tape = *s->tape;
  const TokenText tok = text_of(*s);
  ASSERT_EQ(tok.B, 1);
  ASSERT_EQ(tok.T, 8);
  // The residual stream (B,T,C): a row per position, named by its token; a column per channel.
  const Value<double>& h = tape.value(tape.op(tape.find_op("h.0.res_1")).out);
  ASSERT_EQ(h.axes, (std::vector<std::string>{"B", "T", "C"}));
  GridLabels g = grid_labels(h.data.shape, h.axes, false, tok);
  ASSERT_EQ(g.rows.size(), 8u);
  ASSERT_EQ(g.cols.size(), 16u);
  EXPECT_EQ(g.rows_title, "position");
  EXPECT_EQ(g.cols_title, "channel");
  const std::string text = "the model";  // the default sentence: x = "the mode"
  for (int t = 0; t < 8; ++t) {
    EXPECT_TRUE(g.rows[t].token);
    EXPECT_EQ(g.rows[t].main, token_glyph(std::string(1, text[t])));
    EXPECT_EQ(g.rows[t].sub, std::to_string(t));
  }
  EXPECT_EQ(g.cols[5].main, "5");
  EXPECT_FALSE(g.cols[5].token);
  EXPECT_EQ(shape_words(h.data.shape, h.axes), "B 1 · T 8 · C 16");
  EXPECT_EQ(entry_words(h.data.shape, h.axes, 3 * 16 + 5, tok), "position 3 '␣', predicts 'm' · channel 5");

  // Scores (B,H,T,T): blocks of rows per head, queries down, keys across, both read the text.
  const Value<double>& P = tape.value(tape.op(tape.find_op("h.0.attn.softmax")).out);
  ASSERT_EQ(P.axes, (std::vector<std::string>{"B", "H", "T", "T"}));
  g = grid_labels(P.data.shape, P.axes, false, tok);
  ASSERT_EQ(g.rows.size(), 16u);
  EXPECT_EQ(g.rows_title, "query");
  EXPECT_EQ(g.cols_title, "key");
  EXPECT_EQ(g.blocks[0], "head 0");
  EXPECT_EQ(g.blocks[8], "head 1");
  EXPECT_EQ(g.blocks[3], "");
  EXPECT_EQ(g.rows[8 + 2].main, "e");  // head 1, query 2 reads 'e'
  EXPECT_EQ(g.cols[1].main, "h");
  EXPECT_EQ(entry_words(P.data.shape, P.axes, (8 + 7) * 8 + 1, tok), "head 1 · query 7 'e' · key 1 'h'");
  EXPECT_EQ(row_words(P.data.shape, P.axes, 7, tok), "head 0, query 7 'e'");

  // qkv (B,T,3C): the columns say which third they are.
  const Value<double>& qkv = tape.value(tape.op(tape.find_op("h.0.attn.c_attn")).out);
  g = grid_labels(qkv.data.shape, qkv.axes, false, tok);
  EXPECT_EQ(g.cols[0].main, "q0");
  EXPECT_EQ(g.cols[16 + 3].main, "k3");
  EXPECT_EQ(g.cols[47].main, "v15");
  EXPECT_EQ(entry_words(qkv.data.shape, qkv.axes, 16 + 3, tok), "position 0 't', predicts 'h' · channel 3 of k");

  // Logits (B,T,V): the vocabulary's characters across.
  const Value<double>& logits = tape.value(tape.op(tape.find_op("lm_head")).out);
  ASSERT_EQ(logits.axes, (std::vector<std::string>{"B", "T", "V"}));
  g = grid_labels(logits.data.shape, logits.axes, false, tok);
  ASSERT_EQ(static_cast<int>(g.cols.size()), tok.vocab);
  for (int v = 0; v < tok.vocab; ++v) {
    EXPECT_TRUE(g.cols[v].token);
    EXPECT_EQ(g.cols[v].main, token_glyph(s->token_text(v)));
  }
  EXPECT_EQ(g.cols_title, "token");
  // wte (V,C): a row per character; transposed (as a matmul shows it), the columns.
  const Param<double>& wte = s->model->params()[0];
  ASSERT_EQ(wte.axes, (std::vector<std::string>{"V", "C"}));
  g = grid_labels(wte.data.shape, wte.axes, false, tok);
  EXPECT_EQ(g.rows[tok.x[0]].main, "t");
  g = grid_labels(wte.data.shape, wte.axes, true, tok);
  EXPECT_EQ(g.cols[tok.x[0]].main, "t");
  EXPECT_EQ(g.rows.size(), 16u);
  EXPECT_EQ(g.rows_title, "channel");
}

TEST(axis_labels, lesson_axes_and_shapes_without_letters) {
  const TokenText none;
  // The attention lesson's (T,T) scores: query and key positions, no text.
  GridLabels g = grid_labels({3, 3}, {"T", "T"}, false, none);
  EXPECT_EQ(g.rows_title, "query");
  EXPECT_EQ(g.cols_title, "key");
  EXPECT_EQ(g.rows[2].main, "2");
  EXPECT_FALSE(g.rows[2].token);
  EXPECT_EQ(entry_words({3, 3}, {"T", "T"}, 7, none), "query 2 · key 1");
  EXPECT_EQ(row_words({3, 3}, {"T", "T"}, 1, none), "query 1");
  // The matrix lesson's X (n,m) and W (m,p).
  EXPECT_EQ(entry_words({4, 3}, {"n", "m"}, 5, none), "row 1 · input 2");
  EXPECT_EQ(shape_words({3, 2}, {"m", "p"}), "m 3 · p 2");
  // line's points (P): one row, a column per point.
  g = grid_labels({3}, {"P"}, false, none);
  EXPECT_EQ(g.rows.size(), 1u);
  EXPECT_EQ(g.cols.size(), 3u);
  EXPECT_EQ(g.cols_title, "point");
  EXPECT_EQ(entry_words({3}, {"P"}, 2, none), "point 2");
  // A class id per example, the classes across: softmax_ce's (n,K).
  EXPECT_EQ(entry_words({1, 3}, {"n", "K"}, 2, none), "class 2");  // one example: its axis says nothing
  // No letters (or the wrong number): plain dimensions, never a crash.
  EXPECT_EQ(entry_words({2, 3}, {}, 4, none), "dim 0 1 · dim 1 1");
  EXPECT_EQ(shape_words({2, 3}, {"n"}), "");
  g = grid_labels({2, 3}, {"x"}, true, none);
  EXPECT_EQ(g.rows.size(), 3u);
  EXPECT_EQ(g.cols.size(), 2u);
  EXPECT_TRUE(grid_labels({}, {}, false, none).rows.empty());
  EXPECT_EQ(entry_words({}, {}, 0, none), "");
}

// [SECTION] predictions

TEST(predictions, the_top_few_are_a_sort_of_the_stored_probabilities_and_their_loss_is_the_tapes) {
  for (const ModelSpec& spec : {test::tiny_spec(), program("softmax_ce")}) {
    auto s = computed(spec);
    const Tape<double>& tape = *s->tape;
    const Predictions p = predictions(tape, 5);
    ASSERT_TRUE(p.ok) << p.why_not;
    const Tensor<double>& l = tape.value(tape.op(p.log_softmax_op).out).data;
    const int64_t V = l.dim(-1), M = l.size() / V;
    EXPECT_EQ(p.classes, V);
    ASSERT_EQ(static_cast<int64_t>(p.rows.size()), M);
    EXPECT_EQ(p.tokens, spec.program == "gpt2");
    const Tensor<double>& y = tape.value(tape.op(p.nll_op).in[1]).data;
    double mean = 0;
    for (int64_t m = 0; m < M; ++m) {
      // The stored probabilities of the row, sorted by hand.
      std::vector<std::pair<double, int32_t>> all;
      for (int64_t v = 0; v < V; ++v) all.push_back({std::exp(l[m * V + v]), static_cast<int32_t>(v)});
      std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
      const RowPrediction& r = p.rows[m];
      ASSERT_EQ(static_cast<int64_t>(r.top.size()), std::min<int64_t>(5, V));
      for (size_t i = 0; i < r.top.size(); ++i) {
        EXPECT_EQ(r.top[i].id, all[i].second) << spec.program << " row " << m << " rank " << i;
        EXPECT_DOUBLE_EQ(r.top[i].p, all[i].first);
      }
      EXPECT_EQ(r.target, static_cast<int32_t>(y[m]));
      EXPECT_DOUBLE_EQ(r.p_target, std::exp(l[m * V + r.target]));
      const auto at = std::find_if(all.begin(), all.end(), [&](const auto& a) { return a.second == r.target; });
      EXPECT_EQ(r.target_rank, 1 + static_cast<int>(at - all.begin()));
      EXPECT_DOUBLE_EQ(r.nll, -l[m * V + r.target]);
      if (p.tokens) {
        EXPECT_EQ(r.input, tape.batch().x[m]);
        EXPECT_EQ(r.pos, m % tape.batch().T);
      }
      mean += r.nll;
    }
    mean /= static_cast<double>(M);
    EXPECT_NEAR(p.mean_nll, mean, 1e-12);
    EXPECT_NEAR(p.mean_nll, tape.loss(), 1e-12);  // the loss is the mean −log P(target)
  }
}

TEST(predictions, a_program_without_probabilities_says_so) {
  auto s = computed(program("matrix"));
  const Predictions p = predictions(*s->tape);
  EXPECT_FALSE(p.ok);
  EXPECT_FALSE(p.why_not.empty());
}

TEST(predictions, the_controller_keeps_what_the_model_predicted_before_training) {
  Controller c;
  ASSERT_TRUE(c.rebuild(test::tiny_spec())) << c.error();
  EXPECT_EQ(c.predictions_before(), nullptr);
  const Predictions now = c.session().visit([](const auto& s) { return predictions(*s.tape); });
  OptimizerOptions o;
  o.kind = "sgd";
  o.lr = 0.5;
  test::run(c, req::Train{3, o});
  ASSERT_NE(c.predictions_before(), nullptr);
  EXPECT_EQ(c.steps_since_before(), 3);
  EXPECT_DOUBLE_EQ(c.predictions_before()->mean_nll, now.mean_nll);
  const Predictions after = c.session().visit([](const auto& s) { return predictions(*s.tape); });
  EXPECT_LT(after.mean_nll, now.mean_nll);  // three steps on one window lower its loss
  // The status bar's words: the weights are no longer the seed's alone.
  EXPECT_NE(c.weights_source().find("3 steps trained here"), std::string::npos) << c.weights_source();
  // A rebuild forgets it.
  ASSERT_TRUE(c.rebuild(test::tiny_spec()));
  EXPECT_EQ(c.predictions_before(), nullptr);
  EXPECT_EQ(c.weights_source().find("trained here"), std::string::npos);
}

}  // namespace
}  // namespace gs::app
