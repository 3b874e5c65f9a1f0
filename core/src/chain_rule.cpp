// The generic part of the chain rule of one entry (gradscope/chain_rule.h): the checks before an
// op is asked, the sum of its terms, their round-off and the marks.
#include "gradscope/chain_rule.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace gs {

bool ChainRule::agrees() const { return ok && std::fabs(sum - stored) <= tolerance; }

template <class T>
const Tensor<T>* tensor_of(const Tape<T>& tape, int k, const LocalDerivative<T>* ld, TensorId id) {
  const Op<T>& op = tape.op(k);
  const int s = id.slot;
  switch (id.part) {
    case Part::input: return s >= 0 && s < static_cast<int>(op.in.size()) ? &tape.value(op.in[s]).data : nullptr;
    case Part::param:
      return s >= 0 && s < static_cast<int>(op.par.size()) ? &tape.model().params()[op.par[s]].data : nullptr;
    case Part::output: return &tape.value(op.out).data;
    case Part::incoming: return &tape.value(op.out).grad;
    case Part::outgoing: return s >= 0 && s < static_cast<int>(op.din.size()) ? &op.din[s] : nullptr;
    case Part::param_grad: return s >= 0 && s < static_cast<int>(op.dpar.size()) ? &op.dpar[s] : nullptr;
    case Part::local:
      return ld && s >= 0 && s < static_cast<int>(ld->items.size()) ? &ld->items[s].tensor : nullptr;
  }
  return nullptr;
}

namespace {

// Collects the terms of one entry's sum.
struct Collector {
  ChainRule& r;
  std::vector<ChainTerm> all;
  void add(double local, int64_t li, double inc, int64_t ii, int64_t over = -1) {
    all.push_back({local, inc, li, ii, over});
  }
};

}  // namespace

template <class T>
Shape tensor_shape(const Tape<T>& tape, int k, const LocalDerivative<T>& ld, TensorId id) {
  if (k < 0 || k >= tape.size()) return {};
  const Tensor<T>* t = tensor_of(tape, k, &ld, id);
  return t ? t->shape : Shape{};
}

