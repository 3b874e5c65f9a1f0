#include "graph_layout.h"

#include <algorithm>
#include <map>

namespace gs::app {

template <class T>
GraphInput describe_graph(const Tape<T>& tape) {
  GraphInput g;
  for (const auto& op : tape.ops())
    g.ops.push_back({op.name, op.short_name, op.group, op.type, op.layer, op.in, op.par, op.out});
  for (const auto& v : tape.values())
    g.values.push_back({v.producer, v.uses, v.producer < 0 && !v.integer, v.name, v.data.size() == 1});
  for (const auto& p : tape.model().params())
    g.params.push_back({p.name, p.label.empty() ? p.name : p.label, p.data.size() == 1});
  return g;
}
template GraphInput describe_graph(const Tape<float>&);
template GraphInput describe_graph(const Tape<double>&);

std::vector<bool> spine_ops(const GraphInput& g) {
  const int n = static_cast<int>(g.ops.size());
  std::vector<bool> spine(n, true);
  auto producer = [&](int v) { return v >= 0 && v < static_cast<int>(g.values.size()) ? g.values[v].producer : -1; };
  for (int r = 0; r < n; ++r) {
    const GraphOp& add = g.ops[r];
    if (add.type != OpType::residual_add || add.in.size() != 2) continue;
    // The stream is the input made earlier; the branch leads from it to the other input.
    const int p0 = producer(add.in[0]), p1 = producer(add.in[1]);
    const int stream = p0 <= p1 ? add.in[0] : add.in[1];
    const int branch_out = p0 <= p1 ? add.in[1] : add.in[0];
    const int start = producer(stream);
    // Ancestors of the branch's output that come after the stream's producer …
    std::vector<bool> up(n, false);
    const int bp = producer(branch_out);
    if (bp < 0) continue;
    up[bp] = true;
    for (int k = bp; k > start; --k) {
      if (!up[k]) continue;
      for (int v : g.ops[k].in)
        if (const int q = producer(v); q > start) up[q] = true;
    }
    // … and descendants of the stream: the branch.
    std::vector<bool> down(n, false);
    for (int k = start + 1; k < r; ++k) {
      bool reads = false;
      for (int v : g.ops[k].in) reads = reads || v == stream || (producer(v) > start && down[producer(v)]);
      down[k] = reads;
      if (up[k] && down[k]) spine[k] = false;
    }
  }
  return spine;
}

int GraphLayout::node_at(float x, float y) const {
  for (const GraphNode& n : nodes)
    if (n.box.contains(x, y)) return n.op;
  return -1;
}

int GraphLayout::param_at(float x, float y) const {
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].box.contains(x, y)) return static_cast<int>(i);
  return -1;
}

namespace {

// Whether the vertical segment x, y0 … y1 crosses any op box or parameter node.
bool column_free(const GraphLayout& L, float x, float y0, float y1) {
  for (const GraphNode& n : L.nodes)
    if (x >= n.box.x - 0.2f && x <= n.box.right() + 0.2f && n.box.bottom() > y0 && n.box.y < y1) return false;
  for (const GraphParamNode& p : L.params)
    if (x >= p.box.x - 0.2f && x <= p.box.right() + 0.2f && p.box.bottom() > y0 && p.box.y < y1) return false;
  return true;
}

// A leaf's node beside an op, its left edge at x, centred on the op's row: small for a tensor;
// for one number as tall as an op's box, with room for the number and its gradient.
Box leaf_box(float x, float cy, bool one) {
  const float w = one ? GraphLayout::kNumberW : GraphLayout::kParamW, h = one ? GraphLayout::kBoxH : GraphLayout::kParamH;
  return {x, cy - h * 0.5f, w, h};
}

}  // namespace

