// gradscope's benchmarks (issue "Performance", first half: measure before optimising).
//
//   step/<config>             one forward+backward step: Tape::forward() then Tape::backward()
//   op/<config>/<type>        one op type's forward and backward, summed over every op of that
//                             type on the tape, timed inside op-by-op steps
//                             (forward_op 0 … N−1, then backward_op N−1 … 0)
//   op/<config>/(all)         the whole op-by-op step (what the per-type rows add up to)
//   gradcheck/tiny_f64/all    gs::check_all: every entry of every op operand and parameter
//   gradcheck/gpt2_f32_B1_T64/<kind>/…   checks at the 124M shape as `gradscope-cli check
//                             --preset gpt2` runs them (B1 T64, f32), each as a multiple of one
//                             training step of the same session timed in the same run (x_step):
//       local/all             every op and every parameter op-locally (the default at this size),
//                             the double mirrors built inside the timing, as the CLI does
//       local/mistake         the same with a mistake planted; found = 1 when the first failure
//                             walking back from the loss is the planted op and no other op fails
//       local/one_op/<op>     one op with the mirrors already built (the app keeps them per model
//                             state; cold_x_step: a fresh Checker, mirror included)
//       direction/all         every op and parameter replayed to the loss, estimated: blocks 0 and
//                             11 and the ops outside the blocks checked, blocks 1–10 interpolated
//                             (a replay from block l costs linearly less as l grows)
//       entries/all           24 entries per tensor (the CLI's default), estimated from timed
//                             double replays of the mirror (an entry costs two; the first op of
//                             each block and every op after the last block timed, interpolated
//                             in between), checked against one measured entrywise check (ln_f)
//   gemm/f32/MxKxN            the sgemm the engine uses (OpenBLAS or Eigen) alone: its ceiling
//   safetensors/header/N      parsing a safetensors header of N tiny tensors (st::parse); the
//                             reader is linear, so items_per_second (entries) stays about flat from
//                             1k to 256k entries and the fitted O(N) has a small RMS (a parser that
//                             rescans at each entry takes minutes at 256k)
//
// Configs: tiny_f64 (the preset: L2 H2 C16, T8, B1), small_f32 (L4 H4 C128, T64, B1), and
// gpt2_f32_B4_T64 (the 124M shape at B=4, T=64). Token batches are the CLI's (seeded random
// tokens), so `gradscope-cli bench --preset … --batch … --seq …` times the same step.
//
// Environment:
//   GRADSCOPE_THREADS=N       threads for the engine (default: all cores), via gs::set_threads
//   GRADSCOPE_BENCH_GPT2_OPS=1  also time op types on the gpt2 shape (three more steps, ~1 min)
//   GRADSCOPE_BENCH_GPT2_CHECKS=1  also the checks at the 124M shape (~6 min, 5 GB of memory)
//
// Every time is wall-clock (manual time, one sample per iteration). Counters: ms (median),
// ms_min / ms_max (the spread: the machine may be shared), GFLOP/s from the engine's own FLOP
// counts (Tape::total_flops(): forward + backward) at the median, and the bytes held
// (Tape::stored_bytes(): every stored value, gradient and share; Model::bytes(): parameters
// and their gradients).
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gradscope/error.h"
#include "gradscope/gradcheck.h"
#include "gradscope/safetensors.h"
#include "gradscope/session.h"
#include "gradscope/tape.h"
#include "gradscope/threads.h"

