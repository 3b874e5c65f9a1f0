#pragma once
// The tape: one forward pass of a program (program.h: GPT-2 or a lesson model) records every op
// in execution order with its input and output tensors; the backward walk stores, for every op,
// the incoming residual (∂L/∂output), the outgoing residual for each input (∂L/∂input, this
// op's share) and each parameter-gradient share. Where a value feeds several ops (the residual
// stream, qkv, the tied wte, y2 of the `branch` lesson) every share is kept and their sum is
// the value's gradient. Nothing is freed: any op can be shown later, and any op can be replayed
// (what the finite-difference checks use).
//
// Leaf inputs (x and t of `line`, a matrix X, class ids, GPT-2's token ids) are values like any
// other, with no producer and no gradient. Ops are put on the tape in one place only: the
// Recorder below, which a program's record() drives.
//
// All buffers are allocated once, when the tape is built; steps only write into them.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gradscope/config.h"
#include "gradscope/model.h"
#include "gradscope/ops.h"
#include "gradscope/tensor.h"

namespace gs {

// A use of a value or parameter: op index and the slot among that op's inputs or params.
struct Use {
  int op;
  int slot;
};

template <class T>
struct Value {
  std::string name;        // the producing op's name, or the input's name
  Tensor<T> data;
  Tensor<T> grad;          // ∂L/∂value, summed over all uses; empty if no gradient is needed
  int producer = -1;       // -1: a leaf input
  std::vector<Use> uses;
  bool requires_grad = false;  // some trainable parameter lies upstream
  bool integer = false;        // ids (tokens, targets, class ids) held as numbers
  std::vector<std::string> axes;  // what each dimension is, in the model's letters: {"B","T","C"}
};

// Attributes an op carries besides its operands (its sizes come from the operands' shapes).
struct OpAttrs {
  int part = 0;       // split_heads: which third of qkv's columns, 0 q, 1 k, 2 v
  int d = 1;          // scale: divides by √d
  double scale = 1;   // lora_up: α/r
  // The arithmetic of a model of one's own (program `custom`): a number in the expression, such
  // as the 1 of 1 + exp(−z) or the 2 of x ** 2. It is no operand (it has no gradient).
  double constant = 0;
  int const_side = -1;  // binary ops: the constant stands left (0) or right (1) of the operator; -1 none
};

// One operand of an op whose operands may be parameters as well as values (the ops of a model of
// one's own, where a leaf such as w may be a parameter): where the op's k-th operand is stored.
struct Arg {
  bool param = false;  // in Op::par (a parameter) rather than Op::in (a value)
  int slot = 0;        // its index in Op::in or Op::par
};

template <class T>
struct Op {
  OpType type;
  std::string name;           // "h.0.attn.softmax"
  std::string short_name;     // the name inside its group: "attn.softmax"
  std::string group;          // the scope it was recorded in: "block 0", "loss" ("" none)
  int layer = -1;             // block index, -1 outside the blocks
  std::string symbol;         // the output's letter in the model's equations ("qkv"); "" = the op's name
  std::vector<int> in;        // value ids
  std::vector<int> par;       // parameter ids (Model::params())
  int out = -1;               // value id
  OpAttrs attrs;
  // The operands in the order the op reads them, where parameters and values mix (custom models);
  // empty: the op reads its values as in(i) and its parameters as par(j).
  std::vector<Arg> args;
  std::vector<Tensor<T>> saved;            // values kept for backward (layernorm: mean, rstd)
  std::vector<std::string> saved_names;
  std::vector<Tensor<T>> din;   // this op's share of ∂L/∂in[i]; empty if not needed
  std::vector<Tensor<T>> dpar;  // this op's share of ∂L/∂par[j]; empty if frozen
  Mistake mistake = Mistake::none;
  Flops flops;

