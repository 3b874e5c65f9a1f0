// The three kinds of finite-difference check (gradcheck.h): each passes on correct models in
// f64 and f32 with finite, positive noise floors; each finds every kind of planted mistake at
// the op where it was planted, in f32 at a moderate shape; a gradient off by far less than any
// planted mistake still fails; the Σ-of-shares identity names the op that overwrote a sum;
// checks leave the tape bit for bit as they found it; ops are selected by name; bad names and
// modes are refused with a message.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <type_traits>

#include "gradscope/error.h"
#include "gradscope/gradcheck.h"
#include "gradscope/program.h"
#include "gradscope/session.h"
#include "gradscope/threads.h"
#include "test_util.h"

namespace gs {
namespace {

// These shapes replay thousands of small ops: one thread does that fastest, and on a shared
// two-core machine forked loops wait for a busy core. (The checks do not depend on the count.)
const bool kOneThread = [] {
  set_threads(1);
  return true;
}();

using test::Built;

// Four heads of 16, a vocabulary of 96: large enough that f32 round-off in a float replay of the
// loss would swamp an entry's gradient, small enough for a unit test.
Config f32_config() {
  Config c = test::small_config(3, 4, 64, 96, 32, 16, 1);
  c.dtype = DType::f32;
  return c;
}

template <class T>
Built<T> randomized(const Config& c, uint64_t seed) {
  auto b = test::build<T>(c);
  test::randomize(b, seed);
  return b;
}

CheckOptions kind(CheckKind k, int max_entries = 24) {
  CheckOptions o;
  o.kind = k;
  o.max_entries = max_entries;
  return o;
}

template <class T>
void expect_report_passes(const CheckReport& r, const Tape<T>& tape) {
  EXPECT_TRUE(r.pass);
  int ops = 0;
  for (const OpCheck& oc : r.ops) {
    if (oc.checked == 0) continue;
    ++ops;
    EXPECT_TRUE(oc.pass) << oc.name << " err " << oc.max_abs_err << " floor " << oc.noise_floor;
    EXPECT_GT(oc.noise_floor, 0) << oc.name;
    EXPECT_TRUE(std::isfinite(oc.noise_floor)) << oc.name;
    EXPECT_LE(oc.max_ratio, 1.0) << oc.name;
    for (const TensorCheck& tc : oc.tensors) EXPECT_EQ(tc.kind, r.kind) << oc.name;
  }
  EXPECT_EQ(ops, [&] {
    int n = 0;
    for (const auto& op : tape.ops()) n += op.needs_backward();
    return n;
  }());
  for (const TensorCheck& tc : r.params) {
    EXPECT_TRUE(tc.pass) << tc.label << " err " << tc.max_abs_err << " floor " << tc.noise_floor;
    EXPECT_GT(tc.checked, 0) << tc.label;
    EXPECT_GT(tc.noise_floor, 0) << tc.label;
  }
}

// [SECTION] correct models pass

TEST(gradcheck, directions_pass_on_correct_models_in_double) {
  Config c = test::small_config(2, 2, 16, 13, 8, 8, 2);
  c.lora_rank = 2;
  c.lora_alpha = 4;
  c.lora_targets = {LoraTarget::attn_c_attn, LoraTarget::mlp_c_proj};
  for (CheckKind k : {CheckKind::local, CheckKind::direction}) {
    auto b = randomized<double>(c, 21);
    // LoRA B starts at 0; give it values so every share is non-trivial.
    for (auto& p : b.model->params())
      if (p.name.find("lora_B") != std::string::npos) p.data.fill(0.05);
    b.tape->forward();
    b.tape->backward();
    const CheckReport r = check_all(*b.tape, kind(k), true);
    EXPECT_EQ(r.kind, k);
    expect_report_passes(r, *b.tape);
  }
}

TEST(gradcheck, every_kind_passes_on_a_correct_float_model) {
  for (CheckKind k : {CheckKind::local, CheckKind::direction, CheckKind::entries}) {
    auto b = randomized<float>(f32_config(), 5);
    const CheckReport r = check_all(*b.tape, kind(k, 4), true);
    expect_report_passes(r, *b.tape);
  }
}

TEST(gradcheck, float_noise_floor_is_float_round_off) {
  // Judged in double, a float gradient is allowed float's round-off and no more: the op-local
  // floor of an f32 tape is a few parts in a million of the value, that of an f64 tape is at
  // the level of double's round-off (its numeric side is what limits it).
  auto f = randomized<float>(f32_config(), 6);
  auto d = randomized<double>(test::small_config(3, 4, 64, 96, 32, 16, 1), 6);
  const CheckReport rf = check_all(*f.tape, kind(CheckKind::local), false);
  const CheckReport rd = check_all(*d.tape, kind(CheckKind::local), false);
  double worst_f = 0, worst_d = 0;
  for (const OpCheck& oc : rf.ops)
    for (const TensorCheck& tc : oc.tensors)
      for (const DirectionCheck& dc : tc.directions) {
        EXPECT_GT(dc.floor_analytic, 0);
        EXPECT_GT(dc.along_gradient, 0.05) << oc.name;  // part along g
        EXPECT_LT(dc.along_gradient, 0.95) << oc.name;  // part random
        worst_f = std::max(worst_f, dc.noise_floor() / std::abs(dc.numeric));
      }
  for (const OpCheck& oc : rd.ops)
    for (const TensorCheck& tc : oc.tensors)
      for (const DirectionCheck& dc : tc.directions) worst_d = std::max(worst_d, dc.noise_floor() / std::abs(dc.numeric));
  EXPECT_LT(worst_f, 1e-4);
  EXPECT_GT(worst_f, 1e-8);
  EXPECT_LT(worst_d, 1e-7);
}

// [SECTION] wrong gradients fail

// A share scaled by (1 + 10⁻⁶) after the backward, on a double tape: a wrong gradient far
// smaller than any planted mistake, which both kinds of direction must still call a failure at
// that op and nowhere after it. (On a float tape such a change would not be a mistake of the
// code: a float result that differs from the same backward run in double is float's round-off,
// measured, and the checks say so; planted mistakes are in both.)
TEST(gradcheck, a_gradient_off_by_a_millionth_fails_in_double) {
  for (CheckKind k : {CheckKind::local, CheckKind::direction}) {
    auto b = randomized<double>(test::small_config(3, 4, 64, 96, 32, 16, 1), 8);
    const int op = b.tape->find_op("h.1.mlp.c_fc");
    ASSERT_GE(op, 0);
    for (double& x : b.tape->ops()[op].din[0]) x *= 1.000001;
    const OpCheck oc = check_op(*b.tape, op, kind(k));
    EXPECT_FALSE(oc.pass) << info(k).id;
    EXPECT_GT(oc.max_ratio, 3.0) << info(k).id;
    const OpCheck after = check_op(*b.tape, op + 1, kind(k));
    EXPECT_TRUE(after.pass) << info(k).id << " " << after.name;
  }
}

// Float's round-off beyond the a-priori floor is measured, not guessed: softmaxes made peaked
// (their gradients then come out of a cancellation, here off by percents in float) still pass
// op-locally, each result saying how far float's rounding moved it; and a mistake planted in
// one of them still fails, because the double run has it too.
TEST(gradcheck, float_round_off_beyond_the_bound_is_measured) {
  auto peaked = [] {
    auto b = randomized<float>(f32_config(), 12);
    for (auto& p : b.model->params())
      if (p.name.find("c_attn.weight") != std::string::npos)
        for (float& x : p.data) x *= 8.0f;  // large scores: rows of P near one-hot
    b.tape->forward();
    b.tape->backward();
    return b;
  };
  auto b = peaked();
  const CheckReport r = check_all(*b.tape, kind(CheckKind::local), false);
  expect_report_passes(r, *b.tape);
  int measured = 0;
  for (const OpCheck& oc : r.ops)
    for (const TensorCheck& tc : oc.tensors)
      for (const DirectionCheck& d : tc.directions)
        if (!std::isnan(d.roundoff_measured)) {
          ++measured;
          EXPECT_GT(d.roundoff_measured, d.floor_analytic) << oc.name;  // beyond the a-priori bound
        }
  EXPECT_GT(measured, 0);

  auto m = peaked();
  const int at = m.tape->find_op("h.0.attn.softmax");
  m.tape->set_mistake(at, Mistake::dropped_term);
  m.tape->backward();
  const CheckReport rm = check_all(*m.tape, kind(CheckKind::local), false);
  EXPECT_EQ(first_failure_from_loss(rm), at);
  for (const OpCheck& oc : rm.ops) EXPECT_EQ(oc.pass, oc.op != at) << oc.name;
}

struct Planted {
  const char* op;
  Mistake m;
};

// Every kind of mistake, each where it applies, in f32: the first op failing walking back from
// the loss is the planted one. Op-local checks blame that op alone (ops before it get its
// wrong gradient but compute their own backward right); replays to the loss fail before it too.
TEST(gradcheck, planted_mistakes_are_found_where_planted_in_float) {
  const Planted cases[] = {{"h.1.attn.softmax", Mistake::dropped_term},
                           {"h.2.ln_1", Mistake::dropped_term},
                           {"h.1.attn.qk", Mistake::missing_transpose},
                           {"h.0.attn.c_proj", Mistake::missing_transpose},
                           {"h.1.mlp.gelu", Mistake::flipped_sign},
                           {"h.2.attn.scale", Mistake::forgotten_scale},
                           {"h.1.ln_2", Mistake::forgotten_accumulation},
                           {"wte", Mistake::forgotten_accumulation},
                           {"log_softmax", Mistake::dropped_term}};
  for (const Planted& p : cases) {
    for (CheckKind k : {CheckKind::local, CheckKind::direction, CheckKind::entries}) {
      if (k == CheckKind::entries && p.m != Mistake::dropped_term && p.m != Mistake::forgotten_accumulation) continue;
      auto b = test::build<float>(f32_config());
      test::randomize(b, 9);
      const int at = b.tape->find_op(p.op);
      ASSERT_GE(at, 0) << p.op;
      b.tape->set_mistake(at, p.m);
      b.tape->forward();
      b.tape->backward();
      const CheckReport r = check_all(*b.tape, kind(k, 6), false);
      EXPECT_FALSE(r.pass) << p.op << " " << info(p.m).id << " " << info(k).id;
      EXPECT_EQ(first_failure_from_loss(r), at) << p.op << " " << info(p.m).id << " " << info(k).id;
      if (k == CheckKind::local)
        for (const OpCheck& oc : r.ops) EXPECT_EQ(oc.pass, oc.op != at) << oc.name << " with " << p.op;
    }
  }
}

TEST(gradcheck, the_sum_of_shares_names_the_op_that_overwrote_it) {
  auto b = randomized<double>(test::small_config(2, 2, 16, 13, 8, 8, 1), 3);
  const int k = b.tape->find_op("h.1.ln_1");  // h.0.res_2's output feeds h.1.ln_1 and h.1.res_1
  b.tape->set_mistake(k, Mistake::forgotten_accumulation);
  b.tape->backward();
  const OpCheck mine = check_op(*b.tape, k, kind(CheckKind::local));
  ASSERT_EQ(mine.sums.size(), 1u);
  EXPECT_FALSE(mine.sums[0].pass);
  EXPECT_EQ(mine.sums[0].culprit, k);
  EXPECT_GT(mine.sums[0].max_abs_err, 1e3 * mine.sums[0].tol);
  for (const TensorCheck& tc : mine.tensors) EXPECT_TRUE(tc.pass) << tc.label;  // its share itself is right
  const OpCheck other = check_op(*b.tape, b.tape->find_op("h.1.res_1"), kind(CheckKind::local));
  ASSERT_FALSE(other.sums.empty());
  EXPECT_EQ(other.sums[0].culprit, k);
  EXPECT_TRUE(other.pass);
  // Repaired: the sums hold.
  b.tape->set_mistake(k, Mistake::none);
  b.tape->backward();
  const OpCheck fixed = check_op(*b.tape, k, kind(CheckKind::local));
  EXPECT_TRUE(fixed.pass);
  EXPECT_LE(fixed.sums[0].max_abs_err, fixed.sums[0].tol);
}

// [SECTION] the tape is left as it was

template <class T>
std::vector<std::vector<T>> snapshot(const Tape<T>& tape) {
  std::vector<std::vector<T>> s;
  for (const auto& v : tape.values()) {
    s.emplace_back(v.data.begin(), v.data.end());
    if (!v.grad.empty()) s.emplace_back(v.grad.begin(), v.grad.end());
  }
  for (const auto& op : tape.ops())
    for (const auto& t : op.saved) s.emplace_back(t.begin(), t.end());
  for (const auto& p : tape.model().params()) s.emplace_back(p.data.begin(), p.data.end());
  return s;
}

template <class T>
void expect_untouched(Built<T>& b) {
  const auto before = snapshot(*b.tape);
  for (CheckKind k : {CheckKind::local, CheckKind::direction, CheckKind::entries}) {
    check_all(*b.tape, kind(k, 3), true);
    const auto after = snapshot(*b.tape);
    ASSERT_EQ(before.size(), after.size());
    for (size_t i = 0; i < before.size(); ++i)
      ASSERT_EQ(0, std::memcmp(before[i].data(), after[i].data(), before[i].size() * sizeof(T))) << info(k).id << " " << i;
  }
}

TEST(gradcheck, checks_leave_the_tape_bit_for_bit) {
  auto d = randomized<double>(test::small_config(2, 2, 8, 10, 8, 6, 1), 4);
  expect_untouched(d);
  Config c = test::small_config(2, 2, 8, 10, 8, 6, 1);
  c.dtype = DType::f32;
  auto f = randomized<float>(c, 4);
  expect_untouched(f);
}

// [SECTION] selection, defaults, bad input

TEST(gradcheck, ops_are_selected_by_name) {
  auto b = randomized<double>(test::small_config(2, 2, 8, 10, 8, 6, 1), 2);
  const std::vector<int> ops = find_ops(*b.tape, "h.1.mlp.gelu, lm_head");
  ASSERT_EQ(ops.size(), 2u);
  Checker<double> checker(*b.tape);
  const CheckReport r = checker.all(kind(CheckKind::local), true, &ops);
  ASSERT_EQ(r.ops.size(), 2u);
  EXPECT_EQ(r.ops[0].name, "h.1.mlp.gelu");
  EXPECT_EQ(r.ops[1].name, "lm_head");
  ASSERT_EQ(r.params.size(), 1u);  // gelu has none; lm_head uses wte
  EXPECT_EQ(r.params[0].label, "param wte.weight");
  EXPECT_EQ(r.params[0].directions.size(), 2u);  // wte's two shares: the embedding's and lm_head's
  EXPECT_EQ(r.params[0].sums.size(), 1u);
  EXPECT_TRUE(r.pass);

  EXPECT_THROW(find_ops(*b.tape, "h.1.mlp.gelu,nosuch"), Error);
  EXPECT_THROW(find_ops(*b.tape, "lm_head,"), Error);
  try {
    find_ops(*b.tape, "nosuch");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'nosuch'"), std::string::npos) << e.what();
  }
}

TEST(gradcheck, modes_parse_and_default_by_size) {
  EXPECT_EQ(parse_check_kind("entries"), CheckKind::entries);
  EXPECT_EQ(parse_check_kind("direction"), CheckKind::direction);
  EXPECT_EQ(parse_check_kind("local"), CheckKind::local);
  EXPECT_THROW(parse_check_kind("foo"), Error);
  EXPECT_THROW(parse_check_kind(""), Error);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(parse_check_kind(info(static_cast<CheckKind>(i)).id), static_cast<CheckKind>(i));

  auto tiny = test::build<double>(test::small_config(2, 2, 16, 30, 32, 8, 1));
  EXPECT_EQ(default_check_options(*tiny.tape).kind, CheckKind::entries);
  auto wide = test::build<float>([] {
    Config c = test::small_config(2, 4, 128, 4000, 64, 64, 1);
    c.dtype = DType::f32;
    return c;
  }());
  EXPECT_EQ(default_check_options(*wide.tape).kind, CheckKind::local);
}

// The lesson programs: every kind passes on the correct model in both types (a float tape's
// double mirror is built from its own program and inputs), and every kind finds a planted
// mistake at the op where it was planted.
template <class T>
void every_kind_on_every_lesson_program() {
  for (const Program* p : programs()) {
    if (p->is_gpt2()) continue;  // the tests above
    ModelSpec spec;
    spec.program = p->name();
    if (const auto own = p->own_flags(); std::find(own.begin(), own.end(), "--model") != own.end())
      spec = test::every_custom_op_spec();  // a model of one's own: one that holds each of its op types
    spec.dtype = std::is_same_v<T, float> ? "f32" : "f64";
    Session<T> s(spec);
    s.tape->forward();
    s.tape->backward();
    for (CheckKind k : {CheckKind::entries, CheckKind::direction, CheckKind::local}) {
      const CheckReport r = check_all(*s.tape, kind(k), true);
      EXPECT_TRUE(r.pass) << p->name() << " " << info(k).id << " " << *spec.dtype;
      for (const OpCheck& oc : r.ops) EXPECT_TRUE(oc.pass) << p->name() << " " << oc.name << " " << info(k).id;
    }
  }
}
TEST(gradcheck, every_kind_passes_on_every_lesson_program_in_double) { every_kind_on_every_lesson_program<double>(); }
TEST(gradcheck, every_kind_passes_on_every_lesson_program_in_float) { every_kind_on_every_lesson_program<float>(); }

// A direction moves every finite entry: where c·gᵢ and zᵢ cancel (a tensor of one entry, half
// the seeds) the entry keeps the gradient part. Otherwise a lesson's scalar parameter or input
// would go unchecked and a flipped sign there would pass.
TEST(gradcheck, a_direction_moves_a_one_entry_tensor_at_every_seed) {
  for (const char* dtype : {"f64", "f32"}) {
    ModelSpec spec;
    spec.program = "line";
    spec.dtype = dtype;
    auto run = [&](auto& s) {
      const int y2 = s.tape->find_op("y2");
      s.plant("y2=flipped_sign");
      s.tape->forward();
      s.tape->backward();
      for (CheckKind k : {CheckKind::direction, CheckKind::local})
        for (uint64_t seed = 1; seed <= 16; ++seed) {
          CheckOptions opt = kind(k);
          opt.seed = seed;
          const OpCheck oc = check_op(*s.tape, y2, opt);
          ASSERT_FALSE(oc.tensors.empty());
          for (const TensorCheck& tc : oc.tensors)
            for (const DirectionCheck& d : tc.directions) EXPECT_EQ(d.entries, 1) << tc.label << " seed " << seed;
          EXPECT_FALSE(oc.pass) << dtype << " " << info(k).id << " seed " << seed;
          const CheckReport r = check_all(*s.tape, opt, false);
          EXPECT_EQ(first_failure_from_loss(r), y2) << dtype << " " << info(k).id << " seed " << seed;
        }
    };
    if (std::string(dtype) == "f32") {
      Session<float> s(spec);
      run(s);
    } else {
      Session<double> s(spec);
      run(s);
    }
  }
}

}  // namespace
}  // namespace gs