namespace {

using Clock = std::chrono::steady_clock;
using benchmark::Counter;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// [SECTION] configs and sessions

struct BenchConfig {
  std::string id;      // "small_f32"
  std::string preset;  // tiny | small | gpt2
  gs::DType dtype;
  int batch = 0, seq = 0;  // 0: the preset's
  int step_iters = 10;     // samples of step/<id>
  int sweep_iters = 10;    // op-by-op steps behind op/<id>/*
};

const BenchConfig kTiny{"tiny_f64", "tiny", gs::DType::f64, 0, 0, 2000, 200};
const BenchConfig kSmall{"small_f32", "small", gs::DType::f32, 0, 0, 40, 20};
const BenchConfig kGpt2{"gpt2_f32_B4_T64", "gpt2", gs::DType::f32, 4, 64, 5, 3};
const BenchConfig kGpt2Check{"gpt2_f32_B1_T64", "gpt2", gs::DType::f32, 1, 64, 10, 3};

// One session per config, built on first use (gpt2's 124M parameters take seconds to
// initialise) and kept, after one forward+backward that touches every buffer once.
template <class T>
gs::Session<T>* session(const BenchConfig& c, benchmark::State* state) {
  static std::map<std::string, std::unique_ptr<gs::Session<T>>> cache;
  auto& s = cache[c.id];
  if (!s) {
    try {
      gs::ModelSpec spec;
      spec.preset = c.preset;
      spec.dtype = gs::dtype_name(c.dtype);
      if (c.batch) spec.batch = c.batch;
      if (c.seq) spec.seq = c.seq;
      s = std::make_unique<gs::Session<T>>(spec);
      s->tape->forward();
      s->tape->backward();
    } catch (const std::exception& e) {
      s.reset();
      if (state) state->SkipWithError(("cannot build " + c.id + ": " + e.what()).c_str());
      return nullptr;
    }
  }
  return s.get();
}

std::string describe(const gs::Config& c) {
  char b[160];
  snprintf(b, sizeof b, "L%d H%d C%d V%d B%d T%d %s, %d threads", c.n_layer, c.n_head, c.n_embd, c.vocab_size,
           c.batch, c.seq_len, gs::dtype_name(c.dtype), gs::threads());
  return b;
}

// Median, spread and rate of per-iteration samples (seconds) of work costing `flops`.
void time_counters(benchmark::State& state, const std::vector<double>& sec, double flops) {
  if (sec.empty()) return;
  const double med = median(sec);
  state.counters["ms"] = med * 1e3;
  state.counters["ms_min"] = *std::min_element(sec.begin(), sec.end()) * 1e3;
  state.counters["ms_max"] = *std::max_element(sec.begin(), sec.end()) * 1e3;
  state.counters["GFLOP"] = flops / 1e9;
  state.counters["GFLOP/s"] = med > 0 ? flops / med / 1e9 : 0;
}

template <class T>
void byte_counters(benchmark::State& state, const gs::Session<T>& s) {
  state.counters["stored_bytes"] = Counter(double(s.tape->stored_bytes()), Counter::kDefaults, Counter::kIs1024);
  state.counters["model_bytes"] = Counter(double(s.model->bytes()), Counter::kDefaults, Counter::kIs1024);
}

// [SECTION] step/<config>: Tape::forward + Tape::backward

template <class T>
void BM_Step(benchmark::State& state, const BenchConfig& cfg) {
  auto* s = session<T>(cfg, &state);
  if (!s) return;
  auto& tape = *s->tape;
  std::vector<double> sec;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    tape.forward();
    tape.backward();
    const double dt = seconds_since(t0);
    state.SetIterationTime(dt);
    sec.push_back(dt);
  }
  benchmark::DoNotOptimize(tape.loss());
  const gs::Flops f = tape.total_flops();
  time_counters(state, sec, double(f.fwd + f.bwd()));
  byte_counters(state, *s);
  state.SetLabel(describe(tape.config()));
}

// [SECTION] op/<config>/<type>: per op type, inside op-by-op steps

struct Sweep {
  std::array<double, gs::kNumOpTypes> fwd{}, bwd{};  // seconds per op type
  double total = 0;
};

// One op-by-op forward+backward step, each op timed on its own. backward_op(N−1) also zeroes
// the shared gradients (a fresh backward), which lands on the last op's type (nll).
template <class T>
Sweep timed_sweep(gs::Tape<T>& tape) {
  Sweep s;
  const auto start = Clock::now();
  for (int k = 0; k < tape.size(); ++k) {
    const auto t0 = Clock::now();
    tape.forward_op(k);
    s.fwd[static_cast<int>(tape.op(k).type)] += seconds_since(t0);
  }
  for (int k = tape.size() - 1; k >= 0; --k) {
    const auto t0 = Clock::now();
    tape.backward_op(k);
    s.bwd[static_cast<int>(tape.op(k).type)] += seconds_since(t0);
  }
  s.total = seconds_since(start);
  return s;
}

