#pragma once
// What the model predicts (no ImGui, no GL): at each position (GPT-2) or example (a classifier
// lesson), the most probable next tokens or classes with their probabilities, read from the
// stored log-probabilities of the log-softmax that feeds the loss; the target's probability and
// rank; and the loss as the mean of −log P(target), which is the tape's own loss.
#include <cstdint>
#include <string>
#include <vector>

#include "gradscope/tape.h"

namespace gs::app {

struct Candidate {
  int32_t id = 0;  // token or class id
  double p = 0;    // its probability
};

struct RowPrediction {
  int64_t row = 0;         // row of the log-probabilities (b·T + t for GPT-2)
  int64_t batch = 0, pos = 0;  // GPT-2: batch row and position; a classifier: 0 and the example
  int32_t input = -1;      // GPT-2: the token read at this position (-1 for a classifier)
  int32_t target = -1;     // the right answer
  double p_target = 0;
  int target_rank = 0;     // 1: the model's first choice
  double nll = 0;          // −log P(target)
  std::vector<Candidate> top;  // the k most probable, most probable first (ties: smaller id first)
};

struct Predictions {
  bool ok = false;
  std::string why_not;     // when !ok: "this program has no log-softmax before its loss"
  int log_softmax_op = -1, nll_op = -1;
  int64_t classes = 0;     // V or K
  bool tokens = false;     // the ids are tokens of a text (GPT-2), else class numbers
  std::vector<RowPrediction> rows;
  double mean_nll = 0;     // mean over the rows of −log P(target): the loss
};

// The predictions of the model on the tape, with the k most probable answers per row.
template <class T>
Predictions predictions(const Tape<T>& tape, int k = 5);

}  // namespace gs::app
