// Finite differences off the UI thread (analysis.h through the controller): the work runs on a
// copy and gives the live model's numbers, results arrive only through apply()/wait, work for
// changed tensors is dropped, a planted mistake is found walking back from the loss; and the
// plain helpers (axes, gradient norms per layer) the panels draw with.
#include <gtest/gtest.h>

#include <cmath>

#include "app_test_util.h"
#include "controller.h"
#include "grad_norms.h"
#include "plot_axes.h"

namespace gs::app {
namespace {

using test::tiny_spec;

// [SECTION] the background checks

TEST(analysis, every_op_in_the_background_matches_the_direct_check) {
  Controller direct, bg;
  ASSERT_TRUE(direct.rebuild(tiny_spec())) << direct.error();
  ASSERT_TRUE(bg.rebuild(tiny_spec())) << bg.error();
  direct.apply(req::RunChecks{-1});

  RequestQueue q;
  q.push(req::RunChecks{-1, false, true});
  bg.apply(q);
  EXPECT_TRUE(bg.analysis().all_busy());
  EXPECT_EQ(bg.checks_run(), 0);  // nothing arrives before the next apply
  bg.wait_analysis();
  EXPECT_FALSE(bg.analysis().all_busy());
  ASSERT_TRUE(bg.analysis().all().has_value());
  EXPECT_TRUE(bg.analysis().all()->error.empty()) << bg.analysis().all()->error;
  EXPECT_EQ(bg.analysis().all()->version, bg.version());
  EXPECT_EQ(bg.checks_run(), direct.checks_run());
  // The copy computes exactly what the live tape does: the same errors, bit for bit.
  for (int k = 0; k < direct.n_ops(); ++k) {
    ASSERT_NE(direct.check(k), nullptr);
    ASSERT_NE(bg.check(k), nullptr) << k;
    EXPECT_EQ(bg.check_mark(k), direct.check_mark(k)) << direct.session().op_name(k);
    EXPECT_EQ(bg.check(k)->max_abs_err, direct.check(k)->max_abs_err) << direct.session().op_name(k);
  }
  EXPECT_EQ(bg.analysis().snapshots_built(), 1);
  // The live tape was never touched: its loss is what a fresh build gives.
  EXPECT_EQ(bg.session().loss(), direct.session().loss());
}

TEST(analysis, results_for_changed_tensors_are_dropped) {
  Controller c;
  ASSERT_TRUE(c.rebuild(tiny_spec()));
  RequestQueue q;
  q.push(req::RunChecks{-1, false, true});
  c.apply(q);
  const int k = c.session().find_op("h.0.attn.softmax");
  c.apply(req::PlantMistake{k, Mistake::dropped_term});  // the tensors change under the work
  c.wait_jobs();
  c.wait_analysis();
  EXPECT_FALSE(c.analysis().all().has_value());
  EXPECT_EQ(c.checks_run(), 0);
  EXPECT_FALSE(c.analysis().all_busy());
}

TEST(analysis, a_planted_mistake_is_the_first_failure_from_the_loss) {
  Controller c;
  ASSERT_TRUE(c.rebuild(tiny_spec()));
  const int k = c.session().find_op("h.1.attn.softmax");
  ASSERT_GE(k, 0);
  RequestQueue q;
  q.push(req::PlantMistake{k, Mistake::dropped_term});
  q.push(req::RunChecks{-1, false, true});  // waits behind the mistake's job, then checks the broken model
  c.apply(q);
  c.wait_jobs();
  c.wait_analysis();
  ASSERT_TRUE(c.analysis().all().has_value());
  EXPECT_EQ(first_failure_from_loss(c.n_ops(), [&](int i) { return c.check(i); }), k);
  EXPECT_EQ(first_failure_from_loss(c.analysis().all()->report), k);
  for (int i = k + 1; i < c.n_ops(); ++i) EXPECT_NE(c.check_mark(i), CheckMark::fail) << c.session().op_name(i);
  EXPECT_EQ(c.check_mark(k), CheckMark::fail);

  // Repaired: every op agrees again.
  q.push(req::PlantMistake{k, Mistake::none});
  q.push(req::RunChecks{-1, false, true});
  c.apply(q);
  c.wait_jobs();
  c.wait_analysis();
  EXPECT_EQ(first_failure_from_loss(c.n_ops(), [&](int i) { return c.check(i); }), -1);
  EXPECT_EQ(c.analysis().snapshots_built(), 2);  // one copy per state of the tensors
}

TEST(analysis, a_float_model_is_checked_op_locally_off_the_ui_thread) {
  Controller c;
  ModelSpec spec = tiny_spec();
  spec.preset = "small";
  spec.dtype = "f32";
  ASSERT_TRUE(c.rebuild(spec)) << c.error();
  const CheckOptions opt = c.check_options();
  EXPECT_EQ(opt.kind, CheckKind::local);  // entries replayed to the loss would cost far more here
  const int k = c.session().find_op("h.1.mlp.c_proj");
  RequestQueue q;
  q.push(req::CheckOp{k, opt});
  c.apply(q);
  c.wait_analysis();
  ASSERT_TRUE(c.analysis().op().has_value());
  ASSERT_TRUE(c.analysis().op()->error.empty()) << c.analysis().op()->error;
  EXPECT_EQ(c.analysis().op()->check.kind, CheckKind::local);
  EXPECT_EQ(c.check_mark(k), CheckMark::pass);

  // Every op, with progress that ends at the whole of the work, and a time it took.
  q.push(req::RunChecks{-1, true, true});
  c.apply(q);
  EXPECT_TRUE(c.analysis().all_busy());
  c.wait_analysis();
  const AllProgress p = c.analysis().all_progress_info();
  EXPECT_EQ(p.done, p.total);
  EXPECT_DOUBLE_EQ(p.fraction, 1.0);
  EXPECT_GT(p.elapsed_s, 0);
  ASSERT_TRUE(c.analysis().all().has_value());
  EXPECT_TRUE(c.analysis().all()->report.pass);
  for (int i = 0; i < c.n_ops(); ++i) EXPECT_NE(c.check_mark(i), CheckMark::fail) << c.session().op_name(i);
  EXPECT_FALSE(c.analysis().all()->report.params.empty());
}

TEST(analysis, time_left_reads_as_a_sentence) {
  AllProgress p;
  p.elapsed_s = 8;
  EXPECT_EQ(time_left_text(p), "8 s so far");
  p.left_s = 150;
  EXPECT_EQ(time_left_text(p), "about 2.5 min left (8 s so far)");
}

TEST(analysis, one_op_at_a_chosen_step) {
  Controller c;
  ASSERT_TRUE(c.rebuild(tiny_spec()));
  const int k = c.session().find_op("h.0.ln_1");
  CheckOptions opt = CheckOptions::defaults(DType::f64);
  opt.eps = 1e-3;
  RequestQueue q;
  q.push(req::CheckOp{k, opt});
  c.apply(q);
  ASSERT_TRUE(c.analysis().op_requested().has_value());
  EXPECT_EQ(*c.analysis().op_requested(), (OpCheckKey{c.version(), k, 1e-3, opt.max_entries}));
  c.wait_analysis();
  ASSERT_TRUE(c.analysis().op().has_value());
  EXPECT_EQ(c.analysis().op()->key.eps, 1e-3);
  EXPECT_GT(c.analysis().op()->check.checked, 0);
  EXPECT_EQ(c.check_mark(k), CheckMark::not_run);  // not the default options: no mark

  q.push(req::CheckOp{k, CheckOptions::defaults(DType::f64)});
  c.apply(q);
  c.wait_analysis();
  EXPECT_EQ(c.check_mark(k), CheckMark::pass);

  q.push(req::CheckOp{c.n_ops() + 3, opt});  // bad input: one line, nothing started
  c.apply(q);
  EXPECT_FALSE(c.error().empty());
}

TEST(analysis, error_against_eps_is_a_v) {
  Controller c;
  ASSERT_TRUE(c.rebuild(tiny_spec()));
  const int k = c.session().find_op("h.0.mlp.gelu");
  RequestQueue q;
  q.push(req::SweepEps{k, false, 0, 5});
  c.apply(q);
  c.wait_analysis();
  ASSERT_TRUE(c.analysis().sweep().has_value());
  const SweepResult& r = *c.analysis().sweep();
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.points.size(), fine_eps_sweep().size());
  double best = HUGE_VAL;
  for (const EpsPoint& p : r.points) best = std::min(best, p.abs_err);
  // Large steps: truncation; tiny steps: round-off; in between, far smaller than both.
  EXPECT_GT(r.points.front().abs_err, 100 * best);
  EXPECT_GT(r.points.back().abs_err, 100 * best);
  EXPECT_LT(best, 1e-8);

