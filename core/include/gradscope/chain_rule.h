#pragma once
// The chain rule of one entry, with its numbers: for an entry of an op's outgoing residual
// (∂L/∂input, this op's share) or of its parameter gradient, which entries of the incoming
// residual (∂L/∂output) and of the local derivative it came from, each product, and their sum,
// recomputed here from the tape: "outgoing residual = local derivative × incoming residual",
// written out. The app's inspector lights up the entries named in `marks` and writes the
// arithmetic beside the entry.
//
// The local-derivative factors are those the inspector shows (Tape::local_derivative of the
// op, for the row the entry is in where the op has one Jacobian per row), so the sum is a check
// on screen: it equals the stored entry unless the op's backward is broken (a planted mistake).
//
// What an op type says about its entries lives in its own header under core/src/ops/ (its
// `explain`, beside its `local`); this part checks the request, dispatches on the op type and
// adds the terms up.
#include <cstdint>
#include <string>
#include <vector>

#include "gradscope/tape.h"

namespace gs {

// A tensor of one op, as the inspector shows it.
enum class Part {
  input,       // the op's input i (value data)
  param,       // its parameter j (data)
  output,      // its output
  incoming,    // ∂L/∂output (the incoming residual, summed over the output's users)
  outgoing,    // its share of ∂L/∂input i (the outgoing residual)
  param_grad,  // its share of ∂L/∂parameter j
  local,       // item i of Tape::local_derivative(op, row)
};
struct TensorId {
  Part part = Part::output;
  int slot = 0;
  bool operator==(const TensorId& o) const { return part == o.part && slot == o.slot; }
  bool operator!=(const TensorId& o) const { return !(*this == o); }
};

struct ChainTerm {
  double local = 0;           // the local-derivative factor
  double incoming = 0;        // the incoming-residual entry it multiplies
  int64_t local_index = -1;   // flat index of the factor in ChainRule::local_tensor (-1: a constant)
  int64_t incoming_index = -1;
  int64_t over = -1;          // the index summed over (n of Σ_n), for the words; -1 none
  double product() const { return local * incoming; }
};

struct ChainMark {
  TensorId tensor;
  std::vector<int64_t> entries;  // flat indices into that tensor
};

struct ChainRule {
  bool ok = false;
  std::string why_not;       // when !ok: what there is to say instead ("ids: not differentiated")
  TensorId of;               // the entry explained
  int64_t index = -1;
  std::string entry;         // "[3,5]": the entry's place in its tensor
  double stored = 0;         // the stored entry
  double sum = 0;            // scale · Σ local·incoming, recomputed from the tape
  double scale = 1;          // a constant in front of the sum (LoRA's α/r), 1 otherwise
  double tolerance = 0;      // how far sum and stored may differ by round-off (from Σ|terms|)
  int64_t n_terms = 0;       // how many terms the sum has
  std::vector<ChainTerm> terms;  // the largest |terms|, largest first (all of them when few)
  TensorId local_tensor{Part::local, 0};  // where the factors live (a local-derivative item or an operand)
  int ld_row = -1;           // the Jacobian row the factors are from (-1: the op has none)
  std::string local_name;    // "g′(u)", "W[k,n]", "J[i,j] (row 7)", "a"
  std::string over_name;     // "n" in Σ_n (the summed axis' letter where the tape has one); "" for a single product
  std::string how;           // "elementwise", "row × column", "Jacobian row × incoming row", "sum over the positions"
  std::vector<ChainMark> marks;  // every entry that took part, per tensor (the explained one included)
  bool agrees() const;       // sum and stored agree to round-off (|sum − stored| ≤ tolerance)
};

// Explains entry `index` of op k's tensor `of` (Part::outgoing or Part::param_grad). `max_terms`
// bounds ChainRule::terms (the sum is always over every term). Never throws: an entry it cannot
// explain gives ok = false and why_not.
template <class T>
ChainRule explain_entry(const Tape<T>& tape, int k, TensorId of, int64_t index, int max_terms = 4);

// The tensor of op k a TensorId names; nullptr when there is no op k or it has no such tensor
// (`ld` may be nullptr: then no local item is found).
template <class T>
const Tensor<T>* tensor_of(const Tape<T>& tape, int k, const LocalDerivative<T>* ld, TensorId id);

// The shape of one of op k's tensors (empty for a local item the op does not have).
template <class T>
Shape tensor_shape(const Tape<T>& tape, int k, const LocalDerivative<T>& ld, TensorId id);

// The entries of every other map of the op that correspond one-to-one to `index` of tensor
// `of` (the same position in a tensor of the same shape: output, incoming, an elementwise
// local derivative, an outgoing residual of the same shape): "the same entry in every map".
// Which maps line up is the op type's to say (its `aligned` in core/src/ops/).
template <class T>
std::vector<ChainMark> same_entry(const Tape<T>& tape, int k, const LocalDerivative<T>& ld, TensorId of, int64_t index);

}  // namespace gs
