// A model of one's own in the app's controller (no screen): CS231n's circuit built from its text,
// a text that is wrong leaving the model on screen with the place of the error, and training a
// model with inputs changing its parameters only.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "app_test_util.h"
#include "controller.h"
#include "typed_model.h"

namespace gs::app {
namespace {

using test::run;

ModelSpec circuit() {
  ModelSpec s;
  s.program = "custom";
  s.model_text = "q = x + y\nf = q * z";
  s.sets = {"x=-2", "y=5", "z=-4"};
  return s;
}

// Every leaf's gradient, parameters and inputs alike, as the views show it.
std::map<std::string, std::vector<double>> leaf_grads(const Controller& c) {
  std::map<std::string, std::vector<double>> g;
  c.session().visit([&](const auto& s) {
    for (const auto& p : s.model->params()) g[p.name] = std::vector<double>(p.grad.begin(), p.grad.end());
    for (int id : s.tape->inputs()) {
      const auto& v = s.tape->value(id);
      if (!v.grad.empty()) g[v.name] = std::vector<double>(v.grad.begin(), v.grad.end());
    }
  });
  return g;
}

std::map<std::string, std::vector<double>> leaf_values(const Controller& c) {
  std::map<std::string, std::vector<double>> g;
  c.session().visit([&](const auto& s) {
    for (const auto& p : s.model->params()) g[p.name] = std::vector<double>(p.data.begin(), p.data.end());
    for (int id : s.tape->inputs()) {
      const auto& v = s.tape->value(id);
      g[v.name] = std::vector<double>(v.data.begin(), v.data.end());
    }
  });
  return g;
}

TEST(custom_app, the_circuit_builds_from_its_text) {
  Controller c;
  ASSERT_TRUE(c.rebuild(circuit())) << c.error();
  EXPECT_EQ(c.n_ops(), 2);
  EXPECT_EQ(c.session().op_name(0), "q");
  EXPECT_EQ(c.session().op_name(1), "f");
  EXPECT_DOUBLE_EQ(c.session().loss(), -12.0);
  const auto g = leaf_grads(c);
  ASSERT_EQ(g.size(), 3u);
  EXPECT_DOUBLE_EQ(g.at("x")[0], -4.0);
  EXPECT_DOUBLE_EQ(g.at("y")[0], -4.0);
  EXPECT_DOUBLE_EQ(g.at("z")[0], 3.0);
  EXPECT_FALSE(c.build_error());
}

// The model's text with a mistake: the model on screen stays, and the place is there to show.
TEST(custom_app, a_wrong_text_keeps_the_model_on_screen_and_says_where) {
  Controller c;
  ASSERT_TRUE(c.rebuild(circuit())) << c.error();
  c.apply(req::JumpTo{3});
  const uint64_t gen = c.spec_generation(), version = c.version();

  ModelSpec bad = circuit();
  bad.model_text = "q = x + y\nf = foo(q) * z";
  run(c, req::Rebuild{bad});
  EXPECT_EQ(c.spec_generation(), gen);
  EXPECT_EQ(c.version(), version);
  EXPECT_EQ(c.n_ops(), 2);
  EXPECT_EQ(c.step(), 3);
  EXPECT_DOUBLE_EQ(c.session().loss(), -12.0);
  EXPECT_EQ(*c.spec().model_text, *circuit().model_text);
  ASSERT_TRUE(c.build_error());
  const BuildError& e = *c.build_error();
  EXPECT_EQ(e.program, "custom");
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.col, 5);
  EXPECT_EQ(e.text, *bad.model_text);  // the line under which the place is marked
  EXPECT_NE(e.message.find("foo"), std::string::npos) << e.message;
  EXPECT_EQ(e.message.find("2:5"), std::string::npos) << "the message is without its place: " << e.message;
  EXPECT_NE(c.error().find("model not changed"), std::string::npos) << c.error();
  EXPECT_NE(c.error().find("2:5"), std::string::npos) << c.error();

  // Shapes that do not fit: found at the operator, line 1 column 11.
  ModelSpec shapes;
  shapes.program = "custom";
  shapes.model_text = "f = sum(x * y)";
  shapes.sets = {"x=1,2", "y=1,2,3"};
  const uint64_t serial = e.serial;
  run(c, req::Rebuild{shapes});
  ASSERT_TRUE(c.build_error());
  EXPECT_GT(c.build_error()->serial, serial);
  EXPECT_EQ(c.build_error()->line, 1);
  EXPECT_EQ(c.build_error()->col, 11);
  EXPECT_DOUBLE_EQ(c.session().loss(), -12.0);

  // A problem that is not at a place in the text: no line, the whole message.
  ModelSpec inputs = circuit();
  inputs.inputs = "w";
  run(c, req::Rebuild{inputs});
  ASSERT_TRUE(c.build_error());
  EXPECT_EQ(c.build_error()->line, 0);
  EXPECT_NE(c.build_error()->message.find("'w'"), std::string::npos) << c.build_error()->message;
  EXPECT_EQ(c.n_ops(), 2);

