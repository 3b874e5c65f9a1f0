// The model's jobs off the UI thread (jobs.h through the controller): the model on screen stays
// until apply() swaps the new one in, bad input and bad files change nothing and say why in one
// line, cancelling works (a build is dropped, training keeps its finished steps), training hands
// its losses over step by step, requests wait behind a job in order, NaN stops training; and the
// GPT-2 tokenizer's text in the views. A hook holds a job at a chosen point, so no test depends
// on timing.
#include <gtest/gtest.h>

#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>

#include "../test_util.h"
#include "app_test_util.h"
#include "controller.h"
#include "format.h"

namespace gs::app {
namespace {

using test::run;
using test::tiny_spec;

ModelSpec small_spec() {
  ModelSpec s;
  s.preset = "small";
  s.seq = 16;
  return s;
}

void next_frame(Controller& c) {
  RequestQueue q;
  c.apply(q);
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("gradscope_jobs_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

// Holds a job's worker at the first progress point `when` accepts, until released.
class Gate {
 public:
  std::function<void(const JobProgress&)> hook(std::function<bool(const JobProgress&)> when) {
    return [this, when](const JobProgress& p) {
      std::unique_lock<std::mutex> lk(mu_);
      if (reached_ || !when(p)) return;
      reached_ = true;
      at_ = p;
      cv_.notify_all();
      cv_.wait(lk, [&] { return open_; });
    };
  }
  JobProgress wait_reached() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return reached_; });
    return at_;
  }
  void release() {
    std::lock_guard<std::mutex> lk(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool reached_ = false, open_ = false;
  JobProgress at_;
};

bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

// [SECTION] swapping in

TEST(jobs, a_rebuild_keeps_the_old_model_until_apply_swaps_the_new_one_in) {
  Controller c;
  ASSERT_TRUE(c.rebuild(tiny_spec())) << c.error();
  const int n0 = c.n_ops();
  const double loss0 = c.session().loss();
  const uint64_t v0 = c.version(), g0 = c.spec_generation();
  c.apply(req::Rebuild{small_spec()});
  EXPECT_TRUE(c.busy());
  EXPECT_EQ(c.job().kind, JobKind::build);
  EXPECT_EQ(c.n_ops(), n0);  // still the tiny model on screen
  c.apply(req::JumpTo{5});   // the cursor moves at once, over the old model
  EXPECT_EQ(c.step(), 5);
  c.wait_job_finished();     // the new model is ready ...
  EXPECT_TRUE(c.busy());
  EXPECT_EQ(c.n_ops(), n0);  // ... but only the next frame's apply() swaps it in
  EXPECT_EQ(c.session().loss(), loss0);
  EXPECT_EQ(c.version(), v0);
  next_frame(c);
  EXPECT_FALSE(c.busy());
  EXPECT_EQ(c.session().config().n_embd, 128);
  EXPECT_EQ(c.n_ops(), 2 + 4 * 18 + 4);
  EXPECT_GT(c.version(), v0);
  EXPECT_GT(c.spec_generation(), g0);
  EXPECT_TRUE(c.error().empty()) << c.error();
  EXPECT_NE(c.status().find("built small"), std::string::npos) << c.status();
}

TEST(jobs, progress_goes_through_forward_and_backward_op_by_op) {
  Controller c;
  ASSERT_TRUE(c.rebuild(tiny_spec()));
  std::mutex mu;
  std::vector<JobProgress> seen;
  c.set_job_hook([&](const JobProgress& p) {
    std::lock_guard<std::mutex> lk(mu);
    seen.push_back(p);
  });
  ASSERT_TRUE(c.rebuild(small_spec())) << c.error();
  std::lock_guard<std::mutex> lk(mu);
  int fwd = 0, bwd = 0;
  double last = -1;
  for (const JobProgress& p : seen) {
    EXPECT_EQ(p.title, "building small shape");
    EXPECT_GE(p.fraction, last) << p.phase;
    last = p.fraction;
    fwd += starts_with(p.phase, "forward op ");
    bwd += starts_with(p.phase, "backward op ");
  }
  EXPECT_EQ(fwd, c.n_ops());
  EXPECT_EQ(bwd, c.n_ops());
  EXPECT_LE(last, 1.0);
}

// [SECTION] bad input

TEST(jobs, a_bad_spec_or_file_leaves_everything_as_it_was) {
  Controller c;
  ASSERT_TRUE(c.rebuild(tiny_spec()));
  c.apply(req::JumpTo{7});
  OptimizerOptions opt;
  opt.lr = 1e-2;
  run(c, req::Train{2, opt});
  const int n = c.n_ops();
  const uint64_t v = c.version(), g = c.spec_generation();
  const double loss = c.session().loss();
  const auto losses = c.losses();
  auto expect_unchanged = [&](const std::string& what, const char* word) {
    EXPECT_FALSE(c.busy());
    EXPECT_FALSE(c.error().empty()) << what;
    EXPECT_EQ(c.error().find('\n'), std::string::npos) << "one line: " << c.error();
    EXPECT_NE(c.error().find(word), std::string::npos) << what << ": " << c.error();
    EXPECT_EQ(c.n_ops(), n) << what;
    EXPECT_EQ(c.version(), v) << what;
    EXPECT_EQ(c.spec_generation(), g) << what;
    EXPECT_EQ(c.session().loss(), loss) << what;
    EXPECT_EQ(c.losses(), losses) << what;
    EXPECT_EQ(c.optimizer_steps(), 2) << what;
    EXPECT_EQ(c.step(), 7) << what;
    EXPECT_TRUE(c.health().empty()) << what;
  };

  ModelSpec s = tiny_spec();
  s.heads = 3;
  run(c, req::Rebuild{s});
  expect_unchanged("C % H != 0", "divisible");

  // Files that are not checkpoints: the core's error names the file.
  const std::string junk = temp_path("junk.safetensors"), bin = temp_path("junk.bin");
  {
    std::ofstream(junk) << "this is not a safetensors file";
    std::ofstream(bin) << "nor an llm.c checkpoint";
  }
  s = tiny_spec();
  s.checkpoint = junk;
  run(c, req::Rebuild{s});
  expect_unchanged("junk .safetensors", "junk.safetensors");
  s.checkpoint = bin;
  run(c, req::Rebuild{s});
  expect_unchanged("junk .bin", "junk.bin");
  s.checkpoint = temp_path("missing.safetensors");
  run(c, req::Rebuild{s});
  expect_unchanged("missing file", "missing.safetensors");
  std::filesystem::remove(junk);
  std::filesystem::remove(bin);

  // Paths that are not regular files are refused at once: a FIFO (whose open would wait for a
  // writer forever, and whose job could never be joined) and a directory.
  const std::string fifo = temp_path("fifo.safetensors");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  s.checkpoint = fifo;
  run(c, req::Rebuild{s});
  expect_unchanged("a FIFO", "is a FIFO");
  std::filesystem::remove(fifo);
  s.checkpoint = std::filesystem::temp_directory_path().string();
  run(c, req::Rebuild{s});
  expect_unchanged("a directory", "is a directory");

  // Saving over a device node is refused, and the node stays what it was.
  const std::string dev = gs::test::character_device();
  ASSERT_FALSE(dev.empty()) << "no character device node on this machine";
  run(c, req::SaveCheckpoint{dev});
  expect_unchanged("save over " + dev, "not a regular file");
  EXPECT_TRUE(std::filesystem::is_character_file(dev)) << dev;

  // Saving where no directory is: the file is not there, the model is.
  run(c, req::SaveCheckpoint{"/nonexistent-dir/x.safetensors"});
  expect_unchanged("save into a missing directory", "nonexistent-dir");
  EXPECT_FALSE(std::filesystem::exists("/nonexistent-dir/x.safetensors"));
}

TEST(jobs, gpt2_tokenizer_without_its_vocabulary_says_how_to_fetch_it) {
  Controller c;
  ASSERT_TRUE(c.rebuild(tiny_spec()));
  const int n = c.n_ops();
  ModelSpec s = tiny_spec();
  s.tokenizer = "gpt2";
  s.vocab_dir = "/nonexistent/gpt2-vocab";
  run(c, req::Rebuild{s});
  EXPECT_NE(c.error().find("scripts/fetch-gpt2-vocab"), std::string::npos) << c.error();
  EXPECT_NE(c.error().find("/nonexistent/gpt2-vocab"), std::string::npos) << c.error();
  EXPECT_EQ(c.n_ops(), n);
  EXPECT_FALSE(c.session().has_bpe());
}

// [SECTION] cancelling

TEST(jobs, cancelling_a_build_keeps_the_old_model) {
  Controller c;
  ASSERT_TRUE(c.rebuild(tiny_spec()));
  const int n = c.n_ops();
  const uint64_t v = c.version();
  Gate gate;
  c.set_job_hook(gate.hook([](const JobProgress& p) { return starts_with(p.phase, "forward op 3/"); }));
  c.apply(req::Rebuild{small_spec()});
  gate.wait_reached();
  next_frame(c);
  EXPECT_TRUE(c.busy());
  EXPECT_TRUE(starts_with(c.job().phase, "forward op 3/")) << c.job().phase;
  EXPECT_GT(c.job().fraction, 0.0);
  EXPECT_TRUE(c.job().cancellable);
  c.apply(req::CancelJob{});
  EXPECT_TRUE(c.job().cancelling);
  gate.release();
  c.wait_jobs();
  EXPECT_FALSE(c.busy());
  EXPECT_EQ(c.n_ops(), n);
  EXPECT_EQ(c.version(), v);
  EXPECT_TRUE(c.error().empty()) << c.error();
  EXPECT_NE(c.status().find("cancelled building small shape"), std::string::npos) << c.status();
}

TEST(jobs, cancelling_training_keeps_the_steps_done) {
  Controller c;
  ASSERT_TRUE(c.rebuild(tiny_spec()));
  const uint64_t v = c.version();
  Gate gate;
  c.set_job_hook(gate.hook([](const JobProgress& p) { return p.title == "training step 3/10"; }));
  OptimizerOptions opt;
  opt.lr = 1e-2;
  c.apply(req::Train{10, opt});
  gate.wait_reached();
  c.apply(req::CancelJob{});  // during step 3: it is finished, then the job stops
  gate.release();
  c.wait_jobs();
  EXPECT_EQ(c.optimizer_steps(), 3);
  ASSERT_EQ(c.losses().size(), 4u);
  EXPECT_EQ(c.losses().back(), c.session().loss());
  EXPECT_GT(c.version(), v);
  EXPECT_NE(c.status().find("stopped after step 3/10"), std::string::npos) << c.status();
  EXPECT_TRUE(c.error().empty()) << c.error();

  // Training on picks up the step count (AdamW's bias correction) where it stopped.
  run(c, req::Train{2, opt});
  EXPECT_EQ(c.optimizer_steps(), 5);
  EXPECT_EQ(c.losses().size(), 6u);
}

TEST(jobs, training_hands_each_loss_over_as_its_step_finishes) {
  Controller c;
  ASSERT_TRUE(c.rebuild(tiny_spec()));
  const uint64_t v = c.version();
  const double before = c.session().loss();
  Gate gate;
  c.set_job_hook(gate.hook([](const JobProgress& p) { return p.title == "training step 4/6"; }));
  OptimizerOptions opt;
  opt.lr = 1e-2;
  c.apply(req::Train{6, opt});
  gate.wait_reached();
  next_frame(c);
  EXPECT_TRUE(c.busy());
  EXPECT_EQ(c.job().title, "training step 4/6");
  EXPECT_EQ(c.losses().size(), 4u);  // before, and after steps 1 … 3
  EXPECT_EQ(c.optimizer_steps(), 3);
  EXPECT_EQ(c.session().loss(), before);  // the model on screen is still the one before training
  EXPECT_EQ(c.version(), v);
  gate.release();
  c.wait_jobs();
  ASSERT_EQ(c.losses().size(), 7u);
  EXPECT_EQ(c.optimizer_steps(), 6);
  EXPECT_EQ(c.losses().back(), c.session().loss());
  EXPECT_LT(c.session().loss(), before);
}

TEST(jobs, a_controller_that_goes_away_mid_job_stops_it) {
  {
    Controller c;
    ASSERT_TRUE(c.rebuild(tiny_spec()));
    c.apply(req::Rebuild{small_spec()});
    OptimizerOptions opt;
    c.apply(req::Train{50, opt});  // waits behind the rebuild, never starts
  }
  SUCCEED();
}

// [SECTION] requests behind a job

TEST(jobs, requests_wait_behind_a_job_in_order) {
  Controller c;
  ASSERT_TRUE(c.rebuild(tiny_spec()));
  Gate gate;
  c.set_job_hook(gate.hook([](const JobProgress& p) { return starts_with(p.phase, "forward op "); }));
  ModelSpec s = tiny_spec();
  s.text = "we walk backward through the ops";
  c.apply(req::Rebuild{s});
  gate.wait_reached();
  const int k = c.session().find_op("h.0.attn.softmax");
  c.apply(req::PlantMistake{k, Mistake::dropped_term});  // into the model being built
  c.apply(req::RunChecks{k});                            // and check that one
  c.apply(req::Step{+3});                                // the cursor moves at once
  EXPECT_EQ(c.waiting(), 2);
  EXPECT_EQ(c.step(), 3);
  EXPECT_EQ(c.check_mark(k), CheckMark::not_run);
  EXPECT_NE(c.status().find("starts when building tiny shape is done"), std::string::npos) << c.status();
  gate.release();
  c.wait_jobs();
  EXPECT_EQ(c.waiting(), 0);
  EXPECT_EQ(*c.spec().text, "we walk backward through the ops");
  EXPECT_EQ(c.check_mark(k), CheckMark::fail);
  EXPECT_EQ(c.step(), 3);

  // Cancel drops what waits.
  Gate gate2;
  c.set_job_hook(gate2.hook([](const JobProgress&) { return true; }));
  c.apply(req::Rebuild{tiny_spec()});
  gate2.wait_reached();
  c.apply(req::PlantMistake{k, Mistake::none});
  EXPECT_EQ(c.waiting(), 1);
  c.apply(req::CancelJob{});
  EXPECT_EQ(c.waiting(), 0);
  gate2.release();
  c.wait_jobs();
  EXPECT_EQ(*c.spec().text, "we walk backward through the ops");  // the rebuild was cancelled
}

// [SECTION] NaN and ±∞

TEST(jobs, a_nan_stops_training_and_says_so) {
  Controller c;
  ASSERT_TRUE(c.rebuild(tiny_spec()));
  EXPECT_TRUE(c.health().empty());
  OptimizerOptions opt;
  opt.kind = "sgd";
  opt.lr = 1e300;  // the weights overflow at once
  run(c, req::Train{5, opt});
  EXPECT_FALSE(c.health().empty());
  EXPECT_EQ(c.health().find('\n'), std::string::npos);
  EXPECT_NE(c.error().find("training stopped at step 1/5"), std::string::npos) << c.error();
  EXPECT_EQ(c.optimizer_steps(), 1);
  ASSERT_EQ(c.losses().size(), 2u);

  // It does not train on.
  opt.lr = 1e-3;
  run(c, req::Train{1, opt});
  EXPECT_NE(c.error().find("not training on"), std::string::npos) << c.error();
  EXPECT_EQ(c.optimizer_steps(), 1);

  // A rebuild gives finite numbers again.
  ASSERT_TRUE(c.rebuild(tiny_spec()));
  EXPECT_TRUE(c.health().empty());
  EXPECT_TRUE(std::isfinite(c.session().loss()));
}

TEST(jobs, nonfinite_report_names_what_is_wrong) {
  Controller c;
  ASSERT_TRUE(c.rebuild(tiny_spec()));
  EXPECT_EQ(nonfinite_report(c.session()), "");
  EXPECT_EQ(nonfinite_report(AnySession()), "");
}

// [SECTION] GPT-2 tokens

TEST(jobs, gpt2_tokens_read_as_text_and_load_back) {
  if (!gpt2_vocab_present(""))
    GTEST_SKIP() << "GPT-2's vocabulary is not in " << default_gpt2_vocab_dir() << " (scripts/fetch-gpt2-vocab)";
  Controller c;
  ModelSpec s = tiny_spec();
  s.tokenizer = "gpt2";
  ASSERT_TRUE(c.rebuild(s)) << c.error();
  ASSERT_TRUE(c.session().has_bpe());
  EXPECT_TRUE(c.session().has_vocab());
  EXPECT_EQ(c.session().config().vocab_size, 50257);
  const Batch& b = c.session().batch();
  std::string text;
  for (int t = 0; t < b.T; ++t) text += c.session().token_text(b.x[t]);
  EXPECT_EQ(text.rfind("the model reads", 0), 0u) << text;
  EXPECT_EQ(c.session().token_text(b.x[1]), " model");
  EXPECT_EQ(token_glyph(c.session().token_text(b.x[1])), "␣model");
  EXPECT_EQ(c.session().token_text(b.y[0]), " model");  // y is x shifted by one

  // Saved, then loaded with the char tokenizer's text: the checkpoint has no character
  // vocabulary, so the text is read with GPT-2's (and the view says so).
  const std::string path = temp_path("gpt2tok.safetensors");
  run(c, req::SaveCheckpoint{path});
  ASSERT_TRUE(c.error().empty()) << c.error();
  Controller d;
  ModelSpec t = tiny_spec();
  t.checkpoint = path;
  ASSERT_TRUE(d.rebuild(t)) << d.error();
  EXPECT_TRUE(d.session().has_bpe());
  EXPECT_EQ(d.spec().tokenizer.value_or(""), "gpt2");
  EXPECT_NE(d.status().find("GPT-2's tokenizer"), std::string::npos) << d.status();
  EXPECT_EQ(d.session().loss(), c.session().loss());
  std::filesystem::remove(path);
}

// [SECTION] labels

TEST(jobs, value_gradients_of_ops_named_after_parameters_read_unambiguously) {
  Controller c;
  ModelSpec s = tiny_spec();
  s.lora_rank = 2;
  ASSERT_TRUE(c.rebuild(s));
  const AnySession& a = c.session();
  EXPECT_EQ(a.value_label(a.find_op("wpe")), "h (output of wpe)");
  EXPECT_EQ(a.value_label(a.find_op("wte")), "wte[x] (output of wte)");
  EXPECT_EQ(a.value_label(a.find_op("h.0.attn.c_attn")), "qkv (output of h.0.attn.c_attn)");
  EXPECT_EQ(a.value_label(a.find_op("h.1.mlp.c_proj")), "z (output of h.1.mlp.c_proj)");
  EXPECT_EQ(a.value_label(a.find_op("h.0.attn.c_attn.lora_A")), "X·A (output of h.0.attn.c_attn.lora_A)");
  EXPECT_EQ(a.value_label(a.find_op("h.0.attn.c_attn.lora_B")), "qkv (output of h.0.attn.c_attn.lora_B)");
  EXPECT_EQ(a.value_label(a.find_op("h.0.res_1")), "h.0.res_1");  // no parameter of that name
  EXPECT_EQ(a.value_label(a.find_op("h.0.attn.softmax")), "h.0.attn.softmax");
  EXPECT_EQ(token_glyph(" a\tb\n"), "␣a→b↵");
  EXPECT_EQ(token_glyph(std::string(1, '\x01')), "␁");
}

}  // namespace
}  // namespace gs::app
