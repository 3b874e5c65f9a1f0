#include "analysis.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <new>
#include <type_traits>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gradscope/error.h"
#include "jobs.h"

namespace gs::app {

// [SECTION] helpers

int first_failure_from_loss(int n_ops, const std::function<const OpCheck*(int)>& check) {
  for (int k = n_ops - 1; k >= 0; --k) {
    const OpCheck* c = check(k);
    if (c && c->checked > 0 && !c->pass) return k;
  }
  return -1;
}


std::vector<double> fine_eps_sweep() {
  std::vector<double> e;
  for (int q = 4; q <= 48; ++q) e.push_back(std::pow(10.0, -q / 4.0));
  return e;
}

bool same_check(const CheckOptions& a, const CheckOptions& b) {
  return a.eps == b.eps && a.atol == b.atol && a.rtol == b.rtol && a.max_entries == b.max_entries && a.seed == b.seed &&
         a.kind == b.kind;
}

namespace {
int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

std::string time_left_text(const AllProgress& p) {
  auto span = [](double s) {
    char b[32];
    if (s < 90)
      snprintf(b, sizeof b, "%.0f s", std::max(s, 0.0));
    else
      snprintf(b, sizeof b, "%.1f min", s / 60);
    return std::string(b);
  };
  if (p.left_s < 0) return span(p.elapsed_s) + " so far";
  return "about " + span(p.left_s) + " left (" + span(p.elapsed_s) + " so far)";
}

AllProgress Analysis::all_progress_info() const {
  AllProgress p;
  p.done = progress_done_.load();
  p.total = progress_total_.load();
  p.fraction = progress_fraction_.load();
  p.phase = progress_phase_.load();
  const int64_t t0 = all_started_ns_.load(), tc = checks_started_ns_.load(), now = now_ns();
  if (t0 > 0) p.elapsed_s = double(now - t0) * 1e-9;
  // The rate of the checks so far (not of copying the model or building its mirror).
  const double f0 = checks_started_fraction_.load();
  if (tc > 0 && p.fraction > f0 && p.done > 0) {
    const double rate = (p.fraction - f0) / (double(now - tc) * 1e-9);
    if (rate > 0) p.left_s = (1.0 - p.fraction) / rate;
  }
  return p;
}


// [SECTION] source, snapshot, job

struct Analysis::Source {
  uint64_t serial = 0;
  uint64_t version = 0;
  Config cfg;
  // The live session's settings, inputs, parameter values and planted mistakes (Session::snapshot).
  std::variant<SessionSnapshot<float>, SessionSnapshot<double>> snap;
};

struct Analysis::Snapshot {
  uint64_t serial = 0, version = 0;
  AnySession session;  // the copy, forward and backward computed
  // A checker (which keeps a float tape's double mirror between checks) after the session: it
  // refers to the session's tape and goes first.
  std::unique_ptr<Checker<float>> cf;
  std::unique_ptr<Checker<double>> cd;
};

struct Analysis::Job {
  enum Kind { all, op, sweep } kind = all;
  std::shared_ptr<const Source> src;
  uint64_t version = 0;
  CheckOptions opt;
  bool with_params = false;
  OpCheckKey op_key;
  SweepKey sweep_key;
  std::vector<double> eps;
  std::atomic<bool> cancel{false};
  // results
  std::optional<AllChecksResult> all_result;
  std::optional<OpCheckResult> op_result;
  std::optional<SweepResult> sweep_result;
};

// [SECTION] starting work (UI thread)

Analysis::Analysis() = default;

Analysis::~Analysis() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
    if (running_) running_->cancel = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

std::shared_ptr<const Analysis::Source> Analysis::source_for(const AnySession& live, uint64_t version) {
  if (source_ && source_->version == version) return source_;
  if (!live) throw Error("no model to check");
  auto s = std::make_shared<Source>();
  static std::atomic<uint64_t> serial{0};
  s->serial = ++serial;
  s->version = version;
  s->cfg = live.config();
  // A copy: its own parameters, gradients and tape, plus the parameter values held for it;
  // for a float model, room for the double mirror its checks evaluate on (gradcheck.h).
  const double need = s->cfg.estimated_bytes() * (s->cfg.dtype == DType::f32 ? 2.25 : 1.25);
  const double avail = available_memory_bytes();
  if (avail > 0 && need > 0.7 * avail) {
    char b[200];
    snprintf(b, sizeof b, "checking runs on a copy of the model, which needs about %.1f GiB; %.1f GiB are free",
             need / (1 << 30), avail / (1 << 30));
    throw Error(b);
  }
  live.visit([&](const auto& sess) { s->snap = sess.snapshot(false); });
  source_ = s;
  return s;
}

void Analysis::submit(std::shared_ptr<Job> j) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    switch (j->kind) {
      case Job::all:
        if (running_ && running_->kind == Job::all) running_->cancel = true;
        pending_all_ = std::move(j);
        break;
      case Job::op: pending_op_ = std::move(j); break;
      case Job::sweep: pending_sweep_ = std::move(j); break;
    }
    if (!worker_.joinable()) worker_ = std::thread(&Analysis::run, this);
  }
  cv_.notify_all();
  refresh_busy();
}

