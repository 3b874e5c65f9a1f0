#include "controller.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <new>

#include "gradscope/error.h"
#include "gradscope/tokenizer.h"

namespace gs::app {

// [SECTION] cursor

StepInfo step_info(int step, int n) {
  StepInfo s;
  s.n = n;
  s.step = std::clamp(step, 0, 2 * n);
  if (s.step == 0) {
    s.half = Half::forward;
    s.op = -1;
    s.index = 0;
  } else if (s.step <= n) {
    s.half = Half::forward;
    s.op = s.step - 1;
    s.index = s.step;
  } else {
    s.half = Half::backward;
    s.op = 2 * n - s.step;
    s.index = s.step - n;
  }
  return s;
}

std::string Controller::step_title() const {
  if (!session_) return "no model";
  const StepInfo s = info();
  // An op is called by its place on the tape (0 … N−1), the number the tape, the inspector and
  // gradscope-cli ops show; the step (0 … 2N) is counted apart.
  if (s.step == 0) return "ready: nothing computed yet (next: forward · op 0: " + session_.op_name(0) + ")";
  return std::string(s.half == Half::forward ? "forward" : "backward") + " · op " + std::to_string(s.op) + ": " +
         session_.op_name(s.op);
}

void Controller::set_step(int s) {
  step_ = std::clamp(s, 0, total_steps());
  sel_.op = step_ == 0 ? 0 : info().op;
  if (sel_.pinned_op != sel_.op) {  // a picked entry belongs to its op
    sel_.pinned_tensor.clear();
    sel_.pinned_index = -1;
    sel_.pinned_op = -1;
  }
}

bool Controller::value_grad_ready(int value) const {
  if (!session_) return false;
  return session_.visit([&](const auto& s) {
    const auto& v = s.tape->value(value);
    if (v.uses.empty()) return step_ >= n_ops() + 1;  // the loss: seeded when backward starts
    for (const Use& u : v.uses)
      if (!backward_done(u.op)) return false;
    return true;
  });
}

bool Controller::incoming_ready(int op) const {
  if (!session_) return false;
  const int out = session_.visit([&](const auto& s) { return s.tape->op(op).out; });
  return value_grad_ready(out);
}

bool Controller::param_grad_ready(int param) const {
  if (!session_) return false;
  return session_.visit([&](const auto& s) {
    bool used = false;
    for (int k = 0; k < s.tape->size(); ++k)
      for (int p : s.tape->op(k).par)
        if (p == param) {
          used = true;
          if (!backward_done(k)) return false;
        }
    return used;
  });
}

// [SECTION] building

ModelSpec Controller::default_spec() {
  ModelSpec spec;
  spec.preset = "tiny";
  spec.dtype = "f64";
  spec.text = kDefaultText;
  spec.seq = preset_config("tiny").seq_len;  // T 8: the first T+1 characters of the sentence
  return spec;
}

bool Controller::load_default(ModelSpec spec) {
  // The default checkpoint has the char vocabulary: GPT-2's tokens need a fresh initialisation.
  const bool bpe = spec.tokenizer && *spec.tokenizer == "gpt2";
  if (spec.program != "gpt2" || !spec.checkpoint.empty() || spec.seed || spec.preset != "tiny" || bpe || spec.layers ||
      spec.heads || spec.embd || spec.vocab || spec.ctx)
    return rebuild(spec);
  const std::string path = asset_path(kDefaultCheckpoint);
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    spec.checkpoint = path;
    if (rebuild(spec)) return true;
    const std::string why = error_;
    spec.checkpoint.clear();
    if (!rebuild(spec)) return false;
    weights_source_ = "random init (seed " + std::to_string(session_.config().seed) + "): could not load " +
                      std::string(kDefaultCheckpoint);
    error_ = why;
    return true;
  }
  if (!rebuild(spec)) return false;
  weights_source_ = "random init (seed " + std::to_string(session_.config().seed) + "): " + path + " not found";
  return true;
}

bool Controller::from_checkpoint() const {
  return !spec_.checkpoint.empty() && spec_.checkpoint != asset_path(kDefaultCheckpoint);
}

std::string Controller::model_label() const {
  if (!is_gpt2_program(spec_.program)) return spec_.program;
  if (spec_.checkpoint.empty()) return spec_.preset;
  if (!from_checkpoint()) return "tiny";
  if (!session_) return "checkpoint";
  const Config& c = session_.config();
  return "checkpoint L" + std::to_string(c.n_layer) + " H" + std::to_string(c.n_head) + " C" + std::to_string(c.n_embd);
}

void Controller::after_change(const std::string& what) {
  ++version_;
  checks_.assign(n_ops(), std::nullopt);
  status_ = what;
}

bool Controller::rebuild(const ModelSpec& spec) {
  last_build_ok_ = false;
  apply(req::Rebuild{spec});
  wait_jobs();
  return last_build_ok_;
}

void Controller::swap_in(AnySession next, AnySession* keep_old) {
  // Keep the cursor on the same op (by name) in the same half where the new tape has it.
  const StepInfo old = info();
  const bool had = static_cast<bool>(session_);
  const std::string old_name = had && old.op >= 0 ? session_.op_name(old.op) : "";
  const bool was_end = had && at_end();
  AnySession gone = std::move(session_);
  session_ = std::move(next);
  if (keep_old)
    *keep_old = std::move(gone);
  else
    jobs_->dispose(std::move(gone));
  const int n = n_ops();
  int s = 0;
  if (was_end) {
    s = 2 * n;
  } else if (!old_name.empty()) {
    const int k = session_.find_op(old_name);
    s = k < 0 ? std::min(old.step, 2 * n) : (old.half == Half::forward ? forward_step_of(k) : backward_step_of(k, n));
  }
  set_step(s);
}