  q.push(req::SweepEps{k, true, 0, 0});  // gelu has no parameters
  c.apply(q);
  c.wait_analysis();
  EXPECT_FALSE(c.analysis().sweep()->error.empty());
}

TEST(analysis, cancel_and_shutdown_while_working) {
  {
    Controller c;
    ModelSpec s;
    s.preset = "small";
    s.seq = 32;
    ASSERT_TRUE(c.rebuild(s)) << c.error();
    RequestQueue q;
    q.push(req::RunChecks{-1, true, true});
    c.apply(q);
    q.push(req::CancelChecks{});
    c.apply(q);
    c.wait_analysis();
    EXPECT_FALSE(c.analysis().all_busy());
    // Either it was stopped before it began (no report) or part-way (a cancelled report).
    if (c.analysis().all()) {
      EXPECT_TRUE(c.analysis().all()->report.cancelled);
    }
    // And a controller that goes away mid-work joins its worker cleanly.
    q.push(req::RunChecks{-1, true, true});
    c.apply(q);
  }
  SUCCEED();
}

TEST(analysis, helpers) {
  const std::vector<double> e = fine_eps_sweep();
  ASSERT_EQ(e.size(), 45u);
  EXPECT_DOUBLE_EQ(e.front(), 1e-1);
  EXPECT_NEAR(e.back(), 1e-12, 1e-24);
  for (size_t i = 1; i < e.size(); ++i) EXPECT_LT(e[i], e[i - 1]);
  CheckOptions a = CheckOptions::defaults(DType::f64), b = a;
  EXPECT_TRUE(same_check(a, b));
  b.eps = 1e-5;
  EXPECT_FALSE(same_check(a, b));

  CheckReport r;
  for (int k = 0; k < 6; ++k) {
    OpCheck o;
    o.op = k;
    o.checked = k == 2 ? 0 : 4;
    o.pass = !(k == 1 || k == 3);
    r.ops.push_back(o);
  }
  EXPECT_EQ(first_failure_from_loss(r), 3);
  r.ops[3].pass = true;
  EXPECT_EQ(first_failure_from_loss(r), 1);
  r.ops[1].pass = true;
  EXPECT_EQ(first_failure_from_loss(r), -1);
}

// [SECTION] axes for the hand-drawn plots

TEST(plot_axes, log_axis_maps_decades_evenly) {
  Axis ax{1e-12, 1e-1, true, 0, 1100};
  EXPECT_FLOAT_EQ(ax.to_px(1e-12), 0);
  EXPECT_FLOAT_EQ(ax.to_px(1e-1), 1100);
  EXPECT_NEAR(ax.to_px(1e-6), 600, 1e-3);
  EXPECT_NEAR(ax.from_px(600), 1e-6, 1e-15);
  Axis lin{0, 10, false, 100, 0};  // a y axis: up is smaller pixels
  EXPECT_FLOAT_EQ(lin.to_px(5), 50);
  EXPECT_DOUBLE_EQ(lin.from_px(20), 8);
}

TEST(plot_axes, ticks) {
  const std::vector<Tick> t = log_ticks(1e-12, 1e-1);
  int majors = 0, labels = 0;
  for (const Tick& k : t) {
    majors += k.major;
    labels += !k.label.empty();
    if (!k.major) {
      EXPECT_TRUE(k.label.empty());
    }
  }
  EXPECT_EQ(majors, 12);
  EXPECT_LE(labels, 8);
  EXPECT_GE(labels, 4);
  EXPECT_EQ(t.front().label, "10⁻¹²");
  EXPECT_EQ(decade_label(-6), "10⁻⁶");
  EXPECT_EQ(decade_label(0), "1");
  EXPECT_EQ(decade_label(3), "10³");
  const std::vector<Tick> l = linear_ticks(0, 1);
  ASSERT_EQ(l.size(), 6u);
  EXPECT_EQ(l[0].label, "0");
  EXPECT_EQ(l[1].label, "0.2");
  EXPECT_EQ(l[5].label, "1");
  EXPECT_TRUE(log_ticks(0, 1).empty());  // no log axis through zero
  double lo, hi;
  decade_range({3e-7, 0.0, 2e-3, NAN}, lo, hi);
  EXPECT_DOUBLE_EQ(lo, 1e-7);
  EXPECT_DOUBLE_EQ(hi, 1e-2);
  padded_range({2.0, 2.0}, lo, hi);
  EXPECT_LT(lo, 2.0);
  EXPECT_GT(hi, 2.0);
}

// [SECTION] gradient norms per layer

TEST(grad_norms, grouped_as_recorded) {
  const std::vector<std::string> names = {"wte.weight", "wpe.weight", "h.0.ln_1.weight", "h.0.attn.c_attn.weight",
                                          "h.1.ln_1.weight", "h.1.mlp.c_fc.weight", "ln_f.weight"};
  const std::vector<std::string> groups = {"embeddings", "embeddings", "block 0", "block 0", "block 1", "block 1",
                                           "head and loss"};
  const std::vector<double> norms = {3, 4, 2, -1, 1, 2, -1};
  const std::vector<NormGroup> g = group_grad_norms(names, groups, norms);
  ASSERT_EQ(g.size(), 4u);
  EXPECT_EQ(g[0].title, "embeddings");
  EXPECT_DOUBLE_EQ(g[0].norm, 5);
  EXPECT_EQ(g[1].title, "block 0");
  EXPECT_DOUBLE_EQ(g[1].norm, 2);  // the frozen c_attn adds nothing
  EXPECT_EQ(g[1].parts.size(), 2u);
  EXPECT_EQ(g[2].title, "block 1");
  EXPECT_DOUBLE_EQ(g[2].norm, std::sqrt(5.0));
  EXPECT_EQ(g[3].title, "head and loss");
  EXPECT_TRUE(g[3].frozen);

  // A NaN gradient is not a frozen one: the group's norm says NaN.
  const std::vector<NormGroup> n = group_grad_norms({"ln_f.weight"}, {"head and loss"}, {std::nan("")});
  ASSERT_EQ(n.size(), 1u);
  EXPECT_FALSE(n[0].frozen);
  EXPECT_TRUE(std::isnan(n[0].norm));
}

TEST(grad_norms, of_a_real_model_add_up) {
  Session<double> s(tiny_spec());
  s.tape->forward();
  s.tape->backward();
  const std::vector<NormGroup> g = grad_norms_by_layer(*s.model);
  ASSERT_EQ(g.size(), 4u);  // embeddings, block 0, block 1, head and loss
  double sq = 0, want = 0;
  for (const NormGroup& x : g) sq += x.norm * x.norm;
  for (const auto& p : s.model->params())
    for (int64_t i = 0; i < p.grad.size(); ++i) want += p.grad[i] * p.grad[i];
  EXPECT_GT(want, 0);
  EXPECT_NEAR(sq, want, 1e-12 * want);
}

}  // namespace
}  // namespace gs::app