GraphLayout layout_graph(const GraphInput& g) {
  GraphLayout L;
  const int n = static_cast<int>(g.ops.size());
  L.nodes.resize(n);

  // [SECTION] rows and columns
  std::vector<float> row_y;
  int row = -1;
  float y = 0;
  const std::vector<bool> spine = spine_ops(g);
  for (int k = 0; k < n; ++k) {
    const GraphOp& op = g.ops[k];
    GraphNode& node = L.nodes[k];
    node.op = k;
    node.label = op.short_name.empty() ? op.name : op.short_name;
    node.spine = spine[k];
    // Ops of one type reading the same inputs side by side (q, k and v).
    const bool same_row =
        k > 0 && op.type == g.ops[k - 1].type && op.in == g.ops[k - 1].in && op.group == g.ops[k - 1].group;
    if (same_row) {
      node.row = row;
      node.col = L.nodes[k - 1].col + 1;
    } else {
      if (k == 0 || op.group != g.ops[k - 1].group) {
        if (row >= 0) y += GraphLayout::kGroupGap;
        // A new group, as the program recorded it: embeddings, one per block, the head …
        GraphGroup gr;
        gr.layer = op.layer;
        gr.first_op = k;
        gr.title = op.group;
        gr.y0 = y;
        y += op.group.empty() ? 0.2f : 1.2f;  // room for the group's title
        L.groups.push_back(gr);
      }
      ++row;
      row_y.push_back(y);
      y += GraphLayout::kRowPitch;
      node.row = row;
      node.col = node.spine ? 0 : op.type == OpType::lora_down ? 2 : 1;
    }
    node.box = {node.col * GraphLayout::kColPitch, row_y[node.row], GraphLayout::kBoxW, GraphLayout::kBoxH};
    L.groups.back().last_op = k + 1;
  }
  L.rows = row + 1;
  for (GraphGroup& gr : L.groups) {
    float bottom = gr.y0;
    for (int k = gr.first_op; k < gr.last_op; ++k) bottom = std::max(bottom, L.nodes[k].box.bottom());
    gr.y1 = bottom + 0.5f;
  }

  // [SECTION] parameter nodes, right of their op (or of the last op of a shared row); data
  // leaves the same way, before them
  std::vector<float> row_right(L.rows, 0.0f);
  for (const GraphNode& nd : L.nodes) row_right[nd.row] = std::max(row_right[nd.row], nd.box.right());
  std::map<int, int> first_node;  // parameter id → its first node
  std::map<int, int> first_leaf;  // value id → its first node
  for (int k = 0; k < n; ++k) {
    const GraphOp& op = g.ops[k];
    const GraphNode& nd = L.nodes[k];
    for (size_t i = 0; i < op.in.size(); ++i) {
      const int v = op.in[i];
      if (v < 0 || v >= static_cast<int>(g.values.size()) || !g.values[v].data_leaf) continue;
      GraphParamNode p;
      p.value = v;
      p.op = k;
      p.slot = static_cast<int>(i);
      p.label = g.values[v].name;
      p.box = leaf_box(row_right[nd.row] + GraphLayout::kParamGap, nd.box.cy(), g.values[v].one);
      row_right[nd.row] = p.box.right();
      p.alias = first_leaf.count(v) > 0;
      if (!p.alias) first_leaf[v] = static_cast<int>(L.params.size());
      L.params.push_back(p);
    }
    for (size_t j = 0; j < op.par.size(); ++j) {
      GraphParamNode p;
      p.param = op.par[j];
      p.op = k;
      p.slot = static_cast<int>(j);
      const bool known = p.param < static_cast<int>(g.params.size());
      p.label = known ? g.params[p.param].label : "?";
      p.box = leaf_box(row_right[nd.row] + GraphLayout::kParamGap, nd.box.cy(), known && g.params[p.param].one);
      row_right[nd.row] = p.box.right();
      auto it = first_node.find(p.param);
      p.alias = it != first_node.end();
      if (!p.alias) first_node[p.param] = static_cast<int>(L.params.size());
      L.params.push_back(p);
    }
  }
  float right = 0;
  for (const GraphNode& nd : L.nodes) right = std::max(right, nd.box.right());
  for (const GraphParamNode& p : L.params) right = std::max(right, p.box.right());
  const float tie_x = right + 1.0f;

  // [SECTION] edges
  for (int k = 0; k < n; ++k) {
    const GraphOp& op = g.ops[k];
    const Box& to = L.nodes[k].box;
    const int nin = static_cast<int>(op.in.size());
    for (int i = 0; i < nin; ++i) {
      const int v = op.in[i];
      if (v < 0 || v >= static_cast<int>(g.values.size())) continue;
      const int p = g.values[v].producer;
      if (p < 0 || p >= n) continue;
      GraphEdge e;
      e.from_op = p;
      e.to_op = k;
      e.slot = i;
      e.value = v;
      const GraphNode& src = L.nodes[p];
      e.kind = src.spine && L.nodes[k].spine && L.nodes[k].row - src.row > 1 ? EdgeKind::skip : EdgeKind::data;
      // Ports: the spine enters a residual add at its centre, the branch at its right; other
      // ops with two inputs take them at a third and two thirds.
      float fx = 0.5f;
      if (op.type == OpType::residual_add) fx = src.spine ? 0.5f : 0.8f;
      else if (nin == 2) fx = i == 0 ? 0.35f : 0.65f;
      e.from = {src.box.cx(), src.box.bottom()};
      e.to = {to.x + to.w * fx, to.y};
      // Run straight down whichever column is clear, and curve at the other end.
      e.bend = e.from;
      if (e.from.x != e.to.x && e.to.y - e.from.y > GraphLayout::kRowPitch) {
        const float y_near_to = e.to.y - (GraphLayout::kRowPitch - GraphLayout::kBoxH);
        const float y_near_from = e.from.y + (GraphLayout::kRowPitch - GraphLayout::kBoxH);
        if (column_free(L, e.from.x, e.from.y + 0.05f, y_near_to)) {
          e.bend = {e.from.x, y_near_to};
        } else if (column_free(L, e.to.x, y_near_from, e.to.y - 0.05f)) {
          e.bend = e.from;
          e.mid = {{e.to.x, y_near_from}};  // curve first, then straight down to `to`
        }
      }
      L.edges.push_back(e);
    }
  }
  for (size_t i = 0; i < L.params.size(); ++i) {
    const GraphParamNode& p = L.params[i];
    const Box& to = L.nodes[p.op].box;
    GraphEdge e;
    e.kind = p.value >= 0 ? EdgeKind::leaf : EdgeKind::param;
    e.value = p.value;
    e.to_op = p.op;
    e.slot = p.slot;
    e.param_node = static_cast<int>(i);
    e.from = {p.box.x, p.box.cy()};
    e.to = {to.right(), to.cy()};
    e.bend = e.from;
    // Past other parameter nodes of the same row: down, then along under them (the tallest).
    if (p.box.x - to.right() > GraphLayout::kParamGap * 1.5f) {
      float below = p.box.bottom();
      for (const GraphParamNode& q : L.params)
        if (q.op >= 0 && L.nodes[q.op].row == L.nodes[p.op].row) below = std::max(below, q.box.bottom());
      const float yb = below + 0.3f;
      e.from = {p.box.cx(), p.box.bottom()};
      e.mid = {{p.box.cx(), yb}};
      e.to = {to.right(), yb};
      // Under a node as tall as the op: back up in the gap beside the op, then into its side.
      const float side = to.bottom() - 0.35f;
      if (yb > side) {
        const float gx = to.right() + GraphLayout::kParamGap * 0.5f;
        e.mid.push_back({gx, yb});
        e.mid.push_back({gx, side});
        e.to = {to.right(), side};
      }
    }
    L.edges.push_back(e);
    if (p.alias) {
      const GraphParamNode& first = L.params[p.value >= 0 ? first_leaf[p.value] : first_node[p.param]];
      GraphEdge t;
      t.kind = EdgeKind::tie;
      t.to_op = p.op;
      t.slot = p.slot;
      t.param_node = static_cast<int>(i);
      t.from = {first.box.right(), first.box.cy()};
      t.mid = {{tie_x, first.box.cy()}, {tie_x, p.box.cy()}};
      t.to = {p.box.right(), p.box.cy()};
      t.bend = t.from;
      L.edges.push_back(t);
    }
  }

  // [SECTION] ⊕ where shares add up
  for (int v = 0; v < static_cast<int>(g.values.size()); ++v) {
    const GraphValue& val = g.values[v];
    if (val.uses.size() < 2 || val.producer < 0 || val.producer >= n) continue;
    SumMark s;
    s.value = v;
    const Box& b = L.nodes[val.producer].box;
    s.at = {b.cx(), b.bottom() + 0.45f};
    s.shares = val.uses;
    L.sums.push_back(s);
  }
  for (const auto& [param, idx] : first_node) {
    SumMark s;
    s.param = param;
    for (const GraphParamNode& p : L.params)
      if (p.param == param) s.shares.push_back({p.op, p.slot});
    if (s.shares.size() < 2) continue;
    const Box& b = L.params[idx].box;
    s.at = {b.right() + 0.45f, b.y - 0.1f};
    L.sums.push_back(s);
  }

  for (const auto& [value, idx] : first_leaf) {
    if (g.values[value].uses.size() < 2) continue;
    SumMark s;
    s.value = value;
    s.shares = g.values[value].uses;
    const Box& b = L.params[idx].box;
    s.at = {b.right() + 0.45f, b.y - 0.1f};
    L.sums.push_back(s);
  }

  L.width = tie_x + 1.0f;
  L.height = L.groups.empty() ? 0 : L.groups.back().y1 + 0.5f;
  return L;
}

}  // namespace gs::app