// [SECTION] requests

void Controller::apply(RequestQueue& q) {
  poll_job();       // a finished job's model first, and what waited behind it (controller_jobs.cpp)
  poll_analysis();  // results of background checks (controller_analysis.cpp)
  for (const Request& r : q.take()) apply(r);
  refresh_job_view();
}

void Controller::apply(const Request& r) {
  if (waits_for_jobs(r) && (jobs_->running() || !waiting_.empty()))
    wait_behind_job(r);
  else
    dispatch(r);
  refresh_job_view();
}

void Controller::dispatch(const Request& r) {
  try {
    std::visit([&](const auto& x) { apply_one(x); }, r);
  } catch (const Error& e) {
    error_ = one_line(e.what());
  } catch (const std::bad_alloc&) {
    error_ = "out of memory";
  } catch (const std::exception& e) {
    error_ = one_line(e.what());
  }
}

void Controller::tick(double dt) {
  if (!playing_ || !session_) return;
  play_acc_ += dt * settings_.play_speed;
  const int n = static_cast<int>(play_acc_);
  if (n <= 0) return;
  play_acc_ -= n;
  set_step(step_ + n);
  if (at_end()) playing_ = false;
}

void Controller::apply_one(const req::Step& r) { set_step(step_ + r.delta); }
void Controller::apply_one(const req::JumpTo& r) { set_step(r.step); }

void Controller::apply_one(const req::FocusOp& r) {
  if (!session_ || r.op < 0 || r.op >= n_ops()) return;
  Half h = r.half;
  if (h == Half::current) h = in_backward() ? Half::backward : Half::forward;
  set_step(h == Half::forward ? forward_step_of(r.op) : backward_step_of(r.op, n_ops()));
}

void Controller::apply_one(const req::SelectRow& r) { sel_.row = std::max(0, r.row); }

void Controller::apply_one(const req::Hover& r) {
  sel_.hover_tensor = r.tensor;
  sel_.hover_index = r.index;
}

void Controller::apply_one(const req::PinEntry& r) {
  sel_.pinned_tensor = r.index >= 0 ? r.tensor : std::string();
  sel_.pinned_index = r.index;
  sel_.pinned_op = r.index >= 0 ? sel_.op : -1;
}

void Controller::apply_one(const req::ShowPanels& r) {
  panels_wanted_.titles = r.titles;
  panels_wanted_.only = r.only;
  ++panels_wanted_.serial;
}

void Controller::apply_one(const req::SetPlaying& r) {
  playing_ = r.playing && session_;
  play_acc_ = 0;
  if (playing_ && at_end()) set_step(0);  // play again from the start
}

void Controller::apply_one(const req::TogglePlaying&) { apply_one(req::SetPlaying{!playing_}); }

void Controller::apply_one(const req::SetSettings& r) {
  settings_ = r.settings;
  settings_.font_scale = std::clamp(settings_.font_scale, Settings::kMinFontScale, Settings::kMaxFontScale);
  if (!std::isfinite(settings_.play_speed)) settings_.play_speed = Settings{}.play_speed;
  settings_.play_speed = std::clamp(settings_.play_speed, Settings::kMinSpeed, Settings::kMaxSpeed);
}

void Controller::apply_one(const req::RunChecks& r) {
  if (!session_) throw Error("no model");
  if (static_cast<int>(checks_.size()) != n_ops()) checks_.assign(n_ops(), std::nullopt);
  if (r.op < 0 && r.background) return start_background_checks(r.with_params);
  const CheckOptions opt = check_options();
  if (r.op >= 0) {
    if (r.op >= n_ops()) throw Error("no op " + std::to_string(r.op) + " on the tape");
    checks_[r.op] = session_.visit([&](auto& s) { return check_op(*s.tape, r.op, opt); });
    const OpCheck& c = *checks_[r.op];
    char b[160];
    snprintf(b, sizeof b, "finite differences on %s (%s): %s (%lld compared, max abs err %.2e, noise floor %.2e)",
             c.name.c_str(), gs::info(c.kind).title, c.checked == 0 ? "nothing to check" : c.pass ? "pass" : "FAIL",
             static_cast<long long>(c.checked), c.max_abs_err, c.noise_floor);
    status_ = b;
    return;
  }
  const CheckReport rep = session_.visit([&](auto& s) { return check_all(*s.tape, opt, r.with_params); });
  int pass = 0, fail = 0;
  for (const OpCheck& c : rep.ops) {
    if (c.op < 0 || c.op >= n_ops()) continue;
    checks_[c.op] = c;
    if (c.checked > 0) (c.pass ? pass : fail)++;
  }
  status_ = "finite differences: " + std::to_string(pass) + " ops pass, " + std::to_string(fail) + " fail";
}

// [SECTION] checks

const OpCheck* Controller::check(int op) const {
  if (op < 0 || op >= static_cast<int>(checks_.size()) || !checks_[op]) return nullptr;
  return &*checks_[op];
}

CheckMark Controller::check_mark(int op) const {
  const OpCheck* c = check(op);
  if (!c) return CheckMark::not_run;
  if (c->checked == 0) return CheckMark::nothing_to_check;
  return c->pass ? CheckMark::pass : CheckMark::fail;
}

int Controller::checks_run() const {
  int n = 0;
  for (const auto& c : checks_) n += c.has_value();
  return n;
}

}  // namespace gs::app