// The sweeps of a config are run once, by whichever op/<config>/* benchmark comes first, so
// every op type's share comes from the same steps and the shares add up to (all).
template <class T>
const std::vector<Sweep>* sweeps(const BenchConfig& cfg, benchmark::State& state) {
  static std::map<std::string, std::vector<Sweep>> cache;
  auto it = cache.find(cfg.id);
  if (it != cache.end()) return &it->second;
  auto* s = session<T>(cfg, &state);
  if (!s) return nullptr;
  std::vector<Sweep> v;
  for (int i = 0; i < cfg.sweep_iters; ++i) v.push_back(timed_sweep(*s->tape));
  return &cache.emplace(cfg.id, std::move(v)).first->second;
}

// Bytes of the tensors op type `type` owns on the tape: its outputs and their gradients, its
// saved values, its gradient shares. A buffer is counted once, for the first op that holds it.
template <class T>
double type_bytes(const gs::Tape<T>& tape, int type) {
  std::set<const T*> seen;
  double bytes = 0;
  auto take = [&](const gs::Tensor<T>& t, bool mine) {
    if (t.empty() || !seen.insert(t.data).second) return;
    if (mine) bytes += double(t.size()) * sizeof(T);
  };
  for (const auto& op : tape.ops()) {
    const bool mine = static_cast<int>(op.type) == type;
    take(tape.value(op.out).data, mine);
    take(tape.value(op.out).grad, mine);
    for (const auto& t : op.saved) take(t, mine);
    for (const auto& t : op.din) take(t, mine);
    for (const auto& t : op.dpar) take(t, mine);
  }
  return bytes;
}

// type < 0: the whole op-by-op step.
template <class T>
void BM_OpType(benchmark::State& state, const BenchConfig& cfg, int type) {
  const auto* sw = sweeps<T>(cfg, state);
  if (!sw) return;
  const auto& tape = *session<T>(cfg, nullptr)->tape;
  std::vector<double> fwd, bwd, both, total;
  for (const auto& s : *sw) {
    fwd.push_back(type < 0 ? 0 : s.fwd[type]);
    bwd.push_back(type < 0 ? 0 : s.bwd[type]);
    both.push_back(type < 0 ? s.total : s.fwd[type] + s.bwd[type]);
    total.push_back(s.total);
  }
  size_t i = 0;
  for (auto _ : state) state.SetIterationTime(both[i++ % both.size()]);

  gs::Flops f;
  int n_ops = 0;
  for (const auto& op : tape.ops()) {
    if (type >= 0 && static_cast<int>(op.type) != type) continue;
    f.fwd += op.flops.fwd;
    f.bwd_seed += op.flops.bwd_seed;
    f.bwd_extra += op.flops.bwd_extra;
    ++n_ops;
  }
  time_counters(state, both, double(f.fwd + f.bwd()));
  state.counters["n_ops"] = n_ops;
  state.counters["share_%"] = 100.0 * median(both) / median(total);
  if (type >= 0) {
    const double mf = median(fwd), mb = median(bwd);
    state.counters["fwd_ms"] = mf * 1e3;
    state.counters["bwd_ms"] = mb * 1e3;
    state.counters["fwd_GFLOP/s"] = mf > 0 ? double(f.fwd) / mf / 1e9 : 0;
    state.counters["bwd_GFLOP/s"] = mb > 0 ? double(f.bwd()) / mb / 1e9 : 0;
    state.counters["stored_bytes"] = Counter(type_bytes(tape, type), Counter::kDefaults, Counter::kIs1024);
  } else {
    state.counters["stored_bytes"] = Counter(double(tape.stored_bytes()), Counter::kDefaults, Counter::kIs1024);
    state.counters["model_bytes"] =
        Counter(double(tape.model().bytes()), Counter::kDefaults, Counter::kIs1024);
  }
  state.SetLabel(describe(tape.config()));
}

// [SECTION] gradcheck/tiny_f64/all: the full finite-difference check

