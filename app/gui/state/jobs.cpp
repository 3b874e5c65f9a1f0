#include "jobs.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>

#include "gradscope/checkpoint.h"
#include "gradscope/error.h"
#include "gradscope/model_text.h"

namespace gs::app {

// [SECTION] helpers

double available_memory_bytes() {
  std::ifstream f("/proc/meminfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("MemAvailable:", 0) == 0) {
      std::istringstream is(line.substr(13));
      double kb = 0;
      is >> kb;
      return kb * 1024.0;
    }
  }
  return 0;
}

bool gpt2_vocab_present(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path d(dir.empty() ? default_gpt2_vocab_dir() : dir);
  auto has = [&](const char* f) { return fs::is_regular_file(d / f, ec); };
  return (has("encoder.json") && has("vocab.bpe")) || (has("vocab.json") && has("merges.txt"));
}

std::string one_line(std::string s) {
  for (char& ch : s)
    if (ch == '\n' || ch == '\r') ch = ' ';
  return s;
}

namespace {

std::string gib(double bytes) {
  char b[32];
  snprintf(b, sizeof b, "%.1f GiB", bytes / double(1 << 30));
  return b;
}

// A second model next to the one on screen must fit in what the machine has free.
void check_room(double need, const char* what) {
  const double avail = available_memory_bytes();
  if (avail > 0 && need > 0.9 * avail)
    throw Error(std::string(what) + " needs about " + gib(need) + " next to the model on screen; " + gib(avail) +
                " are free");
}

template <class T>
std::string nonfinite_of(const Session<T>& s) {
  std::string out;
  const double loss = s.tape->loss();
  if (!std::isfinite(loss)) out = std::string("the loss is ") + (std::isnan(loss) ? "NaN" : "infinite");
  int bad = 0;
  std::string first;
  for (const auto& p : s.model->params()) {
    bool ok = true;
    for (int64_t i = 0; i < p.data.size() && ok; ++i) ok = std::isfinite(static_cast<double>(p.data[i]));
    if (!ok && bad++ == 0) first = p.name;
  }
  if (bad) {
    if (!out.empty()) out += "; ";
    out += std::to_string(bad) + " parameter" + (bad == 1 ? "" : "s") + " hold NaN or ±∞ (first: " + first + ")";
  }
  return out;
}

}  // namespace

std::string nonfinite_report(const AnySession& s) {
  if (!s) return "";
  return s.visit([](const auto& x) { return nonfinite_of(x); });
}

// [SECTION] the reporter (worker side)

class Jobs::Reporter {
 public:
  explicit Reporter(Jobs& j) : j_(j) {}

  void title(std::string t, bool cancellable = true) {
    std::lock_guard<std::mutex> lk(j_.mu_);
    j_.progress_.title = std::move(t);
    j_.progress_.cancellable = cancellable;
  }
  // Where the job is; returns true when it has been asked to stop.
  bool at(double fraction, std::string phase) {
    JobProgress p;
    {
      std::lock_guard<std::mutex> lk(j_.mu_);
      j_.progress_.fraction = std::clamp(fraction, 0.0, 1.0);
      j_.progress_.phase = std::move(phase);
      p = j_.progress_;
    }
    if (j_.hook_) j_.hook_(p);
    return j_.cancel_;
  }
  bool cancelled() const { return j_.cancel_; }
  void loss(double v) {
    std::lock_guard<std::mutex> lk(j_.mu_);
    j_.new_losses_.push_back(v);
  }

 private:
  Jobs& j_;
};

