// Graph view: the computation graph as boxes and edges (graph_layout.h) drawn with ImDrawList.
// Ops run top to bottom; the residual stream is the spine on the left, so every skip
// connection is visible; parameters and data leaves are small nodes beside their op, and a
// one-number value is written on its node with its gradient (as micrograd draws it). The cursor's op is lit;
// in the forward half the edges that have carried a value, in the backward half the edges
// that have carried a gradient so far (Controller::backward_done). A ⊕ marks each value or
// parameter whose gradient is a sum of shares; its tooltip lists them. Wheel scrolls, Ctrl +
// wheel zooms, drag pans, a click on an op goes there.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "format.h"
#include "graph_layout.h"
#include "panel.h"
#include "widgets.h"

namespace gs::app {

namespace {

ImU32 with_alpha(ImU32 col, float a) {
  ImVec4 v = ImGui::ColorConvertU32ToFloat4(col);
  v.w *= a;
  return ImGui::ColorConvertFloat4ToU32(v);
}

// A cubic with vertical ends from a to b, sampled.
void add_curve(std::vector<Pt>& out, Pt a, Pt b) {
  const float dy = (b.y - a.y) * 0.5f;
  const Pt c1{a.x, a.y + dy}, c2{b.x, b.y - dy};
  const int n = 14;
  for (int i = 1; i <= n; ++i) {
    const float t = static_cast<float>(i) / n, u = 1 - t;
    out.push_back({u * u * u * a.x + 3 * u * u * t * c1.x + 3 * u * t * t * c2.x + t * t * t * b.x,
                   u * u * u * a.y + 3 * u * u * t * c1.y + 3 * u * t * t * c2.y + t * t * t * b.y});
  }
}

std::vector<Pt> edge_polyline(const GraphEdge& e) {
  std::vector<Pt> p{e.from};
  if (e.kind == EdgeKind::param || e.kind == EdgeKind::leaf || e.kind == EdgeKind::tie) {
    for (const Pt& m : e.mid) p.push_back(m);
    p.push_back(e.to);
    return p;
  }
  if (!e.mid.empty()) {  // curve first, then straight down
    add_curve(p, e.from, e.mid[0]);
    p.push_back(e.to);
    return p;
  }
  if (e.bend.x != e.from.x || e.bend.y != e.from.y) p.push_back(e.bend);
  if (e.bend.x == e.to.x)
    p.push_back(e.to);
  else
    add_curve(p, e.bend, e.to);
  return p;
}

struct EdgeDraw {
  std::vector<Pt> pts;
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // bounds (em)
};

// A tensor of one entry, as the graph writes it on its node (micrograd's "data | grad").
struct Number {
  bool one = false;        // the tensor has one entry
  double data = 0, grad = 0;
  bool has_grad = false;   // a gradient is computed for it
  template <class Tn>
  static Number of(const Tn& data, const Tn& grad) {
    Number n;
    n.one = !data.empty() && data.size() == 1;
    if (!n.one) return n;
    n.data = static_cast<double>(data[0]);
    n.has_grad = !grad.empty() && grad.size() == 1;  // a gradient not needed has its shape, no buffer
    if (n.has_grad) n.grad = static_cast<double>(grad[0]);
    return n;
  }
};

// What the tape says about each op, refreshed when tensors change.
struct OpFacts {
  std::string type, shape, fwd, bwd;
  std::vector<char> din_needed, dpar_needed;
  Mistake mistake = Mistake::none;
  Number out;  // a one-number output: its value and gradient, written on the node
};

struct ParamFacts {
  std::string name, shape;
  bool trainable = false;
  Number value;  // a one-number parameter (a leaf of a model of one's own): written under its node
};

class GraphPanel final : public Panel {
 public:
  GraphPanel() { open = false; }
  const char* title() const override { return "Graph"; }

  int window_flags() const override { return ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse; }
  void contents(const Controller& c, PanelContext& ctx) override {
    refresh(c);
    toolbar(c, ctx);
    canvas(c, ctx);
  }

