#pragma once
// The computation graph as the graph view draws it (no ImGui, no GL): one box per op, top to
// bottom in execution order, grouped per block. The residual stream runs down the left column
// (the spine: embeddings, residual adds, the head), so a skip connection is a straight line
// down the spine while the block's branch leaves it to the right and comes back. q, k and v
// share one row; parameters are small nodes right of the op that uses them; a parameter used
// twice (the tied wte) has a second node at its other user, joined to the first by a tie
// line along the right edge. Data given as numbers (a lesson's x and t, the inputs of a model of
// one's own) are leaf nodes beside their op in the same way, so a small model reads as micrograd
// draws it: every leaf and every op a node. Where a gradient is the sum of several shares (a
// value or a parameter with more than one use) there is a ⊕ mark.
//
// Units are "em" (the UI font's size): the view multiplies by font size and zoom.
#include <string>
#include <vector>

#include "gradscope/ops.h"
#include "gradscope/tape.h"

namespace gs::app {

// [SECTION] what the layout reads: the tape's structure, nothing else

struct GraphOp {
  std::string name;
  std::string short_name;  // the name inside its group ("attn.c_attn")
  std::string group;       // the scope it was recorded in ("block 0")
  OpType type = OpType::embedding;
  int layer = -1;
  std::vector<int> in;   // value ids
  std::vector<int> par;  // parameter ids
  int out = -1;
};

struct GraphValue {
  int producer = -1;
  std::vector<Use> uses;
  // Data given to the program as numbers (not ids): a leaf of the graph, drawn as a node beside
  // each op that reads it, as micrograd draws its leaves.
  bool data_leaf = false;
  std::string name;
  bool one = false;  // one entry: its node is as tall as an op's, with room for its value and gradient
};

struct GraphParam {
  std::string name;   // "h.0.attn.c_attn.weight"
  std::string label;  // its symbol: "W"
  bool one = false;   // one entry (a leaf such as w0): a node with room for its value and gradient
};

struct GraphInput {
  std::vector<GraphOp> ops;
  std::vector<GraphValue> values;
  std::vector<GraphParam> params;  // by parameter id
};

template <class T>
GraphInput describe_graph(const Tape<T>& tape);

// [SECTION] the layout

struct Pt {
  float x = 0, y = 0;
};

struct Box {
  float x = 0, y = 0, w = 0, h = 0;
  float cx() const { return x + w * 0.5f; }
  float cy() const { return y + h * 0.5f; }
  float right() const { return x + w; }
  float bottom() const { return y + h; }
  bool contains(float px, float py) const { return px >= x && px <= x + w && py >= y && py <= y + h; }
};

struct GraphNode {
  int op = -1;
  Box box;
  int row = 0, col = 0;
  bool spine = false;
  std::string label;  // the name inside its group ("attn.c_attn")
};

struct GraphParamNode {
  int param = -1;          // -1 for a data leaf
  int value = -1;          // a data leaf (GraphValue::data_leaf): its value id; slot is then its input slot
  int op = -1, slot = -1;  // the user this node sits beside
  Box box;
  bool alias = false;      // a second node of a parameter drawn at an earlier user
  std::string label;       // W, b, γ, β, wte, wpe, A, B
};

enum class EdgeKind {
  data,   // a value from its producer to a user
  skip,   // the same, along the spine past a branch (the residual connection)
  param,  // a parameter node into its op
  leaf,   // a data leaf's node into its op (slot: the input slot)
  tie,    // a parameter's first node to its second (tied weights)
};

// Drawn as a straight run from `from` to `bend`, then a curve with vertical ends from `bend`
// to `to` (param and tie edges: a polyline through `mid`).
struct GraphEdge {
  EdgeKind kind = EdgeKind::data;
  int from_op = -1;   // producer (data, skip); -1 for param and tie edges
  int to_op = -1;     // user (the op that sends the gradient back along this edge)
  int slot = -1;      // input slot (data, skip) or parameter slot (param) of to_op
  int value = -1;     // data, skip
  int param_node = -1;  // param: the node it leaves; tie: the alias node
  Pt from, bend, to;
  std::vector<Pt> mid;  // param and tie edges
};

// A ⊕: the gradient of a value (or parameter) used more than once is the sum of its shares.
struct SumMark {
  int value = -1;   // or
  int param = -1;
  Pt at;
  std::vector<Use> shares;  // (op, slot) of each user: input slot for values, parameter slot for params
};

struct GraphGroup {
  std::string title;  // the ops' group as recorded: "embeddings", "block 0" …, "head and loss"
  int layer = -1;
  int first_op = 0, last_op = 0;  // ops first … last−1
  float y0 = 0, y1 = 0;
};

struct GraphLayout {
  std::vector<GraphNode> nodes;  // one per op, index = op
  std::vector<GraphParamNode> params;
  std::vector<GraphEdge> edges;
  std::vector<SumMark> sums;
  std::vector<GraphGroup> groups;
  float width = 0, height = 0;
  int rows = 0;

  // Metrics (em).
  static constexpr float kBoxW = 10.0f, kBoxH = 2.3f, kColPitch = 11.6f, kRowPitch = 3.4f;
  static constexpr float kParamW = 3.0f, kParamH = 1.5f, kParamGap = 0.5f, kGroupGap = 1.6f;
  static constexpr float kNumberW = 6.6f;  // a one-entry leaf's node (kBoxH tall): "−0.123 ∂ −0.456"

  int node_at(float x, float y) const;   // op under (x, y) in em, or −1
  int param_at(float x, float y) const;  // index into params, or −1
};

GraphLayout layout_graph(const GraphInput& g);

// Which ops run down the spine: all but those strictly inside a branch, i.e. between a value
// that a residual add reads (the stream) and that add, on the way to its other input.
std::vector<bool> spine_ops(const GraphInput& g);

}  // namespace gs::app
