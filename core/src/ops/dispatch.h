#pragma once
// Maps an OpType to the struct that implements it. The one switch over op types.
#include "ops/attention.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/head.h"
#include "ops/heads.h"
#include "ops/layernorm.h"
#include "ops/linear.h"

namespace gs::ops {

template <class F>
decltype(auto) visit(OpType t, F&& f) {
  switch (t) {
    case OpType::embedding: return f(Embedding{});
    case OpType::pos_embedding: return f(PosEmbedding{});
    case OpType::layernorm: return f(LayerNorm{});
    case OpType::linear: return f(Linear{});
    case OpType::lora_down: return f(LoraDown{});
    case OpType::lora_up: return f(LoraUp{});
    case OpType::split_heads: return f(SplitHeads{});
    case OpType::query_key: return f(QueryKey{});
    case OpType::scale: return f(Scale{});
    case OpType::causal_mask: return f(CausalMask{});
    case OpType::softmax: return f(Softmax{});
    case OpType::attn_value: return f(AttnValue{});
    case OpType::merge_heads: return f(MergeHeads{});
    case OpType::residual_add: return f(ResidualAdd{});
    case OpType::gelu: return f(Gelu{});
    case OpType::lm_head: return f(LmHead{});
    case OpType::log_softmax: return f(LogSoftmax{});
    case OpType::nll: return f(Nll{});
  }
  return f(Nll{});  // unreachable: every enumerator is handled above
}

// Op-specific planted mistakes (the generic ones are handled by the tape).
template <class Impl, class T>
bool op_supports(const OpCtx<T>& c, Mistake m) {
  if constexpr (requires { Impl::supports(c, m); })
    return Impl::supports(c, m);
  else
    return false;
}

}  // namespace gs::ops