void BM_GradcheckAll(benchmark::State& state) {
  auto* s = session<double>(kTiny, &state);
  if (!s) return;
  auto& tape = *s->tape;
  gs::CheckOptions opt = gs::CheckOptions::defaults(gs::DType::f64);
  opt.max_entries = 0;  // every entry
  std::vector<double> sec;
  gs::CheckReport rep;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    rep = gs::check_all(tape, opt, /*with_params=*/true);
    const double dt = seconds_since(t0);
    state.SetIterationTime(dt);
    sec.push_back(dt);
  }
  // The FLOPs the replays cost, by the engine's forward counts: an op check replays ops k … N−1
  // twice per entry and once more to restore the tape; a parameter check replays the whole tape.
  std::vector<double> fwd_from(tape.size() + 1, 0.0);
  for (int k = tape.size() - 1; k >= 0; --k) fwd_from[k] = fwd_from[k + 1] + double(tape.op(k).flops.fwd);
  double flops = 0, entries = 0, replays = 0;
  for (const auto& oc : rep.ops) {
    double n = 0;
    for (const auto& tc : oc.tensors) n += double(tc.entries.size());
    entries += n;
    replays += 2 * n + 1;
    flops += (2 * n + 1) * fwd_from[oc.op];
  }
  for (const auto& tc : rep.params) {
    const double n = double(tc.entries.size());
    entries += n;
    replays += 2 * n + 1;
    flops += (2 * n + 1) * fwd_from[0];
  }
  time_counters(state, sec, flops);
  state.counters["entries"] = entries;
  state.counters["replays"] = replays;
  byte_counters(state, *s);
  state.SetLabel(describe(tape.config()) + (rep.pass ? ", all pass" : ", FAILS"));
  if (!rep.pass) state.SkipWithError("the finite-difference check failed");
}

// [SECTION] gradcheck/gpt2_f32_B1_T64/*: the checks at the 124M shape against its step

// The median of a few training steps of this session, timed now: the unit the checks are
// measured in, from the same process, machine load and memory state.
double step_seconds(gs::Tape<float>& tape) {
  std::vector<double> sec;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = Clock::now();
    tape.forward();
    tape.backward();
    sec.push_back(seconds_since(t0));
  }
  return median(sec);
}

void step_counters(benchmark::State& state, const std::vector<double>& sec, double step) {
  time_counters(state, sec, 0);
  state.counters.erase("GFLOP");
  state.counters.erase("GFLOP/s");
  state.counters["step_ms"] = step * 1e3;
  state.counters["x_step"] = median(sec) / step;
}

// Every op and parameter op-locally, a fresh Checker (so its double mirrors) per iteration.
void BM_CheckGpt2Local(benchmark::State& state, const char* mistake) {
  auto* s = session<float>(kGpt2Check, &state);
  if (!s) return;
  auto& tape = *s->tape;
  int planted = -1;
  if (mistake) {
    const std::string m = mistake;
    planted = tape.find_op(m.substr(0, m.find('=')));
    s->plant(m);
    tape.forward();
    tape.backward();
  }
  const double step = step_seconds(tape);
  gs::CheckOptions opt = gs::default_check_options(tape);
  std::vector<double> sec, mirror;
  gs::CheckReport rep;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    double checks_began = 0;
    gs::Checker<float> checker(tape);
    rep = checker.all(opt, true, nullptr, [&](const gs::CheckProgress& p) {
      if (checks_began == 0 && std::string(p.phase).rfind("checking", 0) == 0) checks_began = seconds_since(t0);
    });
    const double dt = seconds_since(t0);
    state.SetIterationTime(dt);
    sec.push_back(dt);
    mirror.push_back(checks_began);
  }
  step_counters(state, sec, step);
  state.counters["mirror_ms"] = median(mirror) * 1e3;
  state.counters["ops"] = double(rep.ops.size());
  state.counters["params"] = double(rep.params.size());
  int failing = 0;
  for (const auto& oc : rep.ops) failing += !oc.pass;
  state.counters["failing_ops"] = failing;
  if (mistake) {
    const bool found = gs::first_failure_from_loss(rep) == planted && failing == 1;
    state.counters["found"] = found;
    state.SetLabel(std::string(gs::info(opt.kind).title) + ", " + mistake + (found ? ": found where planted" : ": NOT FOUND"));
    const std::string m = mistake;
    s->plant(m.substr(0, m.find('=')) + "=none");
    tape.forward();
    tape.backward();
    if (!found) state.SkipWithError("the planted mistake was not found where it was planted");
  } else {
    state.counters["pass"] = rep.pass;
    state.SetLabel(std::string(gs::info(opt.kind).title) + (rep.pass ? ", all pass" : ", FAILS"));
    if (!rep.pass) state.SkipWithError("a check failed on the correct model");
  }
}