  bool needs_backward() const {
    for (const auto& d : din)
      if (!d.empty()) return true;
    for (const auto& d : dpar)
      if (!d.empty()) return true;
    return false;
  }
};

// A leaf input of a program, by name: its shape and values (row-major).
struct Input {
  std::string name;             // "x", "target", "tokens"
  Shape shape;
  std::vector<double> values;
  bool integer = false;         // ids: whole numbers in [0, id_limit)
  int64_t id_limit = 0;
  std::vector<std::string> axes;
  // The tape computes ∂L/∂input too (never trained): the outgoing residual of the op that reads it,
  // as the backprop tutorial's table shows it for y1 = a·x.
  bool grad = false;
};
using Inputs = std::vector<Input>;

// GPT-2's inputs from a token batch: `tokens` x and `targets` y, each (B,T).
Inputs gpt2_inputs(const Batch& b, int vocab_size);

// Replay with one operand of one op replaced: what a per-op finite-difference check perturbs.
// The replacement is seen by op `op` only; every other user keeps the stored value.
template <class T>
struct Override {
  int op = -1;
  bool is_param = false;
  int slot = -1;
  Tensor<T> tensor;
};

// The local derivative of one op as the UI shows it: tensors with a label saying how each
// one acts (an f'(x) map, a matmul operand, one row's Jacobian, a one-hot gather ...). A 0-d
// item is one number (the tutorial's "local derivative wrt input: a").
template <class T>
struct LocalDerivative {
  struct Item {
    std::string label;
    Tensor<T> tensor;          // may point into the tape, or into `owned`
    bool transposed = false;   // show tensorᵀ (a matmul's Wᵀ)
    std::shared_ptr<OwnedTensor<T>> owned;
  };
  std::string text;
  std::vector<Item> items;
};

template <class T>
class Recorder;

template <class T>
class Tape {
 public:
  // Records the forward pass of the model's program (model.config().program) on `inputs`: every
  // input the program reads must be there, with the shape it expects. Throws gs::Error.
  Tape(Model<T>& model, const Inputs& inputs);
  // GPT-2 on a token batch (gpt2_inputs).
  Tape(Model<T>& model, const Batch& batch);
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  const Config& config() const { return model_.config(); }
  Model<T>& model() { return model_; }
  const Model<T>& model() const { return model_; }
  // The token windows of a language model (inputs `tokens` and `targets`); B = T = 0 for a
  // program without them.
  const Batch& batch() const { return batch_; }
  // New tokens of the same B×T (a training step on the next windows); throws gs::Error otherwise.
  void set_batch(const Batch& b);

  int size() const { return static_cast<int>(ops_.size()); }
  const std::vector<Op<T>>& ops() const { return ops_; }
  std::vector<Op<T>>& ops() { return ops_; }
  const std::vector<Value<T>>& values() const { return values_; }
  const Op<T>& op(int k) const { return ops_[k]; }
  const Value<T>& value(int id) const { return values_[id]; }
  int find_op(const std::string& name) const;  // -1 if absent
  // The leaf values, in the order the inputs were given.
  const std::vector<int>& inputs() const { return inputs_; }
  int find_input(const std::string& name) const;  // value id, -1 if absent

  // Whole passes and single steps. backward_op(k) expects ops k+1 … N−1 done (reverse order);
  // backward_op(N−1) starts a fresh backward (zeroes every gradient, seeds ∂L/∂L = 1).
  void forward();
  void backward();
  void forward_op(int k, const Override<T>* ov = nullptr);
  void backward_op(int k);
  // Runs ops k … N−1 forward again; returns the loss. With an override, op ov.op sees the
  // replacement tensor for that one operand.
  double replay_from(int k, const Override<T>* ov = nullptr);
  double loss() const;

  // ∂L/∂output of op k: the sum of its users' shares.
  const Tensor<T>& incoming(int k) const { return values_[ops_[k].out].grad; }

  LocalDerivative<T> local_derivative(int k, int row = 0) const;

  // Plant a mistake into op k's backward (Mistake::none restores it). Throws gs::Error if the
  // op type does not support it.
  void set_mistake(int k, Mistake m);
  static bool supports(const Op<T>& op, Mistake m, const Tape& tape);
  bool supports(int k, Mistake m) const { return supports(ops_[k], m, *this); }

  Flops total_flops() const;
  // The closed form of "Backpropagating through GPT-2", L(48BTC² + 8BHT²d + 5BHT² + 98BTC) +
  // 11BTC + 4BTCV, where the program has one (GPT-2); -1 otherwise.
  int64_t closed_form_bwd() const;
  // Backward FLOPs the same batch would cost with every base parameter trainable (what LoRA
  // is compared against): the closed form plus bias gradients, log-softmax and embeddings. For
  // programs without a closed form: the counted backward of the same tape with every parameter
  // trainable.
  int64_t full_finetune_bwd() const;
  size_t stored_bytes() const { return arena_.bytes(); }
  size_t stored_bytes_min() const { return min_bytes_; }  // sum of the tensors' own sizes

