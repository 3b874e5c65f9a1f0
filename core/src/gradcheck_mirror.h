#pragma once
// The double-precision side of the finite-difference checks (gradcheck.h): where a perturbed
// op or a replay to the loss is evaluated.
//
// A double tape is its own numeric side: a check perturbs an operand as one op sees it (an
// Override), runs, and puts the stored values back by running again unperturbed (ops are
// deterministic, so they come back bit for bit).
//
// A float tape gets a mirror: the same model built in double (Model<double> from the same
// config and program, Tape<double> over the same inputs, read back from the float tape's leaf
// values), whose values are loaded from the float tape,
// converted exactly, right before each evaluation. So the perturbed evaluations compute, in
// double, the very function the float tape evaluates in float, at the float tape's own point;
// what remains between a float gradient and them is float's round-off in that gradient. The
// mirror only runs forward: it has no gradient buffers, and planted mistakes (which live in
// backward) do not matter to it.
//
// A check whose difference exceeds the a-priori floor asks the mirror how far float's rounding
// actually moved the analytic value: the same backward run in double on the same float values
// (op-locally: op k's backward from the float tape's incoming residual; through the chain: the
// whole mirror's forward and backward). Mistakes are copied, so a wrong backward is as wrong in
// double and still fails; what the measurement excuses is round-off alone.
//
// Mirrors are built on first use. Op-local checks need one op at a time, so GPT-2's have a
// single transformer block (every block's ops have the same shapes; op "h.7.mlp.gelu", recorded
// in group "block 7" as "mlp.gelu", runs as block 0's "mlp.gelu" with block 7's values and
// parameters copied in): one with a vocabulary of
// one token for the ops whose shapes do not involve V, and one with the real vocabulary for the
// embedding, lm_head, log-softmax and NLL. Replays to the loss need every op: the full mirror.
// Building a model costs mostly its first touch of memory (at the 124M shape the full mirror
// takes seconds, the one-token block a fraction of one), which is why op-local checks avoid the
// full one and most of them the vocabulary. The lesson programs (and any other program) are
// small: their op-local checks run on the full mirror.
#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "gradscope/error.h"
#include "gradscope/model.h"
#include "gradscope/program.h"
#include "gradscope/tape.h"

namespace gs::detail {

// Where one op of the checked tape runs in double.
struct Site {
  Tape<double>* tape = nullptr;
  int op = -1;
};

template <class T>
class NumericTape {
 public:
  static constexpr bool kSelf = std::is_same_v<T, double>;

  explicit NumericTape(Tape<T>& tape) : tape_(tape), blocks_(tape.model().program().is_gpt2()) {}

  // Op-local: a double tape on which op k runs with op k's inputs and parameters holding the
  // checked tape's values. After the perturbed runs, restore_local(k).
  Site local(int k) {
    if constexpr (kSelf) {
      return {&tape_, k};
    } else {
      for (int which = 0; which < 2 && blocks_; ++which) {
        Local& m = local_mirror(which);
        const int kk = m.map[k];
        if (kk < 0) continue;
        load_operands(*m.tape, k, kk, m.loaded);
        return {m.tape.get(), kk};
      }
      return load_full_op(k);
    }
  }

  // Op k's backward run in double from the float tape's values and incoming residual, its
  // mistake included: the site whose op's shares (din, dpar) then hold it. Float tapes only.
  Site local_backward(int k) {
    if constexpr (kSelf) {
      return {&tape_, k};
    } else {
      Site s;
      for (int which : {0, 2}) {
        if (!blocks_) break;
        Local& m = local_mirror(which);
        if (m.map[k] < 0) continue;
        load_operands(*m.tape, k, m.map[k], m.loaded);
        s = {m.tape.get(), m.map[k]};
        break;
      }
      if (!s.tape) {
        full_backward();
        return {full_.get(), k};
      }
      Tape<double>& t = *s.tape;
      t.forward_op(s.op);  // its output and saved values, unperturbed
      convert(tape_.incoming(k), t.incoming(s.op));
      t.ops()[s.op].mistake = tape_.op(k).mistake;
      t.backward_op(s.op);
      t.ops()[s.op].mistake = Mistake::none;
      return s;
    }
  }