void Analysis::start_all(const AnySession& live, uint64_t version, const CheckOptions& opt, bool with_params) {
  auto j = std::make_shared<Job>();
  j->kind = Job::all;
  j->src = source_for(live, version);
  j->version = version;
  j->opt = opt;
  j->with_params = with_params;
  progress_done_ = 0;
  progress_total_ = 0;
  progress_fraction_ = 0;
  progress_phase_ = "waiting to start";
  all_started_ns_ = now_ns();
  checks_started_ns_ = 0;
  all_version_ = version;
  submit(std::move(j));
}

void Analysis::start_op(const AnySession& live, uint64_t version, int op, const CheckOptions& opt) {
  auto j = std::make_shared<Job>();
  j->kind = Job::op;
  j->src = source_for(live, version);
  j->version = version;
  j->opt = opt;
  j->op_key = OpCheckKey{version, op, opt.eps, opt.max_entries, opt.kind};
  op_requested_ = j->op_key;
  submit(std::move(j));
}

void Analysis::start_sweep(const AnySession& live, uint64_t version, const SweepKey& key, std::vector<double> eps) {
  auto j = std::make_shared<Job>();
  j->kind = Job::sweep;
  j->src = source_for(live, version);
  j->version = version;
  j->sweep_key = key;
  j->sweep_key.version = version;
  j->eps = std::move(eps);
  sweep_requested_ = j->sweep_key;
  submit(std::move(j));
}

void Analysis::cancel_all() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    pending_all_.reset();
    if (running_ && running_->kind == Job::all) running_->cancel = true;
  }
  refresh_busy();
}

// [SECTION] taking results in (UI thread)

void Analysis::refresh_busy() {
  std::lock_guard<std::mutex> lk(mu_);
  const int rk = running_ ? running_->kind : -1;
  all_busy_ = pending_all_ || rk == Job::all;
  op_busy_ = pending_op_ || rk == Job::op;
  sweep_busy_ = pending_sweep_ || rk == Job::sweep;
}

unsigned Analysis::poll(uint64_t v) {
  unsigned got = arrived_none;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    // Work for tensors that have changed since is not worth finishing.
    if (running_ && running_->version != v && running_->kind == Job::all) running_->cancel = true;
    for (auto* p : {&pending_all_, &pending_op_, &pending_sweep_})
      if (*p && (*p)->version != v) p->reset();
    if (done_all_) {
      if (done_all_->version == v) {
        all_ = std::move(*done_all_);
        got |= arrived_all;
      }
      done_all_.reset();
    }
    if (done_op_) {
      if (done_op_->key.version == v) {
        op_ = std::move(*done_op_);
        got |= arrived_op;
      }
      done_op_.reset();
    }
    if (done_sweep_) {
      if (done_sweep_->key.version == v) {
        sweep_ = std::move(*done_sweep_);
        got |= arrived_sweep;
      }
      done_sweep_.reset();
    }
    if (live_version_ != v) {
      live_version_ = v;
      wake = true;  // the worker may free a copy nobody will ask about again
    }
  }
  if (source_ && source_->version != v) source_.reset();
  if (all_ && all_->version != v) all_.reset();
  if (op_ && op_->key.version != v) op_.reset();
  if (sweep_ && sweep_->key.version != v) sweep_.reset();
  if (wake) cv_.notify_all();
  refresh_busy();
  return got;
}

unsigned Analysis::wait(uint64_t v) {
  {
    std::unique_lock<std::mutex> lk(mu_);
    idle_cv_.wait(lk, [&] { return !running_ && !pending_all_ && !pending_op_ && !pending_sweep_; });
  }
  return poll(v);
}

// [SECTION] the worker thread