template <class T>
ChainRule explain_entry(const Tape<T>& tape, int k, TensorId of, int64_t index, int max_terms) {
  ChainRule r;
  r.of = of;
  r.index = index;
  if (k < 0 || k >= tape.size()) {
    r.why_not = "no such op";
    return r;
  }
  const Op<T>& op = tape.op(k);
  if (of.part != Part::outgoing && of.part != Part::param_grad) {
    r.why_not = "the chain rule explains an outgoing residual or a parameter gradient";
    return r;
  }
  const Tensor<T>* target = tensor_of<T>(tape, k, nullptr, of);
  if (!target) {
    r.why_not = "the op has no such tensor";
    return r;
  }
  if (of.part == Part::outgoing && tape.value(op.in[of.slot]).integer) {
    r.why_not = "ids, whole numbers: nothing to differentiate";
    return r;
  }
  if (target->empty()) {
    r.why_not = of.part == Part::param_grad ? "frozen: no gradient computed" : "no gradient needed here";
    return r;
  }
  if (index < 0 || index >= target->size()) {
    r.why_not = "no such entry";
    return r;
  }
  const Tensor<T>& G = tape.value(op.out).grad;  // the incoming residual
  if (G.empty()) {
    r.why_not = "no incoming residual: nothing trainable upstream";
    return r;
  }
  r.stored = static_cast<double>((*target)[index]);
  r.entry = multi_index_str(target->shape, index);
  Collector col{r, {}};
  const int slot = of.slot;
  const bool din = of.part == Part::outgoing;
  auto in = [&](int i) -> const Tensor<T>& { return tape.value(op.in[i]).data; };
  auto par = [&](int j) -> const Tensor<T>& { return tape.model().params()[op.par[j]].data; };
  auto par_label = [&](int j) {
    const Param<T>& p = tape.model().params()[op.par[j]];
    return p.label.empty() ? p.name : p.label;
  };
  auto one_to_one = [&](double f, const char* name, TensorId where, int64_t li) {
    // Every output entry moves with one input entry: the product of two numbers.
    r.local_tensor = where;
    r.local_name = name;
    r.how = "entry by entry: the local derivative times the incoming residual at the same place";
    col.add(f, li, static_cast<double>(G[index]), index);
  };
  switch (op.type) {
    case OpType::gelu: {
      const LocalDerivative<T> ld = tape.local_derivative(k, 0);
      if (ld.items.empty() || ld.items[0].tensor.size() != G.size()) break;
      one_to_one(static_cast<double>(ld.items[0].tensor[index]), "g′(u)", {Part::local, 0}, index);
      break;
    }
    case OpType::scale:
      one_to_one(1.0 / std::sqrt(static_cast<double>(op.attrs.d)), "1/√d", {Part::local, 0}, -1);
      break;
    case OpType::causal_mask: {
      const int64_t Tn = G.dim(-1), i = (index / Tn) % Tn, j = index % Tn;
      one_to_one(j <= i ? 1.0 : 0.0, "mask", {Part::local, 0}, i * Tn + j);
      if (j > i) r.how = "a future key: the mask is 0 here, so no gradient reaches this score";
      break;
    }
    case OpType::residual_add:
    case OpType::merge_heads:
    case OpType::add_param:
      if (din) {
        one_to_one(1.0, "1", {Part::local, 0}, -1);
        if (op.type == OpType::merge_heads) {
          // O (B,H,T,d) → Y (B,T,C): entry [b,h,t,j] is Y[b,t,h·d+j].
          const Shape& s = target->shape;
          const int64_t H = s[1], Tn = s[2], d = s[3];
          const int64_t b = index / (H * Tn * d), h = (index / (Tn * d)) % H, t = (index / d) % Tn, j = index % d;
          col.all.back().incoming_index = (b * Tn + t) * H * d + h * d + j;
          col.all.back().incoming = static_cast<double>(G[col.all.back().incoming_index]);
          r.how = "a copy: the entry is the incoming residual at its place among the heads";
        }
      } else {  // add_param's b: the residual summed over every entry b was added to
        r.local_tensor = {Part::local, 1};
        r.local_name = "1";
        r.over_name = "i";
        r.how = "b was added to every entry: its gradient is the incoming residual summed over all of them";
        for (int64_t i = 0; i < G.size(); ++i) col.add(1.0, -1, static_cast<double>(G[i]), i, i);
      }
      break;
    case OpType::subtract:
      one_to_one(slot == 0 ? 1.0 : -1.0, slot == 0 ? "1" : "−1", {Part::local, slot}, -1);
      break;
    case OpType::mul_param:
      if (din) {
        one_to_one(static_cast<double>(par(0)[0]), par_label(0).c_str(), {Part::local, 0}, -1);
      } else {
        r.local_tensor = {Part::local, 1};
        r.local_name = "x";
        r.over_name = "i";
        r.how = "a multiplied every entry: its gradient is x times the incoming residual, summed over the entries";
        for (int64_t i = 0; i < G.size(); ++i) col.add(static_cast<double>(in(0)[i]), i, static_cast<double>(G[i]), i, i);
      }
      break;
    case OpType::mean_square: {
      const double n = static_cast<double>(in(0).size());
      one_to_one(2.0 * static_cast<double>(in(0)[index]) / n, "2d/N", {Part::local, 0}, index);
      col.all.back().incoming_index = 0;
      col.all.back().incoming = static_cast<double>(G[0]);
      r.how = "where backprop starts: 2d/N times ∂L/∂L = 1";
      break;
    }
    case OpType::nll: {
      const Tensor<T>& y = in(1);
      const int64_t V = in(0).dim(-1), M = in(0).size() / V, m = index / V, v = index % V;
      const bool target_here = static_cast<int64_t>(y[m]) == v;
      one_to_one(target_here ? -1.0 / static_cast<double>(M) : 0.0, "−1/M at the target", {Part::local, 0}, index);
      col.all.back().incoming_index = 0;
      col.all.back().incoming = static_cast<double>(G[0]);
      r.how = target_here ? "the target of this row: −1/M times ∂L/∂L = 1"
                          : "not the target of this row: the loss does not read it (0)";
      break;
    }
    case OpType::split_heads: {
      // qkv (B,T,3C) ← q|k|v (B,H,T,d): column c of qkv is this op's when it is in its third.
      const Shape& s = G.shape;
      const int64_t H = s[1], Tn = s[2], d = s[3], C = H * d;
      const int64_t bt = index / (3 * C), col3 = index % (3 * C), b = bt / Tn, t = bt % Tn;
      const int part = op.attrs.part;
      r.local_tensor = {Part::local, 0};
      r.local_name = "1";
      if (col3 / C != part) {
        r.how = std::string("this column of qkv belongs to ") + "qkv"[col3 / C] + ", not " + "qkv"[part] +
                ": its op sends that share (here 0)";
      } else {
        const int64_t h = (col3 - part * C) / d, j = (col3 - part * C) % d;
        const int64_t ii = ((b * H + h) * Tn + t) * d + j;
        col.add(1.0, -1, static_cast<double>(G[ii]), ii);
        r.how = "a copy: the entry is the incoming residual of its head";
      }
      break;
    }
    case OpType::pos_embedding:
      if (din) {
        one_to_one(1.0, "1", {Part::local, 0}, -1);
      } else {  // wpe[t,c]: Σ over the batch rows of ∂L/∂H[b,t,c]
        const int64_t B = G.dim(0), Tn = G.dim(1), C = G.dim(2), t = index / C, c = index % C;
        r.local_tensor = {Part::local, 0};
        r.local_name = "1";
        r.over_name = "b";
        if (t >= Tn) {
          r.how = "position " + std::to_string(t) + " is beyond the text (T = " + std::to_string(Tn) + "): 0";
        } else {
          r.how = "every batch row adds its position's residual";
          for (int64_t b = 0; b < B; ++b) col.add(1.0, -1, static_cast<double>(G[(b * Tn + t) * C + c]), (b * Tn + t) * C + c, b);
        }
      }
      break;
    case OpType::embedding: {  // wte[v,c]: Σ over the positions that read token v
      const Tensor<T>& x = in(0);
      const int64_t C = G.dim(-1), M = G.size() / C, V = par(0).dim(0), v = index / C, c = index % C;
      r.local_tensor = {Part::local, 0};
      r.local_name = "one-hot";
      r.over_name = "position";
      r.how = "a repeated token adds up its rows: the positions that read this token";
      for (int64_t m = 0; m < M; ++m)
        if (static_cast<int64_t>(x[m]) == v) col.add(1.0, m * V + v, static_cast<double>(G[m * C + c]), m * C + c, m);
      if (col.all.empty()) r.how = "no position reads this token: 0";
      break;
    }
    case OpType::linear:
    case OpType::matmul:
    case OpType::lora_down:
    case OpType::lm_head: {
      // Y (M,N) = X (M,K) · W (K,N); lm_head: W = wteᵀ (wte is V×C).
      const Tensor<T>& X = in(0);
      const Tensor<T>& Wt = par(0);
      const bool tied = op.type == OpType::lm_head;
      const int64_t K = X.dim(-1), M = X.size() / K, N = G.dim(-1);
      auto W = [&](int64_t kk, int64_t n) { return tied ? Wt[n * K + kk] : Wt[kk * N + n]; };
      auto Wi = [&](int64_t kk, int64_t n) { return tied ? n * K + kk : kk * N + n; };
      const std::string w = par_label(0), x = tied ? "f" : "X", y = tied ? "logits" : op.type == OpType::lora_down ? "U" : "Y";
      if (din) {
        const int64_t m = index / K, kk = index % K;
        r.local_tensor = {Part::local, 0};
        r.local_name = w;
        r.over_name = tied ? "v" : "n";
        r.how = "row " + std::to_string(m) + " of ∂L/∂" + y + " times " + (tied ? "column " : "row ") + std::to_string(kk) +
                " of " + w + (tied ? "" : " (a column of " + w + "ᵀ)") + ": one product per output";
        for (int64_t n = 0; n < N; ++n) col.add(static_cast<double>(W(kk, n)), Wi(kk, n), static_cast<double>(G[m * N + n]), m * N + n, n);
      } else if (slot == 0) {
        // ∂L/∂W[kk,n] = Σ_m X[m,kk]·G[m,n]; lm_head's wte[v,c] = Σ_m G[m,v]·f[m,c].
        const int64_t kk = tied ? index % K : index / N, n = tied ? index / K : index % N;
        r.local_tensor = {Part::local, 1};
        r.local_name = x;
        r.over_name = "m";
        r.how = "column " + std::to_string(kk) + " of " + x + " times column " + std::to_string(n) + " of ∂L/∂" + y +
                ": one product per row (position)";
        for (int64_t m = 0; m < M; ++m)
          col.add(static_cast<double>(X[m * K + kk]), m * K + kk, static_cast<double>(G[m * N + n]), m * N + n, m);
      } else {  // the bias: Σ over the rows
        const int64_t n = index;
        r.local_tensor = {Part::local, 2};
        r.local_name = "1";
        r.over_name = "m";
        r.how = "the bias was added to every row: column " + std::to_string(n) + " of ∂L/∂Y summed over the rows";
        for (int64_t m = 0; m < M; ++m) col.add(1.0, -1, static_cast<double>(G[m * N + n]), m * N + n, m);
      }
      break;
    }
    case OpType::lora_up: {
      // Y' (M,N) = Y + s·U (M,R) · B (R,N)
      const double s = op.attrs.scale;
      const int64_t N = G.dim(-1), M = G.size() / N;
      if (din && slot == 0) {
        one_to_one(1.0, "1", {Part::local, 0}, -1);
        break;
      }
      const Tensor<T>& U = in(1);
      const Tensor<T>& Bm = par(0);
      const int64_t R = U.dim(-1);
      r.scale = s;
      if (din) {  // ∂L/∂U[m,rr] = s·Σ_n G[m,n]·B[rr,n]
        const int64_t m = index / R, rr = index % R;
        r.local_tensor = {Part::local, 1};
        r.local_name = "B";
        r.over_name = "n";
        r.how = "(α/r) times row " + std::to_string(m) + " of ∂L/∂Y′ times row " + std::to_string(rr) + " of B";
        for (int64_t n = 0; n < N; ++n)
          col.add(static_cast<double>(Bm[rr * N + n]), rr * N + n, static_cast<double>(G[m * N + n]), m * N + n, n);
      } else {  // ∂L/∂B[rr,n] = s·Σ_m U[m,rr]·G[m,n]
        const int64_t rr = index / N, n = index % N;
        r.local_tensor = {Part::local, 2};
        r.local_name = "U";
        r.over_name = "m";
        r.how = "(α/r) times column " + std::to_string(rr) + " of U times column " + std::to_string(n) + " of ∂L/∂Y′";
        for (int64_t m = 0; m < M; ++m)
          col.add(static_cast<double>(U[m * R + rr]), m * R + rr, static_cast<double>(G[m * N + n]), m * N + n, m);
      }
      break;
    }
    case OpType::query_key: {
      // S (…,T,T) = Q (…,T,d) · Kᵀ
      const Tensor<T>& Q = in(0);
      const Tensor<T>& Kt = in(1);
      const int64_t d = Q.dim(-1), Tn = Q.dim(-2);
      const int64_t bh = index / (Tn * d), p = (index / d) % Tn, e = index % d;
      const int64_t s0 = bh * Tn * Tn, v0 = bh * Tn * d;
      if (slot == 0) {  // ∂L/∂Q[p,e] = Σ_j ∂L/∂S[p,j]·K[j,e]
        r.local_tensor = {Part::local, 0};
        r.local_name = "K";
        r.over_name = "key j";
        r.how = "query row " + std::to_string(p) + " of ∂L/∂S times column " + std::to_string(e) + " of K";
        for (int64_t j = 0; j < Tn; ++j)
          col.add(static_cast<double>(Kt[v0 + j * d + e]), v0 + j * d + e, static_cast<double>(G[s0 + p * Tn + j]), s0 + p * Tn + j, j);
      } else {  // ∂L/∂K[p,e] = Σ_i ∂L/∂S[i,p]·Q[i,e]
        r.local_tensor = {Part::local, 1};
        r.local_name = "Q";
        r.over_name = "query i";
        r.how = "key column " + std::to_string(p) + " of ∂L/∂S (a row of (∂L/∂S)ᵀ) times column " + std::to_string(e) + " of Q";
        for (int64_t i = 0; i < Tn; ++i)
          col.add(static_cast<double>(Q[v0 + i * d + e]), v0 + i * d + e, static_cast<double>(G[s0 + i * Tn + p]), s0 + i * Tn + p, i);
      }
      break;
    }
    case OpType::attn_value: {
      // O (…,T,d) = P (…,T,T) · V (…,T,d)
      const Tensor<T>& P = in(0);
      const Tensor<T>& Vv = in(1);
      const int64_t d = Vv.dim(-1), Tn = Vv.dim(-2);
      if (slot == 0) {  // ∂L/∂P[i,j] = Σ_e ∂L/∂O[i,e]·V[j,e]
        const int64_t bh = index / (Tn * Tn), i = (index / Tn) % Tn, j = index % Tn;
        const int64_t v0 = bh * Tn * d;
        r.local_tensor = {Part::local, 0};
        r.local_name = "V";
        r.over_name = "e";
        r.how = "row " + std::to_string(i) + " of ∂L/∂O times value row " + std::to_string(j) + " (a column of Vᵀ)";
        for (int64_t e = 0; e < d; ++e)
          col.add(static_cast<double>(Vv[v0 + j * d + e]), v0 + j * d + e, static_cast<double>(G[v0 + i * d + e]), v0 + i * d + e, e);
      } else {  // ∂L/∂V[j,e] = Σ_i P[i,j]·∂L/∂O[i,e]
        const int64_t bh = index / (Tn * d), j = (index / d) % Tn, e = index % d;
        const int64_t p0 = bh * Tn * Tn, v0 = bh * Tn * d;
        r.local_tensor = {Part::local, 1};
        r.local_name = "P";
        r.over_name = "query i";
        r.how = "column " + std::to_string(j) + " of P (who attends to value " + std::to_string(j) + ") times column " +
                std::to_string(e) + " of ∂L/∂O";
        for (int64_t i = 0; i < Tn; ++i)
          col.add(static_cast<double>(P[p0 + i * Tn + j]), p0 + i * Tn + j, static_cast<double>(G[v0 + i * d + e]), v0 + i * d + e, i);
      }
      break;
    }
    case OpType::softmax: {
      // ∂L/∂M[r,j] = Σ_i J_r[i,j]·∂L/∂P[r,i], J_r = diag(p) − p·pᵀ of row r
      const Tensor<T>& P = tape.value(op.out).data;
      const int64_t N = P.dim(-1), row = index / N, j = index % N;
      const T* p = P.data + row * N;
      r.ld_row = static_cast<int>(row);
      r.local_tensor = {Part::local, 0};
      r.local_name = "J";
      r.over_name = "i";
      r.how = "row " + std::to_string(row) + "'s Jacobian (column " + std::to_string(j) + ") times the incoming row";
      for (int64_t i = 0; i < N; ++i) {
        const double Jij = (i == j ? static_cast<double>(p[i]) : 0.0) - static_cast<double>(p[i]) * static_cast<double>(p[j]);
        col.add(Jij, i * N + j, static_cast<double>(G[row * N + i]), row * N + i, i);
      }
      break;
    }
    case OpType::log_softmax: {
      // ∂L/∂z[r,j] = Σ_i J_r[i,j]·∂L/∂ℓ[r,i], J_r[i,j] = δ_ij − p_j
      const Tensor<T>& l = tape.value(op.out).data;
      const int64_t V = l.dim(-1), row = index / V, j = index % V;
      const double pj = std::exp(static_cast<double>(l[row * V + j]));
      r.ld_row = static_cast<int>(row);
      r.local_tensor = {Part::local, 0};
      r.local_name = "J";
      r.over_name = "i";
      r.how = "row " + std::to_string(row) + "'s Jacobian (column " + std::to_string(j) + ") times the incoming row";
      for (int64_t i = 0; i < V; ++i)
        col.add((i == j ? 1.0 : 0.0) - pj, i * V + j, static_cast<double>(G[row * V + i]), row * V + i, i);
      break;
    }
    case OpType::layernorm: {
      const Tensor<T>& x = in(0);
      const int64_t C = x.dim(-1), M = x.size() / C;
      const Tensor<T>& mean = op.saved[0];
      const Tensor<T>& rstd = op.saved[1];
      auto xhat = [&](int64_t m, int64_t i) {
        return (static_cast<double>(x[m * C + i]) - static_cast<double>(mean[m])) * static_cast<double>(rstd[m]);
      };
      if (din) {  // ∂L/∂x[m,i] = Σ_j J_m[j,i]·∂L/∂y[m,j]
        const int64_t m = index / C, i = index % C;
        const Tensor<T>& g = par(0);
        const double rs = static_cast<double>(rstd[m]), xi = xhat(m, i);
        r.ld_row = static_cast<int>(m);
        r.local_tensor = {Part::local, 0};
        r.local_name = "J";
        r.over_name = "j";
        r.how = "row " + std::to_string(m) + "'s Jacobian (column " + std::to_string(i) + ") times the incoming row";
        for (int64_t j = 0; j < C; ++j) {
          const double Jji = static_cast<double>(g[j]) * rs *
                             ((i == j ? 1.0 : 0.0) - 1.0 / static_cast<double>(C) - xi * xhat(m, j) / static_cast<double>(C));
          col.add(Jji, j * C + i, static_cast<double>(G[m * C + j]), m * C + j, j);
        }
      } else if (slot == 0) {  // γ[i] = Σ_m x̂[m,i]·∂L/∂y[m,i]
        const int64_t i = index;
        r.local_tensor = {Part::local, 1};
        r.local_name = "x̂";
        r.over_name = "m";
        r.how = "column " + std::to_string(i) + " of x̂ times column " + std::to_string(i) + " of ∂L/∂y, summed over the rows";
        for (int64_t m = 0; m < M; ++m) col.add(xhat(m, i), m * C + i, static_cast<double>(G[m * C + i]), m * C + i, m);
      } else {  // β[i] = Σ_m ∂L/∂y[m,i]
        const int64_t i = index;
        r.local_tensor = {Part::local, 2};
        r.local_name = "1";
        r.over_name = "m";
        r.how = "β was added to every row: column " + std::to_string(i) + " of ∂L/∂y summed over the rows";
        for (int64_t m = 0; m < M; ++m) col.add(1.0, -1, static_cast<double>(G[m * C + i]), m * C + i, m);
      }
      break;
    }
  }

  // The sum over every term; the largest ones kept for the words.
  double s = 0, a = 0;
  for (const ChainTerm& t : col.all) {
    s += t.product();
    a += std::fabs(t.product());
  }
  r.sum = r.scale * s;
  // Round-off of the engine's own sum (in T) against this one (in double).
  r.tolerance = (std::is_same_v<T, float> ? 1e-4 : 1e-9) * std::fabs(r.scale) * a + 1e-30;
  r.n_terms = static_cast<int64_t>(col.all.size());
  ChainMark inc{{Part::incoming, 0}, {}}, loc{r.local_tensor, {}};
  for (const ChainTerm& t : col.all) {
    if (t.incoming_index >= 0 && inc.entries.size() < 65536) inc.entries.push_back(t.incoming_index);
    if (t.local_index >= 0 && loc.entries.size() < 65536) loc.entries.push_back(t.local_index);
  }
  r.marks.push_back({of, {index}});
  if (!inc.entries.empty()) r.marks.push_back(std::move(inc));
  if (!loc.entries.empty()) r.marks.push_back(std::move(loc));
  const size_t keep = std::min<size_t>(col.all.size(), static_cast<size_t>(std::max(max_terms, 1)));
  std::partial_sort(col.all.begin(), col.all.begin() + static_cast<std::ptrdiff_t>(keep), col.all.end(),
                    [](const ChainTerm& a, const ChainTerm& b) { return std::fabs(a.product()) > std::fabs(b.product()); });
  col.all.resize(keep);
  r.terms = std::move(col.all);
  r.ok = true;
  return r;
}