  // The full mirror's own forward and backward in double (from the float parameters, mistakes
  // included), once: its shares and gradients are the double counterparts of the float tape's.
  // Replays afterwards overwrite only values, which they load as they need.
  Tape<double>& full_backward() {
    Tape<double>& f = full();
    if constexpr (!kSelf) {
      if (!full_backward_done_) {
        for (int k = 0; k < tape_.size(); ++k) f.ops()[k].mistake = tape_.op(k).mistake;
        f.forward();
        f.backward();
        full_backward_done_ = true;
      }
    }
    return f;
  }
  void restore_local(int k) {
    if constexpr (kSelf) tape_.forward_op(k);  // op k's output and saved values, bit for bit
    (void)k;
  }

  // Replays to the loss: the full double tape holding every value ops k … N−1 read from ops
  // before k. Parameters are the checked tape's (a caller that perturbs one puts it back).
  Site replay(int k) {
    if constexpr (kSelf) {
      return {&tape_, k};
    } else {
      Tape<double>& f = full();
      std::vector<char> need(tape_.values().size(), 0);
      for (int j = k; j < tape_.size(); ++j)
        for (int id : tape_.op(j).in)
          if (tape_.value(id).producer < k) need[id] = 1;
      for (size_t id = 0; id < need.size(); ++id)
        if (need[id]) convert(tape_.value(static_cast<int>(id)).data, f.value(static_cast<int>(id)).data);
      return {&f, k};
    }
  }
  void restore_replay(int k) {
    if constexpr (kSelf) tape_.replay_from(k);
    (void)k;
  }

  // The full double tape (a float tape's mirror, built on first use; the tape itself for double).
  Tape<double>& full() {
    if constexpr (kSelf) {
      return tape_;
    } else {
      if (!full_) {
        full_model_ = make_model(tape_.config(), true);
        copy_params(*full_model_, tape_.model());
        for (size_t p = 0; p < full_model_->params().size(); ++p)
          full_model_->params()[p].trainable = tape_.model().params()[p].trainable;
        full_ = std::make_unique<Tape<double>>(*full_model_, inputs(false));
        check_same_tape(*full_);
      }
      return *full_;
    }
  }

  // Builds what a kind of check will need now (so a caller can say so while it happens).
  void prepare(bool local_only) {
    if constexpr (!kSelf) {
      if (local_only && blocks_)
        for (int which = 0; which < 2; ++which) local_mirror(which);
      else
        full();
    }
    (void)local_only;
  }
  bool prepared(bool local_only) const {
    if constexpr (kSelf) return true;
    return local_only && blocks_ ? local_[0].tape && local_[1].tape : full_ != nullptr;
  }

  // Reusable buffers (grown as needed; first touches of memory are what cost).
  double* scratch(size_t n, int which) {
    auto& b = scratch_[which];
    if (b.size() < n) b.resize(n);
    return b.data();
  }

 private:
  template <class S>
  static void convert(const Tensor<S>& src, const Tensor<double>& dst) {
    const int64_t n = src.size();
    for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<double>(src[i]);
  }

  // The checked tape's inputs, as its leaf values hold them now (exactly: ids and float values
  // convert to double without rounding); `token_zero`: every id 0, for the one-token mirror.
  Inputs inputs(bool token_zero) const {
    Inputs out;
    for (int id : tape_.inputs()) {
      const Value<T>& v = tape_.value(id);
      Input in;
      in.name = v.name;
      in.shape = v.data.shape;
      in.integer = v.integer;
      in.axes = v.axes;
      in.grad = v.requires_grad;
      in.values.resize(static_cast<size_t>(v.data.size()));
      for (int64_t i = 0; i < v.data.size(); ++i)
        in.values[static_cast<size_t>(i)] = token_zero && v.integer ? 0.0 : static_cast<double>(v.data[i]);
      // The checked tape took these ids; any bound above them does (GPT-2's are checked against V).
      double top = 0;
      for (double x : in.values) top = std::max(top, x);
      in.id_limit = static_cast<int64_t>(top) + 1;
      out.push_back(std::move(in));
    }
    return out;
  }

  // The full mirror must be the checked tape in double: the same ops on the same values.
  void check_same_tape(const Tape<double>& m) const {
    bool same = m.size() == tape_.size() && m.values().size() == tape_.values().size();
    for (int k = 0; same && k < tape_.size(); ++k)
      same = m.op(k).name == tape_.op(k).name && same_shapes(tape_.op(k), m, k);
    if (!same) throw Error("the double-precision mirror of this model records a different tape (program " +
                           tape_.config().program + ")");
  }

