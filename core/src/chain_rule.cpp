// The generic part of the chain rule of one entry (gradscope/chain_rule.h): the checks before an
// op is asked, the sum of its terms, their round-off and the marks; and the op's tensors by
// TensorId (tensor_of, tensor_shape, same_entry). What the terms are is each op type's
// `explain` in its header under core/src/ops/.
#include "gradscope/chain_rule.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "ops/dispatch.h"

namespace gs {

bool ChainRule::agrees() const { return ok && std::fabs(sum - stored) <= tolerance; }

template <class T>
const Tensor<T>* tensor_of(const Tape<T>& tape, int k, const LocalDerivative<T>* ld, TensorId id) {
  if (k < 0 || k >= tape.size()) return nullptr;
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

template <class T>
Shape tensor_shape(const Tape<T>& tape, int k, const LocalDerivative<T>& ld, TensorId id) {
  if (k < 0 || k >= tape.size()) return {};
  const Tensor<T>* t = tensor_of(tape, k, &ld, id);
  return t ? t->shape : Shape{};
}

namespace {

// Why entry `index` of op k's tensor `of` has nothing to explain; "" when it has.
template <class T>
std::string refusal(const Tape<T>& tape, int k, TensorId of, int64_t index) {
  if (k < 0 || k >= tape.size()) return "no such op";
  const Op<T>& op = tape.op(k);
  if (of.part != Part::outgoing && of.part != Part::param_grad)
    return "the chain rule explains an outgoing residual or a parameter gradient";
  const Tensor<T>* target = tensor_of<T>(tape, k, nullptr, of);
  if (!target) return "the op has no such tensor";
  if (of.part == Part::outgoing && tape.value(op.in[of.slot]).integer) return "ids, whole numbers: nothing to differentiate";
  if (target->empty()) return of.part == Part::param_grad ? "frozen: no gradient computed" : "no gradient needed here";
  if (index < 0 || index >= target->size()) return "no such entry";
  if (tape.value(op.out).grad.empty()) return "no incoming residual: nothing trainable upstream";
  return "";
}

// The sum over every term the op named, its round-off, the entries that took part; the largest
// terms kept for the words.
template <class T>
void add_up(ChainRule& r, std::vector<ChainTerm> terms, int max_terms) {
  double s = 0, a = 0;
  for (const ChainTerm& t : terms) {
    s += t.product();
    a += std::fabs(t.product());
  }
  r.sum = r.scale * s;
  // Round-off of the engine's own sum (in T) against this one (in double).
  r.tolerance = (std::is_same_v<T, float> ? 1e-4 : 1e-9) * std::fabs(r.scale) * a + 1e-30;
  r.n_terms = static_cast<int64_t>(terms.size());
  ChainMark inc{{Part::incoming, 0}, {}}, loc{r.local_tensor, {}};
  for (const ChainTerm& t : terms) {
    if (t.incoming_index >= 0 && inc.entries.size() < 65536) inc.entries.push_back(t.incoming_index);
    if (t.local_index >= 0 && loc.entries.size() < 65536) loc.entries.push_back(t.local_index);
  }
  r.marks.push_back({r.of, {r.index}});
  if (!inc.entries.empty()) r.marks.push_back(std::move(inc));
  if (!loc.entries.empty()) r.marks.push_back(std::move(loc));
  const size_t keep = std::min<size_t>(terms.size(), static_cast<size_t>(std::max(max_terms, 1)));
  std::partial_sort(terms.begin(), terms.begin() + static_cast<std::ptrdiff_t>(keep), terms.end(),
                    [](const ChainTerm& a, const ChainTerm& b) { return std::fabs(a.product()) > std::fabs(b.product()); });
  terms.resize(keep);
  r.terms = std::move(terms);
}

}  // namespace

template <class T>
ChainRule explain_entry(const Tape<T>& tape, int k, TensorId of, int64_t index, int max_terms) {
  ChainRule r;
  r.of = of;
  r.index = index;
  r.why_not = refusal(tape, k, of, index);
  if (!r.why_not.empty()) return r;
  const Op<T>& op = tape.op(k);
  const Tensor<T>& target = *tensor_of<T>(tape, k, nullptr, of);
  r.stored = static_cast<double>(target[index]);
  r.entry = multi_index_str(target.shape, index);
  // The op type's own part (its header under core/src/ops/): which factors, which incoming
  // entries, in words.
  ops::ChainCtx<T> c{tape, k, op, of.part == Part::outgoing, of.slot, index, tape.value(op.out).grad, r};
  if (!ops::visit(op.type, [&](auto impl) { return ops::op_explain<decltype(impl)>(c); })) {
    r.why_not = std::string("the op type ") + info(op.type).name + " has no chain-rule explanation yet";
    return r;
  }
  add_up<T>(r, std::move(c.terms), max_terms);
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
  // Ops whose output entry sits where its input entries sit (an entrywise map, or one per row),
  // and the local-derivative items laid out like the input: the op type says (its `aligned`).
  const ops::Aligned al = ops::visit(op.type, [&](auto impl) {
    return ops::op_aligned<decltype(impl)>(static_cast<int>(ld.items.size()));
  });
  const bool aligned = al.values;
  const std::vector<int>& aligned_items = al.local;
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
  // An op whose operands may be parameters (Op::args) lines them up like its values.
  const bool params_aligned = aligned && !op.args.empty();
  for (size_t j = 0; j < op.par.size(); ++j) {
    const std::vector<TensorId> p = {{Part::param, static_cast<int>(j)}, {Part::param_grad, static_cast<int>(j)}};
    if (params_aligned)
      value_side.insert(value_side.end(), p.begin(), p.end());
    else
      groups.push_back(p);
  }
  groups.push_back(value_side);
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
