#include "gradscope/tape.h"

#include <cmath>

#include "gradscope/error.h"
#include "ops/dispatch.h"

namespace gs {

template <class T>
Tape<T>::Tape(Model<T>& model, const Batch& batch) : model_(model), batch_(batch) {
  validate_batch(batch_, config());
  build();
  allocate_gradients();
  count_flops();
}

template <class T>
void Tape<T>::set_batch(const Batch& b) {
  if (b.B != batch_.B || b.T != batch_.T)
    throw Error("new batch is " + std::to_string(b.B) + "×" + std::to_string(b.T) + ", the tape was built for " +
                std::to_string(batch_.B) + "×" + std::to_string(batch_.T));
  validate_batch(b, config());
  batch_ = b;
}

// [SECTION] recording

template <class T>
int Tape<T>::record(OpType type, const std::string& name, int layer, std::vector<int> in, std::vector<int> par,
                    const Shape& out_shape) {
  const int k = static_cast<int>(ops_.size());
  Op<T> op;
  op.type = type;
  op.name = name;
  op.layer = layer;
  op.in = std::move(in);
  op.par = std::move(par);
  for (size_t i = 0; i < op.in.size(); ++i) values_[op.in[i]].uses.push_back({k, static_cast<int>(i)});
  if (type == OpType::layernorm) {
    const Shape rows{numel(out_shape) / out_shape.back()};
    op.saved = {arena_.alloc(rows), arena_.alloc(rows)};
    op.saved_names = {"mean", "rstd"};
  }
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
void Tape<T>::build() {
  const Config& c = config();
  const int64_t B = batch_.B, Tn = batch_.T, C = c.n_embd, H = c.n_head, d = c.head_size();
  auto P = [&](const std::string& n) { return model_.find(n); };
  auto linear = [&](const std::string& name, int l, int x, int64_t out, LoraTarget target) {
    int y = record(OpType::linear, name, l, {x}, {P(name + ".weight"), P(name + ".bias")}, {B, Tn, out});
    if (!c.lora_on(target)) return y;
    int u = record(OpType::lora_down, name + ".lora_A", l, {x}, {P(name + ".lora_A")}, {B, Tn, c.lora_rank});
    int y2 = record(OpType::lora_up, name + ".lora_B", l, {y, u}, {P(name + ".lora_B")}, {B, Tn, out});
    ops_.back().alpha_over_r = c.lora_scale();
    return y2;
  };

  int h = record(OpType::embedding, "wte", -1, {}, {P("wte.weight")}, {B, Tn, C});
  h = record(OpType::pos_embedding, "wpe", -1, {h}, {P("wpe.weight")}, {B, Tn, C});
  for (int l = 0; l < c.n_layer; ++l) {
    const std::string p = "h." + std::to_string(l) + ".";
    int a = record(OpType::layernorm, p + "ln_1", l, {h}, {P(p + "ln_1.weight"), P(p + "ln_1.bias")}, {B, Tn, C});
    int qkv = linear(p + "attn.c_attn", l, a, 3 * C, LoraTarget::attn_c_attn);
    int q = record(OpType::split_heads, p + "attn.q", l, {qkv}, {}, {B, H, Tn, d});
    int k = record(OpType::split_heads, p + "attn.k", l, {qkv}, {}, {B, H, Tn, d});
    ops_.back().part = 1;
    int v = record(OpType::split_heads, p + "attn.v", l, {qkv}, {}, {B, H, Tn, d});
    ops_.back().part = 2;
    int s = record(OpType::query_key, p + "attn.qk", l, {q, k}, {}, {B, H, Tn, Tn});
    s = record(OpType::scale, p + "attn.scale", l, {s}, {}, {B, H, Tn, Tn});
    s = record(OpType::causal_mask, p + "attn.mask", l, {s}, {}, {B, H, Tn, Tn});
    int pr = record(OpType::softmax, p + "attn.softmax", l, {s}, {}, {B, H, Tn, Tn});
    int o = record(OpType::attn_value, p + "attn.pv", l, {pr, v}, {}, {B, H, Tn, d});
    o = record(OpType::merge_heads, p + "attn.merge", l, {o}, {}, {B, Tn, C});
    o = linear(p + "attn.c_proj", l, o, C, LoraTarget::attn_c_proj);
    h = record(OpType::residual_add, p + "res_1", l, {h, o}, {}, {B, Tn, C});
    int m = record(OpType::layernorm, p + "ln_2", l, {h}, {P(p + "ln_2.weight"), P(p + "ln_2.bias")}, {B, Tn, C});
    int u = linear(p + "mlp.c_fc", l, m, 4 * C, LoraTarget::mlp_c_fc);
    int g = record(OpType::gelu, p + "mlp.gelu", l, {u}, {}, {B, Tn, 4 * C});
    int z = linear(p + "mlp.c_proj", l, g, C, LoraTarget::mlp_c_proj);
    h = record(OpType::residual_add, p + "res_2", l, {h, z}, {}, {B, Tn, C});
  }
  int f = record(OpType::layernorm, "ln_f", -1, {h}, {P("ln_f.weight"), P("ln_f.bias")}, {B, Tn, C});
  int z = record(OpType::lm_head, "lm_head", -1, {f}, {P("wte.weight")}, {B, Tn, c.vocab_size});
  z = record(OpType::log_softmax, "log_softmax", -1, {z}, {}, {B, Tn, c.vocab_size});
  record(OpType::nll, "nll", -1, {z}, {}, {});
  for (const auto& op : ops_)
    for (int p : op.par)
      if (p < 0) throw Error("op " + op.name + " is missing a parameter");
}

template <class T>
void Tape<T>::allocate_gradients() {
  auto& params = model_.params();
  std::vector<int> param_uses(params.size(), 0);
  for (const auto& op : ops_)
    for (int p : op.par) ++param_uses[p];
  for (auto& op : ops_) {
    bool rg = false;
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
  if (op.mistake == Mistake::flipped_sign)
    for (auto& d : op.din)
      for (auto& x : d) x = -x;
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
  const int64_t rows = op.in.empty() ? 1 : values_[op.in[0]].data.rows();
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
  const Config& c = config();
  const int64_t L = c.n_layer, B = batch_.B, Tn = batch_.T, C = c.n_embd, H = c.n_head, d = c.head_size(),
                V = c.vocab_size;
  return L * (48 * B * Tn * C * C + 8 * B * H * Tn * Tn * d + 5 * B * H * Tn * Tn + 98 * B * Tn * C) +
         11 * B * Tn * C + 4 * B * Tn * C * V;
}

template <class T>
int64_t Tape<T>::full_finetune_bwd() const {
  const Config& c = config();
  const int64_t B = batch_.B, Tn = batch_.T, M = B * Tn, C = c.n_embd, V = c.vocab_size;
  const int64_t bias = c.n_layer * M * (3 * C + C + 4 * C + C);  // Σ_rows ∂L/∂Y per linear
  return closed_form_bwd() + bias + 4 * M * V + M * C + (B - 1) * Tn * C;
}

template class Tape<float>;
template class Tape<double>;

}  // namespace gs