  // A good text again: in place, and nothing wrong is left to show.
  ModelSpec good = circuit();
  good.model_text = "q = x + y\nf = q * z * 2";
  run(c, req::Rebuild{good});
  EXPECT_GT(c.spec_generation(), gen);
  EXPECT_FALSE(c.build_error());
  EXPECT_TRUE(c.error().empty()) << c.error();
  EXPECT_DOUBLE_EQ(c.session().loss(), -24.0);
}

// A model with data: training changes its parameters, never its inputs.
TEST(custom_app, training_changes_the_parameters_only) {
  ModelSpec s;
  s.program = "custom";
  s.model_text = "h = tanh(X @ W1 + b1)\ny = h @ W2 + b2\nL = mean((y - t) ** 2)";
  s.sets = {"X=0,0;0,1;1,0;1,1", "W1=0.5,-0.4,0.3;-0.6,0.7,0.2", "b1=0.1,-0.1,0", "W2=0.8;-0.5;0.4", "b2=0.05",
            "t=0;1;1;0"};
  s.inputs = "X,t";
  Controller c;
  ASSERT_TRUE(c.rebuild(s)) << c.error();
  const auto before = leaf_values(c);
  ASSERT_EQ(before.size(), 6u);
  const double loss0 = c.session().loss();
  OptimizerOptions opt;
  opt.kind = "sgd";
  opt.lr = 0.1;
  run(c, req::Train{5, opt});
  ASSERT_TRUE(c.error().empty()) << c.error();
  EXPECT_EQ(c.optimizer_steps(), 5);
  EXPECT_LT(c.session().loss(), loss0);
  const auto after = leaf_values(c);
  EXPECT_EQ(after.at("X"), before.at("X"));
  EXPECT_EQ(after.at("t"), before.at("t"));
  for (const char* p : {"W1", "b1", "W2", "b2"}) EXPECT_NE(after.at(p), before.at(p)) << p;
}

// [SECTION] the text box's edits (typed_model.h)

TEST(custom_app, a_new_text_keeps_the_values_of_its_leaves) {
  ModelSpec s = circuit();
  s.inputs = "x,z";
  // z goes, w comes: x and y keep their values, w starts at 1, z is no longer an input.
  const ModelSpec t = with_model_text(s, "q = x + y\nf = q * w");
  EXPECT_EQ(*t.model_text, "q = x + y\nf = q * w");
  EXPECT_EQ(t.sets, (std::vector<std::string>{"x=-2", "y=5", "w=1"}));
  EXPECT_EQ(t.inputs.value_or("?"), "x");
  Controller c;
  ASSERT_TRUE(c.rebuild(t)) << c.error();
  EXPECT_DOUBLE_EQ(c.session().loss(), 3.0);
  // A text that does not parse goes in as it is (the rebuild says where).
  const ModelSpec bad = with_model_text(s, "f = (x + y");
  EXPECT_EQ(*bad.model_text, "f = (x + y");
  EXPECT_EQ(bad.sets, s.sets);
  run(c, req::Rebuild{bad});
  ASSERT_TRUE(c.build_error());
  EXPECT_EQ(c.build_error()->line, 1);
  EXPECT_DOUBLE_EQ(c.session().loss(), 3.0);
}

TEST(custom_app, leaves_become_data_and_take_their_shape_from_text) {
  ModelSpec s = circuit();
  s = with_input(s, "x", true);
  s = with_input(s, "y", true);
  EXPECT_EQ(s.inputs.value_or("?"), "x,y");
  s = with_input(s, "x", false);
  EXPECT_EQ(s.inputs.value_or("?"), "y");
  s = with_input(s, "y", false);
  EXPECT_FALSE(s.inputs);
  // A matrix's rows are kept as rows, so it builds with its shape again.
  EXPECT_EQ(values_text({1, 2, 3, 4, 5, 6}, {2, 3}, false), "1,2,3;4,5,6");
  EXPECT_EQ(values_text({1, 2, 3}, {3, 1}, false), "1;2;3");
  EXPECT_EQ(values_text({1, 2, 3}, {3}, false), "1,2,3");
  EXPECT_EQ(values_text({0.1}, {}, true), "0.10000000000000001");
  ModelSpec m;
  m.program = "custom";
  m.model_text = "y = X @ w\nL = sum(y)";
  m.sets = {"X=" + values_text({1, 2, 3, 4, 5, 6}, {2, 3}, true), "w=" + values_text({1, 0, -1}, {3, 1}, true)};
  Controller c;
  ASSERT_TRUE(c.rebuild(m)) << c.error();
  EXPECT_DOUBLE_EQ(c.session().loss(), (1 - 3) + (4 - 6));
  EXPECT_EQ(one_assignment_a_line("q = x + y; f = q * z"), "q = x + y\nf = q * z");
  EXPECT_EQ(one_assignment_a_line("f = x # a; b"), "f = x # a; b");
}

}  // namespace
}  // namespace gs::app
