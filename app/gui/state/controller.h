#pragma once
// The app's state apart from its views (no ImGui, no GL): the session, the cursor over the
// 2N steps, the selection, the presenter settings, and the application of requests.
//
// Changing the model (a rebuild, optimiser steps, a planted mistake) and saving it are jobs off
// the UI thread (jobs.h, controller_jobs.cpp): the model on screen stays until the new one is
// swapped in, at the top of apply(). While a job runs, requests that read or change the
// tensors wait behind it, in order; those of the cursor, the selection and the settings apply
// at once, so the old model can be stepped through meanwhile.
//
// The cursor: "step s" means the first s of the 2N steps are done. Steps 1 … N run forward
// ops 0 … N−1; steps N+1 … 2N run backward ops N−1 … 0. The tape itself is computed fully
// (forward and backward) once after every change; stepping only moves the cursor, and the
// views show a tensor the cursor has not reached yet as "not computed yet".
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "analysis.h"
#include "any_session.h"
#include "gradscope/gradcheck.h"
#include "gradscope/lesson.h"
#include "jobs.h"
#include "predictions.h"
#include "requests.h"

namespace gs::app {

// Where the cursor stands, in words the transport shows.
struct StepInfo {
  int step = 0;   // 0 … 2N
  int n = 0;      // N ops
  Half half = Half::forward;
  int op = -1;    // the op run by the last step done; -1 at step 0
  int index = 0;  // 1 … N within its half (0 at step 0)
};

// Step s of N ops, and the step that runs op k in a given half.
StepInfo step_info(int step, int n);
inline int forward_step_of(int op) { return op + 1; }
inline int backward_step_of(int op, int n) { return 2 * n - op; }

struct Selection {
  int op = 0;                 // the op the inspector shows (the cursor's op; op 0 at step 0)
  int row = -1;               // row of a per-row Jacobian (softmax, layernorm, log-softmax); -1: the views choose
  std::string hover_tensor;   // entry under the mouse, for cross-panel highlights
  int64_t hover_index = -1;
  std::string pinned_tensor;  // entry clicked in a map (req::PinEntry): its chain rule stays on screen
  int64_t pinned_index = -1;
  int pinned_op = -1;         // the op it was picked at (a pin does not follow the cursor to another op)
};

// Which panels a lesson step (or a menu) wants on screen (req::ShowPanels); the app opens them
// and lays the screen out again whenever `serial` changes.
struct PanelsWanted {
  uint64_t serial = 0;
  std::vector<std::string> titles;
  bool only = true;
};

enum class CheckMark { not_run, pass, fail, nothing_to_check };

// The running job as the views show it (as of the last apply()).
struct JobView {
  bool running = false;
  JobKind kind = JobKind::build;
  std::string title;        // "building gpt2 shape", "training step 3/20"
  std::string phase;        // "forward op 120/222: h.4.attn.softmax"
  double fraction = 0;      // 0 … 1
  bool cancellable = false;
  bool cancelling = false;  // asked to stop, not stopped yet
  int waiting = 0;          // requests waiting behind it
};

// A lesson being taught (controller_lessons.cpp).
struct LessonState {
  std::vector<Lesson> path;    // what Next walks through: the shipped lessons, or one lesson file
  int lesson = -1;             // index into path; −1: no lesson open
  int step = 0;                // 0-based
  std::vector<char> revealed;  // per step of the current lesson: its answer shown
  bool active = false;         // false: left to explore (the lesson waits)
  int applied = -1;            // the last step whose actions are in the model
  uint64_t version = 0;        // the model version the lesson left (another version: replay)
  bool open() const { return lesson >= 0 && lesson < static_cast<int>(path.size()); }
};

// The last rebuild that failed, as the Model & input panel shows it under the model's text: the
// model on screen is the one before it. line and col (from 1) say where a model's text is wrong
// (the program custom); 0 when the problem is not at a place in the text.
struct BuildError {
  std::string program;  // the program the failed spec asked for
  std::string message;  // one line, without the place
  int line = 0, col = 0;
  std::string text;     // the model's text that was tried ("" when it came from a file)
  uint64_t serial = 0;  // bumps with every failed rebuild
};

// The entry the Wiggle view shows.
struct WiggleTarget {
  std::string param;
  int64_t index = 0;
};

class Controller {
 public:
  Controller() = default;

  // The model the app opens with: preset tiny in f64 on a sentence of the corpus, with
  // assets/tiny.safetensors when it exists, else a seeded random init (said in the status).
  static ModelSpec default_spec();
  static constexpr const char* kDefaultText = "the model reads the text one letter at a time";
  static constexpr const char* kDefaultCheckpoint = "tiny.safetensors";
  // Weights set by hand (req::SetValue) are changed in place on models up to this size.
  static constexpr int64_t kMaxEditParams = 4'000'000;
  // Whether the model's shape and weights come from a checkpoint other than the default one.
  bool from_checkpoint() const;
  // What the model on screen is, in a word or two: its preset ("tiny" for the default
  // checkpoint), or "checkpoint L12 H12 C768" for weights loaded from another file.
  std::string model_label() const;
  // With a spec: that model, on the trained default checkpoint when the spec names none (a
  // fresh seed, another preset, GPT-2's tokenizer or an own checkpoint do not use it).
  bool load_default(ModelSpec spec = default_spec());

