#include "gradscope/tape.h"

#include <cmath>

#include "gradscope/error.h"
#include "gradscope/program.h"
#include "ops/dispatch.h"

namespace gs {

Inputs gpt2_inputs(const Batch& b, int vocab_size) {
  const Shape bt{b.B, b.T};
  Input x{"tokens", bt, std::vector<double>(b.x.begin(), b.x.end()), true, vocab_size, {"B", "T"}};
  Input y{"targets", bt, std::vector<double>(b.y.begin(), b.y.end()), true, vocab_size, {"B", "T"}};
  return {x, y};
}

template <class T>
Tape<T>::Tape(Model<T>& model, const Batch& batch) : Tape(model, gpt2_inputs(batch, model.config().vocab_size)) {}

template <class T>
Tape<T>::Tape(Model<T>& model, const Inputs& inputs) : model_(model) {
  if (model_.program().is_gpt2()) {
    // Token ids are checked as a batch (the message names the position and the vocabulary).
    Batch b;
    for (const Input& in : inputs) {
      if (in.name != "tokens" && in.name != "targets") continue;
      if (in.shape.size() != 2) throw Error("GPT-2's " + in.name + " must be (B,T), got " + shape_str(in.shape));
      b.B = static_cast<int>(in.shape[0]);
      b.T = static_cast<int>(in.shape[1]);
      auto& ids = in.name == "tokens" ? b.x : b.y;
      for (double v : in.values) ids.push_back(v >= 0 && v < 2147483648.0 ? static_cast<int32_t>(v) : -1);
    }
    validate_batch(b, config());
  }
  for (const Input& in : inputs) add_input(in);
  sync_batch();
  Recorder<T> rec(*this);
  model_.program().record(rec, config());
  if (ops_.empty() || !values_[ops_.back().out].data.shape.empty())
    throw Error("program " + config().program + " does not end in a scalar loss");
  // A parameter lives where it is first used, unless its program said otherwise.
  for (const auto& op : ops_)
    for (int p : op.par)
      if (model_.params()[p].group.empty()) model_.params()[p].group = op.group;
  allocate_gradients();
  count_flops();
}

template <class T>
int Tape<T>::add_input(const Input& in) {
  if (find_input(in.name) >= 0) throw Error("input '" + in.name + "' is given twice");
  if (static_cast<int64_t>(in.values.size()) != numel(in.shape))
    throw Error("input '" + in.name + "' has " + std::to_string(in.values.size()) + " values for shape " +
                shape_str(in.shape));
  Value<T> v;
  v.name = in.name;
  v.data = arena_.alloc(in.shape);
  v.integer = in.integer;
  v.axes = in.axes;
  v.requires_grad = in.grad && !in.integer;
  for (size_t i = 0; i < in.values.size(); ++i) {
    const double x = in.values[i];
    if (in.integer && (x != std::floor(x) || x < 0 || x >= double(in.id_limit)))
      throw Error("input '" + in.name + "': entry " + std::to_string(i) + " = " + std::to_string(x) +
                  " is not an id in 0 … " + std::to_string(in.id_limit - 1));
    v.data[static_cast<int64_t>(i)] = static_cast<T>(x);
    if (in.integer && double(v.data[static_cast<int64_t>(i)]) != x)
      throw Error("input '" + in.name + "': id " + std::to_string(x) + " cannot be held exactly in " +
                  dtype_name(config().dtype));
  }
  inputs_.push_back(static_cast<int>(values_.size()));
  values_.push_back(std::move(v));
  return inputs_.back();
}

template <class T>
int Tape<T>::find_input(const std::string& name) const {
  for (int id : inputs_)
    if (values_[id].name == name) return id;
  return -1;
}

// The token windows, as the views and the dump read them, from the leaf values.
template <class T>
void Tape<T>::sync_batch() {
  const int x = find_input("tokens"), y = find_input("targets");
  batch_ = Batch{};
  if (x < 0 || y < 0 || values_[x].data.rank() != 2) return;
  batch_.B = static_cast<int>(values_[x].data.dim(0));
  batch_.T = static_cast<int>(values_[x].data.dim(1));
  for (T v : values_[x].data) batch_.x.push_back(static_cast<int32_t>(v));
  for (T v : values_[y].data) batch_.y.push_back(static_cast<int32_t>(v));
}

template <class T>
void Tape<T>::set_batch(const Batch& b) {
  if (b.B != batch_.B || b.T != batch_.T)
    throw Error("new batch is " + std::to_string(b.B) + "×" + std::to_string(b.T) + ", the tape was built for " +
                std::to_string(batch_.B) + "×" + std::to_string(batch_.T));
  validate_batch(b, config());
  const Tensor<T>& x = values_[find_input("tokens")].data;
  const Tensor<T>& y = values_[find_input("targets")].data;
  for (size_t i = 0; i < b.x.size(); ++i) {
    x[static_cast<int64_t>(i)] = static_cast<T>(b.x[i]);
    y[static_cast<int64_t>(i)] = static_cast<T>(b.y[i]);
  }
  batch_ = b;
}

// [SECTION] recording: the one place an op is put on the tape

template <class T>
int Tape<T>::record(OpType type, const std::string& name, std::vector<int> in, std::vector<int> par,
                    const Shape& out_shape) {
  const int k = static_cast<int>(ops_.size());
  Op<T> op;
  op.type = type;
  op.name = name;
  op.in = std::move(in);
  op.par = std::move(par);
  for (int v : op.in)
    if (v < 0 || v >= static_cast<int>(values_.size())) throw Error("op " + name + " reads a value that does not exist");
  for (int p : op.par)
    if (p < 0 || p >= static_cast<int>(model_.params().size()))
      throw Error("op " + name + " is missing a parameter");
  for (size_t i = 0; i < op.in.size(); ++i) values_[op.in[i]].uses.push_back({k, static_cast<int>(i)});
  // Values an op keeps for its backward (layernorm's mean and rstd), as its type declares them.
  ops::visit(type, [&](auto impl) {
    if constexpr (requires { decltype(impl)::saved(out_shape); })
      for (auto& [saved_name, shape] : decltype(impl)::saved(out_shape)) {
        op.saved.push_back(arena_.alloc(shape));
        op.saved_names.push_back(saved_name);
      }
  });
  Value<T> v;
  v.name = name;
  v.data = arena_.alloc(out_shape);
  v.producer = k;
  op.out = static_cast<int>(values_.size());
  values_.push_back(std::move(v));
  ops_.push_back(std::move(op));
  return ops_.back().out;
}

template <class T>
int Recorder<T>::input(const std::string& name) const {
  const int id = tape_.find_input(name);
  if (id < 0) throw Error("program " + tape_.config().program + " needs an input named '" + name + "'");
  return id;
}

template <class T>
int Recorder<T>::param(const std::string& name) const {
  const int id = tape_.model_.find(name);
  if (id < 0) throw Error("program " + tape_.config().program + " needs a parameter named '" + name + "'");
  return id;
}

template <class T>
void Recorder<T>::scope(std::string group, int layer, std::string prefix) {
  group_ = std::move(group);
  layer_ = layer;
  prefix_ = std::move(prefix);
}

template <class T>
int Recorder<T>::op(OpSpec s) {
  const int v = tape_.record(s.type, prefix_ + s.name, std::move(s.in), std::move(s.par), s.out);
  Op<T>& op = tape_.ops_.back();
  op.short_name = s.name;
  op.group = group_;
  op.layer = layer_;
  op.symbol = std::move(s.symbol);
  op.attrs = s.attrs;
  for (const Arg& a : s.args)
    if (a.slot < 0 || a.slot >= static_cast<int>(a.param ? op.par.size() : op.in.size()))
      throw Error("op " + op.name + " names an operand it was not given");
  op.args = std::move(s.args);
  tape_.values_[v].axes = std::move(s.axes);
  return v;
}

template <class T>
void Tape<T>::allocate_gradients() {
  auto& params = model_.params();
  std::vector<int> param_uses(params.size(), 0);
  for (const auto& op : ops_)
    for (int p : op.par) ++param_uses[p];
  for (auto& op : ops_) {
    bool rg = false;  // some trainable parameter, or an input whose gradient is asked for, lies upstream
    for (int i : op.in) rg = rg || values_[i].requires_grad;
    for (int p : op.par) rg = rg || params[p].trainable;
    values_[op.out].requires_grad = rg;
  }
  for (auto& v : values_)
    if (v.requires_grad) v.grad = arena_.alloc(v.data.shape);
  for (auto& op : ops_) {
    op.din.assign(op.in.size(), Tensor<T>{});
    op.dpar.assign(op.par.size(), Tensor<T>{});
    for (size_t i = 0; i < op.in.size(); ++i) {
      const auto& v = values_[op.in[i]];
      if (!v.requires_grad) continue;
      op.din[i] = v.uses.size() == 1 ? v.grad : arena_.alloc(v.data.shape);
    }
    for (size_t j = 0; j < op.par.size(); ++j) {
      const auto& p = params[op.par[j]];
      if (!p.trainable) continue;
      op.dpar[j] = param_uses[op.par[j]] == 1 ? p.grad : arena_.alloc(p.data.shape);
    }
  }
  min_bytes_ = arena_.bytes();
}

template <class T>
void Tape<T>::count_flops() {
  for (auto& op : ops_) {
    OpCtx<T> c{*this, op, nullptr, model_.params()};
    op.flops = ops::visit(op.type, [&](auto impl) { return decltype(impl)::flops(c); });
  }
}

template <class T>
int Tape<T>::find_op(const std::string& name) const {
  for (int k = 0; k < size(); ++k)
    if (ops_[k].name == name) return k;
  return -1;
}

// [SECTION] forward and backward

template <class T>
void Tape<T>::run_forward(int k, const Override<T>* ov) {
  auto& op = ops_[k];
  OpCtx<T> c{*this, op, ov, model_.params()};
  ops::visit(op.type, [&](auto impl) { decltype(impl)::forward(c); });
}

template <class T>
void Tape<T>::forward_op(int k, const Override<T>* ov) {
  run_forward(k, ov);
}

template <class T>
void Tape<T>::forward() {
  for (int k = 0; k < size(); ++k) run_forward(k, nullptr);
}

template <class T>
double Tape<T>::replay_from(int k, const Override<T>* ov) {
  for (int j = k; j < size(); ++j) run_forward(j, ov && ov->op == j ? ov : nullptr);
  return loss();
}

template <class T>
double Tape<T>::loss() const {
  return static_cast<double>(values_[ops_.back().out].data[0]);
}

template <class T>
void Tape<T>::backward_op(int k) {
  if (k == size() - 1) {
    // A fresh backward: shared gradients start at 0 (their users add into them); ∂L/∂L = 1.
    for (auto& v : values_)
      if (v.requires_grad && v.uses.size() > 1) v.grad.fill(T(0));
    auto& params = model_.params();
    for (const auto& op : ops_)
      for (size_t j = 0; j < op.par.size(); ++j)
        if (!op.dpar[j].empty() && op.dpar[j].data != params[op.par[j]].grad.data) params[op.par[j]].grad.fill(T(0));
    if (values_[ops_.back().out].requires_grad) values_[ops_.back().out].grad[0] = T(1);
  }
  auto& op = ops_[k];
  if (!values_[op.out].requires_grad) return;
  OpCtx<T> c{*this, op, nullptr, model_.params()};
  ops::visit(op.type, [&](auto impl) { decltype(impl)::backward(c); });
  if (op.mistake == Mistake::flipped_sign) {
    for (auto& d : op.din)
      for (auto& x : d) x = -x;
    // An op whose operands may be parameters (a custom model's w·x) sends every gradient back flipped.
    if (!op.args.empty())
      for (auto& d : op.dpar)
        for (auto& x : d) x = -x;
  }
  accumulate(k);
}

// Adds op k's shares into the gradients of values and parameters that have several users.
template <class T>
void Tape<T>::accumulate(int k) {
  auto& op = ops_[k];
  const bool forget = op.mistake == Mistake::forgotten_accumulation;
  auto add = [&](const Tensor<T>& total, const Tensor<T>& share) {
    if (share.empty() || share.data == total.data) return;
    const int64_t n = total.size();
    T* __restrict t = total.data;
    const T* __restrict g = share.data;
    if (forget) {
      std::copy_n(g, n, t);
      return;
    }
    ops::parallel_for(n, 1, [&](int64_t i) { t[i] += g[i]; });
  };
  for (size_t i = 0; i < op.in.size(); ++i) add(values_[op.in[i]].grad, op.din[i]);
  for (size_t j = 0; j < op.par.size(); ++j) add(model_.params()[op.par[j]].grad, op.dpar[j]);
}

template <class T>
void Tape<T>::backward() {
  for (int k = size() - 1; k >= 0; --k) backward_op(k);
}

// [SECTION] views for the UI

template <class T>
LocalDerivative<T> Tape<T>::local_derivative(int k, int row) const {
  auto& op = const_cast<Op<T>&>(ops_[k]);
  OpCtx<T> c{*this, op, nullptr, const_cast<Model<T>&>(model_).params()};
  LocalDerivative<T> ld;
  const int64_t rows = c.n_in() == 0 ? 1 : c.in(0).rows();
  row = static_cast<int>(std::clamp<int64_t>(row, 0, std::max<int64_t>(rows - 1, 0)));
  ops::visit(op.type, [&](auto impl) { decltype(impl)::local(c, row, ld); });
  return ld;
}

template <class T>
bool Tape<T>::supports(const Op<T>& op, Mistake m, const Tape& tape) {
  switch (m) {
    case Mistake::none: return true;
    case Mistake::flipped_sign:
      for (const auto& d : op.din)
        if (!d.empty()) return true;
      if (!op.args.empty())
        for (const auto& d : op.dpar)
          if (!d.empty()) return true;
      return false;
    case Mistake::forgotten_accumulation: {
      // Only where another user of the same value or parameter has already added its share
      // when this op runs (it comes later in the forward, so earlier in the backward).
      if (op.type == OpType::embedding) return !op.dpar.empty() && !op.dpar[0].empty();
      const int k = static_cast<int>(&op - tape.ops_.data());
      for (size_t i = 0; i < op.in.size(); ++i) {
        if (op.din[i].empty()) continue;
        for (const Use& u : tape.values_[op.in[i]].uses)
          if (u.op > k) return true;
      }
      for (size_t j = 0; j < op.par.size(); ++j) {
        if (op.dpar[j].empty()) continue;
        for (int q = k + 1; q < tape.size(); ++q)
          for (int p : tape.ops_[q].par)
            if (p == op.par[j]) return true;
      }
      return false;
    }
    default: {
      OpCtx<T> c{tape, const_cast<Op<T>&>(op), nullptr, const_cast<Model<T>&>(tape.model_).params()};
      return ops::visit(op.type, [&](auto impl) { return ops::op_supports<decltype(impl)>(c, m); });
    }
  }
}

template <class T>
void Tape<T>::set_mistake(int k, Mistake m) {
  if (k < 0 || k >= size()) throw Error("no op " + std::to_string(k) + " on the tape");
  if (!supports(ops_[k], m, *this))
    throw Error(std::string("op ") + ops_[k].name + " (" + info(ops_[k].type).name + ") has no '" + info(m).name +
                "' mistake to plant");
  ops_[k].mistake = m;
}

// [SECTION] FLOPs

template <class T>
Flops Tape<T>::total_flops() const {
  Flops t;
  for (const auto& op : ops_) {
    t.fwd += op.flops.fwd;
    t.bwd_seed += op.flops.bwd_seed;
    t.bwd_extra += op.flops.bwd_extra;
  }
  return t;
}

template <class T>
int64_t Tape<T>::closed_form_bwd() const {
  return model_.program().closed_form_bwd(config(), batch_.B, batch_.T);
}

template <class T>
int64_t Tape<T>::full_finetune_bwd() const {
  const int64_t f = model_.program().full_finetune_bwd(config(), batch_.B, batch_.T);
  if (f >= 0) return f;
  // Without a closed form: count. A frozen parameter would need its gradient too, and every
  // value downstream of it would need a backward.
  int64_t total = 0;
  std::vector<char> grad(values_.size(), 0);
  for (const auto& op : ops_) {
    bool g = !op.par.empty();
    for (int v : op.in) g = g || grad[v];
    grad[op.out] = g;
    auto& o = const_cast<Op<T>&>(op);
    const auto din = o.din, dpar = o.dpar;
    for (size_t i = 0; i < o.in.size(); ++i)
      if (grad[o.in[i]] && o.din[i].empty()) o.din[i] = values_[o.in[i]].data;  // stands in: only its shape is read
    for (size_t j = 0; j < o.par.size(); ++j)
      if (o.dpar[j].empty()) o.dpar[j] = model_.params()[o.par[j]].data;
    OpCtx<T> c{*this, o, nullptr, const_cast<Model<T>&>(model_).params()};
    total += ops::visit(op.type, [&](auto impl) { return decltype(impl)::flops(c); }).bwd();
    o.din = din;
    o.dpar = dpar;
  }
  return total;
}

template class Tape<float>;
template class Tape<double>;
template class Recorder<float>;
template class Recorder<double>;

}  // namespace gs
