#include "predictions.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace gs::app {

template <class T>
Predictions predictions(const Tape<T>& tape, int k) {
  Predictions out;
  // The loss reads a log-softmax: nll(ℓ, targets).
  for (int i = tape.size() - 1; i >= 0 && out.nll_op < 0; --i) {
    const Op<T>& op = tape.op(i);
    if (op.type != OpType::nll || op.in.size() != 2) continue;
    const int producer = tape.value(op.in[0]).producer;
    if (producer >= 0 && tape.op(producer).type == OpType::log_softmax) {
      out.nll_op = i;
      out.log_softmax_op = producer;
    }
  }
  if (out.nll_op < 0) {
    out.why_not = "this program's loss does not read probabilities (no log-softmax before it)";
    return out;
  }
  const Tensor<T>& l = tape.value(tape.op(out.log_softmax_op).out).data;  // (…, V) log-probabilities
  const Tensor<T>& y = tape.value(tape.op(out.nll_op).in[1]).data;        // target ids, one per row
  const int64_t V = l.dim(-1), M = l.size() / std::max<int64_t>(V, 1);
  if (V <= 0 || y.size() != M) {
    out.why_not = "the targets do not match the rows of the log-probabilities";
    return out;
  }
  out.classes = V;
  const Batch& b = tape.batch();
  out.tokens = b.T > 0 && static_cast<int64_t>(b.B) * b.T == M;
  const int kk = static_cast<int>(std::min<int64_t>(std::max(k, 1), V));
  std::vector<int32_t> order(static_cast<size_t>(V));
  double total = 0;
  for (int64_t m = 0; m < M; ++m) {
    const T* row = l.data + m * V;
    RowPrediction r;
    r.row = m;
    if (out.tokens) {
      r.batch = m / b.T;
      r.pos = m % b.T;
      r.input = b.x[static_cast<size_t>(m)];
    } else {
      r.pos = m;
    }
    r.target = static_cast<int32_t>(y[m]);
    if (r.target < 0 || r.target >= V) {
      out.why_not = "a target id is outside the " + std::to_string(V) + " classes";
      return out;
    }
    const double lt = static_cast<double>(row[r.target]);
    r.p_target = std::exp(lt);
    r.nll = -lt;
    // Rank: 1 + the answers strictly more probable than the target (ties count for the target).
    int rank = 1;
    for (int64_t v = 0; v < V; ++v) rank += row[v] > row[r.target];
    r.target_rank = rank;
    std::iota(order.begin(), order.end(), 0);
    auto better = [&](int32_t a, int32_t c) { return row[a] > row[c] || (row[a] == row[c] && a < c); };
    std::partial_sort(order.begin(), order.begin() + kk, order.end(), better);
    for (int i = 0; i < kk; ++i) r.top.push_back({order[i], std::exp(static_cast<double>(row[order[i]]))});
    total += r.nll;
    out.rows.push_back(std::move(r));
  }
  out.mean_nll = M > 0 ? total / static_cast<double>(M) : 0;
  out.ok = true;
  return out;
}

template Predictions predictions<float>(const Tape<float>&, int);
template Predictions predictions<double>(const Tape<double>&, int);

}  // namespace gs::app