namespace {

using Reporter = Jobs::Reporter;

// Forward and backward over the whole tape, one op at a time, the bar going from f0 to f1.
// Returns false when asked to stop between two ops (only where `may_stop`).
// Where it may not stop (a training step), a request to stop shows in the phase.
template <class T>
bool passes(Tape<T>& tape, Reporter& rep, double f0, double f1, bool may_stop) {
  const int n = tape.size();
  const double fw = 0.45;  // the backward pass costs a little more than the forward
  auto where = [&](const char* half, int i, int k) {
    return std::string(!may_stop && rep.cancelled() ? "stopping after this step — " : "") + half + " op " +
           std::to_string(i) + "/" + std::to_string(n) + ": " + tape.op(k).name;
  };
  for (int k = 0; k < n; ++k) {
    if (rep.at(f0 + (f1 - f0) * fw * k / n, where("forward", k + 1, k)) && may_stop) return false;
    tape.forward_op(k);
  }
  for (int k = n - 1; k >= 0; --k) {
    if (rep.at(f0 + (f1 - f0) * (fw + (1 - fw) * (n - 1 - k) / n), where("backward", n - k, k)) && may_stop)
      return false;
    tape.backward_op(k);
  }
  return true;
}

AnySession copy_of(const AnySession::Ptr& live) {
  return std::visit(
      [](const auto* s) {
        if (!s) throw Error("no model");
        check_room(s->model->config().estimated_bytes() * 1.1, "working on a copy of the model");
        return AnySession(s->copy());
      },
      live);
}

JobResult cancelled(JobResult& r) {
  r.cancelled = true;
  return std::move(r);
}

std::string file_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

// [SECTION] the jobs

JobResult build(const JobInput& in, Reporter& rep) {
  JobResult r;
  r.kind = JobKind::build;
  r.spec = in.spec;
  const bool from_file = !in.spec.checkpoint.empty();
  rep.title(from_file                     ? "loading " + file_name(in.spec.checkpoint)
            : !is_gpt2_program(in.spec.program) ? "building " + in.spec.program
                                        : "building " + in.spec.preset + " shape");
  if (rep.at(0, from_file ? "reading the checkpoint" : "reading the settings")) return cancelled(r);
  ResolvedSpec res;
  try {
    res = resolve(r.spec);
  } catch (const Error& e) {
    // A checkpoint without a character vocabulary (Hugging Face's or llm.c's GPT-2) cannot read
    // the text with the char tokenizer: read it with GPT-2's when its vocabulary is here, else
    // run on seeded random tokens. Only when no tokenizer was chosen.
    const std::string what = e.what();
    if (!from_file || !r.spec.text || r.spec.tokenizer || what.find("no character vocabulary") == std::string::npos)
      throw;
    if (gpt2_vocab_present(r.spec.vocab_dir)) {
      r.spec.tokenizer = "gpt2";
      r.note = "the checkpoint has no character vocabulary: the text is read with GPT-2's tokenizer";
    } else {
      r.spec.text.reset();
      r.spec.seq.reset();
      r.note = "the checkpoint has no character vocabulary and GPT-2's is not here (run scripts/fetch-gpt2-vocab): "
               "seeded random tokens";
    }
    res = resolve(r.spec);
  }
  check_room(res.config.estimated_bytes(), "building this model");
  if (rep.at(0.05, std::string(from_file ? "loading" : "initialising") + " the weights and allocating the tape"))
    return cancelled(r);
  AnySession s = AnySession::build(res);
  const bool done = s.visit([&](auto& x) { return passes(*x.tape, rep, 0.45, 0.98, true); });
  if (!done) return cancelled(r);
  rep.at(0.99, "checking that every number is finite");
  r.nonfinite = nonfinite_report(s);
  r.session = std::move(s);
  return r;
}

JobResult train(const JobInput& in, Reporter& rep) {
  JobResult r;
  r.kind = JobKind::train;
  const int N = in.steps;
  const double units = 0.5 + N;  // copying costs about half a step
  rep.title("training " + std::to_string(N) + (N == 1 ? " step" : " steps"));
  if (rep.at(0, "copying the model to train on (the one on screen stays until the steps are done)"))
    return cancelled(r);
  AnySession s = copy_of(in.live);
  if (rep.cancelled()) return cancelled(r);
  for (int i = 0; i < N; ++i) {
    const std::string step = std::to_string(i + 1) + "/" + std::to_string(N);
    rep.title("training step " + step);
    const double f0 = (0.5 + i) / units, f1 = (1.5 + i) / units;
    const char* stop = rep.cancelled() ? "stopping after this step — " : "";
    rep.at(f0, std::string(stop) + "optimiser step (" + in.opt.kind + ")");
    s.visit([&](auto& x) { optimizer_step(*x.model, in.opt, in.first_step + i); });
    s.visit([&](auto& x) { passes(*x.tape, rep, f0 + 0.3 * (f1 - f0), f1, false); });
    r.losses.push_back(s.loss());
    r.steps_done = i + 1;
    rep.loss(s.loss());
    r.nonfinite = nonfinite_report(s);
    if (!r.nonfinite.empty()) {
      r.error = "training stopped at step " + step + ": " + r.nonfinite;
      break;
    }
    if (rep.cancelled()) {
      r.cancelled = true;
      break;
    }
  }
  r.session = std::move(s);
  return r;
}

JobResult plant(const JobInput& in, Reporter& rep) {
  JobResult r;
  r.kind = JobKind::mistake;
  rep.title(in.mistake == Mistake::none ? "restoring the correct backward" : "planting a mistake");
  if (rep.at(0, "copying the model")) return cancelled(r);
  AnySession s = copy_of(in.live);
  s.visit([&](auto& x) { x.tape->set_mistake(in.op, in.mistake); });
  if (!s.visit([&](auto& x) { return passes(*x.tape, rep, 0.3, 0.98, true); })) return cancelled(r);
  r.nonfinite = nonfinite_report(s);
  r.session = std::move(s);
  return r;
}

JobResult save(const JobInput& in, Reporter& rep) {
  JobResult r;
  r.kind = JobKind::save;
  rep.title("saving " + file_name(in.path), false);
  rep.at(0.1, "writing " + in.path);
  std::visit(
      [&](const auto* x) {
        if (!x) throw Error("no model to save");
        save_checkpoint(in.path, *x->model, x->tokenizer ? x->tokenizer->vocab_string() : "");
      },
      in.live);
  rep.at(1, "written");
  return r;
}

}  // namespace