template <class T>
std::vector<ChainMark> same_entry(const Tape<T>& tape, int k, const LocalDerivative<T>& ld, TensorId of, int64_t index) {
  std::vector<ChainMark> out;
  if (k < 0 || k >= tape.size() || index < 0) return out;
  const Op<T>& op = tape.op(k);
  const Tensor<T>* src = tensor_of(tape, k, &ld, of);
  if (!src || src->empty() || index >= src->size()) return out;
  // Ops whose output entry sits where its input entries sit (an entrywise map, or one per row).
  bool aligned = false;
  std::vector<int> aligned_items;  // local-derivative items laid out like the input
  switch (op.type) {
    case OpType::gelu: aligned = true, aligned_items = {0}; break;
    case OpType::mean_square: aligned_items = {0}; break;
    case OpType::nll: aligned_items = {0}; break;
    case OpType::layernorm: aligned = true, aligned_items = {1}; break;
    case OpType::log_softmax:
      aligned = true;
      if (!ld.items.empty()) aligned_items = {static_cast<int>(ld.items.size()) - 1};  // the fused P − onehot(y)
      break;
    case OpType::mul_param: aligned = true, aligned_items = {1}; break;
    case OpType::scale:
    case OpType::causal_mask:
    case OpType::softmax:
    case OpType::residual_add:
    case OpType::add_param:
    case OpType::subtract:
    case OpType::pos_embedding: aligned = true; break;
    default: break;
  }
  // The sides of one value: data and gradient.
  std::vector<std::vector<TensorId>> groups;
  std::vector<TensorId> value_side = {{Part::output, 0}, {Part::incoming, 0}};
  for (size_t i = 0; i < op.in.size(); ++i) {
    if (aligned) {
      value_side.push_back({Part::input, static_cast<int>(i)});
      value_side.push_back({Part::outgoing, static_cast<int>(i)});
    } else {
      groups.push_back({{Part::input, static_cast<int>(i)}, {Part::outgoing, static_cast<int>(i)}});
    }
  }
  for (int it : aligned_items) value_side.push_back({Part::local, it});
  groups.push_back(value_side);
  for (size_t j = 0; j < op.par.size(); ++j)
    groups.push_back({{Part::param, static_cast<int>(j)}, {Part::param_grad, static_cast<int>(j)}});
  for (const auto& g : groups) {
    if (std::find(g.begin(), g.end(), of) == g.end()) continue;
    for (const TensorId& id : g) {
      if (id == of) continue;
      if (id.part == Part::local && ld.items[id.slot].transposed) continue;
      const Tensor<T>* t = tensor_of(tape, k, &ld, id);
      if (!t || t->empty() || t->shape != src->shape) continue;
      out.push_back({id, {index}});
    }
  }
  return out;
}

template ChainRule explain_entry<float>(const Tape<float>&, int, TensorId, int64_t, int);
template ChainRule explain_entry<double>(const Tape<double>&, int, TensorId, int64_t, int);
template std::vector<ChainMark> same_entry<float>(const Tape<float>&, int, const LocalDerivative<float>&, TensorId, int64_t);
template std::vector<ChainMark> same_entry<double>(const Tape<double>&, int, const LocalDerivative<double>&, TensorId,
                                                   int64_t);
template Shape tensor_shape<float>(const Tape<float>&, int, const LocalDerivative<float>&, TensorId);
template Shape tensor_shape<double>(const Tape<double>&, int, const LocalDerivative<double>&, TensorId);
template const Tensor<float>* tensor_of<float>(const Tape<float>&, int, const LocalDerivative<float>*, TensorId);
template const Tensor<double>* tensor_of<double>(const Tape<double>&, int, const LocalDerivative<double>*, TensorId);

}  // namespace gs