 private:
  // [SECTION] data
  void refresh(const Controller& c) {
    if (c.spec_generation() != gen_ || static_cast<int>(layout_.nodes.size()) != c.n_ops()) {
      gen_ = c.spec_generation();
      c.session().visit([&](const auto& s) { layout_ = layout_graph(describe_graph(*s.tape)); });
      edges_.clear();
      for (const GraphEdge& e : layout_.edges) {
        EdgeDraw d;
        d.pts = edge_polyline(e);
        d.x0 = d.x1 = d.pts[0].x;
        d.y0 = d.y1 = d.pts[0].y;
        for (const Pt& p : d.pts) {
          d.x0 = std::min(d.x0, p.x);
          d.x1 = std::max(d.x1, p.x);
          d.y0 = std::min(d.y0, p.y);
          d.y1 = std::max(d.y1, p.y);
        }
        edges_.push_back(std::move(d));
      }
      fit_pending_ = true;
      version_ = ~uint64_t{0};
    }
    if (c.version() == version_) return;
    version_ = c.version();
    ops_.clear();
    params_.clear();
    c.session().visit([&](const auto& s) {
      const auto& tape = *s.tape;
      for (int k = 0; k < tape.size(); ++k) {
        const auto& op = tape.op(k);
        OpFacts f;
        f.type = info(op.type).name;
        f.shape = shape_str(tape.value(op.out).data.shape);
        f.fwd = human(static_cast<double>(op.flops.fwd));
        f.bwd = human(static_cast<double>(op.flops.bwd()));
        for (const auto& d : op.din) f.din_needed.push_back(!d.empty());
        for (const auto& d : op.dpar) f.dpar_needed.push_back(!d.empty());
        f.mistake = op.mistake;
        f.out = Number::of(tape.value(op.out).data, tape.value(op.out).grad);
        ops_.push_back(std::move(f));
      }
      for (const auto& p : tape.model().params())
        params_.push_back({p.name, shape_str(p.data.shape), p.trainable, Number::of(p.data, p.grad)});
      leaves_.assign(tape.values().size(), ParamFacts{});
      for (int id : tape.inputs()) {
        const auto& v = tape.value(id);
        leaves_[id] = {v.name, shape_str(v.data.shape), false, Number::of(v.data, v.grad)};
      }
      names_.clear();
      for (const auto& op : tape.ops()) names_.push_back(op.name);
    });
    share_norms_.clear();
  }

  // ‖share‖ of one use of a value or parameter (cached per version).
  double share_norm(const Controller& c, const SumMark& s, const Use& u) {
    const int64_t key = (static_cast<int64_t>(s.value >= 0 ? s.value : -1 - s.param) << 24) ^
                        (static_cast<int64_t>(u.op) << 6) ^ u.slot;
    auto it = std::find_if(share_norms_.begin(), share_norms_.end(), [&](const auto& p) { return p.first == key; });
    if (it != share_norms_.end()) return it->second;
    const double n = c.session().visit([&](const auto& sess) {
      const auto& op = sess.tape->op(u.op);
      const auto& t = s.value >= 0 ? op.din[u.slot] : op.dpar[u.slot];
      double acc = 0;
      for (int64_t i = 0; i < t.size(); ++i) acc += static_cast<double>(t[i]) * static_cast<double>(t[i]);
      return t.empty() ? -1.0 : std::sqrt(acc);
    });
    share_norms_.push_back({key, n});
    return n;
  }

  // [SECTION] toolbar
  void toolbar(const Controller& c, PanelContext& ctx) {
    if (ImGui::Button("fit")) fit_all_ = true;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("the whole graph in the window");
    ImGui::SameLine();
    if (ImGui::Button("fit width")) fit_width_ = true;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("as wide as the window; scroll for the rest");
    ImGui::SameLine();
    if (ImGui::Button("1:1")) set_zoom_ = 1.0f;
    ImGui::SameLine();
    ImGui::Checkbox("follow", &follow_);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("keep the cursor's op in view");
    ImGui::SameLine();
    ImGui::TextDisabled("%d%%", static_cast<int>(std::lround(zoom_ * 100)));
    ImGui::SameLine();
    help_marker("Wheel: scroll.  Ctrl + wheel: zoom.  Drag: pan.  Click an op: go there.\n"
                "Left column: the residual stream. A straight line down it is a skip connection; "
                "the block's branch leaves it to the right and is added back.\n"
                "⊕: a value (or parameter) used more than once; its gradient is the sum of one share "
                "per use (hover it).");
    // Legend.
    const bool bwd = c.in_backward();
    const float s = ctx.scale;
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    bool first = true;
    // Items of the legend flow onto the next line when the window is narrow.
    auto flow = [&](float w) {
      if (!first && ImGui::GetItemRectMax().x + 14 * s + w < right) ImGui::SameLine(0, 14 * s);
      first = false;
    };
    auto swatch = [&](ImU32 col, const char* what, bool dashed = false) {
      flow(26 * s + ImGui::CalcTextSize(what).x);
      const ImVec2 p = ImGui::GetCursorScreenPos();
      const float h = ImGui::GetTextLineHeight();
      ImGui::Dummy(ImVec2(22 * s, h));
      ImDrawList* dl = ImGui::GetWindowDrawList();
      if (dashed) {
        for (float x = 0; x < 22 * s; x += 8 * s)
          dl->AddLine(ImVec2(p.x + x, p.y + h * 0.5f), ImVec2(p.x + std::min(22 * s, x + 4 * s), p.y + h * 0.5f), col,
                      2 * s);
      } else {
        dl->AddLine(ImVec2(p.x, p.y + h * 0.5f), ImVec2(p.x + 22 * s, p.y + h * 0.5f), col, 3 * s);
      }
      ImGui::SameLine(0, 4 * s);
      ImGui::TextUnformatted(what);
    };
    swatch(ctx.palette.forward, "value computed");
    if (bwd || c.at_end()) swatch(ctx.palette.backward, "gradient sent");
    swatch(ctx.palette.dim, "no gradient needed", true);
    flow(ImGui::CalcTextSize("⊕ sum of shares").x);
    colored_text(ctx.palette.backward, "⊕");
    ImGui::SameLine(0, 4 * s);
    ImGui::TextUnformatted("sum of shares");
  }

