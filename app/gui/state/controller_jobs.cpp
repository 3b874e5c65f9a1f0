// The controller's side of the jobs that run off the UI thread (jobs.h): the requests that start
// them, the requests that wait behind a running one, and the swap of a finished job's model into
// place, once per frame at the top of apply() so every panel of a frame sees one state.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "controller.h"
#include "gradscope/error.h"

namespace gs::app {

namespace {

std::string loss_str(double v) {
  char b[48];
  snprintf(b, sizeof b, "%.6f", v);
  return b;
}

std::string seconds_str(double s) {
  if (s < 0.5) return "";
  char b[32];
  snprintf(b, sizeof b, " (%.1f s)", s);
  return b;
}

std::string opt_str(const OptimizerOptions& o) {
  char b[64];
  snprintf(b, sizeof b, "%s, lr %g", o.kind.c_str(), o.lr);
  return b;
}

template <class R>
bool is(const Request& r) {
  return std::holds_alternative<R>(r);
}

// Requests that start a job (as opposed to those that read the tensors).
bool starts_job(const Request& r) {
  return is<req::Rebuild>(r) || is<req::SaveCheckpoint>(r) || is<req::OptimizerStep>(r) || is<req::Train>(r) ||
         is<req::PlantMistake>(r);
}

std::string job_words(const Request& r) {
  if (is<req::RunChecks>(r)) return "the finite-difference check";
  if (is<req::Rebuild>(r)) return "the rebuild";
  if (is<req::SaveCheckpoint>(r)) return "saving";
  if (is<req::PlantMistake>(r)) return "planting the mistake";
  return "training";
}

constexpr size_t kMaxWaiting = 64;

}  // namespace

// [SECTION] requests that start a job

void Controller::apply_one(const req::Rebuild& r) {
  if (r.spec.tokenizer && *r.spec.tokenizer == "gpt2" && !gpt2_vocab_present(r.spec.vocab_dir)) {
    const std::string dir = r.spec.vocab_dir.empty() ? default_gpt2_vocab_dir() : r.spec.vocab_dir;
    error_ = std::string(session_ ? "model not changed: " : "") + "GPT-2's vocabulary is not in " + dir +
             " — run scripts/fetch-gpt2-vocab to fetch it";
    return;
  }
  JobInput in;
  in.kind = JobKind::build;
  in.spec = r.spec;
  start_job(std::move(in));
}

void Controller::apply_one(const req::SaveCheckpoint& r) {
  if (!session_) throw Error("no model to save");
  if (r.path.empty()) throw Error("give a file name to save the checkpoint to");
  if (r.path.size() >= 4 && r.path.compare(r.path.size() - 4, 4, ".bin") == 0)
    throw Error("checkpoints are saved as .safetensors (llm.c's .bin is read only): " + r.path);
  JobInput in;
  in.kind = JobKind::save;
  in.live = session_.get();
  in.path = r.path;
  start_job(std::move(in));
}

void Controller::apply_one(const req::OptimizerStep& r) { apply_one(req::Train{1, r.opt}); }

void Controller::apply_one(const req::Train& r) {
  if (!session_) throw Error("no model to train");
  if (r.steps <= 0) throw Error("the number of training steps must be positive");
  if (r.steps > 100000) throw Error("at most 100000 training steps at a time");
  r.opt.validate();
  if (!health_.empty()) throw Error("not training on: " + health_ + " — rebuild the model or load a checkpoint first");
  error_.clear();
  JobInput in;
  in.kind = JobKind::train;
  in.live = session_.get();
  in.opt = r.opt;
  in.steps = r.steps;
  in.first_step = opt_steps_ + 1;
  if (opt_steps_ == 0) weights_base_ = weights_source_;  // as built or loaded
  // What the model predicts now, to show beside what it predicts after the steps.
  pending_before_ = session_.visit([](const auto& s) { return predictions(*s.tape); });
  start_job(std::move(in));
}

void Controller::apply_one(const req::PlantMistake& r) {
  if (!session_) throw Error("no model");
  if (r.op < 0 || r.op >= n_ops()) throw Error("no op " + std::to_string(r.op) + " on the tape");
  if (!session_.visit([&](const auto& s) { return s.tape->supports(r.op, r.mistake); }))
    throw Error("op " + session_.op_name(r.op) + " (" + gs::info(session_.op_type(r.op)).name + ") has no '" +
                gs::info(r.mistake).name + "' mistake to plant");
  error_.clear();
  JobInput in;
  in.kind = JobKind::mistake;
  in.live = session_.get();
  in.op = r.op;
  in.mistake = r.mistake;
  start_job(std::move(in));
}

void Controller::apply_one(const req::CancelJob&) {
  const int dropped = static_cast<int>(waiting_.size());
  waiting_.clear();
  std::string what;
  if (jobs_->running()) {
    const JobProgress p = jobs_->progress();
    if (p.cancellable) {
      jobs_->cancel();
      what = jobs_->input().kind == JobKind::train ? "stopping after this training step" : "stopping: " + p.title;
    } else {
      what = p.title + " cannot be stopped (the file is written whole or not at all)";
    }
  }
  if (dropped) what += std::string(what.empty() ? "" : "; ") + "dropped " + std::to_string(dropped) + " waiting request" +
                       (dropped == 1 ? "" : "s");
  if (!what.empty()) status_ = what;
}

void Controller::start_job(JobInput in) {
  job_losses_ = 0;
  jobs_->start(std::move(in));
  refresh_job_view();
}

// [SECTION] requests that wait behind a job

bool Controller::waits_for_jobs(const Request& r) {
  // Moving in a lesson rebuilds and replays; setting a value changes the tensors.
  return starts_job(r) || is<req::RunChecks>(r) || is<req::CheckOp>(r) || is<req::SweepEps>(r) ||
         is<req::OpenLesson>(r) || is<req::LessonGo>(r) || is<req::LessonNext>(r) || is<req::LessonBack>(r) ||
         is<req::ResumeLesson>(r) || is<req::SetValue>(r);
}

void Controller::wait_behind_job(const Request& r) {
  // Only the latest of these counts (a view asks again every frame until it is answered; a new
  // rebuild replaces one not started yet), and it runs on the model the jobs before it leave.
  if (is<req::Rebuild>(r) || is<req::RunChecks>(r) || is<req::CheckOp>(r) || is<req::SweepEps>(r))
    waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(), [&](const Request& w) { return w.index() == r.index(); }),
                   waiting_.end());
  if (waiting_.size() >= kMaxWaiting) {
    error_ = "busy: " + std::to_string(waiting_.size()) + " requests are waiting for " + job_.title +
             "; try again when it is done";
    return;
  }
  waiting_.push_back(r);
  if ((starts_job(r) || is<req::RunChecks>(r)) && jobs_->running())
    status_ = job_words(r) + " starts when " + jobs_->progress().title + " is done";
}