// One op with the mirrors built already (one call before the timing), and once from cold.
void BM_CheckGpt2OneOp(benchmark::State& state, const std::string& name) {
  auto* s = session<float>(kGpt2Check, &state);
  if (!s) return;
  auto& tape = *s->tape;
  const int k = tape.find_op(name);
  if (k < 0) return state.SkipWithError(("no op " + name).c_str());
  const double step = step_seconds(tape);
  const gs::CheckOptions opt = gs::default_check_options(tape);
  const auto c0 = Clock::now();
  gs::Checker<float> checker(tape);
  gs::OpCheck oc = checker.op(k, opt);
  const double cold = seconds_since(c0);
  std::vector<double> sec;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    oc = checker.op(k, opt);
    const double dt = seconds_since(t0);
    state.SetIterationTime(dt);
    sec.push_back(dt);
  }
  step_counters(state, sec, step);
  state.counters["cold_x_step"] = cold / step;
  state.counters["err_over_floor"] = oc.max_ratio;
  state.SetLabel(std::string(gs::info(opt.kind).title) + (oc.pass ? ", pass" : ", FAILS"));
}

// Replays to the loss at this shape take minutes: the ops of blocks 0 and L−1 and those outside
// the blocks are checked, each op of a block in between estimated by interpolating its two
// measured namesakes linearly in the block index.
void BM_CheckGpt2Direction(benchmark::State& state) {
  auto* s = session<float>(kGpt2Check, &state);
  if (!s) return;
  auto& tape = *s->tape;
  const int L = tape.config().n_layer;
  const double step = step_seconds(tape);
  gs::CheckOptions opt = gs::default_check_options(tape);
  opt.kind = gs::CheckKind::direction;
  std::vector<double> est;
  for (auto _ : state) {
    gs::Checker<float> checker(tape);
    const auto t0 = Clock::now();
    const std::vector<int> none;
    checker.all(opt, false, &none);  // builds the full mirror
    const double mirror = seconds_since(t0);
    std::map<std::string, double> measured;  // op name → seconds (blocks 0 and L−1 and outside)
    std::map<int, double> param_time;
    double sampled = 0;
    bool pass = true;
    auto time_op = [&](int k) {
      const auto t = Clock::now();
      pass = pass && checker.op(k, opt).pass;
      const double dt = seconds_since(t);
      measured[tape.op(k).name] = dt;
      sampled += dt;
      for (int p : tape.op(k).par) {
        if (param_time.count(p) || !tape.model().params()[p].trainable) continue;
        const auto tp = Clock::now();
        pass = pass && checker.param(p, opt).pass;
        param_time[p] = seconds_since(tp);
        sampled += param_time[p];
      }
    };
    for (int k = 0; k < tape.size(); ++k) {
      const auto& op = tape.op(k);
      if (op.needs_backward() && (op.layer < 0 || op.layer == 0 || op.layer == L - 1)) time_op(k);
    }
    double total = mirror;
    for (int k = 0; k < tape.size(); ++k) {
      const auto& op = tape.op(k);
      if (!op.needs_backward()) continue;
      if (op.layer < 0 || op.layer == 0 || op.layer == L - 1) {
        total += measured[op.name];
        continue;
      }
      const std::string rest = op.name.substr(op.name.find('.', 2) + 1);
      const double a = measured["h.0." + rest], b = measured["h." + std::to_string(L - 1) + "." + rest];
      total += a + (b - a) * double(op.layer) / double(L - 1);
    }
    // Parameters: measured for blocks 0 and L−1 and outside; block l's by the same interpolation.
    for (int p = 0; p < static_cast<int>(tape.model().params().size()); ++p) {
      const auto& name = tape.model().params()[p].name;
      if (param_time.count(p)) {
        total += param_time[p];
        continue;
      }
      const size_t dot = name.find('.', 2);
      const int l = std::stoi(name.substr(2, dot - 2));
      const int p0 = tape.model().find("h.0." + name.substr(dot + 1));
      const int p1 = tape.model().find("h." + std::to_string(L - 1) + "." + name.substr(dot + 1));
      total += param_time[p0] + (param_time[p1] - param_time[p0]) * double(l) / double(L - 1);
    }
    state.SetIterationTime(total);
    est.push_back(total);
    state.counters["sampled_s"] = sampled + mirror;
    state.counters["mirror_ms"] = mirror * 1e3;
    state.counters["pass"] = pass;
  }
  step_counters(state, est, step);
  state.SetLabel("estimated from blocks 0 and " + std::to_string(L - 1) + " and the ops outside the blocks");
}

