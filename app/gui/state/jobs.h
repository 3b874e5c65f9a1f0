#pragma once
// The model's work off the UI thread (no ImGui, no GL): building a session (a preset, new
// settings, a checkpoint), optimiser steps, planting a mistake, saving a checkpoint. For the
// gpt2 shape each of these takes seconds; the UI keeps drawing the previous model meanwhile.
//
// One job at a time, in a thread of its own. A job that changes the model never touches the
// live session: it builds a new one (from a spec, or as a copy of the live one that it then
// trains or breaks), and the controller swaps it in at the top of a frame, in apply(). Jobs that
// copy or save the live session only read it; the controller guarantees that nothing writes to
// it while a job runs (requests that would wait behind the job, controller.h). Progress and the
// losses of finished training steps are handed over under a mutex; the result once, by take().
//
// Cancelling: a build or a planted mistake stops at its next op and is dropped (the model stays
// as it was); training stops after the step it is in (a step half done would leave weights
// and tape out of step) and keeps the steps done; saving cannot be stopped (the file is written
// whole or not at all).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "any_session.h"
#include "gradscope/ops.h"
#include "gradscope/session.h"
#include "gradscope/train.h"

namespace gs::app {

enum class JobKind { build, train, mistake, save };

// What a job is asked to do. `live` (train, mistake, save) is read, never written, and must
// stay in place until the job has finished.
struct JobInput {
  JobKind kind = JobKind::build;
  ModelSpec spec;                    // build
  AnySession::Ptr live;              // train, mistake, save: the session on screen
  OptimizerOptions opt;              // train
  int steps = 0;                     // train: how many optimiser steps
  int first_step = 1;                // train: AdamW's step count of the first one
  int op = -1;                       // mistake
  Mistake mistake = Mistake::none;   // mistake
  std::string path;                  // save
};

struct JobResult {
  JobKind kind = JobKind::build;
  AnySession session;          // the new model (build, train, mistake); empty when failed or dropped
  ModelSpec spec;              // build: the spec as built (the tokenizer may have been chosen for it)
  std::string note;            // build: what was decided on the way ("" if nothing)
  std::vector<double> losses;  // train: the loss after each step done (also handed over as they come)
  int steps_done = 0;          // train
  std::string error;           // one line; "" if it ran
  // build: where the model's text is wrong (the program custom, gradscope/model_text.h), from line 1
  // and column 1; 0 when the error is not about a place in the text. text_message: without the place.
  int text_line = 0, text_col = 0;
  std::string text_message;
  bool cancelled = false;
  std::string nonfinite;       // what of the new model is NaN or infinite ("" when all is finite)
  double seconds = 0;
};

// Where a running job is, for the progress bar.
struct JobProgress {
  std::string title;    // "building gpt2 shape", "training step 3/20", "saving x.safetensors"
  std::string phase;    // "forward op 120/222: h.4.attn.softmax"
  double fraction = 0;  // of the whole job, 0 … 1
  bool cancellable = true;
};

// NaN or ±∞ in the loss or any parameter: "" when all is finite, else one line naming the first.
std::string nonfinite_report(const AnySession& s);
// Bytes a new allocation can still get (the kernel's MemAvailable); 0 when unknown.
double available_memory_bytes();
// Whether `dir` ("" : gs::default_gpt2_vocab_dir()) holds GPT-2's vocabulary files.
bool gpt2_vocab_present(const std::string& dir);
// Line breaks as spaces: every message the status bar shows is one line.
std::string one_line(std::string s);

class Jobs {
 public:
  Jobs() = default;
  ~Jobs();  // asks the job to stop and joins it
  Jobs(const Jobs&) = delete;
  Jobs& operator=(const Jobs&) = delete;

  // Starts a job; a job must not be running (started and not yet taken).
  void start(JobInput in);
  bool running() const { return running_; }  // started, result not yet taken
  bool finished() const;                     // the worker is done (a result waits for take())
  void wait_finished() const;                // blocks until it is (tests, scripted runs)
  // The result once the worker is done (joins it); nullopt while it runs or when none ran.
  std::optional<JobResult> take();
  void cancel();
  bool cancelling() const { return cancel_; }

  const JobInput& input() const { return input_; }  // what the running (or last) job was asked
  JobProgress progress() const;
  // Training: the losses of steps finished since the last call.
  std::vector<double> take_losses();
  // Frees a session that was swapped out, off the UI thread.
  void dispose(AnySession old);

  // Tests: called on the worker at every progress point (may block to hold the job there).
  void set_hook(std::function<void(const JobProgress&)> hook) { hook_ = std::move(hook); }

  // The reporter a job's work calls between pieces of work (worker side).
  class Reporter;

 private:
  void run();
  JobResult execute(Reporter& rep);

  JobInput input_;
  std::thread thread_, reaper_;
  bool running_ = false;  // UI side
  std::atomic<bool> cancel_{false};
  std::function<void(const JobProgress&)> hook_;

  mutable std::mutex mu_;
  mutable std::condition_variable done_cv_;
  bool done_ = false;
  std::optional<JobResult> result_;
  JobProgress progress_;
  std::vector<double> new_losses_;
};

}  // namespace gs::app
