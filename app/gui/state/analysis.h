#pragma once
// Finite-difference work off the UI thread (no ImGui, no GL).
//
// A check replays the tape, which overwrites its stored values for a moment, and the views
// read those values every frame. So the work never touches the live tape: it runs in a worker
// thread this object owns, on a copy of the session (same config, parameters, batch and
// planted mistakes; forward and backward computed again, so every number is the live one's).
// Jobs are started from the controller's apply step, which copies the parameters while no
// other request can touch them; results are handed back under a mutex and taken in by poll(),
// also in the apply step, so every panel of a frame sees one state. A result always carries
// the controller version it was computed for; work for an older version is cancelled or
// dropped.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "any_session.h"
#include "gradscope/gradcheck.h"

namespace gs::app {

// [SECTION] results

struct OpCheckKey {
  uint64_t version = 0;
  int op = -1;
  double eps = 0;
  int max_entries = 0;
  CheckKind kind = CheckKind::entries;
  bool operator==(const OpCheckKey&) const = default;
};

struct SweepKey {
  uint64_t version = 0;
  int op = -1;
  bool is_param = false;
  int slot = -1;
  int64_t index = -1;
  bool operator==(const SweepKey&) const = default;
};

struct OpCheckResult {
  OpCheckKey key;
  CheckOptions opt;
  OpCheck check;
  std::string error;  // the job failed ("" when it ran)
};

struct SweepResult {
  SweepKey key;
  double analytic = 0;  // the tape's gradient entry the numeric ones are compared with
  std::vector<EpsPoint> points;
  std::string error;
};

struct AllChecksResult {
  uint64_t version = 0;
  CheckOptions opt;
  bool with_params = false;
  CheckReport report;
  std::string error;
};

// The first op, walking backward from the loss, whose per-op check fails: the op whose own
// backward is wrong (ops after it pass; ops before it get a wrong incoming residual, which
// fails checks replayed to the loss and passes op-local ones). -1 when every checked op
// passes. Over a whole report: gs::first_failure_from_loss (gradcheck.h). Over per-op results
// looked up by index (nullptr: not checked), ops 0 … n−1:
int first_failure_from_loss(int n_ops, const std::function<const OpCheck*(int)>& check);

// A denser sweep than default_eps_sweep(): four steps per decade from 1e-1 to 1e-12.
std::vector<double> fine_eps_sweep();

// Whether two option sets give the same check (what the tape view's marks are computed with).
bool same_check(const CheckOptions& a, const CheckOptions& b);

// Where "check every op" is: ops and parameters done of total, the estimated share of the work
// done (ops differ in cost by orders of magnitude), what it is doing now, and the time it has
// taken and, once some checks are done, how long it will still take (−1 while unknown).
struct AllProgress {
  int done = 0, total = 0;
  double fraction = 0;
  std::string phase;
  double elapsed_s = 0;
  double left_s = -1;
};
// "about 12 s left (40 s so far)", or "8 s so far" while the time left is not known yet.
std::string time_left_text(const AllProgress& p);

// [SECTION] the worker

class Analysis {
 public:
  enum Arrived : unsigned { arrived_none = 0, arrived_all = 1, arrived_op = 2, arrived_sweep = 4 };

  Analysis();
  ~Analysis();  // cancels what it can and joins the worker
  Analysis(const Analysis&) = delete;
  Analysis& operator=(const Analysis&) = delete;

  // Starting work (UI thread, in the apply step). `live` is read here and never after. A new
  // job of a kind replaces one of the same kind still waiting to run. Throws gs::Error when a
  // copy of the model would not fit in memory.
  void start_all(const AnySession& live, uint64_t version, const CheckOptions& opt, bool with_params);
  void start_op(const AnySession& live, uint64_t version, int op, const CheckOptions& opt);
  void start_sweep(const AnySession& live, uint64_t version, const SweepKey& key, std::vector<double> eps);
  void cancel_all();  // stops "check every op" at its next op

  // Takes finished results in (UI thread); drops and cancels work for another version.
  // Returns what arrived (Arrived bits).
  unsigned poll(uint64_t current_version);
  // Blocks until nothing is queued or running, then polls (tests and scripted runs).
  unsigned wait(uint64_t current_version);

  // [SECTION] what the views read (UI thread; as of the last poll)
  bool all_busy() const { return all_busy_; }
  bool op_busy() const { return op_busy_; }
  bool sweep_busy() const { return sweep_busy_; }
  // "check every op" progress: ops (and parameters) done, of total.
  std::pair<int, int> all_progress() const { return {progress_done_.load(), progress_total_.load()}; }
  AllProgress all_progress_info() const;
  uint64_t all_version() const { return all_version_; }  // the version of the running or last run
  const std::optional<AllChecksResult>& all() const { return all_; }
  const std::optional<OpCheckResult>& op() const { return op_; }
  const std::optional<SweepResult>& sweep() const { return sweep_; }
  // The last key asked for (a view asks again only for a different one).
  const std::optional<OpCheckKey>& op_requested() const { return op_requested_; }
  const std::optional<SweepKey>& sweep_requested() const { return sweep_requested_; }
  // Copies of the model built so far (one per tensor version the work was asked for).
  int snapshots_built() const { return snapshots_built_.load(); }

  struct Source;    // what a copy is built from (parameters copied on the UI thread)
  struct Snapshot;  // the worker's copy: model and tape

 private:
  struct Job;
  std::shared_ptr<const Source> source_for(const AnySession& live, uint64_t version);
  void submit(std::shared_ptr<Job> j);
  void run();
  void execute(Job& j);
  void refresh_busy();

  // worker side
  std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  std::shared_ptr<Job> pending_all_, pending_op_, pending_sweep_;
  std::shared_ptr<Job> running_;
  std::optional<AllChecksResult> done_all_;
  std::optional<OpCheckResult> done_op_;
  std::optional<SweepResult> done_sweep_;
  bool stop_ = false;
  uint64_t live_version_ = 0;        // the controller's version as of the last poll
  std::unique_ptr<Snapshot> snap_;  // touched by the worker only
  std::atomic<int> progress_done_{0}, progress_total_{0};
  std::atomic<double> progress_fraction_{0};
  std::atomic<const char*> progress_phase_{""};  // string literals only
  std::atomic<int64_t> all_started_ns_{0}, checks_started_ns_{0};  // steady clock; 0: not yet
  std::atomic<double> checks_started_fraction_{0};
  std::atomic<int> snapshots_built_{0};
  std::thread worker_;

  // UI side
  std::shared_ptr<const Source> source_;
  bool all_busy_ = false, op_busy_ = false, sweep_busy_ = false;
  uint64_t all_version_ = 0;
  std::optional<AllChecksResult> all_;
  std::optional<OpCheckResult> op_;
  std::optional<SweepResult> sweep_;
  std::optional<OpCheckKey> op_requested_;
  std::optional<SweepKey> sweep_requested_;
};

}  // namespace gs::app