// Entrywise checks replay the double mirror from the op to the loss twice per entry: the time of
// every op's and parameter's entries from timed replays (the first op of each block, the ops
// after the last one, interpolated in between), checked against one op measured entrywise.
void BM_CheckGpt2Entries(benchmark::State& state) {
  auto* s = session<float>(kGpt2Check, &state);
  if (!s) return;
  auto& tape = *s->tape;
  const double step = step_seconds(tape);
  gs::CheckOptions opt = gs::default_check_options(tape);
  opt.kind = gs::CheckKind::entries;
  std::vector<double> est;
  for (auto _ : state) {
    gs::Checker<float> checker(tape);
    const auto t0 = Clock::now();
    const std::vector<int> none;
    checker.all(opt, false, &none);  // builds the full mirror
    const double mirror = seconds_since(t0);
    // A replay from op k, timed at the anchors.
    const int last_block = tape.find_op("h." + std::to_string(tape.config().n_layer - 1) + ".ln_1");
    std::vector<int> anchors;
    for (int k = 0; k < tape.size(); ++k)
      if (k == 0 || k >= last_block || tape.op(k).name.find(".ln_1") != std::string::npos) anchors.push_back(k);
    std::map<int, double> replay;
    for (int k : anchors) {
      // The replays of the checker's own full mirror, as the entries check runs them: op k
      // checked with 1 and with 3 entries per tensor, the difference being 4 replays per tensor
      // (what an op check costs besides its replays cancels out).
      const std::vector<int> only{k};
      gs::CheckOptions one = opt, three = opt;
      one.max_entries = 1;
      three.max_entries = 3;
      int shares = 0;
      for (int pass = 0; pass < 2; ++pass)
        for (const auto& sh : pass ? tape.op(k).dpar : tape.op(k).din) shares += sh.size() >= 3;
      auto t = Clock::now();
      checker.all(one, false, &only);
      const double t1 = seconds_since(t);
      t = Clock::now();
      checker.all(three, false, &only);
      const double t3 = seconds_since(t);
      replay[k] = std::max(t3 - t1, 0.0) / (4.0 * std::max(1, shares));
    }
    auto replay_from = [&](int k) {
      auto hi = replay.lower_bound(k);
      if (hi != replay.end() && hi->first == k) return hi->second;
      auto lo = std::prev(hi);
      return lo->second + (hi->second - lo->second) * double(k - lo->first) / double(hi->first - lo->first);
    };
    auto entries = [&](int64_t n) { return double(std::min<int64_t>(n, opt.max_entries)); };
    double total = mirror;
    for (int k = 0; k < tape.size(); ++k) {
      const auto& op = tape.op(k);
      for (int pass = 0; pass < 2; ++pass)
        for (const auto& sh : pass ? op.dpar : op.din)
          if (!sh.empty()) total += 2 * entries(sh.size()) * replay_from(k);
    }
    for (int p = 0; p < static_cast<int>(tape.model().params().size()); ++p) {
      int first = 0;
      for (int k = tape.size() - 1; k >= 0; --k)
        for (int q : tape.op(k).par)
          if (q == p) first = k;
      total += 2 * entries(tape.model().params()[p].data.size()) * replay_from(first);
    }
    // One op measured at full entry count, against its estimate.
    const int k = tape.find_op("ln_f");
    const std::vector<int> only{k};
    const auto t = Clock::now();
    const gs::CheckReport rep = checker.all(opt, false, &only);
    const double measured = seconds_since(t);
    double predicted = 0;
    for (int pass = 0; pass < 2; ++pass)
      for (const auto& sh : pass ? tape.op(k).dpar : tape.op(k).din)
        if (!sh.empty()) predicted += 2 * entries(sh.size()) * replay_from(k);
    state.counters["ln_f_measured_ms"] = measured * 1e3;
    state.counters["ln_f_estimated_ms"] = predicted * 1e3;
    state.counters["ln_f_pass"] = rep.pass;
    state.counters["mirror_ms"] = mirror * 1e3;
    state.SetIterationTime(total);
    est.push_back(total);
  }
  step_counters(state, est, step);
  state.SetLabel("estimated from timed replays, " + std::to_string(opt.max_entries) + " entries per tensor");
}

