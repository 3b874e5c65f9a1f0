#pragma once
// What an op type's chain-rule explanation sees (gradscope/chain_rule.h): one entry of its
// outgoing residual or parameter gradient, the incoming residual G, its operands, and the
// ChainRule it fills. An op's `explain(ChainCtx<T>&)` names where its local-derivative factors
// live (local_tensor, local_name, ld_row), what is summed over (over_name) and how (how), and
// adds one term per product (add); the generic part (core/src/chain_rule.cpp) has checked the
// request before and adds the terms up after.
#include <string>
#include <vector>

#include "gradscope/chain_rule.h"
#include "gradscope/tape.h"

namespace gs::ops {

template <class T>
struct ChainCtx {
  const Tape<T>& tape;
  int k;                // the op's index on the tape
  const Op<T>& op;      // its operands, attributes and saved values
  bool din;             // the entry is of an outgoing residual (∂L/∂in[slot]); false: of ∂L/∂par[slot]
  int slot;
  int64_t index;        // the entry: a flat index into that tensor
  const Tensor<T>& G;   // the incoming residual ∂L/∂output (never empty here)
  ChainRule& r;         // what the op sets: local_tensor, local_name, over_name, how, scale, ld_row
  std::vector<ChainTerm> terms = {};

  // Operand i, as OpCtx::in reads it: through Op::args where the op mixes values and parameters.
  const Tensor<T>& in(int i) const {
    if (!op.args.empty()) return op.args[i].param ? par(op.args[i].slot) : tape.value(op.in[op.args[i].slot]).data;
    return tape.value(op.in[i]).data;
  }
  // Which operand (OpCtx::in's index) the explained entry belongs to: `slot` of din or dpar,
  // mapped through Op::args where the op has them.
  int operand() const {
    if (op.args.empty()) return slot;
    for (size_t a = 0; a < op.args.size(); ++a)
      if (op.args[a].param == !din && op.args[a].slot == slot) return static_cast<int>(a);
    return slot;
  }
  // Operand i's name in the equations: the value's name, or the parameter's label.
  std::string in_name(int i) const {
    if (!op.args.empty() && op.args[i].param) return par_label(op.args[i].slot);
    return tape.value(op.in[op.args.empty() ? i : op.args[i].slot]).name;
  }
  const Tensor<T>& par(int j) const { return tape.model().params()[op.par[j]].data; }
  const Tensor<T>& out() const { return tape.value(op.out).data; }
  // A parameter as the model's equations name it ("a", "W"), else its full name.
  std::string par_label(int j) const {
    const Param<T>& p = tape.model().params()[op.par[j]];
    return p.label.empty() ? p.name : p.label;
  }
  // The letters of each dimension, where the program gave them ({"n","m"}); empty otherwise.
  const std::vector<std::string>& in_axes(int i) const {
    static const std::vector<std::string> none;
    if (!op.args.empty()) return op.args[i].param ? none : tape.value(op.in[op.args[i].slot]).axes;
    return tape.value(op.in[i]).axes;
  }
  const std::vector<std::string>& out_axes() const { return tape.value(op.out).axes; }
  // The letter of a matrix's columns (its last axis), or `fallback` where it has none.
  static std::string col_axis(const std::vector<std::string>& axes, const char* fallback) {
    return !axes.empty() && !axes.back().empty() ? axes.back() : fallback;
  }
  // The letter of a matrix's rows (the one axis before its last), or `fallback` where it has none
  // or where the rows run over several axes (GPT-2's B and T, counted as one flat row index).
  static std::string row_axis(const std::vector<std::string>& axes, const char* fallback) {
    return axes.size() == 2 && !axes.front().empty() ? axes.front() : fallback;
  }

  double g(int64_t i) const { return static_cast<double>(G[i]); }
  // One term of the sum: a local-derivative factor (at local_index of r.local_tensor, -1 for a
  // constant) times the incoming entry at incoming_index; `over` is the summed index's value.
  void add(double local, int64_t local_index, double incoming, int64_t incoming_index, int64_t over = -1) {
    terms.push_back({local, incoming, local_index, incoming_index, over});
  }
  // Every output entry moves with one input entry: the product of two numbers, the incoming
  // residual at the same place.
  void one_to_one(double f, const std::string& name, TensorId where, int64_t local_index) {
    r.local_tensor = where;
    r.local_name = name;
    r.how = "entry by entry: the local derivative times the incoming residual at the same place";
    add(f, local_index, g(index), index);
  }
};

// Which of an op's maps hold an entry at the same place as another (same_entry in
// gradscope/chain_rule.h): `values` — its output, incoming residual, inputs and outgoing
// residuals line up (an entrywise map, or one that works on each row in place); `local` — the
// local-derivative items laid out like the input. An op without `aligned` has neither.
struct Aligned {
  bool values = false;
  std::vector<int> local = {};
};

}  // namespace gs::ops
