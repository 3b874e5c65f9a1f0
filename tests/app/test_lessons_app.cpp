// Lesson mode without a screen: opening a lesson, Next and Back driving the model and the cursor,
// answers hidden until revealed, leaving and coming back, a bad file leaving the lesson on screen;
// and the Wiggle and Update views' numbers (wiggle.h) against the tape and a real optimiser step.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "../test_util.h"
#include "app_test_util.h"
#include "controller.h"
#include "gradscope/gradcheck.h"
#include "gradscope/program.h"
#include "wiggle.h"

namespace gs::app {
namespace {

using test::run;

void open(Controller& c, const std::string& id, int step = 1) {
  run(c, req::OpenLesson{id, step, ""});
  ASSERT_TRUE(c.in_lesson()) << c.error();
}

TEST(lesson_mode, opens_at_the_first_step_with_its_model) {
  Controller c;
  open(c, "01-one-weight");
  EXPECT_EQ(c.current_lesson()->id, "01-one-weight");
  EXPECT_EQ(c.lesson().step, 0);
  EXPECT_EQ(c.session().program(), "line");
  EXPECT_DOUBLE_EQ(c.session().loss(), 4.0);
  EXPECT_EQ(c.step(), 0);  // at = "start"
  EXPECT_TRUE(c.highlighted("a"));
  EXPECT_FALSE(c.highlighted("x"));
}

TEST(lesson_mode, answers_stay_hidden_until_revealed) {
  Controller c;
  open(c, "01-one-weight", 2);
  ASSERT_FALSE(c.lesson_step()->question.empty());
  EXPECT_FALSE(c.revealed());
  c.apply(req::LessonNext{});
  c.wait_jobs();
  c.apply(req::LessonBack{});
  c.wait_jobs();
  EXPECT_FALSE(c.revealed()) << "moving around reveals nothing";
  c.apply(req::RevealAnswer{});
  EXPECT_TRUE(c.revealed());
  c.apply(req::LessonNext{});
  c.wait_jobs();
  EXPECT_FALSE(c.revealed()) << "the next step's answer is its own";
  c.apply(req::LessonBack{});
  c.wait_jobs();
  EXPECT_TRUE(c.revealed()) << "an answer revealed stays revealed in the lesson";
}

// The step of a lesson that does `what` (1-based), so the test follows the file.
int step_doing(const std::string& id, LessonStep::Action what) {
  const Lesson l = find_lesson(id);
  for (size_t i = 0; i < l.steps.size(); ++i)
    if (l.steps[i].action == what) return static_cast<int>(i) + 1;
  return -1;
}

TEST(lesson_mode, next_drives_the_cursor_and_the_model) {
  Controller c;
  open(c, "02-the-table", 3);  // at = "backward L"
  EXPECT_EQ(c.step(), backward_step_of(c.session().find_op("L"), c.n_ops()));
  run(c, req::LessonNext{});  // backward y3
  EXPECT_EQ(c.info().op, c.session().find_op("y3"));
  EXPECT_TRUE(c.in_backward());
  // A step plants a mistake, the next checks, the next repairs.
  const int plant = step_doing("02-the-table", LessonStep::Action::plant);
  ASSERT_GT(plant, 0);
  ASSERT_EQ(step_doing("02-the-table", LessonStep::Action::check), plant + 1);
  ASSERT_EQ(step_doing("02-the-table", LessonStep::Action::repair), plant + 2);
  run(c, req::LessonGo{plant});
  const int y2 = c.session().find_op("y2");
  auto planted = [&] { return c.session().visit([&](const auto& s) { return s.tape->op(y2).mistake; }); };
  EXPECT_EQ(planted(), Mistake::flipped_sign);
  run(c, req::LessonNext{});
  EXPECT_EQ(c.check_mark(y2), CheckMark::fail);
  EXPECT_EQ(first_failure_from_loss(c.n_ops(), [&](int k) { return c.check(k); }), y2);
  run(c, req::LessonNext{});
  EXPECT_EQ(planted(), Mistake::none);
  // Back to the planting step: the mistake is there again (the lesson replays its actions) …
  run(c, req::LessonGo{plant});
  EXPECT_EQ(planted(), Mistake::flipped_sign);
  // … and before it, gone.
  run(c, req::LessonGo{plant - 1});
  EXPECT_EQ(planted(), Mistake::none);
}

TEST(lesson_mode, an_update_step_takes_the_step_once_however_it_is_reached) {
  Controller c;
  open(c, "01-one-weight", 5);
  EXPECT_DOUBLE_EQ(c.session().loss(), 4.0);
  run(c, req::LessonNext{});  // update sgd 0.05: a 0.9, b 0.2, loss 1
  EXPECT_NEAR(c.session().loss(), 1.0, 1e-12);
  ASSERT_TRUE(c.last_step_on_screen());
  run(c, req::LessonBack{});
  EXPECT_DOUBLE_EQ(c.session().loss(), 4.0);
  Controller d;
  open(d, "01-one-weight", 6);  // straight to it
  EXPECT_NEAR(d.session().loss(), 1.0, 1e-12);
}

TEST(lesson_mode, next_walks_on_into_the_next_lesson) {
  Controller c;
  const int n = static_cast<int>(load_lesson(default_lessons_dir() + "/01-one-weight.toml").steps.size());
  open(c, "01-one-weight", n);
  run(c, req::LessonNext{});
  EXPECT_EQ(c.current_lesson()->id, "02-the-table");
  EXPECT_EQ(c.lesson().step, 0);
  run(c, req::LessonBack{});
  EXPECT_EQ(c.current_lesson()->id, "01-one-weight");
  EXPECT_EQ(c.lesson().step, n - 1);
}

TEST(lesson_mode, leave_explore_and_come_back) {
  Controller c;
  open(c, "05-matrices", 3);
  const int step = c.step();
  c.apply(req::LeaveLesson{});
  EXPECT_FALSE(c.in_lesson());
  EXPECT_EQ(c.lesson_step(), nullptr);
  EXPECT_FALSE(c.highlighted("Y"));  // nothing points while exploring
  // Explore: another model altogether.
  ModelSpec other;
  other.program = "attention";
  ASSERT_TRUE(c.rebuild(other));
  run(c, req::ResumeLesson{});
  EXPECT_TRUE(c.in_lesson());
  EXPECT_EQ(c.lesson().step, 2);
  EXPECT_EQ(c.session().program(), "matrix");
  EXPECT_EQ(c.step(), step);
}

TEST(lesson_mode, a_bad_file_leaves_the_lesson_on_screen) {
  Controller c;
  open(c, "03-two-layers", 2);
  const std::string bad = testing::TempDir() + "/bad_lesson.toml";
  std::ofstream(bad) << "title = \"t\"\nprogram = \"line\"\n[[step]]\ntext = \"x\"\nat = \"forward nope\"\n";
  run(c, req::OpenLesson{bad, 1, ""});
  EXPECT_NE(c.error().find("bad_lesson.toml:5:6:"), std::string::npos) << c.error();
  EXPECT_EQ(c.current_lesson()->id, "03-two-layers");
  EXPECT_EQ(c.lesson().step, 1);
  EXPECT_EQ(c.session().program(), "two_layers");
  run(c, req::OpenLesson{"01-one-weight", 99, ""});
  EXPECT_NE(c.error().find("step 99"), std::string::npos) << c.error();
  EXPECT_EQ(c.current_lesson()->id, "03-two-layers");
}

// What the checker refuses, the app refuses with the same line and the lesson on screen stays;
// what it passes, the app opens at every step — the last one at once, Back to the first, and
// forward again (each replays up to LessonLimits' work).
TEST(lesson_mode, the_app_opens_exactly_what_the_check_passes) {
  Controller c;
  open(c, "03-two-layers", 2);
  const std::string diverge = testing::TempDir() + "/diverge_lesson.toml";
  std::ofstream(diverge) << "title = \"t\"\nprogram = \"line\"\n[[step]]\ntext = \"a\"\n[[step]]\ntext = \"b\"\n"
                            "update = { lr = 0.5, steps = 1000 }\n";
  run(c, req::OpenLesson{diverge, 2, ""});
  EXPECT_EQ(c.error().rfind(diverge + ":7:10: step 2: training stops at optimiser step ", 0), 0u) << c.error();
  EXPECT_EQ(c.current_lesson()->id, "03-two-layers");
  EXPECT_EQ(c.session().program(), "two_layers");
  const std::string heavy = testing::TempDir() + "/heavy_lesson.toml";
  {
    std::ofstream f(heavy);
    f << "title = \"t\"\nprogram = \"line\"\n";
    for (int i = 0; i < 4; ++i) f << "[[step]]\ntext = \"x\"\nupdate = { lr = 0.01, steps = 250 }\n";
  }
  ASSERT_NO_THROW(load_lesson(heavy));
  run(c, req::OpenLesson{heavy, 4, ""});
  ASSERT_TRUE(c.error().empty()) << c.error();
  EXPECT_EQ(c.optimizer_steps(), 1000);
  for (int s = 3; s >= 1; --s) {
    run(c, req::LessonBack{});
    ASSERT_TRUE(c.error().empty()) << c.error();
    EXPECT_EQ(c.optimizer_steps(), 250 * s);
  }
  run(c, req::LessonGo{4});
  EXPECT_EQ(c.optimizer_steps(), 1000);
}

// Every step of every shipped lesson can be reached, and leaves no error behind.
TEST(lesson_mode, every_step_of_every_lesson_is_reachable) {
  Controller c;
  open(c, "01-one-weight");
  int steps = 1;
  while (!(c.lesson().lesson + 1 == static_cast<int>(c.lesson().path.size()) &&
           c.lesson().step + 1 == static_cast<int>(c.current_lesson()->steps.size()))) {
    run(c, req::LessonNext{});
    ASSERT_TRUE(c.error().empty()) << c.current_lesson()->id << " step " << c.lesson().step + 1 << ": " << c.error();
    ASSERT_TRUE(c.in_lesson());
    ++steps;
    ASSERT_LT(steps, 400);
  }
  EXPECT_GT(steps, 70);
  EXPECT_EQ(c.current_lesson()->id, "12-gpt2-lora");
}

// [SECTION] the Wiggle view: its central difference agrees with the tape's gradient

TEST(wiggle, central_difference_matches_the_gradient_on_every_lesson_program) {
  for (const Program* p : programs()) {
    if (p->is_gpt2()) continue;
    Controller c;
    ModelSpec s;
    s.program = p->name();
    if (s.program == "lora_linear") s.sets = {"B=0.4"};  // else ∂L/∂A is 0 everywhere
    if (s.program == "custom") s = gs::test::every_custom_op_spec();  // a model of one's own needs its text
    ASSERT_TRUE(c.rebuild(s)) << c.error();
    int checked = 0;
    c.session().visit([&](const auto& sess) {
      for (const auto& prm : sess.model->params()) {
        if (!prm.trainable) continue;
        for (int64_t i = 0; i < prm.data.size(); i += std::max<int64_t>(1, prm.data.size() / 3)) {
          const WiggleCurve w = wiggle_curve(c.session(), prm.name, i);
          ASSERT_TRUE(w.error.empty()) << w.error;
          EXPECT_TRUE(w.pass) << p->name() << " " << prm.name << "[" << i << "]: " << w.analytic << " vs " << w.numeric;
          EXPECT_NEAR(w.analytic, static_cast<double>(prm.grad[i]), 0.0);
          ASSERT_EQ(w.xs.size(), w.ls.size());
          // The curve passes through the model's own loss at its value.
          double nearest = 1e300;
          for (size_t k = 0; k < w.xs.size(); ++k)
            if (std::abs(w.xs[k] - w.value) < 1e-12) nearest = w.ls[k];
          EXPECT_NEAR(nearest, w.loss, 1e-12);
          ++checked;
        }
      }
    });
    EXPECT_GT(checked, 0) << p->name();
  }
}

TEST(wiggle, a_wrong_gradient_does_not_pass) {
  Controller c;
  ModelSpec s;
  s.program = "two_layers";
  ASSERT_TRUE(c.rebuild(s));
  run(c, req::PlantMistake{c.session().find_op("y3"), Mistake::wrong_derivative});
  EXPECT_FALSE(wiggle_curve(c.session(), "a1", 0).pass);
  EXPECT_TRUE(wiggle_curve(c.session(), "a2", 0).pass);  // a2's own gradient is still right
}

TEST(wiggle, the_line_lessons_loss_plane_has_its_minimum_on_the_data) {
  Controller c;
  ModelSpec s;
  s.program = "line";
  ASSERT_TRUE(c.rebuild(s));
  const LossPlane p = loss_plane(c.session(), "a", "b", 21);
  ASSERT_TRUE(p.error.empty()) << p.error;
  ASSERT_EQ(p.ls.size(), 21u * 21u);
  EXPECT_DOUBLE_EQ(p.gx, -8.0);
  EXPECT_DOUBLE_EQ(p.gy, -4.0);
  // The loss is 0 wherever 2a + b = 3: its smallest grid value is near 0.
  EXPECT_LT(*std::min_element(p.ls.begin(), p.ls.end()), 0.1);
}

TEST(wiggle, setting_a_value_by_hand_rebuilds_the_lesson_model) {
  Controller c;
  ModelSpec s;
  s.program = "line";
  ASSERT_TRUE(c.rebuild(s));
  run(c, req::SetValue{"a", 0, 1.5});
  EXPECT_NEAR(c.session().loss(), 0.0, 1e-15);  // 1.5·2 + 0 = 3 = t
  run(c, req::SetValue{"x", 0, 1});              // an input too
  EXPECT_NEAR(c.session().loss(), (1.5 - 3) * (1.5 - 3), 1e-15);
  run(c, req::SetValue{"nope", 0, 1});
  EXPECT_FALSE(c.error().empty());
}

// [SECTION] the Update view: "after" is a real optimiser step

TEST(update_view, after_equals_a_real_optimiser_step) {
  for (const char* kind : {"sgd", "adamw"})
    for (const char* prog : {"line", "matrix", "softmax_ce", "gpt2"}) {
      Controller c;
      ModelSpec s = prog == std::string("gpt2") ? test::tiny_spec() : ModelSpec{};
      if (prog != std::string("gpt2")) s.program = prog;
      ASSERT_TRUE(c.rebuild(s)) << c.error();
      OptimizerOptions o;
      o.kind = kind;
      o.lr = 0.05;
      const UpdatePreview u = preview_update(c.session(), o, 1);
      ASSERT_TRUE(u.error.empty()) << u.error;
      run(c, req::OptimizerStep{o});
      EXPECT_NEAR(u.loss_after, c.session().loss(), 1e-12) << prog << " " << kind;
      c.session().visit([&](const auto& sess) {
        for (const UpdateRow& r : u.rows) {
          const auto& p = sess.model->param(r.param);
          for (size_t i = 0; i < r.after.size(); ++i) EXPECT_NEAR(r.after[i], double(p.data[int64_t(i)]), 1e-12);
        }
      });
      // And the view of the step just taken says the same.
      ASSERT_TRUE(c.last_step_on_screen());
      const UpdatePreview t = describe_step(c.before_last_step(), c.session(), o);
      EXPECT_NEAR(t.loss_before, u.loss_before, 0.0);
      EXPECT_NEAR(t.loss_after, u.loss_after, 1e-12);
      EXPECT_NEAR(t.predicted, u.predicted, 1e-12 * (1 + std::abs(u.predicted)));
      if (std::string(kind) == "sgd") {
        // −η·‖g‖²
        double g2 = 0;
        for (const UpdateRow& r : u.rows) g2 += r.grad_norm * r.grad_norm;
        EXPECT_NEAR(u.predicted, -0.05 * g2, 1e-12 * (1 + g2));
      }
      if (std::string(prog) == "softmax_ce" || std::string(prog) == "gpt2") EXPECT_FALSE(u.targets.empty());
    }
}

TEST(update_view, a_learning_rate_that_overshoots_raises_the_loss) {
  Controller c;
  ModelSpec s;
  s.program = "line";
  ASSERT_TRUE(c.rebuild(s));
  OptimizerOptions o;
  o.kind = "sgd";
  o.lr = 0.05;
  const UpdatePreview u = preview_update(c.session(), o, 1);
  ASSERT_EQ(u.sweep.size(), 6u);
  EXPECT_LT(u.sweep[0].actual, 0);   // η = 0.005: down, close to the prediction
  EXPECT_NEAR(u.sweep[0].actual, u.sweep[0].predicted, 0.05 * std::abs(u.sweep[0].predicted));
  EXPECT_GT(u.sweep.back().actual, 0);  // η = 1.5: past the bottom and up the other side
}

}  // namespace
}  // namespace gs::app