// [SECTION] gemm/f32/MxKxN: the sgemm the engine uses (gs::gemm_backend()), its matmuls ceiling

void BM_Gemm(benchmark::State& state, int M, int K, int N) {
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Mat A = Mat::Random(M, K), B = Mat::Random(K, N), C(M, N);
  C.noalias() = A * B;  // warm-up
  std::vector<double> sec;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    C.noalias() = A * B;
    benchmark::ClobberMemory();
    const double dt = seconds_since(t0);
    state.SetIterationTime(dt);
    sec.push_back(dt);
  }
  benchmark::DoNotOptimize(C.data());
  time_counters(state, sec, 2.0 * M * K * N);
  state.SetLabel(std::string(gs::gemm_backend()) + ", " + std::to_string(gs::threads()) + " threads");
}

// [SECTION] registration

template <class T>
void register_config(const BenchConfig& c) {
  benchmark::RegisterBenchmark(("step/" + c.id).c_str(), [c](benchmark::State& st) { BM_Step<T>(st, c); })
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond)
      ->Iterations(c.step_iters);
}

template <class T>
void register_op_types(const BenchConfig& c, const std::vector<int>& types) {
  for (int t : types)
    benchmark::RegisterBenchmark(("op/" + c.id + "/" + gs::info(static_cast<gs::OpType>(t)).name).c_str(),
                                 [c, t](benchmark::State& st) { BM_OpType<T>(st, c, t); })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(c.sweep_iters);
  benchmark::RegisterBenchmark(("op/" + c.id + "/(all)").c_str(),
                               [c](benchmark::State& st) { BM_OpType<T>(st, c, -1); })
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond)
      ->Iterations(c.sweep_iters);
}

const char* env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

}  // namespace

