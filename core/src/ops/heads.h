#pragma once
// Splitting qkv into per-head q, k, v and merging the heads back: pure data movement, 0 FLOPs.
#include "ops/common.h"

namespace gs::ops {

struct SplitHeads {
  // in qkv (B,T,3C)   out q|k|v (B,H,T,d), part 0|1|2
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const auto& qkv = c.in(0);
    const auto& o = c.out();
    const int64_t B = o.dim(0), H = o.dim(1), Tn = o.dim(2), d = o.dim(3), C = H * d;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t t = 0; t < Tn; ++t)
          std::copy_n(qkv.data + (b * Tn + t) * 3 * C + c.attrs().part * C + h * d, d, o.data + ((b * H + h) * Tn + t) * d);
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    if (!c.need_din(0)) return;
    const auto& dq = c.dout();
    const auto& dqkv = c.din(0);
    const int64_t B = dq.dim(0), H = dq.dim(1), Tn = dq.dim(2), d = dq.dim(3), C = H * d;
    dqkv.fill(T(0));
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t t = 0; t < Tn; ++t)
          std::copy_n(dq.data + ((b * H + h) * Tn + t) * d, d, dqkv.data + (b * Tn + t) * 3 * C + c.attrs().part * C + h * d);
  }
  template <class T>
  static Flops flops(const OpCtx<T>&) {
    return {};
  }
  template <class T>
  static void local(const OpCtx<T>& c, int, LocalDerivative<T>& ld) {
    ld.text = std::string("A rearrangement: each ") + "qkv"[c.attrs().part] +
              " entry is one qkv entry, so the derivative is 1 on that pair and 0 elsewhere. The gradient is "
              "copied back into this part's columns of ∂L/∂qkv; q, k and v together fill all of them.";
    ld.items.push_back(scalar_item<T>("∂out/∂qkv = 1 (on the copied entries)", T(1)));
  }
  // qkv (B,T,3C) ← q|k|v (B,H,T,d): column c of qkv is this op's when it is in its third.
  template <class T>
  static void explain(ChainCtx<T>& c) {
    const Shape& s = c.G.shape;
    const int64_t H = s[1], Tn = s[2], d = s[3], C = H * d;
    const int64_t bt = c.index / (3 * C), col3 = c.index % (3 * C), b = bt / Tn, t = bt % Tn;
    const int part = c.op.attrs.part;
    c.r.local_tensor = {Part::local, 0};
    c.r.local_name = "1";
    if (col3 / C != part) {
      c.r.how = std::string("this column of qkv belongs to ") + "qkv"[col3 / C] + ", not " + "qkv"[part] +
                ": its op sends that share (here 0)";
      return;
    }
    const int64_t h = (col3 - part * C) / d, j = (col3 - part * C) % d;
    const int64_t ii = ((b * H + h) * Tn + t) * d + j;
    c.add(1.0, -1, c.g(ii), ii);
    c.r.how = "a copy: the entry is the incoming residual of its head";
  }
};

struct MergeHeads {
  // in O (B,H,T,d)   out Y (B,T,C)
  template <class T>
  static void forward(const OpCtx<T>& c) {
    const auto& O = c.in(0);
    const int64_t B = O.dim(0), H = O.dim(1), Tn = O.dim(2), d = O.dim(3), C = H * d;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t t = 0; t < Tn; ++t)
          std::copy_n(O.data + ((b * H + h) * Tn + t) * d, d, c.out().data + (b * Tn + t) * C + h * d);
  }
  template <class T>
  static void backward(const OpCtx<T>& c) {
    if (!c.need_din(0)) return;
    const auto& dY = c.dout();
    const auto& dO = c.din(0);
    const int64_t B = dO.dim(0), H = dO.dim(1), Tn = dO.dim(2), d = dO.dim(3), C = H * d;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t t = 0; t < Tn; ++t)
          std::copy_n(dY.data + (b * Tn + t) * C + h * d, d, dO.data + ((b * H + h) * Tn + t) * d);
  }
  template <class T>
  static Flops flops(const OpCtx<T>&) {
    return {};
  }
  template <class T>
  static void local(const OpCtx<T>&, int, LocalDerivative<T>& ld) {
    ld.text = "A rearrangement: the heads' outputs are laid side by side again; the derivative is 1 on each "
              "copied pair and the gradient is cut back into per-head pieces.";
    ld.items.push_back(scalar_item<T>("∂Y/∂O = 1 (on the copied entries)", T(1)));
  }
  template <class T>
  static void explain(ChainCtx<T>& c) {
    c.one_to_one(1.0, "1", {Part::local, 0}, -1);
    // O (B,H,T,d) → Y (B,T,C): entry [b,h,t,j] is Y[b,t,h·d+j].
    const Shape& s = c.in(0).shape;
    const int64_t H = s[1], Tn = s[2], d = s[3];
    const int64_t b = c.index / (H * Tn * d), h = (c.index / (Tn * d)) % H, t = (c.index / d) % Tn, j = c.index % d;
    ChainTerm& term = c.terms.back();
    term.incoming_index = (b * Tn + t) * H * d + h * d + j;
    term.incoming = c.g(term.incoming_index);
    c.r.how = "a copy: the entry is the incoming residual at its place among the heads";
  }
};

}  // namespace gs::ops
