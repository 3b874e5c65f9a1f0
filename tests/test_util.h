#pragma once
// Small builders shared by the engine tests.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "gradscope/model.h"
#include "gradscope/program.h"
#include "gradscope/rng.h"
#include "gradscope/session.h"
#include "gradscope/tape.h"

namespace gs::test {

template <class T>
struct Built {
  std::unique_ptr<Model<T>> model;
  std::unique_ptr<Tape<T>> tape;
};

// A model of `cfg` on the given token stream (or seeded random tokens), forward and backward done.
template <class T>
Built<T> build(Config cfg, std::vector<int32_t> stream = {}) {
  cfg.validate();
  Built<T> b;
  b.model = std::make_unique<Model<T>>(cfg);
  Batch batch = stream.empty() ? random_batch(cfg.seed, cfg.batch, cfg.seq_len, cfg.vocab_size)
                               : batch_from_stream(stream, cfg.batch, cfg.seq_len, cfg.vocab_size);
  b.tape = std::make_unique<Tape<T>>(*b.model, batch);
  b.tape->forward();
  b.tape->backward();
  return b;
}

// The entries of a tensor a test looks at: the ends, the middle, the largest |value|.
inline std::vector<int64_t> probes(const Tensor<double>& t) {
  std::vector<int64_t> v = {0, t.size() - 1, t.size() / 2};
  int64_t best = 0;
  for (int64_t i = 0; i < t.size(); ++i)
    if (std::fabs(t[i]) > std::fabs(t[best])) best = i;
  v.push_back(best);
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// A model of one's own (program custom) that records every op type of that language at least
// once: a matrix product, broadcasting, each function and operator, a number on either side.
inline ModelSpec every_custom_op_spec() {
  ModelSpec s;
  s.program = "custom";
  s.model_text =
      "h = tanh(X @ W + b)\n"
      "r = relu(h - c) * 2\n"
      "s = sigmoid(-h) / (1 + exp(h))\n"
      "m = max(r, s) + abs(h) ** 2\n"
      "L = mean(m) + sum(log(s + 1)) * 0.5 + sum(softmax(h) * log_softmax(h)) - sum(gelu(h))";
  s.inputs = "X";
  s.sets = {"X=0.3,-1.2;0.8,0.5;-0.4,1.1", "W=0.7,-0.3,0.5,-0.9;0.2,0.6,-0.8,0.4", "b=0.1,-0.2,0.15,0.05", "c=0.05"};
  return s;
}

// A program by name (a lesson model, or gpt2 with its defaults) with --set items, in double,
// forward and backward done.
template <class T>
Built<T> build_program(const std::string& name, std::vector<std::string> sets = {}, ModelSpec spec = {}) {
  spec.program = name;
  spec.sets = std::move(sets);
  if (name != "gpt2") spec.dtype = std::is_same_v<T, float> ? "f32" : "f64";
  const ResolvedSpec r = resolve(spec);
  Built<T> b;
  b.model = std::make_unique<Model<T>>(r.config);
  b.tape = std::make_unique<Tape<T>>(*b.model, r.inputs);
  b.tape->forward();
  b.tape->backward();
  return b;
}

// Gives every parameter (LayerNorm γ/β and biases included) random values, so no gradient is
// trivially zero or one; then reruns forward and backward.
template <class T>
void randomize(Built<T>& b, uint64_t seed, double std = 0.3) {
  Rng rng(seed);
  for (auto& p : b.model->params())
    for (auto& x : p.data) x = static_cast<T>(x + rng.normal(0.0, std));
  b.tape->forward();
  b.tape->backward();
}

// A fresh, empty directory under the test temp dir, named after the running test; removed (with
// whatever is in it, read-only or not) when the test ends.
struct Scratch {
  std::filesystem::path dir;
  Scratch() {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    dir = std::filesystem::path(testing::TempDir()) /
          (std::string("gs_") + info->test_suite_name() + "_" + info->name() + "_" + std::to_string(getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(dir, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  std::string at(const std::string& name) const { return (dir / name).string(); }
  // The names in it, sorted.
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
};

// A character device node to try writing over. /dev/null is one on any ordinary machine, but a
// sandbox (or an old tool run as root) can leave a regular file there; then the first device node
// that is still one stands in, and "" means the machine has none (the case is skipped).
inline std::string character_device() {
  for (const char* p : {"/dev/null", "/dev/full", "/dev/zero", "/dev/urandom", "/dev/random", "/dev/tty"}) {
    std::error_code ec;
    if (std::filesystem::is_character_file(p, ec)) return p;
  }
  return "";
}

inline Config small_config(int L, int H, int C, int V, int n_ctx, int T, int B) {
  Config c;
  c.preset = "test";
  c.n_layer = L;
  c.n_head = H;
  c.n_embd = C;
  c.vocab_size = V;
  c.n_ctx = n_ctx;
  c.seq_len = T;
  c.batch = B;
  c.dtype = DType::f64;
  return c;
}

}  // namespace gs::test