namespace {

// A safetensors file of n one-byte tensors.
std::vector<uint8_t> many_tensor_file(int64_t n) {
  std::string h = "{";
  for (int64_t i = 0; i < n; ++i)
    h += (i ? ",\"t" : "\"t") + std::to_string(i) + "\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[" +
         std::to_string(i) + "," + std::to_string(i + 1) + "]}";
  h += "}";
  std::vector<uint8_t> file(8 + h.size() + size_t(n), 0);
  for (int i = 0; i < 8; ++i) file[i] = static_cast<uint8_t>(uint64_t(h.size()) >> (8 * i));
  std::copy(h.begin(), h.end(), file.begin() + 8);
  return file;
}

void BM_SafetensorsHeader(benchmark::State& st) {
  const int64_t n = st.range(0);
  const std::vector<uint8_t> file = many_tensor_file(n);
  for (auto _ : st) {
    gs::st::File f = gs::st::parse(file.data(), file.size(), "bench.safetensors");
    benchmark::DoNotOptimize(f.tensors.data());
  }
  st.SetComplexityN(n);
  st.SetItemsProcessed(n * static_cast<int64_t>(st.iterations()));  // entries per second
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 0;
  if (const char* e = std::getenv("GRADSCOPE_THREADS"); e && *e) {
    char* end = nullptr;
    const long n = std::strtol(e, &end, 10);
    if (*end != '\0' || n < 1 || n > 1024) {
      fprintf(stderr, "bench: error: GRADSCOPE_THREADS must be a whole number from 1 to 1024, got '%s'\n", e);
      return 2;
    }
    threads = static_cast<int>(n);
  }
  gs::set_threads(threads);
  benchmark::AddCustomContext("gradscope_threads", std::to_string(gs::threads()));
  benchmark::AddCustomContext("OMP_WAIT_POLICY", env_or("OMP_WAIT_POLICY", "(unset)"));
  benchmark::AddCustomContext("gemm", gs::gemm_backend());
  benchmark::AddCustomContext("OPENBLAS_CORETYPE", env_or("OPENBLAS_CORETYPE", "(unset)"));

  register_config<double>(kTiny);
  register_config<float>(kSmall);
  register_config<float>(kGpt2);

  // The op types on the small preset's tape (the gpt2 shape has the same ones).
  std::vector<int> types;
  if (auto* s = session<float>(kSmall, nullptr)) {
    std::set<int> seen;
    for (const auto& op : s->tape->ops()) seen.insert(static_cast<int>(op.type));
    types.assign(seen.begin(), seen.end());
  } else {
    fprintf(stderr, "bench: error: cannot build the small preset\n");
    return 2;
  }
  register_op_types<float>(kSmall, types);
  if (std::string(env_or("GRADSCOPE_BENCH_GPT2_OPS", "0")) == "1") register_op_types<float>(kGpt2, types);

  benchmark::RegisterBenchmark("gradcheck/tiny_f64/all", BM_GradcheckAll)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond)
      ->Iterations(3);

  if (std::string(env_or("GRADSCOPE_BENCH_GPT2_CHECKS", "0")) == "1") {
    const std::string id = "gradcheck/" + kGpt2Check.id;
    register_config<float>(kGpt2Check);
    benchmark::RegisterBenchmark((id + "/local/all").c_str(), [](benchmark::State& st) { BM_CheckGpt2Local(st, nullptr); })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(2);
    benchmark::RegisterBenchmark((id + "/local/mistake").c_str(),
                                 [](benchmark::State& st) { BM_CheckGpt2Local(st, "h.3.attn.softmax=dropped_term"); })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
    for (const char* op : {"h.5.attn.softmax", "h.5.mlp.c_fc", "lm_head"})
      benchmark::RegisterBenchmark((id + "/local/one_op/" + op).c_str(),
                                   [op](benchmark::State& st) { BM_CheckGpt2OneOp(st, op); })
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond)
          ->Iterations(3);
    benchmark::RegisterBenchmark((id + "/direction/all").c_str(), BM_CheckGpt2Direction)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
    benchmark::RegisterBenchmark((id + "/entries/all").c_str(), BM_CheckGpt2Entries)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
  }

  struct Shape3 {
    int M, K, N, iters;
  };
  // 2048³ and (4096×768)·(768×3072): the machine's practical sgemm rate; 256×768×3072 is
  // c_fc's forward at the gpt2 shape with B=4, T=64 (M = B·T = 256).
  for (const Shape3 g : {Shape3{2048, 2048, 2048, 8}, Shape3{4096, 768, 3072, 8}, Shape3{256, 768, 3072, 40}})
    benchmark::RegisterBenchmark(
        ("gemm/f32/" + std::to_string(g.M) + "x" + std::to_string(g.K) + "x" + std::to_string(g.N)).c_str(),
        [g](benchmark::State& st) { BM_Gemm(st, g.M, g.K, g.N); })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(g.iters);

  benchmark::RegisterBenchmark("safetensors/header", BM_SafetensorsHeader)
      ->RangeMultiplier(4)
      ->Range(1 << 10, 1 << 18)
      ->Complexity(benchmark::oN)
      ->Unit(benchmark::kMillisecond);

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  try {
    benchmark::RunSpecifiedBenchmarks();
  } catch (const std::exception& e) {
    fprintf(stderr, "bench: error: %s\n", e.what());
    return 2;
  }
  benchmark::Shutdown();
  return 0;
}
