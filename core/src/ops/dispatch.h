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

}  // namespace gs::ops