 private:
  friend class Recorder<T>;
  int add_input(const Input& in);
  int record(OpType type, const std::string& name, std::vector<int> in, std::vector<int> par, const Shape& out_shape);
  void allocate_gradients();
  void run_forward(int k, const Override<T>* ov);
  void accumulate(int k);
  void count_flops();
  void sync_batch();

  Model<T>& model_;
  Batch batch_;
  Arena<T> arena_;
  size_t min_bytes_ = 0;
  std::vector<Value<T>> values_;
  std::vector<Op<T>> ops_;
  std::vector<int> inputs_;
};

// The one way a program puts ops on a tape (tinygrad's Function.apply, micrograd's ops): it
// looks up inputs and parameters by name, opens scopes for the views' grouping, and records
// each op with its output shape. Every op's name is the scope's prefix plus its own.
template <class T>
class Recorder {
 public:
  struct OpSpec {
    OpType type = OpType::nll;
    std::string name = {};               // inside the scope: "ln_1"; the tape's name is prefix + name
    std::vector<int> in = {};            // value ids (inputs or earlier ops' outputs)
    std::vector<int> par = {};           // parameter ids (param())
    Shape out = {};                      // the output's shape ({} for the scalar loss)
    std::vector<std::string> axes = {};  // the output's dimensions in the model's letters
    OpAttrs attrs = {};
    std::string symbol = {};         // the output's letter in the equations, "" = the name
    std::vector<Arg> args = {};      // operands mixing values and parameters (Op::args); {} = in, then par
  };

  explicit Recorder(Tape<T>& tape) : tape_(tape) {}
  // The leaf value of input `name`; throws gs::Error if the program was given no such input.
  int input(const std::string& name) const;
  // A parameter of the model by its full name; throws gs::Error if the model has none.
  int param(const std::string& name) const;
  const Shape& shape(int value) const { return tape_.values_[value].data.shape; }
  // Ops recorded from here on belong to `group` ("block 0"), block index `layer` (-1: none), and
  // their names start with `prefix` ("h.0.").
  void scope(std::string group, int layer = -1, std::string prefix = "");
  // Records one op; returns its output's value id.
  int op(OpSpec spec);

 private:
  Tape<T>& tape_;
  std::string group_, prefix_;
  int layer_ = -1;
};

// Holds the operands of one op while it runs; every op's forward and backward sees the tape
// only through this.
template <class T>
struct OpCtx {
  const Tape<T>& tape;
  Op<T>& op;
  const Override<T>* ov = nullptr;
  std::vector<Param<T>>& params;

  // Operand i. An op with Op::args reads its operands (values or parameters) in that order
  // through in(i) and din(i); one without reads its values here and its parameters with par(j).
  const Tensor<T>& in(int i) const {
    if (!op.args.empty()) {
      if (op.args[i].param) return par(op.args[i].slot);
      i = op.args[i].slot;
    }
    if (ov && !ov->is_param && ov->slot == i) return ov->tensor;
    return tape.value(op.in[i]).data;
  }
  const Tensor<T>& par(int j) const {
    if (ov && ov->is_param && ov->slot == j) return ov->tensor;
    return params[op.par[j]].data;
  }
  const Tensor<T>& out() const { return tape.value(op.out).data; }
  const Tensor<T>& dout() const { return tape.value(op.out).grad; }
  const Tensor<T>& din(int i) const {
    if (!op.args.empty()) return op.args[i].param ? op.dpar[op.args[i].slot] : op.din[op.args[i].slot];
    return op.din[i];
  }
  const Tensor<T>& dpar(int j) const { return op.dpar[j]; }
  bool need_din(int i) const { return !din(i).empty(); }
  // How many operands in(i) reads.
  int n_in() const { return static_cast<int>(op.args.empty() ? op.in.size() : op.args.size()); }
  // Operand i's name as the views show it: the value's name, or the parameter's label.
  const std::string& in_name(int i) const {
    if (!op.args.empty() && op.args[i].param) {
      const Param<T>& p = params[op.par[op.args[i].slot]];
      return p.label.empty() ? p.name : p.label;
    }
    return tape.value(op.in[op.args.empty() ? i : op.args[i].slot]).name;
  }
  bool need_dpar(int j) const { return !op.dpar[j].empty(); }
  const OpAttrs& attrs() const { return op.attrs; }
  bool mistake(Mistake m) const { return op.mistake == m; }
};

extern template class Tape<float>;
extern template class Tape<double>;
extern template class Recorder<float>;
extern template class Recorder<double>;

}  // namespace gs
