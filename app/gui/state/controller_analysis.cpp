// The controller's side of the finite-difference work that runs off the UI thread
// (analysis.h): the requests that start or stop it, and the hand-over of its results into the
// per-op marks, once per frame at the top of apply() so every panel of a frame sees one state.
#include "controller.h"
#include "gradscope/error.h"

namespace gs::app {

void Controller::apply_one(const req::CheckOp& r) {
  if (!session_) throw Error("no model");
  if (r.op < 0 || r.op >= n_ops()) throw Error("no op " + std::to_string(r.op) + " on the tape");
  if (!(r.opt.eps > 0) || !(r.opt.eps < 1)) throw Error("the finite-difference step must lie between 0 and 1");
  analysis_->start_op(session_, version_, r.op, r.opt);
}

void Controller::apply_one(const req::SweepEps& r) {
  if (!session_) throw Error("no model");
  if (r.op < 0 || r.op >= n_ops()) throw Error("no op " + std::to_string(r.op) + " on the tape");
  analysis_->start_sweep(session_, version_, SweepKey{version_, r.op, r.is_param, r.slot, r.index}, fine_eps_sweep());
}

CheckOptions Controller::check_options() const {
  if (!session_) return CheckOptions::defaults(DType::f64);
  if (!check_options_ || check_options_->first != spec_generation_)
    check_options_.emplace(spec_generation_,
                           session_.visit([](const auto& s) { return default_check_options(*s.tape); }));
  return check_options_->second;
}

void Controller::start_background_checks(bool with_params) {
  const CheckOptions opt = check_options();
  analysis_->start_all(session_, version_, opt, with_params);
  status_ = std::string("finite differences (") + gs::info(opt.kind).title + "): checking every op" +
            (with_params ? " and parameter" : "") + " in the background …";
}

void Controller::poll_analysis() { take_analysis(analysis_->poll(version_)); }

void Controller::wait_analysis() { take_analysis(analysis_->wait(version_)); }

void Controller::take_analysis(unsigned arrived) {
  if (!arrived || !session_) return;
  if (static_cast<int>(checks_.size()) != n_ops()) checks_.assign(n_ops(), std::nullopt);
  // Only checks made with the default options become the tape's marks.
  const CheckOptions def = check_options();
  if (arrived & Analysis::arrived_all) {
    const AllChecksResult& r = *analysis_->all();
    if (!r.error.empty()) {
      error_ = "finite differences: " + r.error;
    } else {
      int pass = 0, fail = 0;
      for (const OpCheck& c : r.report.ops) {
        if (c.op < 0 || c.op >= n_ops()) continue;
        if (same_check(r.opt, def)) checks_[c.op] = c;
        if (c.checked > 0) (c.pass ? pass : fail)++;
      }
      int pfail = 0;
      for (const TensorCheck& t : r.report.params) pfail += !t.pass;
      status_ = std::string("finite differences (") + gs::info(r.opt.kind).title + "): " + std::to_string(pass) +
                " ops pass, " + std::to_string(fail) + " fail";
      if (r.with_params)
        status_ += "; " + std::to_string(r.report.params.size() - pfail) + " parameters pass, " + std::to_string(pfail) +
                   " fail";
      if (r.report.cancelled) status_ += " (cancelled after " + std::to_string(r.report.ops.size()) + " ops)";
    }
  }
  if (arrived & Analysis::arrived_op) {
    const OpCheckResult& r = *analysis_->op();
    if (!r.error.empty())
      error_ = "finite differences: " + r.error;
    else if (same_check(r.opt, def) && r.key.op >= 0 && r.key.op < n_ops())
      checks_[r.key.op] = r.check;
  }
  if (arrived & Analysis::arrived_sweep) {
    const SweepResult& r = *analysis_->sweep();
    if (!r.error.empty()) error_ = "error against ε: " + r.error;
  }
}

}  // namespace gs::app
