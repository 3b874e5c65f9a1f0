// The graph view's layout without a screen (graph_layout.h): one box per op in execution
// order, the residual stream down the spine, q/k/v on one row, parameters beside their op,
// the tied wte joined to its second use, ⊕ where shares add up, nothing overlapping.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "graph_layout.h"
#include "gradscope/session.h"

namespace gs::app {
namespace {

GraphInput graph_of(const ModelSpec& spec) {
  Session<double> s(spec);
  return describe_graph(*s.tape);
}

ModelSpec tiny_spec() {
  ModelSpec s;
  s.preset = "tiny";
  s.dtype = "f64";
  s.text = "the model reads the text";
  s.seq = 8;
  return s;
}

bool overlap(const Box& a, const Box& b) {
  return a.x < b.right() && b.x < a.right() && a.y < b.bottom() && b.y < a.bottom();
}

int op_named(const GraphInput& g, const std::string& name) {
  for (size_t k = 0; k < g.ops.size(); ++k)
    if (g.ops[k].name == name) return static_cast<int>(k);
  return -1;
}

void expect_no_overlaps(const GraphLayout& L) {
  std::vector<Box> boxes;
  for (const GraphNode& n : L.nodes) boxes.push_back(n.box);
  for (const GraphParamNode& p : L.params) boxes.push_back(p.box);
  for (size_t i = 0; i < boxes.size(); ++i)
    for (size_t j = i + 1; j < boxes.size(); ++j) EXPECT_FALSE(overlap(boxes[i], boxes[j])) << i << " and " << j;
}

TEST(graph_layout, tiny_ops_run_top_to_bottom_on_a_spine) {
  const GraphInput g = graph_of(tiny_spec());
  const GraphLayout L = layout_graph(g);
  ASSERT_EQ(L.nodes.size(), g.ops.size());
  for (size_t k = 0; k < L.nodes.size(); ++k) {
    EXPECT_EQ(L.nodes[k].op, static_cast<int>(k));
    if (k > 0) {
      EXPECT_GE(L.nodes[k].box.y, L.nodes[k - 1].box.y) << g.ops[k].name;  // execution order, downwards
    }
    const bool spine = g.ops[k].layer < 0 || g.ops[k].type == OpType::residual_add;
    EXPECT_EQ(L.nodes[k].spine, spine) << g.ops[k].name;
    if (spine) {
      EXPECT_EQ(L.nodes[k].col, 0) << g.ops[k].name;
    } else {
      EXPECT_GE(L.nodes[k].col, 1) << g.ops[k].name;
    }
  }
  // q, k and v share a row, side by side.
  const int q = op_named(g, "h.0.attn.q"), kk = op_named(g, "h.0.attn.k"), v = op_named(g, "h.0.attn.v");
  ASSERT_GE(q, 0);
  EXPECT_EQ(L.nodes[q].row, L.nodes[kk].row);
  EXPECT_EQ(L.nodes[kk].row, L.nodes[v].row);
  EXPECT_EQ(L.nodes[kk].col, L.nodes[q].col + 1);
  EXPECT_EQ(L.nodes[v].col, L.nodes[kk].col + 1);
  expect_no_overlaps(L);
  EXPECT_GT(L.width, 0);
  EXPECT_GT(L.height, L.nodes.back().box.bottom());
}

TEST(graph_layout, residual_adds_get_a_skip_edge_down_the_spine) {
  const GraphInput g = graph_of(tiny_spec());
  const GraphLayout L = layout_graph(g);
  int skips = 0;
  for (const GraphEdge& e : L.edges) {
    if (e.kind != EdgeKind::skip) continue;
    ++skips;
    EXPECT_EQ(g.ops[e.to_op].type, OpType::residual_add);
    EXPECT_TRUE(L.nodes[e.from_op].spine);
    EXPECT_FLOAT_EQ(e.from.x, e.to.x);  // a straight line down the spine
  }
  EXPECT_EQ(skips, 2 * 2);  // two residual adds per block, two blocks
  // Every value edge goes from its producer down to a user, and every input with a producer has one.
  size_t data_edges = 0;
  for (const GraphEdge& e : L.edges) {
    if (e.kind != EdgeKind::data && e.kind != EdgeKind::skip) continue;
    ++data_edges;
    EXPECT_LT(e.from.y, e.to.y);
    EXPECT_EQ(g.values[e.value].producer, e.from_op);
    EXPECT_EQ(g.ops[e.to_op].in[e.slot], e.value);
  }
  size_t inputs = 0;
  for (const GraphOp& op : g.ops)
    for (int v : op.in) inputs += g.values[v].producer >= 0;
  EXPECT_EQ(data_edges, inputs);
}

TEST(graph_layout, shares_are_marked_where_they_add_up) {
  const GraphInput g = graph_of(tiny_spec());
  const GraphLayout L = layout_graph(g);
  std::set<std::string> values, params;
  for (const SumMark& s : L.sums) {
    EXPECT_GE(s.shares.size(), 2u);
    if (s.value >= 0) values.insert(g.ops[g.values[s.value].producer].name);
    if (s.param >= 0) params.insert(g.params[s.param].name);
  }
  // The residual stream before each block's two adds, qkv read by q, k and v, the tied wte.
  EXPECT_TRUE(values.count("wpe"));
  EXPECT_TRUE(values.count("h.0.res_1"));
  EXPECT_TRUE(values.count("h.1.res_2") == 0);  // used once, by ln_f
  EXPECT_TRUE(values.count("h.0.attn.c_attn"));
  EXPECT_EQ(params, std::set<std::string>{"wte.weight"});
  // wte has a second node at lm_head, joined by a tie edge.
  const int lm = op_named(g, "lm_head");
  int alias = -1;
  for (size_t i = 0; i < L.params.size(); ++i)
    if (L.params[i].alias) {
      EXPECT_EQ(alias, -1);
      alias = static_cast<int>(i);
    }
  ASSERT_GE(alias, 0);
  EXPECT_EQ(L.params[alias].op, lm);
  EXPECT_EQ(L.params[alias].label, "wte");
  EXPECT_TRUE(std::any_of(L.edges.begin(), L.edges.end(),
                          [&](const GraphEdge& e) { return e.kind == EdgeKind::tie && e.param_node == alias; }));
}

TEST(graph_layout, groups_and_hit_tests) {
  const GraphInput g = graph_of(tiny_spec());
  const GraphLayout L = layout_graph(g);
  ASSERT_EQ(L.groups.size(), 4u);
  EXPECT_EQ(L.groups[0].title, "embeddings");
  EXPECT_EQ(L.groups[1].title, "block 0");
  EXPECT_EQ(L.groups[2].title, "block 1");
  EXPECT_EQ(L.groups[3].title, "head and loss");
  EXPECT_EQ(L.groups.back().last_op, static_cast<int>(g.ops.size()));
  for (const GraphNode& n : L.nodes) EXPECT_EQ(L.node_at(n.box.cx(), n.box.cy()), n.op);
  for (size_t i = 0; i < L.params.size(); ++i)
    EXPECT_EQ(L.param_at(L.params[i].box.cx(), L.params[i].box.cy()), static_cast<int>(i));
  EXPECT_EQ(L.node_at(-100, -100), -1);
}

TEST(graph_layout, lora_ops_sit_beside_their_linear) {
  ModelSpec s = tiny_spec();
  s.lora_rank = 2;
  s.lora_targets = "attn.c_attn,mlp.c_proj";
  const GraphInput g = graph_of(s);
  const GraphLayout L = layout_graph(g);
  int downs = 0;
  for (size_t k = 0; k < g.ops.size(); ++k)
    if (g.ops[k].type == OpType::lora_down) {
      ++downs;
      EXPECT_EQ(L.nodes[k].col, 2) << g.ops[k].name;
    }
  EXPECT_EQ(downs, 4);
  expect_no_overlaps(L);
}

TEST(graph_layout, a_larger_model_stays_in_four_columns) {
  ModelSpec s;
  s.preset = "small";
  s.seq = 16;
  const GraphInput g = graph_of(s);
  const GraphLayout L = layout_graph(g);
  EXPECT_EQ(L.groups.size(), 4u + 2u);
  for (const GraphNode& n : L.nodes) EXPECT_LE(n.col, 3);
  EXPECT_LT(L.width, 4 * GraphLayout::kColPitch + 12);  // the width does not grow with depth
  expect_no_overlaps(L);
}

TEST(graph_layout, labels_and_groups_come_from_the_recording) {
  const GraphInput g = graph_of(tiny_spec());
  const GraphLayout L = layout_graph(g);
  EXPECT_EQ(L.nodes[op_named(g, "h.1.attn.softmax")].label, "attn.softmax");
  EXPECT_EQ(L.nodes[op_named(g, "lm_head")].label, "lm_head");
  std::set<std::string> labels;
  for (const GraphParamNode& p : L.params) labels.insert(p.label);
  EXPECT_EQ(labels, (std::set<std::string>{"wte", "wpe", "γ", "β", "W", "b"}));
  std::vector<std::string> titles;
  for (const GraphGroup& gr : L.groups) titles.push_back(gr.title);
  EXPECT_EQ(titles, (std::vector<std::string>{"embeddings", "block 0", "block 1", "head and loss"}));
}

// A lesson model: its own groups; the branch of `branch` (layer 2) leaves the spine and the skip
// joins it again at y5.
TEST(graph_layout, a_lesson_program_has_its_own_groups_and_branch) {
  ModelSpec s;
  s.program = "branch";
  const GraphInput g = graph_of(s);
  const GraphLayout L = layout_graph(g);
  std::vector<std::string> titles;
  for (const GraphGroup& gr : L.groups) titles.push_back(gr.title);
  EXPECT_EQ(titles, (std::vector<std::string>{"layer 1", "layer 2", "skip", "loss"}));
  for (const char* on : {"y1", "y2", "y5", "y6", "L"}) EXPECT_TRUE(L.nodes[op_named(g, on)].spine) << on;
  for (const char* off : {"y3", "y4"}) EXPECT_FALSE(L.nodes[op_named(g, off)].spine) << off;
  EXPECT_TRUE(std::any_of(L.sums.begin(), L.sums.end(), [&](const SumMark& m) {
    return m.value >= 0 && g.values[m.value].producer == op_named(g, "y2");  // y2 used twice: ⊕
  }));
  expect_no_overlaps(L);
  // The attention lesson: q, k and v read X side by side.
  s.program = "attention";
  const GraphInput a = graph_of(s);
  const GraphLayout La = layout_graph(a);
  EXPECT_EQ(La.nodes[op_named(a, "q")].row, La.nodes[op_named(a, "v")].row);
  expect_no_overlaps(La);
}

// A model of one's own, as micrograd draws it: every leaf a node beside the op that reads it —
// parameters (w0, w1, w2) and data (x0, x1) alike — and a leaf read twice joined to its first node.
TEST(graph_layout, a_typed_model_draws_every_leaf) {
  ModelSpec s;
  s.program = "custom";
  s.model_text = "z = w0*x0 + w1*x1 + w2\nf = z * x0";
  s.sets = {"w0=2", "w1=-3", "w2=-3", "x0=-1", "x1=-2"};
  s.inputs = "x0,x1";
  const GraphInput g = graph_of(s);
  const GraphLayout L = layout_graph(g);
  std::multiset<std::string> params, data;
  for (const GraphParamNode& p : L.params) {
    if (p.value >= 0) {
      EXPECT_EQ(p.param, -1);
      EXPECT_TRUE(g.values[p.value].data_leaf);
      data.insert(p.label);
      EXPECT_EQ(g.ops[p.op].in[p.slot], p.value);
      EXPECT_TRUE(std::any_of(L.edges.begin(), L.edges.end(), [&](const GraphEdge& e) {
        return e.kind == EdgeKind::leaf && e.to_op == p.op && e.slot == p.slot && e.value == p.value;
      }));
    } else {
      params.insert(p.label);
    }
  }
  EXPECT_EQ(params, (std::multiset<std::string>{"w0", "w1", "w2"}));
  EXPECT_EQ(data, (std::multiset<std::string>{"x0", "x0", "x1"}));
  // x0 is read twice: its second node is an alias, tied to the first, and its gradient a ⊕.
  int aliases = 0;
  for (const GraphParamNode& p : L.params) aliases += p.alias;
  EXPECT_EQ(aliases, 1);
  EXPECT_TRUE(std::any_of(L.sums.begin(), L.sums.end(), [&](const SumMark& m) {
    return m.value >= 0 && g.values[m.value].producer < 0 && g.values[m.value].name == "x0" && m.shares.size() == 2;
  }));
  expect_no_overlaps(L);
}

// GPT-2's inputs are ids, not numbers: no data leaf nodes.
TEST(graph_layout, ids_are_no_data_leaves) {
  const GraphLayout L = layout_graph(graph_of(tiny_spec()));
  for (const GraphParamNode& p : L.params) EXPECT_EQ(p.value, -1);
}

}  // namespace
}  // namespace gs::app
