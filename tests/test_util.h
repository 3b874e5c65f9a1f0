#pragma once
// Small builders shared by the engine tests.
#include <memory>

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
