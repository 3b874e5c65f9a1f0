#pragma once
// A program's parameters: named tensors with their gradients and optimiser moments. GPT-2's
// (Hugging Face names and Conv1D layouts: a weight is in×out) and each lesson model's are
// declared by their program (program.h). Also the token batches GPT-2 runs on.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gradscope/config.h"
#include "gradscope/tensor.h"

namespace gs {

template <class T>
struct Param {
  std::string name;  // "h.0.attn.c_attn.weight"
  Tensor<T> data;
  Tensor<T> grad;    // the summed gradient (wte: embedding + lm_head); empty if frozen
  bool trainable = true;
  Tensor<T> m, v;    // AdamW moments, allocated on first use
  std::string group;  // where it lives, for the views: "block 0", "embeddings" ("" none)
  std::string label;  // its symbol in the equations: "W", "γ", "wte", "a"
  std::vector<std::string> axes;  // what each dimension is: {"C","3C"}
};

class Program;

template <class T>
class Model {
 public:
  // Builds every parameter of cfg.program with its initial values (for GPT-2 cfg.vocab_size must
  // be set): the program declares them (program.h). Throws gs::Error for a bad config.
  explicit Model(const Config& cfg);
  // The same with a program of one's own (tests build one-op programs this way).
  Model(const Config& cfg, const Program& program);
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const Config& config() const { return cfg_; }
  const Program& program() const { return *program_; }
  std::shared_ptr<const Program> program_ptr() const { return owner_; }
  std::vector<Param<T>>& params() { return params_; }
  const std::vector<Param<T>>& params() const { return params_; }
  int find(const std::string& name) const;  // -1 if absent
  Param<T>& param(const std::string& name);  // throws gs::Error if absent
  const Param<T>& param(const std::string& name) const;
  int64_t n_params() const;      // all parameters
  int64_t n_trainable() const;
  Tensor<T> alloc(const Shape& s) { return arena_.alloc(s); }
  size_t bytes() const { return arena_.bytes(); }
  // Declares a parameter (zeros; a gradient buffer when trainable). Programs call this.
  Param<T>& add(const std::string& name, const Shape& shape, bool trainable);

 private:
  Config cfg_;
  std::shared_ptr<const Program> owner_;  // a program made from the config's settings (custom); empty otherwise
  const Program* program_;
  Arena<T> arena_;
  std::vector<Param<T>> params_;
  std::map<std::string, int> index_;
};

// Token ids x (B×T) and next-token targets y (B×T), row-major.
struct Batch {
  int B = 0, T = 0;
  std::vector<int32_t> x, y;
};

// Windows of a token stream: row b takes stream[b·T … b·T+T] (T+1 tokens). Needs
// stream.size() >= B·T + 1; throws gs::Error otherwise or for ids outside [0, V).
Batch batch_from_stream(const std::vector<int32_t>& stream, int B, int T, int V);
// Seeded random tokens (a stream of B·T+1 ids in [0, V)).
Batch random_batch(uint64_t seed, int B, int T, int V);
// Checks every id of a batch against V and T against n_ctx; throws gs::Error naming the first bad one.
void validate_batch(const Batch& b, const Config& cfg);

// Copies every parameter value of `src` into `dst` (same names and shapes), converting type.
template <class D, class S>
void copy_params(Model<D>& dst, const Model<S>& src);

}  // namespace gs