  // [SECTION] canvas
  void canvas(const Controller& c, PanelContext& ctx) {
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const ImVec2 size(std::max(avail.x, 50.0f), std::max(avail.y, 50.0f));
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton("canvas", size, ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
    const bool hovered = ImGui::IsItemHovered();
    const bool active = ImGui::IsItemActive();
    const bool released = ImGui::IsItemDeactivated();  // read now: tooltips below change the last item
    if (ImGui::IsItemActivated()) dragged_ = false;
    ImGuiIO& io = ImGui::GetIO();
    const float fs = ImGui::GetFontSize();

    // Zoom and fit requests (need the canvas size).
    const float fit_w = (size.x - 2 * fs) / (layout_.width * fs);
    const float fit_h = (size.y - 2 * fs) / (layout_.height * fs);
    if (fit_pending_) {
      fit_pending_ = false;
      // The whole graph where its words stay readable; else the width, following the cursor.
      if (std::min(fit_w, fit_h) >= 0.75f) fit_all_ = true;
      else fit_width_ = true;
    }
    if (fit_all_) {
      zoom_ = std::clamp(std::min(fit_w, fit_h), kMinZoom, 1.6f);
      pan_ = ImVec2((size.x - layout_.width * fs * zoom_) * 0.5f, fs);
      fit_all_ = false;
    }
    if (fit_width_) {
      zoom_ = std::clamp(fit_w, kMinZoom, 1.6f);
      pan_.x = (size.x - layout_.width * fs * zoom_) * 0.5f;
      fit_width_ = false;
      center_on_cursor_ = true;
    }
    if (set_zoom_ > 0) {
      zoom_at(set_zoom_, ImVec2(p0.x + size.x * 0.5f, p0.y + size.y * 0.5f), p0);
      set_zoom_ = 0;
    }
    // Mouse: wheel scrolls, Ctrl + wheel zooms at the mouse, drag pans.
    if (hovered && io.MouseWheel != 0) {
      if (io.KeyCtrl)
        zoom_at(zoom_ * std::pow(1.15f, io.MouseWheel), io.MousePos, p0);
      else
        pan_.y += io.MouseWheel * 3.0f * GraphLayout::kRowPitch * fs * std::max(zoom_, 0.3f);
    }
    if (hovered && io.MouseWheelH != 0) pan_.x += io.MouseWheelH * 60.0f * ctx.scale;
    if (active && (ImGui::IsMouseDragging(ImGuiMouseButton_Left) || ImGui::IsMouseDragging(ImGuiMouseButton_Right))) {
      pan_.x += io.MouseDelta.x;
      pan_.y += io.MouseDelta.y;
      dragged_ = true;
    }
    clamp_pan(size, fs);

    const float u = fs * zoom_;  // pixels per em
    auto X = [&](float x) { return p0.x + pan_.x + x * u; };
    auto Y = [&](float y) { return p0.y + pan_.y + y * u; };
    auto toP = [&](Pt p) { return ImVec2(X(p.x), Y(p.y)); };

    // Follow the cursor's op.
    const int cur = c.at_start() ? -1 : c.info().op;
    if (cur >= 0 && cur < static_cast<int>(layout_.nodes.size()) && (center_on_cursor_ || (follow_ && cur != last_cur_))) {
      const Box& b = layout_.nodes[cur].box;
      const bool visible = Y(b.y) >= p0.y + fs && Y(b.bottom()) <= p0.y + size.y - fs && X(b.x) >= p0.x &&
                           X(b.right()) <= p0.x + size.x;
      if (!visible || center_on_cursor_) {
        pan_.y = size.y * 0.4f - b.cy() * u;
        if (X(b.x) < p0.x || X(b.right()) > p0.x + size.x) pan_.x = size.x * 0.3f - b.x * u;
        clamp_pan(size, fs);
      }
      center_on_cursor_ = false;
    }
    last_cur_ = cur;

    ImDrawList* dl = ImGui::GetWindowDrawList();
    // The graph's text is drawn scaled: smooth font sampling inside the canvas, nearest after.
    const ImDrawCallback font_filter = ctx.heatmaps.font_filter();
    if (font_filter) dl->AddCallback(font_filter, dl);
    dl->PushClipRect(p0, ImVec2(p0.x + size.x, p0.y + size.y), true);
    dl->AddRectFilled(p0, ImVec2(p0.x + size.x, p0.y + size.y), ImGui::GetColorU32(ImGuiCol_FrameBg, 0.35f));
    const float vy0 = (p0.y - Y(0)) / u, vy1 = (p0.y + size.y - Y(0)) / u;  // visible em range
    const float vx0 = (p0.x - X(0)) / u, vx1 = (p0.x + size.x - X(0)) / u;
    const bool text_fits = u >= 7.0f;
    const bool bwd = c.in_backward();
    const float th = std::clamp(0.12f * u, 1.0f, 4.0f * ctx.scale);
    ImFont* font = ctx.fonts.ui;
    const ImU32 text_col = ImGui::GetColorU32(ImGuiCol_Text);

    // Groups and the spine.
    for (const GraphGroup& g : layout_.groups) {
      if (g.y1 < vy0 || g.y0 > vy1) continue;
      dl->AddRectFilled(ImVec2(X(-0.6f), Y(g.y0)), ImVec2(X(layout_.width - 0.4f), Y(g.y1)),
                        with_alpha(text_col, 0.05f), 0.4f * u);
      if (text_fits) dl->AddText(font, fs * zoom_ * 0.9f, ImVec2(X(-0.3f), Y(g.y0 + 0.1f)), with_alpha(text_col, 0.7f),
                                 g.title.c_str());
    }
    {
      const float sx = GraphLayout::kBoxW * 0.5f;
      dl->AddRectFilled(ImVec2(X(sx - 0.8f), Y(0)), ImVec2(X(sx + 0.8f), Y(layout_.height)),
                        with_alpha(ctx.palette.forward, 0.07f));
    }

    // Edges.
    for (size_t i = 0; i < layout_.edges.size(); ++i) {
      const GraphEdge& e = layout_.edges[i];
      const EdgeDraw& d = edges_[i];
      if (d.y1 < vy0 || d.y0 > vy1 || d.x1 < vx0 || d.x0 > vx1) continue;
      edge(c, ctx, dl, e, d, toP, th, bwd);
    }

    // Op boxes.
    int hover_op = -1, hover_param = -1, hover_sum = -1;
    const ImVec2 m = io.MousePos;
    const float mx = (m.x - X(0)) / u, my = (m.y - Y(0)) / u;
    for (const GraphNode& n : layout_.nodes) {
      const Box& b = n.box;
      if (b.bottom() < vy0 || b.y > vy1 || b.right() < vx0 || b.x > vx1) continue;
      if (hovered && b.contains(mx, my)) hover_op = n.op;
      node(c, ctx, dl, n, toP, u, n.op == cur, n.op == hover_op);
    }
    for (size_t i = 0; i < layout_.params.size(); ++i) {
      const GraphParamNode& p = layout_.params[i];
      if (p.box.bottom() < vy0 || p.box.y > vy1) continue;
      if (hovered && p.box.contains(mx, my)) hover_param = static_cast<int>(i);
      param_node(c, ctx, dl, p, toP, u);
    }
    for (size_t i = 0; i < layout_.sums.size(); ++i) {
      const SumMark& sm = layout_.sums[i];
      if (sm.at.y < vy0 - 1 || sm.at.y > vy1 + 1) continue;
      const float r = std::max(0.42f * u, 5.0f * ctx.scale);
      if (hovered && std::hypot(m.x - X(sm.at.x), m.y - Y(sm.at.y)) <= r + 2) hover_sum = static_cast<int>(i);
      sum_mark(c, ctx, dl, sm, toP(sm.at), r, static_cast<int>(i) == hover_sum);
    }
    if (layout_.height * u > size.y || layout_.width * u > size.x) minimap_hint(dl, p0, size, u, ctx);
    dl->PopClipRect();
    if (font_filter) dl->AddCallback(font_filter, nullptr);

    // Tooltips and clicks.
    if (hover_sum >= 0)
      sum_tooltip(c, ctx, layout_.sums[hover_sum]);
    else if (hover_param >= 0)
      param_tooltip(c, ctx, layout_.params[hover_param]);
    else if (hover_op >= 0)
      op_tooltip(c, ctx, hover_op);
    if (released && !dragged_ && hover_op >= 0) ctx.requests.push(req::FocusOp{hover_op, Half::current});
  }

  void zoom_at(float z, ImVec2 at, ImVec2 p0) {
    z = std::clamp(z, kMinZoom, 3.0f);
    const float k = z / zoom_;
    pan_.x = at.x - p0.x - (at.x - p0.x - pan_.x) * k;
    pan_.y = at.y - p0.y - (at.y - p0.y - pan_.y) * k;
    zoom_ = z;
  }

  void clamp_pan(ImVec2 size, float fs) {
    const float u = fs * zoom_;
    const float w = layout_.width * u, h = layout_.height * u;
    const float margin = 2 * fs;
    // Keep some of the graph on screen.
    pan_.x = std::clamp(pan_.x, std::min(margin, size.x - w - margin), std::max(margin, size.x - w - margin));
    pan_.y = std::clamp(pan_.y, std::min(margin, size.y - h - margin), std::max(margin, size.y - h - margin));
  }

  // [SECTION] drawing pieces
  template <class ToP>
  void edge(const Controller& c, PanelContext& ctx, ImDrawList* dl, const GraphEdge& e, const EdgeDraw& d, ToP toP,
            float th, bool bwd) {
    bool needed = true;  // does a gradient flow back along this edge at all?
    if (e.kind == EdgeKind::data || e.kind == EdgeKind::skip || e.kind == EdgeKind::leaf ||
        (e.kind == EdgeKind::tie && layout_.params[e.param_node].value >= 0)) {
      const auto& dn = ops_[e.to_op].din_needed;
      needed = e.slot < static_cast<int>(dn.size()) && dn[e.slot];
    } else {
      const auto& dp = ops_[e.to_op].dpar_needed;
      needed = e.slot < static_cast<int>(dp.size()) && dp[e.slot];
    }
    ImU32 col;
    float w = th;
    bool dashed = false;
    bool grad_lit = false;
    if (bwd || c.at_end()) {
      grad_lit = needed && c.backward_done(e.to_op);
      if (grad_lit) {
        col = ctx.palette.backward;
        w = th * 1.6f;
      } else if (!needed) {
        col = with_alpha(ctx.palette.dim, 0.6f);
        dashed = true;
      } else {
        col = with_alpha(ctx.palette.forward, 0.55f);
      }
    } else {
      col = c.forward_done(e.to_op) ? ctx.palette.forward : with_alpha(ctx.palette.dim, 0.45f);
    }
    if (e.kind == EdgeKind::tie) dashed = true;
    if (e.kind == EdgeKind::skip && !grad_lit) w = th * 1.3f;
    std::vector<ImVec2> pts;
    pts.reserve(d.pts.size());
    for (const Pt& p : d.pts) pts.push_back(toP(p));
    if (dashed) {
      const float dash = std::max(3.0f, 0.35f * th * 4);
      float carry = 0;
      bool on = true;
      for (size_t i = 1; i < pts.size(); ++i) {
        ImVec2 a = pts[i - 1];
        const ImVec2 b = pts[i];
        float len = std::hypot(b.x - a.x, b.y - a.y);
        while (len > 0) {
          const float step = std::min(len, dash - carry);
          const float t = step / len;
          const ImVec2 q(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t);
          if (on) dl->AddLine(a, q, col, w);
          carry += step;
          if (carry >= dash - 1e-3f) {
            carry = 0;
            on = !on;
          }
          a = q;
          len -= step;
        }
      }
    } else {
      dl->AddPolyline(pts.data(), static_cast<int>(pts.size()), col, 0, w);
    }
    // The direction things flow: down (values) or back up (gradients), at the receiving end.
    if (pts.size() >= 2 && e.kind != EdgeKind::tie && w * 3 > 5) {
      const bool up = grad_lit;
      const ImVec2 tip = up ? pts.front() : pts.back();
      const ImVec2 from = up ? pts[1] : pts[pts.size() - 2];
      float dx = tip.x - from.x, dy = tip.y - from.y;
      const float len = std::hypot(dx, dy);
      if (len > 0.1f) {
        dx /= len;
        dy /= len;
        const float s = w * 2.6f;
        dl->AddTriangleFilled(tip, ImVec2(tip.x - dx * s - dy * s * 0.6f, tip.y - dy * s + dx * s * 0.6f),
                              ImVec2(tip.x - dx * s + dy * s * 0.6f, tip.y - dy * s - dx * s * 0.6f), col);
      }
    }
  }

  template <class ToP>
  void node(const Controller& c, PanelContext& ctx, ImDrawList* dl, const GraphNode& n, ToP toP, float u, bool current,
            bool hovered) {
    const ImVec2 a = toP({n.box.x, n.box.y}), b = toP({n.box.right(), n.box.bottom()});
    const float round = 0.3f * u;
    const bool bdone = c.backward_done(n.op), fdone = c.forward_done(n.op);
    ImU32 fill = ImGui::GetColorU32(ImGuiCol_WindowBg);
    ImU32 border = with_alpha(ctx.palette.dim, 0.8f);
    if (bdone) {
      fill = with_alpha(ctx.palette.backward, 0.28f);
      border = ctx.palette.backward;
    } else if (fdone) {
      fill = with_alpha(ctx.palette.forward, 0.22f);
      border = ctx.palette.forward;
    }
    dl->AddRectFilled(a, b, ImGui::GetColorU32(ImGuiCol_WindowBg), round);
    dl->AddRectFilled(a, b, fill, round);
    if (current) {
      dl->AddRectFilled(a, b, ctx.palette.current_row, round);
      const float g = std::max(2.0f, 0.15f * u);
      dl->AddRect(ImVec2(a.x - g, a.y - g), ImVec2(b.x + g, b.y + g), c.in_backward() ? ctx.palette.backward : ctx.palette.forward,
                  round, 0, std::max(2.0f, 0.18f * u));
    }
    dl->AddRect(a, b, hovered ? ctx.palette.hover : border, round, 0, hovered ? 2.0f * ctx.scale : std::max(1.0f, 0.06f * u));
    if (n.op < static_cast<int>(names_.size()) && c.highlighted(names_[n.op])) {
      // What the lesson step points at.
      const float g = std::max(3.0f, 0.3f * u);
      dl->AddRect(ImVec2(a.x - g, a.y - g), ImVec2(b.x + g, b.y + g), ctx.palette.warn, round, 0, std::max(2.5f, 0.2f * u));
    }
    const OpFacts& f = ops_[n.op];
    if (u < 7.0f) return;
    ImFont* ui = ctx.fonts.ui;
    ImFont* mono = ctx.fonts.mono;
    const float fs = u;  // the UI font at the zoom
    const ImU32 text = ImGui::GetColorU32(fdone || current ? ImGuiCol_Text : ImGuiCol_TextDisabled);
    const ImVec4 clip(a.x, a.y, b.x - 0.2f * u, b.y);
    dl->AddText(ui, fs, ImVec2(a.x + 0.35f * u, a.y + 0.15f * u), text, n.label.c_str(), nullptr, 0, &clip);
    // The op's type under its name, where it can be read (zoomed out too far, only the name).
    if (fs * 0.8f >= 8.0f) {
      // A one-number output: its value once the forward has run, its gradient once the backward
      // has (as micrograd draws a value: data and grad).
      std::string line = f.type;
      if (f.out.one && fdone) line += " = " + num_short(f.out.data);
      const ImVec2 at(a.x + 0.35f * u, a.y + 1.2f * u);
      dl->AddText(mono, fs * 0.8f, at, with_alpha(text, 0.85f), line.c_str(), nullptr, 0, &clip);
      if (f.out.one && f.out.has_grad && c.incoming_ready(n.op)) {
        const std::string g = "  ∂ " + num_short(f.out.grad);
        const float w = mono->CalcTextSizeA(fs * 0.8f, FLT_MAX, 0, line.c_str()).x;
        dl->AddText(mono, fs * 0.8f, ImVec2(at.x + w, at.y), ctx.palette.backward, g.c_str(), nullptr, 0, &clip);
      }
    }
    // Marks: a planted mistake, the finite-difference result.
    float rx = b.x - 0.35f * u;
    if (f.mistake != Mistake::none && !c.settings().hide_mistakes) {
      const char* flag = "⚑";
      const float w = ui->CalcTextSizeA(fs, FLT_MAX, 0, flag).x;
      rx -= w;
      dl->AddText(ui, fs, ImVec2(rx, a.y + 0.15f * u), ctx.palette.warn, flag);
    }
    const CheckMark mk = c.check_mark(n.op);
    if (mk == CheckMark::pass || mk == CheckMark::fail) {
      const std::string g = check_glyph(mk);
      const float w = ui->CalcTextSizeA(fs * 0.85f, FLT_MAX, 0, g.c_str()).x;
      rx -= w + 0.15f * u;
      dl->AddText(ui, fs * 0.85f, ImVec2(rx, a.y + 1.2f * u), mk == CheckMark::pass ? ctx.palette.ok : ctx.palette.bad,
                  g.c_str());
    }
  }

  template <class ToP>
  void param_node(const Controller& c, PanelContext& ctx, ImDrawList* dl, const GraphParamNode& p, ToP toP, float u) {
    const ImVec2 a = toP({p.box.x, p.box.y}), b = toP({p.box.right(), p.box.bottom()});
    const ParamFacts* f = facts(p);
    // A data leaf is no parameter, and not frozen either: drawn as trainable ones are, in a square.
    const bool leaf = p.value >= 0;
    const bool trainable = f && (f->trainable || leaf);
    const auto& dp = leaf ? ops_[p.op].din_needed : ops_[p.op].dpar_needed;
    const bool needed = p.slot < static_cast<int>(dp.size()) && dp[p.slot];
    const bool lit = needed && c.backward_done(p.op);
    ImU32 fill = with_alpha(ImGui::GetColorU32(ImGuiCol_Text), 0.06f);
    if (lit) fill = with_alpha(ctx.palette.backward, 0.35f);
    const ImU32 border = lit ? ctx.palette.backward : trainable ? with_alpha(ctx.palette.dim, 0.9f)
                                                                : with_alpha(ctx.palette.dim, 0.45f);
    const float round = (leaf ? 0.15f : 0.6f) * u;
    dl->AddRectFilled(a, b, ImGui::GetColorU32(ImGuiCol_WindowBg), round);
    dl->AddRectFilled(a, b, fill, round);
    dl->AddRect(a, b, border, round, 0, std::max(1.0f, 0.06f * u));
    if (f && c.highlighted(f->name))
      dl->AddRect(ImVec2(a.x - 3, a.y - 3), ImVec2(b.x + 3, b.y + 3), ctx.palette.warn, 0.6f * u, 0, std::max(2.5f, 0.2f * u));
    if (u < 7.0f) return;
    if (f && f->value.one) {
      number_leaf(c, ctx, dl, p, *f, a, b, u, trainable);
      return;
    }
    const std::string label = p.label + (trainable ? "" : " ❄");
    const float fs = u * 0.8f;
    const ImVec2 ts = ctx.fonts.ui->CalcTextSizeA(fs, FLT_MAX, 0, label.c_str());
    const ImVec4 clip(a.x, a.y, b.x, b.y);
    dl->AddText(ctx.fonts.ui, fs, ImVec2((a.x + b.x - ts.x) * 0.5f, (a.y + b.y - ts.y) * 0.5f),
                ImGui::GetColorU32(trainable ? ImGuiCol_Text : ImGuiCol_TextDisabled), label.c_str(), nullptr, 0, &clip);
  }

  // A one-number leaf (a parameter such as w0, or data such as x0): its name, then its value and,
  // once every share of its gradient is in, the gradient — as micrograd draws a value.
  void number_leaf(const Controller& c, PanelContext& ctx, ImDrawList* dl, const GraphParamNode& p, const ParamFacts& f,
                   ImVec2 a, ImVec2 b, float u, bool trainable) {
    const ImVec4 clip(a.x, a.y, b.x - 0.15f * u, b.y);
    const ImU32 text = ImGui::GetColorU32(trainable ? ImGuiCol_Text : ImGuiCol_TextDisabled);
    const std::string label = p.label + (trainable ? "" : " ❄") + (p.value >= 0 ? "  data" : "");
    dl->AddText(ctx.fonts.ui, u * 0.85f, ImVec2(a.x + 0.3f * u, a.y + 0.15f * u), text, label.c_str(), nullptr, 0, &clip);
    const float vs = u * 0.75f;
    if (vs < 8.0f) return;
    const std::string d = num_short(f.value.data);
    const ImVec2 at(a.x + 0.3f * u, a.y + 1.2f * u);
    dl->AddText(ctx.fonts.mono, vs, at, with_alpha(text, 0.85f), d.c_str(), nullptr, 0, &clip);
    if (f.value.has_grad && (p.value >= 0 ? c.value_grad_ready(p.value) : c.param_grad_ready(p.param))) {
      const std::string g = " ∂ " + num_short(f.value.grad);
      const float w = ctx.fonts.mono->CalcTextSizeA(vs, FLT_MAX, 0, d.c_str()).x;
      dl->AddText(ctx.fonts.mono, vs, ImVec2(at.x + w, at.y), ctx.palette.backward, g.c_str(), nullptr, 0, &clip);
    }
  }

  void sum_mark(const Controller& c, PanelContext& ctx, ImDrawList* dl, const SumMark& s, ImVec2 at, float r,
                bool hovered) {
    int done = 0;
    for (const Use& u : s.shares) done += c.backward_done(u.op);
    const bool all = done == static_cast<int>(s.shares.size());
    const ImU32 col = done > 0 ? ctx.palette.backward : with_alpha(ctx.palette.dim, 0.9f);
    dl->AddCircleFilled(at, r, ImGui::GetColorU32(ImGuiCol_WindowBg));
    if (all) dl->AddCircleFilled(at, r, with_alpha(ctx.palette.backward, 0.35f));
    dl->AddCircle(at, r, hovered ? ctx.palette.hover : col, 0, std::max(1.5f, r * 0.18f));
    const float k = r * 0.6f;
    dl->AddLine(ImVec2(at.x - k, at.y), ImVec2(at.x + k, at.y), col, std::max(1.5f, r * 0.16f));
    dl->AddLine(ImVec2(at.x, at.y - k), ImVec2(at.x, at.y + k), col, std::max(1.5f, r * 0.16f));
  }

  void minimap_hint(ImDrawList* dl, ImVec2 p0, ImVec2 size, float u, PanelContext& ctx) {
    // A thin bar on the right: where the window is in the whole graph.
    const float total = layout_.height * u;
    if (total <= size.y) return;
    const float bar_w = 6.0f * ctx.scale;
    const float t0 = std::clamp(-pan_.y / total, 0.0f, 1.0f), t1 = std::clamp((size.y - pan_.y) / total, 0.0f, 1.0f);
    const float x = p0.x + size.x - bar_w - 2;
    dl->AddRectFilled(ImVec2(x, p0.y), ImVec2(x + bar_w, p0.y + size.y), with_alpha(ctx.palette.dim, 0.25f), bar_w * 0.5f);
    dl->AddRectFilled(ImVec2(x, p0.y + t0 * size.y), ImVec2(x + bar_w, p0.y + std::max(t1 * size.y, t0 * size.y + 4)),
                      with_alpha(ctx.palette.dim, 0.8f), bar_w * 0.5f);
  }

  // What a parameter or data-leaf node shows; nullptr when it is out of date.
  const ParamFacts* facts(const GraphParamNode& p) const {
    if (p.value >= 0) return p.value < static_cast<int>(leaves_.size()) ? &leaves_[p.value] : nullptr;
    return p.param >= 0 && p.param < static_cast<int>(params_.size()) ? &params_[p.param] : nullptr;
  }

  // [SECTION] tooltips
  void op_tooltip(const Controller& c, PanelContext& ctx, int k) {
    const OpFacts& f = ops_[k];
    ImGui::BeginTooltip();
    ImGui::PushFont(ctx.fonts.big);
    ImGui::TextUnformatted(c.session().op_name(k).c_str());
    ImGui::PopFont();
    ImGui::TextDisabled("op %d · %s · output %s", k, f.type.c_str(), f.shape.c_str());
    ImGui::PushFont(ctx.fonts.mono);
    ImGui::Text("FLOPs forward %s  backward %s", f.fwd.c_str(), f.bwd.c_str());
    ImGui::PopFont();
    if (f.mistake != Mistake::none && !c.settings().hide_mistakes)
      colored_text(ctx.palette.warn, "⚑ planted mistake: %s", info(f.mistake).name);
    const char* state = c.backward_done(k) ? "its backward has run" : c.forward_done(k) ? "its forward has run"
                                                                                         : "not run yet";
    ImGui::TextDisabled("%s — click to go there", state);
    ImGui::EndTooltip();
  }

  void param_tooltip(const Controller& c, PanelContext& ctx, const GraphParamNode& p) {
    const ParamFacts* fp = facts(p);
    if (!fp) return;
    const ParamFacts& f = *fp;
    ImGui::BeginTooltip();
    ImGui::PushFont(ctx.fonts.mono);
    ImGui::Text("%s %s", f.name.c_str(), f.shape.c_str());
    if (f.value.one) {
      ImGui::Text("= %s", num(f.value.data).c_str());
      const bool ready = p.value >= 0 ? c.value_grad_ready(p.value) : c.param_grad_ready(p.param);
      if (f.value.has_grad && ready) colored_text(ctx.palette.backward, "∂L/∂%s = %s", f.name.c_str(), num(f.value.grad).c_str());
    }
    ImGui::PopFont();
    if (p.value >= 0) {
      ImGui::TextDisabled("data given to the model: its gradient is computed, training never changes it");
      if (p.alias) ImGui::TextDisabled("the same value as the %s node above", p.label.c_str());
    } else if (!f.trainable)
      colored_text(ctx.palette.warn, "frozen: no gradient computed");
    else if (c.backward_done(p.op))
      colored_text(ctx.palette.backward, "its gradient share from %s is computed", c.session().op_name(p.op).c_str());
    else
      ImGui::TextDisabled("gradient: not computed yet");
    if (p.alias && p.value < 0) ImGui::TextDisabled("the same tensor as the %s node above (tied weights)", p.label.c_str());
    ImGui::EndTooltip();
  }

  void sum_tooltip(const Controller& c, PanelContext& ctx, const SumMark& s) {
    ImGui::BeginTooltip();
    std::string what;
    if (s.value >= 0) {
      const int prod = layout_.edges.empty() ? -1 : [&] {
        for (const GraphEdge& e : layout_.edges)
          if (e.value == s.value) return e.from_op;
        return -1;
      }();
      // "h (output of wpe)", not "wpe"; a data leaf by its name
      const bool named = s.value < static_cast<int>(leaves_.size()) && !leaves_[s.value].name.empty();
      what = prod >= 0 ? c.session().value_label(prod) : named ? leaves_[s.value].name : "value";
    } else if (s.param < static_cast<int>(params_.size())) {
      what = params_[s.param].name;
    }
    ImGui::Text("∂L/∂%s = Σ of %zu shares", what.c_str(), s.shares.size());
    ImGui::TextDisabled(s.value >= 0 ? "this value feeds %zu ops; each sends back its share"
                                     : "this parameter is used by %zu ops (tied); each adds its share",
                        s.shares.size());
    int done = 0;
    if (ImGui::BeginTable("shares", 2, ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_NoSavedSettings)) {
      for (const Use& u : s.shares) {
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(("from " + c.session().op_name(u.op)).c_str());
        ImGui::TableNextColumn();
        ImGui::PushFont(ctx.fonts.mono);
        if (c.backward_done(u.op)) {
          const double n = share_norm(c, s, u);
          if (n < 0)
            ImGui::TextDisabled("none (not needed)");
          else
            colored_text(ctx.palette.backward, "‖share‖ %s", num_short(n).c_str());
          ++done;
        } else {
          ImGui::TextDisabled("not computed yet");
        }
        ImGui::PopFont();
      }
      ImGui::EndTable();
    }
    if (done == static_cast<int>(s.shares.size()))
      colored_text(ctx.palette.ok, "all shares in: the gradient is complete");
    else
      ImGui::TextDisabled("%d of %zu shares in", done, s.shares.size());
    ImGui::EndTooltip();
  }

  static constexpr float kMinZoom = 0.08f;
  GraphLayout layout_;
  std::vector<EdgeDraw> edges_;
  std::vector<OpFacts> ops_;
  std::vector<std::string> names_;  // every op's full name, by index
  std::vector<ParamFacts> params_;
  std::vector<ParamFacts> leaves_;  // by value id: the data leaves (inputs given as numbers)
  std::vector<std::pair<int64_t, double>> share_norms_;
  uint64_t gen_ = ~uint64_t{0}, version_ = ~uint64_t{0};
  float zoom_ = 1.0f;
  ImVec2 pan_{0, 0};
  bool fit_pending_ = true, fit_all_ = false, fit_width_ = false, center_on_cursor_ = false;
  float set_zoom_ = 0;
  bool follow_ = true, dragged_ = false;
  int last_cur_ = -2;
};

}  // namespace

std::unique_ptr<Panel> make_graph_panel() { return std::make_unique<GraphPanel>(); }

}  // namespace gs::app