  // Builds a new session and computes it, and waits for it (the job of req::Rebuild, then
  // wait_jobs()); on bad input keeps everything as it was and sets error(). Returns whether
  // the new model is in place.
  bool rebuild(const ModelSpec& spec);

  // Once per frame, before drawing: swaps in the model of a finished job (and starts what
  // waited behind it), takes in background results, then applies every queued request in order.
  void apply(RequestQueue& q);
  // One request (it may start a job, or wait behind the running one).
  void apply(const Request& r);
  // Advances the cursor while playing (dt in seconds).
  void tick(double dt);

  // [SECTION] cursor
  int step() const { return step_; }
  int n_ops() const { return session_ ? session_.n_ops() : 0; }
  int total_steps() const { return 2 * n_ops(); }
  StepInfo info() const { return step_info(step_, n_ops()); }
  std::string step_title() const;  // "forward · op 11: h.0.attn.softmax" (op k: its place on the tape)
  bool at_start() const { return step_ == 0; }
  bool at_end() const { return step_ == total_steps(); }
  bool in_backward() const { return step_ > n_ops(); }

  // What the cursor has reached.
  bool forward_done(int op) const { return step_ >= forward_step_of(op); }
  bool backward_done(int op) const { return step_ >= backward_step_of(op, n_ops()); }
  // ∂L/∂value summed over all its users (the loss' own ∂L/∂L = 1 once backward has started).
  bool value_grad_ready(int value) const;
  bool incoming_ready(int op) const;       // ∂L/∂ output of op
  bool param_grad_ready(int param) const;  // summed over every op that uses it

  // [SECTION] state
  bool has_session() const { return static_cast<bool>(session_); }
  const AnySession& session() const { return session_; }
  const ModelSpec& spec() const { return spec_; }
  const Selection& selection() const { return sel_; }
  const Settings& settings() const { return settings_; }
  const PanelsWanted& panels_wanted() const { return panels_wanted_; }
  bool playing() const { return playing_; }
  // Bumps whenever tensor contents change (rebuild, optimiser step, planted mistake): views
  // key their caches on it.
  uint64_t version() const { return version_; }
  // Bumps on every successful rebuild (views reload their copy of the spec).
  uint64_t spec_generation() const { return spec_generation_; }

  const std::string& error() const { return error_; }    // last failure, one line ("" if none)
  // The last failed rebuild since the last one that succeeded (nullopt: none).
  const std::optional<BuildError>& build_error() const { return build_error_; }
  // NaN or ±∞ in the loss or a weight of the model on screen, one line ("" when all is finite).
  // Set after every rebuild, load, optimiser step and planted mistake; training refuses to go on.
  const std::string& health() const { return health_; }
  const std::string& status() const { return status_; }  // last thing done
  const std::string& weights_source() const { return weights_source_; }
  void clear_error() { error_.clear(); }

  // Finite-difference results per op (cleared when tensors change).
  // The check this model gets by default (gs::default_check_options: entries where that is
  // cheap, op-local directions for large models); the tape's marks are made with it.
  CheckOptions check_options() const;
  CheckMark check_mark(int op) const;
  const OpCheck* check(int op) const;
  int checks_run() const;

  // Loss after each optimiser step since the last rebuild (the first entry: before any).
  const std::vector<double>& losses() const { return losses_; }
  int optimizer_steps() const { return opt_steps_; }
  // What the model predicted before the last optimiser step or training run (its predictions
  // now are predictions(*tape)), and how many steps that run took; null before any since the
  // last rebuild, or for a program whose loss reads no probabilities.
  const Predictions* predictions_before() const { return before_.ok ? &before_ : nullptr; }
  int steps_since_before() const { return before_steps_; }

  // [SECTION] background jobs
  const JobView& job() const { return job_; }
  bool busy() const { return job_.running; }
  int waiting() const { return static_cast<int>(waiting_.size()); }
  // Blocks until no job runs and no request waits, taking every result in (tests, scripted runs).
  void wait_jobs();
  // Tests: blocks until the running job's worker is done, without taking its result in (that
  // waits for the next apply()); and a hook the worker calls at every progress point (set it
  // while no job runs).
  void wait_job_finished() const { jobs_->wait_finished(); }
  void set_job_hook(std::function<void(const JobProgress&)> hook) { jobs_->set_hook(std::move(hook)); }

