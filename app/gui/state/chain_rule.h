#pragma once
// The app's side of the chain rule of one entry (gradscope/chain_rule.h holds the rule itself,
// each op type's part in its own header under core/src/ops/): the keys the views hover by, and
// the words the inspector writes beside an entry.
#include <string>

#include "gradscope/chain_rule.h"

namespace gs::app {

// The chain rule's types live in gs (core); the app's code names them as before.
using gs::ChainMark;
using gs::ChainRule;
using gs::ChainTerm;
using gs::Part;
using gs::TensorId;

// "in0", "par1", "out", "incoming", "din0", "dpar1", "ld2": a key the views hover by.
std::string tensor_key(TensorId id);
bool parse_tensor_key(const std::string& key, TensorId& id);

// The arithmetic in one or two lines: "g′(u) 0.731 × incoming 0.120 = 0.0877", or
// "Σ over n (48 terms) of W[5,n]·∂L/∂Y[3,n] = 0.0123; largest: 0.21×0.050 (n 7) + …".
std::string arithmetic(const ChainRule& r);
// One line on whether the sum is the stored entry: "= the stored entry ✓" or the difference.
std::string agreement(const ChainRule& r);

}  // namespace gs::app
