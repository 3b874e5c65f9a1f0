// The app's controller without a screen: the cursor over the 2N steps, rebuilds (good and bad
// input), LoRA, training, planted mistakes and finite-difference marks, settings.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <unistd.h>
#include <string>

#include "app_test_util.h"
#include "controller.h"
#include "gradscope/tokenizer.h"

namespace gs::app {
namespace {

using test::run;
using test::tiny_spec;

Controller tiny() {
  Controller c;
  EXPECT_TRUE(c.rebuild(tiny_spec())) << c.error();
  return c;
}

template <class F>
bool any_op(const Controller& c, F f) {
  for (int k = 0; k < c.n_ops(); ++k)
    if (f(k)) return true;
  return false;
}

// [SECTION] the cursor

TEST(controller, step_info_maps_steps_to_ops) {
  const int n = 42;
  EXPECT_EQ(step_info(0, n).op, -1);
  EXPECT_EQ(step_info(1, n).op, 0);
  EXPECT_EQ(step_info(1, n).half, Half::forward);
  EXPECT_EQ(step_info(n, n).op, n - 1);
  EXPECT_EQ(step_info(n, n).half, Half::forward);
  EXPECT_EQ(step_info(n + 1, n).op, n - 1);
  EXPECT_EQ(step_info(n + 1, n).half, Half::backward);
  EXPECT_EQ(step_info(n + 1, n).index, 1);
  EXPECT_EQ(step_info(2 * n, n).op, 0);
  EXPECT_EQ(step_info(2 * n, n).index, n);
  EXPECT_EQ(forward_step_of(5), 6);
  EXPECT_EQ(backward_step_of(5, n), 2 * n - 5);
}

TEST(controller, stepping_never_leaves_bounds) {
  Controller c = tiny();
  const int total = c.total_steps();
  ASSERT_EQ(total, 2 * c.n_ops());
  ASSERT_GT(total, 0);
  EXPECT_EQ(c.step(), 0);
  c.apply(req::Step{-1});
  EXPECT_EQ(c.step(), 0);
  c.apply(req::Step{+3});
  EXPECT_EQ(c.step(), 3);
  c.apply(req::JumpTo{total + 1000});
  EXPECT_EQ(c.step(), total);
  c.apply(req::Step{+1});
  EXPECT_EQ(c.step(), total);
  EXPECT_TRUE(c.at_end());
  c.apply(req::Step{-100000});
  EXPECT_EQ(c.step(), 0);
  c.apply(req::JumpTo{-7});
  EXPECT_EQ(c.step(), 0);
  // Stepping one at a time visits every step once and stops at 2N.
  for (int i = 0; i < total + 5; ++i) c.apply(req::Step{+1});
  EXPECT_EQ(c.step(), total);
}

TEST(controller, playing_stops_at_the_end) {
  Controller c = tiny();
  Settings s = c.settings();
  s.play_speed = 10;
  c.apply(req::SetSettings{s});
  c.apply(req::SetPlaying{true});
  EXPECT_TRUE(c.playing());
  c.tick(0.35);  // 3.5 steps at 10/s
  EXPECT_EQ(c.step(), 3);
  c.tick(1000.0);
  EXPECT_EQ(c.step(), c.total_steps());
  EXPECT_FALSE(c.playing());
  // Play again at the end restarts from the first step.
  c.apply(req::TogglePlaying{});
  EXPECT_TRUE(c.playing());
  EXPECT_EQ(c.step(), 0);
}

TEST(controller, focus_op_lands_on_its_step_in_each_half) {
  Controller c = tiny();
  const int n = c.n_ops();
  const int k = c.session().find_op("h.0.attn.softmax");
  ASSERT_GE(k, 0);
  c.apply(req::FocusOp{k, Half::forward});
  EXPECT_EQ(c.step(), k + 1);
  EXPECT_EQ(c.selection().op, k);
  // One number for an op everywhere: its place on the tape (as the tape and gradscope-cli ops say).
  EXPECT_EQ(c.step_title(), "forward · op " + std::to_string(k) + ": h.0.attn.softmax");
  c.apply(req::FocusOp{k, Half::backward});
  EXPECT_EQ(c.step(), 2 * n - k);
  EXPECT_EQ(c.selection().op, k);
  EXPECT_EQ(c.step_title(), "backward · op " + std::to_string(k) + ": h.0.attn.softmax");
  // "current" keeps the half the cursor is in.
  c.apply(req::FocusOp{2, Half::current});
  EXPECT_EQ(c.step(), 2 * n - 2);
  c.apply(req::FocusOp{n + 5, Half::current});  // no such op: nothing moves
  EXPECT_EQ(c.step(), 2 * n - 2);
}

TEST(controller, readiness_follows_the_cursor) {
  Controller c = tiny();
  const int n = c.n_ops();
  const int k = c.session().find_op("h.0.ln_1");
  ASSERT_GE(k, 0);
  c.apply(req::JumpTo{k});
  EXPECT_TRUE(c.forward_done(k - 1));
  EXPECT_FALSE(c.forward_done(k));
  c.apply(req::JumpTo{k + 1});
  EXPECT_TRUE(c.forward_done(k));
  EXPECT_FALSE(c.backward_done(n - 1));
  // The loss' ∂L/∂L is there once backward starts.
  c.apply(req::JumpTo{n});
  EXPECT_FALSE(c.incoming_ready(n - 1));
  c.apply(req::JumpTo{n + 1});
  EXPECT_TRUE(c.incoming_ready(n - 1));
  EXPECT_TRUE(c.backward_done(n - 1));
  // wpe's output h feeds h.0.ln_1 and h.0.res_1: its gradient is complete only after both.
  const int wpe = c.session().find_op("wpe");
  const int res1 = c.session().find_op("h.0.res_1");
  ASSERT_GE(wpe, 0);
  ASSERT_GT(res1, k);
  c.apply(req::JumpTo{backward_step_of(res1, n)});
  EXPECT_FALSE(c.incoming_ready(wpe));  // h.0.ln_1's share still missing
  c.apply(req::JumpTo{backward_step_of(k, n)});
  EXPECT_TRUE(c.incoming_ready(wpe));
  EXPECT_FALSE(c.backward_done(wpe));
}

// [SECTION] rebuilds

TEST(controller, rebuild_on_config_change) {
  Controller c = tiny();
  const int n = c.n_ops();
  const uint64_t v0 = c.version(), g0 = c.spec_generation();
  const auto x0 = c.session().batch().x;
  ModelSpec s = tiny_spec();
  s.text = "we walk backward through the ops";
  ASSERT_TRUE(c.rebuild(s)) << c.error();
  EXPECT_TRUE(c.error().empty());
  EXPECT_NE(c.session().batch().x, x0);
  EXPECT_EQ(c.n_ops(), n);
  EXPECT_GT(c.version(), v0);
  EXPECT_GT(c.spec_generation(), g0);
  EXPECT_EQ(*c.spec().text, "we walk backward through the ops");

  s.seq = 5;
  run(c, req::Rebuild{s});
  EXPECT_TRUE(c.error().empty()) << c.error();
  EXPECT_EQ(c.session().batch().T, 5);

  s.dtype = "f32";
  run(c, req::Rebuild{s});
  EXPECT_EQ(c.session().dtype(), DType::f32);

  s.preset = "small";
  s.seq = 16;
  run(c, req::Rebuild{s});
  EXPECT_TRUE(c.error().empty()) << c.error();
  EXPECT_EQ(c.session().config().n_embd, 128);
  EXPECT_EQ(c.session().config().n_layer, 4);
  EXPECT_EQ(c.n_ops(), 2 + 4 * 18 + 4);
  // The tape is computed fully after the rebuild: the loss is finite and gradients exist.
  EXPECT_TRUE(std::isfinite(c.session().loss()));
}

TEST(controller, rebuild_keeps_the_cursor_on_the_same_op) {
  Controller c = tiny();
  const int k = c.session().find_op("h.1.mlp.gelu");
  c.apply(req::FocusOp{k, Half::backward});
  ModelSpec s = tiny_spec();
  s.lora_rank = 2;  // adds ops before h.1.mlp.gelu
  ASSERT_TRUE(c.rebuild(s)) << c.error();
  const int k2 = c.session().find_op("h.1.mlp.gelu");
  EXPECT_NE(k2, k);
  EXPECT_TRUE(c.in_backward());
  EXPECT_EQ(c.selection().op, k2);
}

TEST(controller, lora_toggle_changes_the_tape) {
  Controller c = tiny();
  const int n_full = c.n_ops();
  const int L = c.session().config().n_layer;
  auto has_lora = [&] {
    return any_op(c, [&](int k) {
      const OpType t = c.session().op_type(k);
      return t == OpType::lora_down || t == OpType::lora_up;
    });
  };
  EXPECT_FALSE(has_lora());

  ModelSpec s = tiny_spec();
  s.lora_rank = 4;
  s.lora_targets = "attn.c_attn,mlp.c_fc";
  run(c, req::Rebuild{s});
  ASSERT_TRUE(c.error().empty()) << c.error();
  EXPECT_TRUE(has_lora());
  EXPECT_EQ(c.n_ops(), n_full + 2 * 2 * L);  // a down and an up op per target per block
  EXPECT_GE(c.session().find_op("h.0.attn.c_attn.lora_A"), 0);
  EXPECT_GE(c.session().find_op("h.1.mlp.c_fc.lora_B"), 0);
  EXPECT_LT(c.session().find_op("h.0.attn.c_proj.lora_A"), 0);
  c.session().visit([](const auto& s) {
    int lora = 0;
    for (const auto& p : s.model->params()) {
      const bool is_lora = p.name.find("lora_") != std::string::npos;
      EXPECT_EQ(p.trainable, is_lora) << p.name;
      if (!is_lora) {
        EXPECT_TRUE(p.grad.empty()) << p.name << " is frozen but has a gradient buffer";
      }
      lora += is_lora;
    }
    EXPECT_EQ(lora, 2 * 2 * s.model->config().n_layer);
    // No op computes a base-weight gradient.
    for (const auto& op : s.tape->ops())
      for (size_t j = 0; j < op.par.size(); ++j)
        if (!s.model->params()[op.par[j]].trainable) {
          EXPECT_TRUE(op.dpar[j].empty()) << op.name;
        }
  });

  // And back to full fine-tuning.
  s.lora_rank = 0;
  run(c, req::Rebuild{s});
  EXPECT_TRUE(c.error().empty()) << c.error();
  EXPECT_EQ(c.n_ops(), n_full);
  EXPECT_FALSE(has_lora());
}

TEST(controller, bad_config_keeps_the_previous_state) {
  Controller c = tiny();
  c.apply(req::JumpTo{7});
  const int n = c.n_ops();
  const uint64_t v = c.version(), g = c.spec_generation();
  const auto x = c.session().batch().x;
  const double loss = c.session().loss();
  const std::string text = *c.spec().text;

  auto expect_unchanged = [&](const char* what) {
    EXPECT_FALSE(c.error().empty()) << what;
    EXPECT_EQ(c.error().find('\n'), std::string::npos) << "one line: " << c.error();
    EXPECT_EQ(c.n_ops(), n) << what;
    EXPECT_EQ(c.version(), v) << what;
    EXPECT_EQ(c.spec_generation(), g) << what;
    EXPECT_EQ(c.session().batch().x, x) << what;
    EXPECT_EQ(c.session().loss(), loss) << what;
    EXPECT_EQ(*c.spec().text, text) << what;
    EXPECT_EQ(c.step(), 7) << what;
  };

  ModelSpec s = tiny_spec();
  s.text = "Capital letters are not in the vocabulary";
  EXPECT_FALSE(c.rebuild(s));
  expect_unchanged("character outside the vocabulary");
  EXPECT_NE(c.error().find("vocabulary"), std::string::npos) << c.error();

  s = tiny_spec();
  s.heads = 3;  // C 16 % H 3 != 0
  run(c, req::Rebuild{s});
  expect_unchanged("C % H != 0");
  EXPECT_NE(c.error().find("divisible"), std::string::npos) << c.error();

  s = tiny_spec();
  s.seq = 1000;  // T > n_ctx
  run(c, req::Rebuild{s});
  expect_unchanged("T > n_ctx");

  s = tiny_spec();
  s.lora_rank = 2;
  s.lora_targets = "attn.nothing";
  run(c, req::Rebuild{s});
  expect_unchanged("unknown LoRA target");

  s = tiny_spec();
  s.checkpoint = "/nonexistent/weights.safetensors";
  run(c, req::Rebuild{s});
  expect_unchanged("missing checkpoint");

  // A good rebuild afterwards clears the error.
  run(c, req::Rebuild{tiny_spec()});
  EXPECT_TRUE(c.error().empty());
}

TEST(controller, default_model_is_tiny_f64_on_the_sentence) {
  Controller c;
  ASSERT_TRUE(c.load_default()) << c.error();
  EXPECT_EQ(c.session().dtype(), DType::f64);
  EXPECT_EQ(c.session().batch().T, 8);
  ASSERT_TRUE(c.session().tokenizer().has_value());
  const auto& b = c.session().batch();
  EXPECT_EQ(c.session().tokenizer()->decode(b.x), "the mode");
  EXPECT_EQ(c.session().tokenizer()->decode(b.y), "he model");
  EXPECT_NE(c.weights_source().find("tiny.safetensors"), std::string::npos) << c.weights_source();
  EXPECT_EQ(c.step(), 0);
}

TEST(controller, default_checkpoint_is_kept_under_lora_but_not_for_a_new_seed) {
  const bool have = std::filesystem::exists(asset_path(Controller::kDefaultCheckpoint));
  Controller c;
  ModelSpec s = Controller::default_spec();
  s.lora_rank = 2;
  ASSERT_TRUE(c.load_default(s)) << c.error();
  EXPECT_EQ(c.session().config().lora_rank, 2);
  EXPECT_EQ(c.weights_source().find("weights: tiny.safetensors") != std::string::npos, have) << c.weights_source();
  s.seed = 99;  // a fresh initialisation was asked for
  ASSERT_TRUE(c.load_default(s)) << c.error();
  EXPECT_NE(c.weights_source().find("random init (seed 99)"), std::string::npos) << c.weights_source();
}

// [SECTION] training, mistakes, checks

TEST(controller, training_lowers_the_loss_and_keeps_the_cursor) {
  Controller c = tiny();
  c.apply(req::JumpTo{10});
  const double before = c.session().loss();
  const uint64_t v = c.version();
  OptimizerOptions opt;
  opt.kind = "adamw";
  opt.lr = 1e-2;
  run(c, req::OptimizerStep{opt});
  EXPECT_EQ(c.optimizer_steps(), 1);
  EXPECT_GT(c.version(), v);
  run(c, req::Train{30, opt});
  EXPECT_TRUE(c.error().empty()) << c.error();
  EXPECT_EQ(c.optimizer_steps(), 31);
  ASSERT_EQ(c.losses().size(), 32u);
  EXPECT_EQ(c.losses().front(), before);
  EXPECT_LT(c.session().loss(), before);
  EXPECT_EQ(c.step(), 10);

  opt.kind = "nonsense";
  run(c, req::Train{1, opt});
  EXPECT_FALSE(c.error().empty());
  EXPECT_EQ(c.optimizer_steps(), 31);
}

TEST(controller, planted_mistake_fails_its_check) {
  Controller c = tiny();
  const int k = c.session().find_op("h.0.attn.softmax");
  ASSERT_GE(k, 0);
  EXPECT_EQ(c.check_mark(k), CheckMark::not_run);
  c.apply(req::RunChecks{k});
  EXPECT_EQ(c.check_mark(k), CheckMark::pass);

  run(c, req::PlantMistake{k, Mistake::dropped_term});
  EXPECT_TRUE(c.error().empty()) << c.error();
  EXPECT_EQ(c.check_mark(k), CheckMark::not_run);  // tensors changed: old marks are gone
  c.apply(req::RunChecks{k});
  EXPECT_EQ(c.check_mark(k), CheckMark::fail);

  run(c, req::PlantMistake{k, Mistake::none});
  c.apply(req::RunChecks{k});
  EXPECT_EQ(c.check_mark(k), CheckMark::pass);

  // A mistake the op does not have is refused with a message.
  run(c, req::PlantMistake{k, Mistake::forgotten_scale});
  EXPECT_FALSE(c.error().empty());
}

TEST(controller, every_op_passes_finite_differences) {
  Controller c = tiny();
  c.apply(req::RunChecks{-1});
  EXPECT_TRUE(c.error().empty()) << c.error();
  EXPECT_EQ(c.checks_run(), c.n_ops());
  int passed = 0;
  for (int k = 0; k < c.n_ops(); ++k) {
    const CheckMark m = c.check_mark(k);
    EXPECT_TRUE(m == CheckMark::pass || m == CheckMark::nothing_to_check) << c.session().op_name(k);
    passed += m == CheckMark::pass;
  }
  EXPECT_GT(passed, c.n_ops() / 2);
}

TEST(controller, saved_checkpoint_loads_back) {
  Controller c = tiny();
  OptimizerOptions opt;
  opt.lr = 1e-2;
  run(c, req::Train{5, opt});
  const double loss = c.session().loss();
  const std::string path =
      (std::filesystem::temp_directory_path() / ("gradscope_test_" + std::to_string(::getpid()) + ".safetensors")).string();
  run(c, req::SaveCheckpoint{path});
  ASSERT_TRUE(c.error().empty()) << c.error();
  ModelSpec s = tiny_spec();
  s.checkpoint = path;
  Controller d;
  ASSERT_TRUE(d.rebuild(s)) << d.error();
  EXPECT_DOUBLE_EQ(d.session().loss(), loss);
  EXPECT_NE(d.weights_source().find(".safetensors"), std::string::npos);
  std::filesystem::remove(path);
}

TEST(controller, a_loaded_checkpoint_is_labelled_as_one) {
  Controller c;
  ASSERT_TRUE(c.load_default());
  EXPECT_FALSE(c.from_checkpoint());
  EXPECT_EQ(c.model_label(), "tiny");
  const std::string path =
      (std::filesystem::temp_directory_path() / ("gradscope_label_" + std::to_string(::getpid()) + ".safetensors")).string();
  run(c, req::SaveCheckpoint{path});
  ASSERT_TRUE(c.error().empty()) << c.error();
  ModelSpec s = tiny_spec();
  s.checkpoint = path;
  ASSERT_TRUE(c.rebuild(s)) << c.error();
  EXPECT_TRUE(c.from_checkpoint());
  EXPECT_EQ(c.model_label(), "checkpoint L2 H2 C16");
  s.checkpoint.clear();
  ASSERT_TRUE(c.rebuild(s)) << c.error();
  EXPECT_FALSE(c.from_checkpoint());
  EXPECT_EQ(c.model_label(), "tiny");
  std::filesystem::remove(path);
}

// [SECTION] settings and selection

TEST(controller, settings_are_clamped) {
  Controller c = tiny();
  Settings s;
  s.font_scale = 100.0f;
  s.play_speed = -3;
  s.theme = Theme::light_high_contrast;
  c.apply(req::SetSettings{s});
  EXPECT_EQ(c.settings().font_scale, Settings::kMaxFontScale);
  EXPECT_EQ(c.settings().play_speed, Settings::kMinSpeed);
  EXPECT_EQ(c.settings().theme, Theme::light_high_contrast);
  s.font_scale = 0.01f;
  s.play_speed = std::nan("");
  c.apply(req::SetSettings{s});
  EXPECT_EQ(c.settings().font_scale, Settings::kMinFontScale);
  EXPECT_EQ(c.settings().play_speed, Settings{}.play_speed);
}

TEST(controller, requests_apply_in_order_once) {
  Controller c = tiny();
  RequestQueue q;
  q.push(req::JumpTo{10});
  q.push(req::Step{+2});
  q.push(req::SelectRow{3});
  q.push(req::Hover{"h.0.ln_1", 5});
  c.apply(q);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(c.step(), 12);
  EXPECT_EQ(c.selection().row, 3);
  EXPECT_EQ(c.selection().hover_tensor, "h.0.ln_1");
  EXPECT_EQ(c.selection().hover_index, 5);
  c.apply(q);  // nothing left to apply
  EXPECT_EQ(c.step(), 12);
}

TEST(controller, no_session_is_harmless) {
  Controller c;
  EXPECT_FALSE(c.has_session());
  c.apply(req::Step{+1});
  c.apply(req::RunChecks{-1});
  EXPECT_EQ(c.step(), 0);
  EXPECT_FALSE(c.error().empty());
  EXPECT_EQ(c.step_title(), "no model");
}

}  // namespace
}  // namespace gs::app