  // [SECTION] lessons (controller_lessons.cpp)
  const LessonState& lesson() const { return lesson_; }
  bool in_lesson() const { return lesson_.open() && lesson_.active; }
  const Lesson* current_lesson() const { return lesson_.open() ? &lesson_.path[lesson_.lesson] : nullptr; }
  // The step on screen (nullptr: no lesson, or left to explore).
  const LessonStep* lesson_step() const;
  bool revealed() const;
  // What the current step points at: an op, parameter or input by name, or a view ("wiggle").
  bool highlighted(const std::string& name) const;
  bool view_highlighted(const std::string& view) const;
  const WiggleTarget& wiggle() const { return wiggle_; }
  // The model as it was before the last optimiser step (one step, small models), while the model on
  // screen is still that step's result; empty otherwise. What the Update view shows as "the step
  // just taken".
  const AnySession& before_last_step() const { return before_step_; }
  const OptimizerOptions& last_step_options() const { return last_opt_; }
  bool last_step_on_screen() const { return before_step_ && last_step_version_ == version_; }

  // Finite differences off the UI thread (analysis.h, controller_analysis.cpp), as of the last
  // apply(); wait_analysis() blocks until that work is done and takes its results in.
  const Analysis& analysis() const { return *analysis_; }
  void wait_analysis();

 private:
  void set_step(int s);
  void after_change(const std::string& what);
  void dispatch(const Request& r);
  // The new model in place of the old one, the cursor kept on the same op (by name).
  // `keep_old`: the session swapped out goes there instead of being freed.
  void swap_in(AnySession next, AnySession* keep_old = nullptr);
  void apply_one(const req::Step& r);
  void apply_one(const req::JumpTo& r);
  void apply_one(const req::FocusOp& r);
  void apply_one(const req::SelectRow& r);
  void apply_one(const req::Hover& r);
  void apply_one(const req::SetPlaying& r);
  void apply_one(const req::TogglePlaying& r);
  void apply_one(const req::SetSettings& r);
  void apply_one(const req::Rebuild& r);
  void apply_one(const req::SaveCheckpoint& r);
  void apply_one(const req::OptimizerStep& r);
  void apply_one(const req::Train& r);
  void apply_one(const req::PlantMistake& r);
  void apply_one(const req::RunChecks& r);
  void apply_one(const req::CheckOp& r);
  void apply_one(const req::SweepEps& r);
  void apply_one(const req::CancelChecks& r);
  void apply_one(const req::CancelJob& r);
  void apply_one(const req::OpenLesson& r);
  void apply_one(const req::LessonGo& r);
  void apply_one(const req::LessonNext& r);
  void apply_one(const req::LessonBack& r);
  void apply_one(const req::RevealAnswer& r);
  void apply_one(const req::LeaveLesson& r);
  void apply_one(const req::ResumeLesson& r);
  void apply_one(const req::SetValue& r);
  void apply_one(const req::WiggleAt& r);
  void go_lesson_step(int lesson, int step);
  void apply_one(const req::ShowPanels& r);
  void apply_one(const req::PinEntry& r);
  void start_background_checks(bool with_params);
  // controller_jobs.cpp
  static bool waits_for_jobs(const Request& r);
  void wait_behind_job(const Request& r);
  void start_job(JobInput in);
  void poll_job();
  void take_job(JobResult& r);
  void absorb_losses();
  void refresh_job_view();
  void poll_analysis();
  void take_analysis(unsigned arrived);

  AnySession session_;
  ModelSpec spec_;
  int step_ = 0;
  Selection sel_;
  Settings settings_;
  PanelsWanted panels_wanted_;
  bool playing_ = false;
  double play_acc_ = 0;
  uint64_t version_ = 0, spec_generation_ = 0;
  std::string error_, status_, weights_source_, health_;
  std::vector<std::optional<OpCheck>> checks_;
  mutable std::optional<std::pair<uint64_t, CheckOptions>> check_options_;  // for spec_generation_
  std::vector<double> losses_;
  int opt_steps_ = 0;
  Predictions before_, pending_before_;  // the last training run's "before"; the running one's
  int before_steps_ = 0;
  std::string weights_base_;             // weights_source_ as built or loaded, before any training
  std::unique_ptr<Analysis> analysis_ = std::make_unique<Analysis>();
  // After session_: a job reading the session is stopped and joined before the session goes.
  std::unique_ptr<Jobs> jobs_ = std::make_unique<Jobs>();
  std::deque<Request> waiting_;  // requests waiting behind the job, in order
  JobView job_;
  int job_losses_ = 0;           // losses of the running training job taken in so far
  bool last_build_ok_ = false;
  std::optional<BuildError> build_error_;
  uint64_t build_errors_ = 0;
  LessonState lesson_;
  WiggleTarget wiggle_;
  AnySession before_step_;
  OptimizerOptions last_opt_;
  uint64_t last_step_version_ = 0;
};

}  // namespace gs::app
