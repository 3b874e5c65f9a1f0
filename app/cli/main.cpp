// gradscope-cli: the engine without a screen. The command-line contract of docs/cli.md:
//   info | ops | check | flops | train | dump | bench   [MODEL options]   [--json]
// MODEL options (model_flags.h) pick the program (GPT-2 or a lesson model) and its values.
// Bad input anywhere gives one line on stderr naming the problem and a non-zero exit.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "gradscope/checkpoint.h"
#include "gradscope/error.h"
#include "gradscope/fileio.h"
#include "gradscope/gradcheck.h"
#include "gradscope/memory.h"
#include "gradscope/lesson.h"
#include "gradscope/program.h"
#include "gradscope/rng.h"
#include "gradscope/session.h"
#include "gradscope/tape.h"
#include "gradscope/threads.h"

#include <sys/resource.h>
#include "gradscope/tokenizer.h"
#include "gradscope/train.h"
#include "model_flags.h"

using nlohmann::json;

namespace {

struct Options {
  gs::flags::ModelFlags model;
  bool json = false;
  // check
  std::optional<double> eps;
  int max_entries = -1;
  bool no_params = false;
  std::string mode, check_ops;
  std::vector<std::string> mistakes;
  // train
  int steps = 0;
  gs::OptimizerOptions opt;
  std::string save, corpus;
  // dump
  std::string out;
  bool activations = false;
  // bench
  int bench_steps = 5;
  // lessons
  std::string lessons_dir, lessons_check;
  bool lessons_json = false;
};

// Flag values that name a file: an empty one is a mistake, not "no file".
const CLI::Validator kFileName(
    [](std::string& s) { return s.empty() ? std::string("an empty path names no file") : std::string(); }, "PATH");

// Flag values that name something: an empty one names nothing (it is not "absent").
const CLI::Validator kNotEmpty(
    [](std::string& s) { return s.empty() ? std::string("an empty value names nothing") : std::string(); }, "TEXT");

// The finite-difference step: below 1e-12 the difference drowns in double round-off (the
// checks would blame every op); above 0.1 it no longer measures a derivative.
constexpr double kMinEps = 1e-12, kMaxEps = 0.1;

// One JSON object on stdout. Strings are UTF-8; bytes that are not (GPT-2's tokens can cut a
// character in two) are replaced by U+FFFD, as docs/cli.md says. Token ids are always exact.
void print_json(const json& j) { std::cout << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n"; }

// `lessons`: the path in order, or one file checked. Needs no model.
int cmd_lessons(const Options& o) {
  if (!o.lessons_check.empty()) {
    const gs::Lesson l = gs::load_lesson(o.lessons_check);
    for (const std::string& w : l.warnings) fprintf(stderr, "gradscope-cli: warning: %s\n", w.c_str());
    if (o.lessons_json) {
      print_json(json{{"ok", true},      {"path", l.path},         {"id", l.id},
                      {"title", l.title}, {"program", l.spec.program}, {"steps", l.steps.size()},
                      {"warnings", l.warnings}});
    } else {
      printf("%s: a valid lesson: %s (%s, program %s, %zu steps)%s\n", gs::printable(l.path, 400).c_str(),
             gs::printable(l.title, 400).c_str(), gs::printable(l.id, 400).c_str(),
             l.spec.program.c_str(), l.steps.size(),
             l.warnings.empty() ? "" : (", " + std::to_string(l.warnings.size()) + " warning(s)").c_str());
    }
    return 0;
  }
  // --dir lists that folder alone; else the shipped lessons, then the teacher's own folder.
  gs::LessonList all;
  if (o.lessons_dir.empty()) all = gs::list_lessons();
  else all.shipped = gs::load_lessons(o.lessons_dir);
  const std::string dir = o.lessons_dir.empty() ? gs::default_lessons_dir() : o.lessons_dir;
  for (const std::string& p : all.problems) fprintf(stderr, "gradscope-cli: warning: %s\n", p.c_str());
  if (o.lessons_json) {
    json list = json::array();
    for (const auto* group : {&all.shipped, &all.own})
      for (const auto& l : *group)
        list.push_back({{"id", l.id}, {"title", l.title}, {"program", l.spec.program}, {"steps", l.steps.size()},
                        {"summary", l.summary}, {"path", l.path}, {"own", group == &all.own}});
    print_json(json{{"lessons", list}, {"dir", dir}, {"own_dir", all.own_dir}, {"problems", all.problems}});
    return 0;
  }
  const auto row = [](const gs::Lesson& l) {
    printf("  %-26s %-12s %2zu steps  %s\n", gs::printable(l.id, 400).c_str(), l.spec.program.c_str(), l.steps.size(),
           gs::printable(l.title, 400).c_str());
  };
  printf("lessons in %s (open one with: gradscope --lesson ID)\n", gs::printable(dir, 400).c_str());
  for (const auto& l : all.shipped) row(l);
  if (!o.lessons_dir.empty() || all.own_dir.empty()) return 0;
  printf("your own lessons in %s", gs::printable(all.own_dir, 400).c_str());
  if (all.own.empty()) printf(": none yet (put lesson files, NAME.toml, there; docs/lessons.md says how)\n");
  else printf("\n");
  for (const auto& l : all.own) row(l);
  return 0;
}

void add_common_options(CLI::App* app, Options& o) {
  gs::flags::add_model_options(*app, o.model);
  app->add_flag("--json", o.json, "print one JSON object");
}

// Prints a table row by row with fixed column widths.
std::string pad(const std::string& s, size_t w) {
  return s.size() >= w ? s + " " : s + std::string(w - s.size(), ' ');
}
std::string human(double v) {
  char b[32];
  if (v >= 1e12) snprintf(b, sizeof b, "%.2fT", v / 1e12);
  else if (v >= 1e9) snprintf(b, sizeof b, "%.2fG", v / 1e9);
  else if (v >= 1e6) snprintf(b, sizeof b, "%.2fM", v / 1e6);
  else if (v >= 1e3) snprintf(b, sizeof b, "%.2fk", v / 1e3);
  else snprintf(b, sizeof b, "%.0f", v);
  return b;
}

json tokens_json(const gs::Batch& b) {
  json rows = json::array();
  for (int r = 0; r < b.B; ++r) rows.push_back(std::vector<int32_t>(b.x.begin() + r * b.T, b.x.begin() + (r + 1) * b.T));
  return rows;
}
json targets_json(const gs::Batch& b) {
  json rows = json::array();
  for (int r = 0; r < b.B; ++r) rows.push_back(std::vector<int32_t>(b.y.begin() + r * b.T, b.y.begin() + (r + 1) * b.T));
  return rows;
}


void check_loss(double loss, const std::string& when) {
  if (!std::isfinite(loss))
    throw gs::Error("the loss is " + std::string(std::isnan(loss) ? "NaN" : "infinite") + " " + when +
                    " (weights or learning rate out of range)");
}

// [SECTION] commands

// A tensor's values as a JSON list (row-major), for the small tensors of a lesson program.
template <class T>
json values_json(const gs::Tensor<T>& t) {
  return std::vector<double>(t.begin(), t.end());
}
template <class T>
std::string values_text(const gs::Tensor<T>& t) {
  std::string out;
  const int64_t n = t.size(), shown = std::min<int64_t>(n, 12);
  for (int64_t i = 0; i < shown; ++i) {
    char b[32];
    snprintf(b, sizeof b, "%s%.6g", i ? ", " : "", double(t[i]));
    out += b;
  }
  if (shown < n) out += ", … (" + std::to_string(n) + " entries)";
  return out;
}

// A lesson program: its parameters and inputs with their values, and the loss they give.
template <class T>
int cmd_info_lesson(gs::Session<T>& s, const Options& o) {
  const auto& c = s.model->config();
  auto& tape = *s.tape;
  tape.forward();
  const gs::Program& p = s.model->program();
  if (o.json) {
    json params = json::array(), inputs = json::array();
    for (const auto& prm : s.model->params())
      params.push_back({{"name", prm.name}, {"shape", prm.data.shape}, {"trainable", prm.trainable},
                        {"values", values_json(prm.data)}});
    for (int id : tape.inputs()) {
      const auto& v = tape.value(id);
      inputs.push_back({{"name", v.name}, {"shape", v.data.shape}, {"integer", v.integer}, {"values", values_json(v.data)}});
    }
    json ops = json::array();
    for (const auto& op : tape.ops()) ops.push_back({{"name", op.name}, {"type", gs::info(op.type).name}});
    json j{{"program", c.program}, {"description", p.description()}, {"config", json::parse(c.json())},
           {"n_params", s.model->n_params()}, {"n_trainable", s.model->n_trainable()}, {"params", params},
           {"inputs", inputs}, {"n_ops", tape.size()}, {"ops", ops}, {"loss", tape.loss()}, {"tokens", json::array()}};
    print_json(j);
    return 0;
  }
  printf("program %s: %s\n", c.program.c_str(), p.description());
  std::string sizes;
  for (const auto& d : p.dims()) sizes += (sizes.empty() ? "" : " ") + d.name + "=" + std::to_string(c.dim(d.name));
  std::string model_text;
  for (const auto& [key, value] : p.settings_record(c)) {
    const json v = json::parse(value);
    if (v.is_string() && v.get<std::string>().find('\n') != std::string::npos) {
      model_text = v.get<std::string>();  // a model's text: shown below, line by line
      continue;
    }
    sizes += (sizes.empty() ? "" : " ") + key + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  printf("  %s   dtype %s   seed %llu\n", sizes.c_str(), gs::dtype_name(c.dtype), (unsigned long long)c.seed);
  for (size_t a = 0, b; a < model_text.size(); a = b + 1) {
    b = model_text.find('\n', a);
    if (b == std::string::npos) b = model_text.size();
    printf("  | %s\n", model_text.substr(a, b - a).c_str());
  }
  for (const auto& prm : s.model->params())
    printf("  parameter %-10s %-8s %s  [%s]\n", prm.name.c_str(), gs::shape_str(prm.data.shape).c_str(),
           prm.trainable ? "trainable" : "frozen   ", values_text(prm.data).c_str());
  for (int id : tape.inputs()) {
    const auto& v = tape.value(id);
    printf("  input     %-10s %-8s %s  [%s]\n", v.name.c_str(), gs::shape_str(v.data.shape).c_str(),
           v.integer ? "ids      " : "         ", values_text(v.data).c_str());
  }
  std::string ops;
  for (const auto& op : tape.ops()) ops += (ops.empty() ? "" : ", ") + op.name + " (" + gs::info(op.type).name + ")";
  printf("  tape: %d ops, loss %.9g\n", tape.size(), tape.loss());
  printf("  ops: %s\n", ops.c_str());
  return 0;
}

template <class T>
int cmd_info(gs::Session<T>& s, const Options& o) {
  const auto& c = s.model->config();
  if (!c.is_gpt2()) return cmd_info_lesson(s, o);
  const auto& b = s.tape->batch();
  if (o.json) {
    json j;
    j["config"] = json::parse(c.json());
    j["config"]["seq_len"] = b.T;
    j["config"]["batch"] = b.B;
    j["n_params"] = s.model->n_params();
    j["n_trainable"] = s.model->n_trainable();
    j["tokens"] = tokens_json(b);
    j["targets"] = targets_json(b);
    j["n_ops"] = s.tape->size();
    j["tokenizer"] = s.bpe ? "gpt2" : s.tokenizer ? "char" : "none";
    if (s.tokenizer) j["text"] = s.tokenizer->decode(std::vector<int32_t>(b.x.begin(), b.x.begin() + b.T));
    if (s.bpe) j["text"] = s.bpe->decode(std::vector<int32_t>(b.x.begin(), b.x.begin() + b.T));
    json pieces = json::array();
    for (int t = 0; t < b.T; ++t) pieces.push_back(s.token_text(b.x[t]));
    j["token_text"] = pieces;
    print_json(j);
    return 0;
  }
  printf("gradscope model (%s)\n", c.preset.c_str());
  printf("  L=%d H=%d C=%d d=%d V=%d n_ctx=%d   B=%d T=%d   dtype %s\n", c.n_layer, c.n_head, c.n_embd,
         c.head_size(), c.vocab_size, c.n_ctx, b.B, b.T, gs::dtype_name(c.dtype));
  if (c.lora()) {
    std::string t;
    for (auto x : c.lora_targets) t += (t.empty() ? "" : ",") + std::string(gs::lora_target_name(x));
    printf("  LoRA r=%d alpha=%g (scale %g) on %s; base frozen\n", c.lora_rank, c.lora_alpha, c.lora_scale(), t.c_str());
  }
  printf("  parameters %lld, trainable %lld\n", (long long)s.model->n_params(), (long long)s.model->n_trainable());
  printf("  tape: %d ops\n", s.tape->size());
  for (int r = 0; r < b.B; ++r) {
    printf("  tokens[%d]:", r);
    for (int t = 0; t < b.T; ++t) printf(" %d", b.x[r * b.T + t]);
    printf("\n");
  }
  if (s.tokenizer || s.bpe) {
    std::string shown;
    for (int t = 0; t < b.T; ++t) {
      std::string piece = s.token_text(b.x[t]);
      for (char ch : piece) shown += ch == '\n' ? std::string("\\n") : std::string(1, ch);
      if (s.bpe) shown += "|";
    }
    printf("  text[0] (%s tokens): \"%s\"\n", s.bpe ? "gpt2" : "char", shown.c_str());
  }
  return 0;
}

template <class T>
int cmd_ops(gs::Session<T>& s, const Options& o) {
  const auto& tape = *s.tape;
  if (o.json) {
    json ops = json::array();
    for (int k = 0; k < tape.size(); ++k) {
      const auto& op = tape.op(k);
      json in = json::array();
      for (int v : op.in) in.push_back({{"name", tape.value(v).name}, {"shape", tape.value(v).data.shape}});
      json par = json::array();
      for (int p : op.par) par.push_back({{"name", tape.model().params()[p].name}, {"shape", tape.model().params()[p].data.shape}});
      const auto& ti = gs::info(op.type);
      ops.push_back({{"index", k}, {"name", op.name}, {"type", ti.name}, {"layer", op.layer}, {"group", op.group},
                     {"inputs", in},
                     {"params", par}, {"output_shape", tape.value(op.out).data.shape}, {"fwd_flops", op.flops.fwd},
                     {"bwd_flops", op.flops.bwd()}, {"bwd_flops_seed", op.flops.bwd_seed},
                     {"bwd_flops_extra", op.flops.bwd_extra}, {"formula_forward", ti.forward},
                     {"formula_local", ti.local}, {"formula_backward", ti.backward}});
    }
    print_json(json{{"ops", ops}, {"program", tape.config().program}});
    return 0;
  }
  printf("%s%s%s%s%s%s%s\n", pad("#", 5).c_str(), pad("name", 26).c_str(), pad("type", 14).c_str(),
         pad("inputs", 30).c_str(), pad("output", 16).c_str(), pad("fwd FLOPs", 11).c_str(), "bwd FLOPs");
  for (int k = 0; k < tape.size(); ++k) {
    const auto& op = tape.op(k);
    std::string in;
    for (int v : op.in) in += (in.empty() ? "" : ",") + tape.value(v).name;
    for (int p : op.par) in += (in.empty() ? "" : ",") + tape.model().params()[p].name;
    if (in.size() > 29) in = in.substr(0, 26) + "...";
    printf("%s%s%s%s%s%s%s\n", pad(std::to_string(k), 5).c_str(), pad(op.name, 26).c_str(),
           pad(gs::info(op.type).name, 14).c_str(), pad(in, 30).c_str(),
           pad(gs::shape_str(tape.value(op.out).data.shape), 16).c_str(), pad(human(op.flops.fwd), 11).c_str(),
           human(op.flops.bwd()).c_str());
  }
  printf("\nformulas (forward | local derivative | backward):\n");
  bool seen[gs::kNumOpTypes] = {};
  for (const auto& op : tape.ops()) {
    if (seen[int(op.type)]) continue;
    seen[int(op.type)] = true;
    const auto& ti = gs::info(op.type);
    printf("  %s\n    %s\n    %s\n    %s\n", ti.name, ti.forward, ti.local, ti.backward);
  }
  return 0;
}

template <class T>
int cmd_flops(gs::Session<T>& s, const Options& o) {
  const auto& tape = *s.tape;
  const gs::Flops tot = tape.total_flops();
  const int64_t closed = tape.closed_form_bwd(), full = tape.full_finetune_bwd();
  const bool has_closed = closed >= 0;
  const bool lora = tape.config().lora();
  if (o.json) {
    json ops = json::array();
    for (const auto& op : tape.ops())
      ops.push_back({{"name", op.name}, {"type", gs::info(op.type).name}, {"fwd", op.flops.fwd},
                     {"bwd", op.flops.bwd()}, {"bwd_seed", op.flops.bwd_seed}, {"bwd_extra", op.flops.bwd_extra}});
    json j{{"total_fwd", tot.fwd},
           {"total_bwd", tot.bwd()},
           {"seed_counted_bwd", tot.bwd_seed},
           {"extra_bwd", tot.bwd_extra},
           {"closed_form_bwd", has_closed ? json(closed) : json(nullptr)},
           {"program", tape.config().program},
           {"full_finetune_bwd", full},
           {"lora", lora},
           {"bwd_saved_vs_full", full - tot.bwd()},
           {"bwd_fwd_ratio", tot.fwd ? double(tot.bwd()) / double(tot.fwd) : 0.0},
           {"ops", ops}};
    print_json(j);
    return 0;
  }
  printf("%s%s%s%s%s\n", pad("name", 26).c_str(), pad("type", 14).c_str(), pad("fwd", 12).c_str(),
         pad("bwd (in the post)", 18).c_str(), "bwd (not in it)");
  for (const auto& op : tape.ops())
    printf("%s%s%s%s%s\n", pad(op.name, 26).c_str(), pad(gs::info(op.type).name, 14).c_str(),
           pad(std::to_string(op.flops.fwd), 12).c_str(), pad(std::to_string(op.flops.bwd_seed), 18).c_str(),
           std::to_string(op.flops.bwd_extra).c_str());
  printf("\ntotal forward            %lld (%s)\n", (long long)tot.fwd, human(tot.fwd).c_str());
  printf("total backward           %lld (%s), %.2f× forward\n", (long long)tot.bwd(), human(tot.bwd()).c_str(),
         tot.fwd ? double(tot.bwd()) / double(tot.fwd) : 0.0);
  if (!has_closed) {
    printf("  (program %s: the closed form of \"Backpropagating through GPT-2\" is GPT-2's only)\n",
           tape.config().program.c_str());
    if (lora)
      printf("LoRA: backward %lld vs %lld with W and b trainable too: %lld saved (%.1f%%)\n", (long long)tot.bwd(),
             (long long)full, (long long)(full - tot.bwd()), 100.0 * double(full - tot.bwd()) / double(full));
    return 0;
  }
  printf("  ops the post counts    %lld   (the closed form's terms; \"Backpropagating through GPT-2\")\n",
         (long long)tot.bwd_seed);
  printf("  ops it leaves out      %lld (bias gradients, log-softmax, embeddings, LoRA)\n", (long long)tot.bwd_extra);
  printf("closed form              %lld   L(48BTC² + 8BHT²d + 5BHT² + 98BTC) + 11BTC + 4BTCV\n", (long long)closed);
  if (!lora)
    printf("closed form %s the sum of the ops it counts\n", closed == tot.bwd_seed ? "matches" : "DOES NOT match");
  else
    printf("LoRA: backward %lld vs %lld for full fine-tuning: %lld saved (%.1f%%)\n", (long long)tot.bwd(),
           (long long)full, (long long)(full - tot.bwd()), 100.0 * double(full - tot.bwd()) / double(full));
  return 0;
}

// One line saying what a check of this kind compares and what its noise floor is.
std::string floor_text(gs::CheckKind k, gs::DType d) {
  const char* u = d == gs::DType::f32 ? "2⁻²⁴ (f32)" : "2⁻⁵³ (f64)";
  char b[400];
  if (k == gs::CheckKind::entries)
    snprintf(b, sizeof b, "pass when |a − n| ≤ atol + rtol·|n|%s", d == gs::DType::f32 ? " + 64·u·|a| (float's round-off in a)" : "");
  else
    snprintf(b, sizeof b,
             "pass when |a − n| ≤ noise floor = %g·u·Σ|gᵢvᵢ| (the analytic side's round-off, u = %s) + the numeric "
             "side's round-off (+ its change from ε to 2ε, when evaluated)",
             k == gs::CheckKind::local ? gs::kLocalK : gs::kChainK, u);
  return b;
}

template <class T>
int cmd_check(gs::Session<T>& s, const Options& o) {
  auto& tape = *s.tape;
  for (const auto& m : o.mistakes) s.plant(m);
  tape.forward();
  check_loss(tape.loss(), "before checking");
  tape.backward();
  gs::CheckOptions opt = gs::default_check_options(tape);
  if (!o.mode.empty()) opt.kind = gs::parse_check_kind(o.mode);
  if (o.eps) {
    if (!(*o.eps >= kMinEps && *o.eps <= kMaxEps)) {
      char b[160];
      snprintf(b, sizeof b, "--eps must lie in %g … %g (the finite-difference step; default 1e-6), got %g", kMinEps,
               kMaxEps, *o.eps);
      throw gs::Error(b);
    }
    opt.eps = *o.eps;
  }
  if (o.max_entries >= 0) opt.max_entries = o.max_entries;
  std::vector<int> only;
  if (!o.check_ops.empty()) {
    try {
      only = gs::find_ops(tape, o.check_ops);
    } catch (const gs::Error& e) {
      throw gs::Error("--ops: " + gs::printable(e.what(), 400));
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  gs::Checker<T> checker(tape);
  const gs::CheckReport r = checker.all(opt, !o.no_params, o.check_ops.empty() ? nullptr : &only);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int first = gs::first_failure_from_loss(r);
  const gs::DType dt = tape.config().dtype;
  const char* kind = gs::info(opt.kind).id;
  // The largest float round-off measured for an op (NaN: none needed measuring).
  auto measured = [](const std::vector<gs::TensorCheck>& ts) {
    double m = NAN;
    for (const auto& tc : ts)
      for (const auto& d : tc.directions)
        if (!std::isnan(d.roundoff_measured)) m = std::isnan(m) ? d.roundoff_measured : std::max(m, d.roundoff_measured);
    return m;
  };
  if (o.json) {
    json ops = json::array();
    for (const auto& oc : r.ops) {
      bool sums = true;
      for (const auto& sc : oc.sums) sums = sums && sc.pass;
      ops.push_back({{"name", oc.name}, {"index", oc.op}, {"kind", gs::info(oc.kind).id}, {"max_abs_err", oc.max_abs_err},
                     {"max_rel_err", oc.max_rel_err}, {"noise_floor", oc.noise_floor}, {"err_over_floor", oc.max_ratio},
                     {"checked", oc.checked}, {"sums_pass", sums}, {"pass", oc.pass}});
      if (const double m = measured(oc.tensors); !std::isnan(m)) ops.back()["roundoff_measured"] = m;
    }
    json params = json::array();
    for (const auto& tc : r.params)
      params.push_back({{"name", tc.label.substr(6)}, {"kind", gs::info(tc.kind).id}, {"max_abs_err", tc.max_abs_err},
                        {"max_rel_err", tc.max_rel_err}, {"noise_floor", tc.noise_floor},
                        {"err_over_floor", tc.max_ratio}, {"checked", tc.checked}, {"pass", tc.pass}});
    json j{{"ops", ops},
           {"params", params},
           {"pass", r.pass},
           {"mode", kind},
           {"first_failure", first >= 0 ? json(tape.op(first).name) : json(nullptr)},
           {"eps", opt.eps},
           {"atol", opt.atol},
           {"rtol", opt.rtol},
           {"dtype", gs::dtype_name(dt)},
           {"loss", tape.loss()},
           {"seconds", seconds}};
    print_json(j);
    return r.pass ? 0 : 1;
  }
  printf("finite differences, %s (--mode %s): %s\n", gs::info(opt.kind).title, kind, gs::info(opt.kind).what);
  printf("central differences at eps %g, the numeric side in double%s; %s\n", opt.eps,
         dt == gs::DType::f32 ? " (on a double-precision mirror of this f32 model, from its float values)" : "",
         floor_text(opt.kind, dt).c_str());
  if (opt.kind == gs::CheckKind::entries) printf("atol %g, rtol %g\n", opt.atol, opt.rtol);
  const bool entries = opt.kind == gs::CheckKind::entries;
  printf("%s%s%s%s%s%s\n", pad("op", 28).c_str(), pad("checked", 9).c_str(), pad("max abs err", 14).c_str(),
         pad(entries ? "allowed" : "noise floor", 14).c_str(), pad(entries ? "err/allowed" : "err/floor", 12).c_str(),
         "");
  char a[32], b[32], c[32];
  auto row = [&](const std::string& name, int64_t checked, double err, double floor, double ratio, bool pass,
                 const char* note) {
    snprintf(a, sizeof a, "%.3e", err);
    snprintf(b, sizeof b, "%.3e", floor);
    snprintf(c, sizeof c, "%.3g", ratio);
    printf("%s%s%s%s%s%s%s\n", pad(name, 28).c_str(), pad(std::to_string(checked), 9).c_str(), pad(a, 14).c_str(),
           pad(b, 14).c_str(), pad(c, 12).c_str(), pass ? "pass" : "FAIL", note);
  };
  for (const auto& oc : r.ops) {
    std::string note;
    if (const double m = measured(oc.tensors); !std::isnan(m)) {
      char b2[160];
      snprintf(b2, sizeof b2, "   (float's round-off measured: %.2e, the same backward in double)", m);
      note += b2;
    }
    for (const auto& sc : oc.sums)
      if (!sc.pass)
        note += "   Σ of shares broken: " + sc.label +
                (sc.culprit == oc.op ? ", this op overwrote the sum instead of adding to it" : "");
    row(oc.name, oc.checked, oc.max_abs_err, oc.noise_floor, oc.max_ratio, oc.pass, note.c_str());
  }
  if (!r.params.empty())
    printf("\nper parameter (%s):\n", opt.kind == gs::CheckKind::local
                                          ? "each op's share checked op-locally, and the gradient the sum of its shares"
                                          : "perturbed everywhere it is used, replayed from its first use");
  for (const auto& tc : r.params) row(tc.label.substr(6), tc.checked, tc.max_abs_err, tc.noise_floor, tc.max_ratio, tc.pass, "");
  if (first >= 0) printf("\nfirst disagreement walking back from the loss: %s\n", tape.op(first).name.c_str());
  printf("\n%s (%s, %.1f s)\n", r.pass ? "all checks pass" : "SOME CHECKS FAIL", gs::info(opt.kind).title, seconds);
  return r.pass ? 0 : 1;
}

template <class T>
int cmd_train(gs::Session<T>& s, const Options& o) {
  if (o.steps <= 0) throw gs::Error("--steps must be a positive number");
  o.opt.validate(s.model->config().dtype);
  if (!o.save.empty()) gs::io::check_destination(o.save);  // before the steps, not after
  auto& tape = *s.tape;
  std::vector<int32_t> stream;
  if (!o.corpus.empty()) {
    if (!s.tokenizer) throw gs::Error("--corpus needs the char tokenizer (not available for this vocabulary)");
    const std::string text = o.corpus == "default" ? gs::default_corpus() : gs::read_text_file(o.corpus);
    try {
      stream = s.tokenizer->encode(text);
    } catch (const gs::Error& e) {
      throw gs::Error((o.corpus == "default" ? gs::asset_path("corpus.txt") : o.corpus) + ": " + e.what());
    }
    if (stream.size() < size_t(tape.batch().T) + 1)
      throw gs::Error("the corpus has " + std::to_string(stream.size()) + " tokens, fewer than T+1");
  }
  gs::Rng rng(s.model->config().seed ^ 0x747261696eULL);  // "train"
  std::vector<double> losses;
  for (int step = 1; step <= o.steps; ++step) {
    if (!stream.empty()) {
      // B random windows of T+1 tokens from the corpus.
      gs::Batch b = tape.batch();
      const uint32_t span = static_cast<uint32_t>(stream.size() - b.T);
      for (int r = 0; r < b.B; ++r) {
        const uint32_t at = rng.below(span);
        for (int t = 0; t < b.T; ++t) {
          b.x[r * b.T + t] = stream[at + t];
          b.y[r * b.T + t] = stream[at + t + 1];
        }
      }
      tape.set_batch(b);
    }
    tape.forward();
    check_loss(tape.loss(), "at step " + std::to_string(step));
    tape.backward();
    const gs::StepReport rep = gs::optimizer_step(*s.model, o.opt, step);
    if (rep.nonfinite)
      throw gs::Error("optimiser step " + std::to_string(step) + ": " + rep.text() +
                      " (the learning rate or weight decay is too large for these weights)" +
                      (o.save.empty() ? "" : "; nothing saved"));
    losses.push_back(tape.loss());
    if (!o.json) printf("step %4d  loss %.6f\n", step, tape.loss());
  }
  if (!o.save.empty()) {
    // The weights about to be saved must give a finite loss too (the last step's loss was taken
    // before that step): a checkpoint that cannot run is not written.
    tape.forward();
    check_loss(tape.loss(), "after the last step, with the weights to be saved; nothing saved");
    gs::save_checkpoint(o.save, *s.model, s.tokenizer ? s.tokenizer->vocab_string() : "");
    if (!o.json) printf("saved %s\n", o.save.c_str());
  }
  if (o.json) print_json(json{{"losses", losses}, {"optimizer", o.opt.kind}, {"lr", o.opt.lr}});
  return 0;
}

template <class T>
int cmd_dump(gs::Session<T>& s, const Options& o) {
  if (o.out.empty()) throw gs::Error("dump needs --out FILE.safetensors");
  gs::io::check_destination(o.out);  // before the work, not after
  s.tape->forward();
  check_loss(s.tape->loss(), "for this input");
  s.tape->backward();
  gs::write_dump(o.out, *s.tape, o.activations);
  if (o.json)
    print_json(json{{"out", o.out}, {"loss", s.tape->loss()}});
  else
    printf("wrote %s (loss %.9g)\n", o.out.c_str(), s.tape->loss());
  return 0;
}

// The process's peak resident memory (getrusage: Linux reports kilobytes).
int64_t peak_rss_bytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return int64_t(ru.ru_maxrss) * 1024;
}

template <class T>
int cmd_bench(gs::Session<T>& s, const Options& o) {
  if (o.bench_steps <= 0) throw gs::Error("--steps must be a positive number");
  auto& tape = *s.tape;
  tape.forward();  // warm-up: first touch of every buffer
  check_loss(tape.loss(), "for this input");
  tape.backward();
  std::vector<double> ms;
  for (int i = 0; i < o.bench_steps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    tape.forward();
    tape.backward();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  const double med = ms[ms.size() / 2];
  const gs::Flops f = tape.total_flops();
  const double gflops = double(f.fwd + f.bwd()) / (med * 1e-3) / 1e9;
  if (o.json) {
    print_json(json{{"ms_per_step", med}, {"gflops", gflops}, {"threads", gs::threads()}, {"steps", o.bench_steps},
                    {"min_ms", ms.front()}, {"max_ms", ms.back()}, {"flops_per_step", f.fwd + f.bwd()},
                    {"stored_bytes", tape.stored_bytes()}, {"stored_bytes_min", tape.stored_bytes_min()},
                    {"model_bytes", tape.model().bytes()}, {"peak_rss_bytes", peak_rss_bytes()},
                    {"gemm", gs::gemm_backend()}});
  } else {
    printf("forward+backward: median %.3f ms over %d steps (min %.3f, max %.3f), %.2f GFLOP/s, %d threads, "
           "matmuls by %s\n",
           med, o.bench_steps, ms.front(), ms.back(), gflops, gs::threads(), gs::gemm_backend());
    const double mib = 1024.0 * 1024.0;
    printf("memory: tape %.1f MiB (its tensors' own sizes: %.1f MiB), parameters and their gradients %.1f MiB; "
           "peak resident %.1f MiB\n",
           double(tape.stored_bytes()) / mib, double(tape.stored_bytes_min()) / mib, double(tape.model().bytes()) / mib,
           double(peak_rss_bytes()) / mib);
  }
  return 0;
}

template <class T>
int run(const std::string& cmd, const Options& o, const gs::ResolvedSpec& r) {
  gs::Session<T> s(r);
  if (cmd == "info") return cmd_info(s, o);
  if (cmd == "ops") return cmd_ops(s, o);
  if (cmd == "check") return cmd_check(s, o);
  if (cmd == "flops") return cmd_flops(s, o);
  if (cmd == "train") return cmd_train(s, o);
  if (cmd == "dump") return cmd_dump(s, o);
  if (cmd == "bench") return cmd_bench(s, o);
  throw gs::Error("unknown command '" + cmd + "'");
}

}  // namespace

int main(int argc, char** argv) {
  // Ctrl+C or a kill during `dump --out` / `train --save` removes the temporary file first.
  gs::io::remove_temporaries_on_signals();
  CLI::App app{"gradscope-cli: a program's forward and backward pass (GPT-2 or a lesson model), op by op, "
               "without a screen"};
  app.require_subcommand(1, 1);
  app.footer("\n" + gs::flags::programs_help());
  Options o;
  CLI::App* info = app.add_subcommand("info", "config, parameter counts, tokens (or a lesson program's values)");
  CLI::App* ops = app.add_subcommand("ops", "the tape: every op with shapes, FLOPs and formulas");
  CLI::App* check = app.add_subcommand("check", "finite-difference checks of every op and parameter; exit 1 on a failure");
  CLI::App* flops = app.add_subcommand(
      "flops", "per-op and total FLOPs; for GPT-2 beside the closed form of \"Backpropagating through GPT-2\"");
  CLI::App* train = app.add_subcommand("train", "optimiser steps; prints the loss per step");
  CLI::App* dump = app.add_subcommand("dump", "write parameters, inputs, loss and gradients to safetensors");
  CLI::App* bench = app.add_subcommand("bench", "time per forward+backward step");
  CLI::App* lessons = app.add_subcommand("lessons", "the lessons in order (id, title, program, steps); --check FILE checks one");
  lessons->add_option("--dir", o.lessons_dir,
                      "list this folder's lessons only (default: the shipped lessons, then your own in "
                      "$XDG_DATA_HOME/gradscope/lessons)")
      ->check(kFileName);
  lessons->add_option("--check", o.lessons_check,
                      "check one lesson file as the app opens it (its model built, every step's action done, within "
                      "a lesson's limits): exit 2 with file:line:col on an error")
      ->check(kFileName);
  lessons->add_flag("--json", o.lessons_json, "print one JSON object");
  const std::vector<std::pair<std::string, CLI::App*>> subs = {{"info", info},   {"ops", ops},   {"check", check},
                                                              {"flops", flops}, {"train", train}, {"dump", dump},
                                                              {"bench", bench}};
  for (auto& [name, sub] : subs) add_common_options(sub, o);
  check->add_option("--eps", o.eps, "finite-difference step, 1e-12 … 0.1 (default 1e-6; the numeric side runs in double)");
  check->add_option("--max-entries", o.max_entries, "entries checked per tensor (0: all; default 24)")
      ->check(CLI::Range(0, std::numeric_limits<int>::max()));
  check->add_flag("--no-params", o.no_params, "skip the per-parameter checks");
  check->add_option("--mistake", o.mistakes, "plant a backprop mistake: OP=KIND (e.g. h.0.attn.softmax=dropped_term)");
  check->add_option("--mode", o.mode,
                    "entries | direction | local (default: entries where that is cheap, else local)")
      ->check(kNotEmpty);
  check->add_option("--ops", o.check_ops, "check these ops only: NAME,NAME,... (gradscope-cli ops lists them)")
      ->check(kNotEmpty);
  train->add_option("--steps", o.steps, "optimiser steps")->required();
  train->add_option("--lr", o.opt.lr, "learning rate (default 1e-3)");
  train->add_option("--optimizer", o.opt.kind, "sgd | adamw (default adamw)");
  train->add_option("--weight-decay", o.opt.weight_decay, "AdamW decoupled weight decay (default 0)");
  train->add_option("--save", o.save, "write a checkpoint after the last step")->check(kFileName);
  train->add_option("--corpus", o.corpus, "gpt2: train on random windows of a text file ('default': assets/corpus.txt)")
      ->check(kFileName);
  dump->add_option("--out", o.out, "output .safetensors file")->required()->check(kFileName);
  dump->add_flag("--activations", o.activations, "also every op's output (act.*) and its gradient (resid.*)");
  bench->add_option("--steps", o.bench_steps, "timed steps (default 5)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    fprintf(stderr, "gradscope-cli: error: %s (see gradscope-cli --help)\n", msg.c_str());
    return 2;
  }
  std::string cmd;
  for (auto& [name, sub] : subs)
    if (sub->parsed()) cmd = name;
  try {
    if (lessons->parsed()) return cmd_lessons(o);
    const gs::ModelSpec spec = gs::flags::effective_spec(o.model);
    if (spec.threads < 0 || spec.threads > 1024)
      throw gs::Error("--threads must be between 1 and 1024 (0 or absent: all cores), got " +
                      std::to_string(spec.threads));
    gs::set_threads(spec.threads);
    std::optional<gs::CheckKind> check_kind;
    if (cmd == "check" && !o.mode.empty()) {
      try {
        check_kind = gs::parse_check_kind(o.mode);  // before the model is built: a bad flag costs nothing
      } catch (const gs::Error& e) {
        throw gs::Error(std::string("--mode: ") + e.what());
      }
    }
    const gs::ResolvedSpec r = gs::resolve(spec);
    if (cmd == "check" && r.config.is_gpt2()) {
      // Beyond the model and its tape (checked by resolve): a perturbed copy of the largest
      // operand and the entries sampled from it (indices and flags); for an f32 model checked by
      // replays to the loss, the double mirror those replays run on (gradcheck.h), about twice
      // the model. Op-local checks (the default at this size) mirror one block at a time.
      const gs::Config& c = r.config;
      const double largest = std::max({double(c.vocab_size) * c.n_embd, double(c.batch) * c.seq_len * c.vocab_size,
                                       double(c.batch) * c.n_head * c.seq_len * c.seq_len,
                                       4.0 * c.batch * c.seq_len * c.n_embd, 4.0 * c.n_embd * c.n_embd});
      const bool full_mirror = c.dtype == gs::DType::f32 && check_kind && *check_kind != gs::CheckKind::local;
      gs::check_memory(c.estimated_bytes() * (full_mirror ? 3 : 1) + largest * (8 + 9),
                       full_mirror ? "running check on this model (its tape, a double-precision mirror of it and a "
                                     "perturbed copy of its largest tensor)"
                                   : "running check on this model (its tape and a perturbed copy of its largest tensor)");
    }
    if (!r.config.lora() && (spec.lora_alpha || spec.lora_targets))
      throw gs::Error(std::string(spec.lora_alpha ? "--lora-alpha" : "--lora-targets") +
                      " needs LoRA: give --lora-rank R (R > 0)");
    return r.config.dtype == gs::DType::f64 ? run<double>(cmd, o, r) : run<float>(cmd, o, r);
  } catch (const gs::Error& e) {
    fprintf(stderr, "gradscope-cli: error: %s\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    fprintf(stderr, "gradscope-cli: error: out of memory (this machine could not give what the command needs; try a "
                    "smaller preset, batch or T)\n");
    return 2;
  } catch (const std::exception& e) {
    fprintf(stderr, "gradscope-cli: error: %s\n", e.what());
    return 2;
  }
}