  // A double model of the same config and program; frozen unless it is to run backward (its
  // tape then holds values only).
  std::unique_ptr<Model<double>> make_model(Config cfg, bool backward) const {
    cfg.dtype = DType::f64;
    auto m = std::make_unique<Model<double>>(cfg, tape_.model().program());
    if (!backward)
      for (auto& p : m->params()) p.trainable = false;
    return m;
  }

  // A one-block mirror; which = 0: a vocabulary of one token (and a batch of token 0), for the
  // ops whose shapes do not involve V, with gradient buffers (it is small); 1: the real
  // vocabulary and batch, values only; 2: the same with gradient buffers, built only when a
  // vocabulary-sized op's backward has to be run in double.
  struct Local {
    std::unique_ptr<Model<double>> model;  // before the tape, which refers to it
    std::unique_ptr<Tape<double>> tape;
    std::vector<int> map;     // checked op → op of this mirror (-1: not here)
    std::vector<int> loaded;  // mirror parameter → the checked tape's parameter it holds (-1: none)
  };

  Local& local_mirror(int which) {
    Local& m = local_[which];
    if (m.tape) return m;
    Config cfg = tape_.config();
    const bool one_block = cfg.n_layer > 1;
    if (one_block) cfg.n_layer = 1;
    if (which == 0) cfg.vocab_size = 1;
    m.model = make_model(cfg, which != 1);
    m.tape = std::make_unique<Tape<double>>(*m.model, inputs(which == 0));
    m.loaded.assign(m.model->params().size(), -1);
    // Op k of the checked tape ↔ the mirror's op recorded in the same place with the same short
    // name (an op of block l ↔ block 0's, when the mirror has one block) and the same shapes.
    auto place = [&](const auto& op) {
      return one_block && op.layer >= 0 ? "block|" + op.short_name : op.group + "|" + op.short_name;
    };
    std::map<std::string, int> where;
    for (int kk = 0; kk < m.tape->size(); ++kk) where.emplace(place(m.tape->op(kk)), kk);
    m.map.assign(tape_.size(), -1);
    for (int k = 0; k < tape_.size(); ++k) {
      const auto& op = tape_.op(k);
      if (which != 0 && local_[0].tape && local_[0].map[k] >= 0) continue;  // the small one has it
      const auto it = where.find(place(op));
      if (it != where.end() && same_shapes(op, *m.tape, it->second)) m.map[k] = it->second;
    }
    return m;
  }

  bool same_shapes(const Op<T>& a, const Tape<double>& m, int kk) const {
    const Op<double>& b = m.op(kk);
    if (a.type != b.type || a.in.size() != b.in.size() || a.par.size() != b.par.size()) return false;
    for (size_t i = 0; i < a.in.size(); ++i)
      if (tape_.value(a.in[i]).data.shape != m.value(b.in[i]).data.shape) return false;
    for (size_t j = 0; j < a.par.size(); ++j)
      if (tape_.model().params()[a.par[j]].data.shape != m.model().params()[b.par[j]].data.shape) return false;
    return tape_.value(a.out).data.shape == m.value(b.out).data.shape && a.attrs.part == b.attrs.part &&
           a.attrs.d == b.attrs.d && a.attrs.scale == b.attrs.scale;
  }

  // Op k's inputs and parameters into op kk of mirror m (parameters only when another one is there).
  void load_operands(Tape<double>& m, int k, int kk, std::vector<int>& loaded) {
    const auto& op = tape_.op(k);
    const auto& mop = m.op(kk);
    for (size_t i = 0; i < op.in.size(); ++i) convert(tape_.value(op.in[i]).data, m.value(mop.in[i]).data);
    for (size_t j = 0; j < op.par.size(); ++j) {
      const int mp = mop.par[j];
      if (loaded[mp] == op.par[j]) continue;
      convert(tape_.model().params()[op.par[j]].data, m.model().params()[mp].data);
      loaded[mp] = op.par[j];
    }
  }

  Site load_full_op(int k) {
    Tape<double>& f = full();
    for (int id : tape_.op(k).in) convert(tape_.value(id).data, f.value(id).data);
    return {&f, k};  // the full mirror's parameters are the checked tape's already
  }

  Tape<T>& tape_;
  const bool blocks_;  // GPT-2: op-local checks on one-block mirrors
  Local local_[3];
  bool full_backward_done_ = false;
  // Declared model first: a tape refers to its model and goes first.
  std::unique_ptr<Model<double>> full_model_;
  std::unique_ptr<Tape<double>> full_;
  std::vector<double> scratch_[3];
};

}  // namespace gs::detail
