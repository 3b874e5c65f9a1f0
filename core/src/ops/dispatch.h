#pragma once
// Maps an OpType to the struct that implements it: the one switch over op types, generated
// from the op table (gradscope/ops.h).
#include "ops/arith.h"
#include "ops/attention.h"
#include "ops/binary.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/head.h"
#include "ops/heads.h"
#include "ops/layernorm.h"
#include "ops/linear.h"
#include "ops/matprod.h"
#include "ops/reduce.h"
#include "ops/unary.h"

namespace gs::ops {

template <class F>
decltype(auto) visit(OpType t, F&& f) {
  switch (t) {
#define GS_X(id, impl, name, rowj, extra, plain, fwd, local, bwd) \
  case OpType::id:                                        \
    return f(impl{});
    GS_OP_TYPES(GS_X)
#undef GS_X
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

// The chain-rule explanation of one entry (gradscope/chain_rule.h), where the op type has one;
// false where it has none yet.
template <class Impl, class T>
bool op_explain(ChainCtx<T>& c) {
  if constexpr (requires { Impl::explain(c); }) {
    Impl::explain(c);
    return true;
  } else {
    return false;
  }
}

// Which of the op's maps line up entry by entry (same_entry); none where the op type does not say.
template <class Impl>
Aligned op_aligned(int n_local) {
  if constexpr (requires { Impl::aligned(n_local); })
    return Impl::aligned(n_local);
  else
    return {};
}

}  // namespace gs::ops