// [SECTION] the worker

Jobs::~Jobs() {
  cancel_ = true;
  if (thread_.joinable()) thread_.join();
  if (reaper_.joinable()) reaper_.join();
}

void Jobs::start(JobInput in) {
  if (running_) throw Error("another job is running");
  if (thread_.joinable()) thread_.join();
  input_ = std::move(in);
  cancel_ = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    done_ = false;
    result_.reset();
    progress_ = JobProgress{};
    new_losses_.clear();
  }
  running_ = true;
  thread_ = std::thread(&Jobs::run, this);
}

bool Jobs::finished() const {
  std::lock_guard<std::mutex> lk(mu_);
  return running_ && done_;
}

void Jobs::wait_finished() const {
  if (!running_) return;
  std::unique_lock<std::mutex> lk(mu_);
  done_cv_.wait(lk, [&] { return done_; });
}

std::optional<JobResult> Jobs::take() {
  if (!running_) return std::nullopt;
  std::optional<JobResult> r;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!done_) return std::nullopt;
    r = std::move(result_);
    result_.reset();
  }
  thread_.join();
  running_ = false;
  return r;
}

void Jobs::cancel() {
  if (running_) cancel_ = true;
}

JobProgress Jobs::progress() const {
  std::lock_guard<std::mutex> lk(mu_);
  return progress_;
}

std::vector<double> Jobs::take_losses() {
  std::lock_guard<std::mutex> lk(mu_);
  return std::exchange(new_losses_, {});
}

void Jobs::dispose(AnySession old) {
  if (!old) return;
  if (reaper_.joinable()) reaper_.join();
  // Freeing the gpt2 shape's buffers takes a tenth of a second: not on the UI thread.
  reaper_ = std::thread([s = std::move(old)]() mutable { s = AnySession(); });
}

void Jobs::run() {
  // Unlike the finite-difference worker (analysis.cpp, niced), this one runs at the UI's priority:
  // the user waits for it, and the UI thread keeps drawing on its own share (throttled to 30
  // frames a second while a job runs, main.cpp), so it never freezes either way.
  Reporter rep(*this);
  const auto t0 = std::chrono::steady_clock::now();
  JobResult r;
  r.kind = input_.kind;
  try {
    r = execute(rep);
  } catch (const ModelTextError& e) {
    r.error = e.what();
    r.text_line = e.line();
    r.text_col = e.col();
    r.text_message = one_line(e.message());
  } catch (const Error& e) {
    r.error = e.what();
  } catch (const std::bad_alloc&) {
    r.error = "out of memory (try a smaller preset, T or batch)";
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  r.error = one_line(r.error);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  {
    std::lock_guard<std::mutex> lk(mu_);
    result_ = std::move(r);
    done_ = true;
  }
  done_cv_.notify_all();
}

JobResult Jobs::execute(Reporter& rep) {
  switch (input_.kind) {
    case JobKind::build: return build(input_, rep);
    case JobKind::train: return train(input_, rep);
    case JobKind::mistake: return plant(input_, rep);
    case JobKind::save: return save(input_, rep);
  }
  throw Error("unknown job");
}

}  // namespace gs::app