void Controller::apply_one(const req::CancelChecks&) {
  waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(), [](const Request& w) { return is<req::RunChecks>(w); }),
                 waiting_.end());
  if (!analysis_->all_busy()) return;
  analysis_->cancel_all();
  status_ = "finite differences: cancelled";
}

// [SECTION] taking a finished job in

void Controller::absorb_losses() {
  for (double l : jobs_->take_losses()) {
    losses_.push_back(l);
    ++opt_steps_;
    ++job_losses_;
  }
}

void Controller::poll_job() {
  if (jobs_->running()) {
    absorb_losses();  // the loss curve grows as the steps finish
    if (std::optional<JobResult> r = jobs_->take()) {
      absorb_losses();
      take_job(*r);
    }
  }
  // What waited behind it, in order, until one of them starts the next job.
  while (!jobs_->running() && !waiting_.empty()) {
    const Request r = std::move(waiting_.front());
    waiting_.pop_front();
    dispatch(r);
  }
}

void Controller::wait_jobs() {
  for (;;) {
    jobs_->wait_finished();
    poll_job();
    if (!jobs_->running() && waiting_.empty()) break;
  }
  refresh_job_view();
}

void Controller::take_job(JobResult& r) {
  const int in_flight = std::exchange(job_losses_, 0);
  const JobInput& in = jobs_->input();
  const std::string title = jobs_->progress().title;
  if (!r.session) {
    // Nothing to swap in: the model on screen stays as it was.
    if (r.kind == JobKind::train) {
      losses_.resize(losses_.size() - std::min<size_t>(losses_.size(), in_flight));
      opt_steps_ -= in_flight;
    }
    if (r.cancelled)
      status_ = "cancelled " + title + (session_ ? ": the model is unchanged" : "");
    else if (!r.error.empty())
      error_ = std::string(r.kind != JobKind::save && session_ ? "model not changed: " : "") + r.error;
    else if (r.kind == JobKind::save) {
      status_ = "saved " + in.path + seconds_str(r.seconds);
      error_.clear();
    }
    // A failed rebuild, for the view that asked for it (a model's text: where it is wrong).
    if (r.kind == JobKind::build && !r.cancelled && !r.error.empty())
      build_error_ = BuildError{in.spec.program, r.text_line > 0 ? r.text_message : r.error, r.text_line, r.text_col,
                                in.spec.model_text.value_or(""), ++build_errors_};
    return;
  }
  // One optimiser step on a small model: the model before it is kept for the Update view.
  const bool keep = r.kind == JobKind::train && in.steps == 1 && r.steps_done == 1 && session_ &&
                    session_.visit([](const auto& s) { return s.model->n_params() <= kMaxEditParams; });
  AnySession before;
  swap_in(std::move(r.session), keep ? &before : nullptr);
  if (keep) {
    jobs_->dispose(std::move(before_step_));
    before_step_ = std::move(before);
    last_opt_ = in.opt;
  } else if (r.kind != JobKind::save) {
    jobs_->dispose(std::move(before_step_));
  }
  switch (r.kind) {
    case JobKind::build: {
      spec_ = r.spec;
      error_.clear();
      build_error_.reset();
      const Config& c = session_.config();
      const std::string file = std::filesystem::path(r.spec.checkpoint).filename().string();
      if (!c.is_gpt2())
        weights_source_ = r.spec.sets.empty() ? "default values (seed " + std::to_string(c.seed) + ")"
                                              : std::to_string(r.spec.sets.size()) + " value" +
                                                    (r.spec.sets.size() == 1 ? "" : "s") + " set by hand";
      else
        weights_source_ =
            r.spec.checkpoint.empty() ? "random init (seed " + std::to_string(c.seed) + ")" : "weights: " + file;
      losses_ = {session_.loss()};
      opt_steps_ = 0;
      before_ = Predictions{};
      before_steps_ = 0;
      playing_ = false;
      ++spec_generation_;
      last_build_ok_ = true;
      // A one-op check asked for while this model was being built names an op of the old tape,
      // with the old model's options (a view asks again for the new one).
      waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(),
                                    [](const Request& w) { return is<req::CheckOp>(w) || is<req::SweepEps>(w); }),
                     waiting_.end());
      after_change((file.empty() ? "built " + (c.is_gpt2() ? r.spec.preset : r.spec.program) : "loaded " + file) + ": " +
                   std::to_string(n_ops()) +
                   " ops, loss " + loss_str(session_.loss()) + seconds_str(r.seconds) +
                   (r.note.empty() ? "" : "; " + r.note));
      break;
    }
    case JobKind::train: {
      const std::string N = std::to_string(in.steps);
      before_ = std::move(pending_before_);
      before_steps_ = r.steps_done;
      // The weights on screen are no longer the file's (or the seed's) alone.
      if (opt_steps_ > 0)
        weights_source_ = weights_base_ + " + " + std::to_string(opt_steps_) + " step" + (opt_steps_ == 1 ? "" : "s") +
                          " trained here";
      if (r.steps_done < in.steps)  // cancelled, or a NaN stopped it
        after_change("training stopped after step " + std::to_string(r.steps_done) + "/" + N + " (" + opt_str(in.opt) +
                     "): loss " + loss_str(session_.loss()));
      else
        after_change(std::string(in.steps == 1 ? "optimizer step" : N + " training steps") + " (" + opt_str(in.opt) +
                     "): loss " + loss_str(session_.loss()) + seconds_str(r.seconds));
      if (keep) last_step_version_ = version_;
      break;
    }
    case JobKind::mistake:
      // While the class looks for the broken op, the status bar does not say where it is.
      if (settings_.hide_mistakes)
        after_change(in.mistake == Mistake::none ? "restored a correct backward"
                                                 : "a mistake is planted in one op's backward: check the ops to find it");
      else
        after_change(in.mistake == Mistake::none
                         ? "restored the correct backward of " + session_.op_name(in.op)
                         : std::string("planted '") + gs::info(in.mistake).name + "' in " + session_.op_name(in.op));
      break;
    case JobKind::save: break;
  }
  health_ = r.nonfinite;
  if (!r.error.empty()) error_ = r.error;  // training stopped at a NaN
}

void Controller::refresh_job_view() {
  JobView v;
  v.running = jobs_->running();
  if (v.running) {
    const JobProgress p = jobs_->progress();
    v.kind = jobs_->input().kind;
    v.title = p.title;
    v.phase = p.phase;
    v.fraction = p.fraction;
    v.cancellable = p.cancellable;
    v.cancelling = jobs_->cancelling();
  }
  v.waiting = static_cast<int>(waiting_.size());
  job_ = std::move(v);
}

}  // namespace gs::app