void Analysis::run() {
  // Background work yields to the UI: Linux applies nice per thread, and the OpenMP threads
  // this one starts inherit it. The thread count stays the UI thread's: a matmul split over
  // a different number of threads rounds differently, and the copy must compute the live
  // tape's numbers bit for bit.
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] {
      return stop_ || pending_op_ || pending_sweep_ || pending_all_ || (snap_ && snap_->version != live_version_);
    });
    if (stop_) break;
    // Interactive work first: one op's check and the eps sweep are quick; "every op" is not.
    std::shared_ptr<Job> j = pending_op_      ? std::exchange(pending_op_, nullptr)
                             : pending_sweep_ ? std::exchange(pending_sweep_, nullptr)
                                              : std::exchange(pending_all_, nullptr);
    if (!j) {
      auto old = std::move(snap_);  // the live tensors moved on: free the copy
      lk.unlock();
      old.reset();
      lk.lock();
      continue;
    }
    running_ = j;
    lk.unlock();
    execute(*j);
    lk.lock();
    if (j->all_result) done_all_ = std::move(j->all_result);
    if (j->op_result) done_op_ = std::move(j->op_result);
    if (j->sweep_result) done_sweep_ = std::move(j->sweep_result);
    running_.reset();
    idle_cv_.notify_all();
  }
  running_.reset();
  idle_cv_.notify_all();
}

void Analysis::execute(Job& j) {
  std::string error;
  try {
    if (!snap_ || snap_->serial != j.src->serial) {
      if (j.kind == Job::all) progress_phase_ = "copying the model to check on";
      snap_.reset();
      auto s = std::make_unique<Snapshot>();
      s->serial = j.src->serial;
      s->version = j.src->version;
      std::visit(
          [&](const auto& snap) {
            using T = typename std::decay_t<decltype(snap.data)>::value_type::value_type;
            auto copy = Session<T>::restore(snap);
            copy->tape->forward();
            copy->tape->backward();
            s->session = AnySession(std::move(copy));
          },
          j.src->snap);
      s->session.visit([&](auto& sess) {
        if constexpr (std::is_same_v<std::decay_t<decltype(sess)>, Session<float>>)
          s->cf = std::make_unique<Checker<float>>(*sess.tape);
        else
          s->cd = std::make_unique<Checker<double>>(*sess.tape);
      });
      snap_ = std::move(s);
      ++snapshots_built_;
    }
    auto work = [&](auto& tape, auto& checker) {
      switch (j.kind) {
        case Job::all: {
          AllChecksResult r;
          r.version = j.version;
          r.opt = j.opt;
          r.with_params = j.with_params;
          Progress progress = [&](const CheckProgress& p) {
            if (j.cancel) return;
            const double f = p.work_total > 0 ? p.work_done / p.work_total : 0.0;
            if (checks_started_ns_.load() == 0 && std::string(p.phase).rfind("checking", 0) == 0) {
              checks_started_fraction_ = f;
              checks_started_ns_ = now_ns();
            }
            progress_done_ = p.done;
            progress_total_ = p.total;
            progress_fraction_ = f;
            progress_phase_ = p.phase;
          };
          r.report = checker.all(j.opt, j.with_params, nullptr, progress, &j.cancel);
          j.all_result = std::move(r);
          break;
        }
        case Job::op: {
          if (j.op_key.op < 0 || j.op_key.op >= tape.size()) throw Error("no op " + std::to_string(j.op_key.op));
          OpCheckResult r;
          r.key = j.op_key;
          r.opt = j.opt;
          r.check = checker.op(j.op_key.op, j.opt);
          j.op_result = std::move(r);
          break;
        }
        case Job::sweep: {
          const SweepKey& k = j.sweep_key;
          if (k.op < 0 || k.op >= tape.size()) throw Error("no op " + std::to_string(k.op));
          const auto& op = tape.op(k.op);
          const auto& shares = k.is_param ? op.dpar : op.din;
          if (k.slot < 0 || k.slot >= static_cast<int>(shares.size()) || shares[k.slot].empty())
            throw Error("this operand of " + op.name + " has no gradient to check");
          if (k.index < 0 || k.index >= shares[k.slot].size()) throw Error("entry out of range");
          SweepResult r;
          r.key = k;
          r.analytic = static_cast<double>(shares[k.slot][k.index]);
          r.points = error_vs_eps(tape, k.op, k.is_param, k.slot, k.index, j.eps);
          j.sweep_result = std::move(r);
          break;
        }
      }
    };
    snap_->session.visit([&](auto& sess) {
      if constexpr (std::is_same_v<std::decay_t<decltype(sess)>, Session<float>>)
        work(*sess.tape, *snap_->cf);
      else
        work(*sess.tape, *snap_->cd);
    });
  } catch (const Error& e) {
    error = e.what();
  } catch (const std::bad_alloc&) {
    error = "out of memory making a copy of the model to check on";
    snap_.reset();
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (error.empty()) return;
  switch (j.kind) {
    case Job::all:
      j.all_result = AllChecksResult{j.version, j.opt, j.with_params, {}, error};
      break;
    case Job::op: j.op_result = OpCheckResult{j.op_key, j.opt, {}, error}; break;
    case Job::sweep: j.sweep_result = SweepResult{j.sweep_key, 0, {}, error}; break;
  }
}

}  // namespace gs::app
