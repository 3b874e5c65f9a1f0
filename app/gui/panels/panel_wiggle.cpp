// Wiggle: the numeric derivative made tangible. Pick a parameter entry and drag it: the loss
// moves with it. The plot is L against that entry with the tangent of slope ∂L/∂p at the current
// value; beside it the central difference (L(p+ε) − L(p−ε))/2ε and the analytic gradient. For
// `line`, also the data and the fitted line in the x–y plane, and the loss over (a, b) as a
// contour map with the gradient arrow and the path of the optimiser steps taken.
// The numbers come from wiggle.h, on a copy of the model.
#include <imgui.h>

#include <algorithm>
#include <cmath>

#include "format.h"
#include "panel.h"
#include "plot.h"
#include "widgets.h"
#include "wiggle.h"

namespace gs::app {

namespace {

class WigglePanel final : public Panel {
 public:
  WigglePanel() { open = false; }
  const char* title() const override { return "Wiggle"; }
  Rect home(const WorkArea& a) const override {
    const float l = layout::left_width(a), t = layout::top_height(a);
    return {a.x + l + 2 * a.line, a.y + t + a.line, std::max((a.w - l) * 0.7f, 24.0f * a.line), a.h - t - a.line};
  }

  void contents(const Controller& c, PanelContext& ctx) override {
    choose(c, ctx);
    if (param_.empty()) {
      ImGui::TextDisabled("this model has no trainable parameter to wiggle");
      return;
    }
    refresh(c);
    if (!curve_.error.empty()) {
      colored_text(ctx.palette.bad, "%s", curve_.error.c_str());
      return;
    }
    slider(c, ctx);
    numbers(c, ctx);
    const bool line = c.session().line_fit();
    const float w = ImGui::GetContentRegionAvail().x;
    if (line && w > 30 * ImGui::GetFontSize()) {
      ImGui::BeginChild("curve", ImVec2(w * 0.5f, 0));
      curve_plot(ctx);
      ImGui::EndChild();
      ImGui::SameLine();
      ImGui::BeginChild("line", ImVec2(0, 0));
      xy_plot(c, ctx);
      plane_plot(c, ctx);
      ImGui::EndChild();
    } else {
      curve_plot(ctx);
      if (line) {
        xy_plot(c, ctx);
        plane_plot(c, ctx);
      }
    }
  }

 private:
  // The entry: the controller's (a lesson step may set it), else the first trainable parameter.
  void choose(const Controller& c, PanelContext& ctx) {
    names_.clear();
    sizes_.clear();
    c.session().visit([&](const auto& s) {
      for (const auto& p : s.model->params())
        if (p.trainable) {
          names_.push_back(p.name);
          sizes_.push_back(p.data.size());
        }
    });
    const WiggleTarget& t = c.wiggle();
    if (!t.param.empty() && t.param != param_asked_) {
      param_asked_ = t.param;
      index_asked_ = t.index;
      param_ = t.param;
      index_ = t.index;
    } else if (!t.param.empty() && t.index != index_asked_ && t.param == param_) {
      index_asked_ = t.index;
      index_ = t.index;
    }
    if (std::find(names_.begin(), names_.end(), param_) == names_.end()) param_ = names_.empty() ? "" : names_[0];
    if (param_.empty()) return;
    const size_t at = std::find(names_.begin(), names_.end(), param_) - names_.begin();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 12);
    if (ImGui::BeginCombo("parameter", param_.c_str())) {
      for (const auto& n : names_)
        if (ImGui::Selectable(n.c_str(), n == param_)) ctx.requests.push(req::WiggleAt{n, 0});
      ImGui::EndCombo();
    }
    if (sizes_[at] > 1) {
      ImGui::SameLine();
      int i = static_cast<int>(index_);
      ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
      if (ImGui::InputInt("entry", &i)) ctx.requests.push(req::WiggleAt{param_, std::clamp<int64_t>(i, 0, sizes_[at] - 1)});
      ImGui::SameLine();
      ImGui::TextDisabled("of %lld (row-major)", static_cast<long long>(sizes_[at]));
    }
    index_ = std::clamp<int64_t>(index_, 0, sizes_[at] - 1);
  }

  void refresh(const Controller& c) {
    if (c.spec_generation() != gen_) {
      gen_ = c.spec_generation();
      path_.clear();
      steps_seen_ = c.optimizer_steps();
    }
    if (c.version() == version_ && param_ == curve_.param && index_ == curve_.index) return;
    version_ = c.version();
    if (param_ != curve_.param || index_ != curve_.index) half_width_ = 0;  // another entry: its own range
    curve_ = wiggle_curve(c.session(), param_, index_, half_width_);
    if (half_width_ <= 0 && !curve_.xs.empty()) half_width_ = (curve_.xs.back() - curve_.xs.front()) / 2;
    if (c.session().line_fit()) {
      plane_ = loss_plane(c.session(), "a", "b");
      // The path of the optimiser steps: a point each time one was taken.
      if (path_.empty() || c.optimizer_steps() != steps_seen_) path_.push_back({plane_.x, plane_.y});
      steps_seen_ = c.optimizer_steps();
    }
  }

  void slider(const Controller& c, PanelContext& ctx) {
    float v = static_cast<float>(curve_.value);
    const float lo = static_cast<float>(curve_.xs.front()), hi = static_cast<float>(curve_.xs.back());
    // The slider takes the line, less the button beside it; in a narrow column the button goes under.
    const ImGuiStyle& st = ImGui::GetStyle();
    const float button = ImGui::CalcTextSize("recentre").x + 2 * st.FramePadding.x + st.ItemSpacing.x;
    const float avail = ImGui::GetContentRegionAvail().x;
    const bool beside = avail - button >= 10.0f * ImGui::GetFontSize();
    ImGui::SetNextItemWidth(beside ? avail - button : avail);
    ImGui::PushFont(ctx.fonts.big);
    const bool moved = ImGui::SliderFloat("##value", &v, lo, hi, (param_ + " = %.4g").c_str());
    ImGui::PopFont();
    if (moved && !c.busy()) ctx.requests.push(req::SetValue{param_, index_, static_cast<double>(v)});
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("drag: the model takes this value and the tape is computed again");
    if (beside) ImGui::SameLine();
    if (ImGui::Button("recentre")) half_width_ = 0;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("the slider's range around the value now");
  }

  void numbers(const Controller&, PanelContext& ctx) {
    const WiggleCurve& w = curve_;
    ImGui::PushFont(ctx.fonts.mono);
    ImGui::Text("L = %s", num(w.loss).c_str());
    colored_wrapped(ctx.palette.backward, "∂L/∂%s = %s   (analytic, from the backward pass)", param_.c_str(),
                    num(w.analytic).c_str());
    colored_wrapped(ctx.palette.forward, "(L(p+ε) − L(p−ε)) / 2ε = %s   (numeric, ε = %s)", num(w.numeric).c_str(),
                    num_short(w.eps).c_str());
    ImGui::PopFont();
    colored_wrapped(w.pass ? ctx.palette.ok : ctx.palette.bad, "%s |analytic − numeric| = %s", w.pass ? "✓" : "✗",
                    num_short(std::abs(w.analytic - w.numeric)).c_str());
  }

  void curve_plot(PanelContext& ctx) {
    const WiggleCurve& w = curve_;
    PlotSpec spec;
    spec.x_label = param_ + (w.index > 0 || sizes_of(param_) > 1 ? "[" + std::to_string(w.index) + "]" : "");
    spec.y_label = "loss L";
    spec.height = std::max(160.0f * ctx.scale, std::min(ImGui::GetContentRegionAvail().y * 0.9f, 320.0f * ctx.scale));
    spec.x.lo = w.xs.front();
    spec.x.hi = w.xs.back();
    std::vector<double> ys = w.ls;
    ys.push_back(w.loss);
    padded_range(ys, spec.y.lo, spec.y.hi, 0.08);
    // The tangent: slope ∂L/∂p through (p, L), over half the plot.
    const double h = (spec.x.hi - spec.x.lo) * 0.25;
    PlotLine tangent;
    tangent.kind = PlotLine::segment;
    tangent.x0 = w.value - h;
    tangent.y0 = w.loss - h * w.analytic;
    tangent.x1 = w.value + h;
    tangent.y1 = w.loss + h * w.analytic;
    tangent.color = ctx.palette.backward;
    tangent.label = "slope ∂L/∂" + spec.x_label;  // the entry dragged: ∂L/∂a, ∂L/∂W[3]
    tangent.dashed = false;
    PlotLine now;
    now.value = w.value;
    now.color = ctx.palette.dim;
    spec.lines = {now, tangent};
    PlotSeries curve{w.xs, w.ls, ctx.palette.forward, false, 2.0f, false};
    PlotSeries here{{w.value}, {w.loss}, ctx.palette.warn, true, 2.0f, false};
    const PlotHit hit = plot("##wiggle", ctx, spec, {curve, here});
    if (hit.hovered && hit.series == 0 && hit.index >= 0)
      ImGui::SetTooltip("%s = %s: L = %s", param_.c_str(), num(w.xs[hit.index]).c_str(), num(w.ls[hit.index]).c_str());
  }

  int64_t sizes_of(const std::string& n) const {
    for (size_t i = 0; i < names_.size(); ++i)
      if (names_[i] == n) return sizes_[i];
    return 1;
  }

  // `line`: its points (x, t) and the line y = a·x + b through them.
  void xy_plot(const Controller& c, PanelContext& ctx) {
    std::vector<double> xs, ts;
    double a = 0, b = 0;
    c.session().visit([&](const auto& s) {
      const auto& x = s.tape->value(s.tape->find_input("x")).data;
      const auto& t = s.tape->value(s.tape->find_input("t")).data;
      xs.assign(x.begin(), x.end());
      ts.assign(t.begin(), t.end());
      a = s.model->param("a").data[0];
      b = s.model->param("b").data[0];
    });
    PlotSpec spec;
    spec.x_label = "x";
    spec.y_label = "y";
    spec.height = 170.0f * ctx.scale;
    std::vector<double> all_x = xs, all_y = ts;
    all_x.push_back(0);
    padded_range(all_x, spec.x.lo, spec.x.hi, 0.2);
    for (double x : {spec.x.lo, spec.x.hi}) all_y.push_back(a * x + b);
    padded_range(all_y, spec.y.lo, spec.y.hi, 0.1);
    PlotLine fit;
    fit.kind = PlotLine::segment;
    fit.x0 = spec.x.lo;
    fit.y0 = a * spec.x.lo + b;
    fit.x1 = spec.x.hi;
    fit.y1 = a * spec.x.hi + b;
    fit.color = ctx.palette.forward;
    fit.label = "y = a·x + b";
    fit.dashed = false;
    spec.lines = {fit};
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted("the data (x, t) and the line y = a·x + b");
    ImGui::PopTextWrapPos();
    plot("##xy", ctx, spec, {PlotSeries{xs, ts, ctx.palette.warn, true, 2.0f, false}});
  }

  // `line`: the loss over (a, b), the gradient there and the path of the steps taken.
  void plane_plot(const Controller&, PanelContext& ctx) {
    const LossPlane& p = plane_;
    if (!p.error.empty() || p.ls.empty()) return;
    ImGui::PushTextWrapPos(0);  // a narrow column: the words wrap, not cut
    ImGui::TextUnformatted("the loss over (a, b): darker is lower; the arrow points downhill (−∇L)");
    ImGui::PopTextWrapPos();
    const int n = static_cast<int>(p.xs.size());
    const float side = std::min(ImGui::GetContentRegionAvail().x, 260.0f * ctx.scale);
    const ImVec2 o = ImGui::GetCursorScreenPos();
    ImGui::Dummy(ImVec2(side, side));
    ImDrawList* dl = ImGui::GetWindowDrawList();
    double lo = 1e300, hi = -1e300;
    for (double l : p.ls) {
      lo = std::min(lo, std::log1p(l));
      hi = std::max(hi, std::log1p(l));
    }
    const float cell = side / n;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        const double f = hi > lo ? (std::log1p(p.ls[i * n + j]) - lo) / (hi - lo) : 0;
        // Dark (low loss) to light; the contour bands every tenth of the range.
        const double band = std::floor(f * 10) / 10;
        const int g = static_cast<int>(30 + 190 * band);
        const float y = o.y + side - (i + 1) * cell;  // b grows upwards
        dl->AddRectFilled(ImVec2(o.x + j * cell, y), ImVec2(o.x + (j + 1) * cell + 0.5f, y + cell + 0.5f),
                          IM_COL32(g / 3, g / 2, g, 255));
      }
    auto at = [&](double a, double b) {
      const double fx = (a - p.xs.front()) / (p.xs.back() - p.xs.front());
      const double fy = (b - p.ys.front()) / (p.ys.back() - p.ys.front());
      return ImVec2(o.x + static_cast<float>(fx) * side, o.y + side - static_cast<float>(fy) * side);
    };
    // The path of the optimiser steps.
    for (size_t k = 1; k < path_.size(); ++k)
      dl->AddLine(at(path_[k - 1].first, path_[k - 1].second), at(path_[k].first, path_[k].second), ctx.palette.warn,
                  2.0f * ctx.scale);
    for (const auto& q : path_) dl->AddCircleFilled(at(q.first, q.second), 2.5f * ctx.scale, ctx.palette.warn);
    // The gradient arrow, downhill, a fixed length on screen.
    const ImVec2 c0 = at(p.x, p.y);
    const double gn = std::hypot(p.gx, p.gy);
    if (gn > 0) {
      const float len = side * 0.18f;
      const ImVec2 d(static_cast<float>(-p.gx / gn) * len, static_cast<float>(p.gy / gn) * len);
      const ImVec2 tip(c0.x + d.x, c0.y + d.y);
      dl->AddLine(c0, tip, ctx.palette.backward, 3.0f * ctx.scale);
      const ImVec2 u(d.x / len, d.y / len), v(-u.y, u.x);
      const float hs = 8.0f * ctx.scale;
      dl->AddTriangleFilled(tip, ImVec2(tip.x - u.x * hs + v.x * hs * 0.5f, tip.y - u.y * hs + v.y * hs * 0.5f),
                            ImVec2(tip.x - u.x * hs - v.x * hs * 0.5f, tip.y - u.y * hs - v.y * hs * 0.5f),
                            ctx.palette.backward);
    }
    dl->AddCircleFilled(c0, 4.0f * ctx.scale, ctx.palette.forward);
    dl->AddText(ImVec2(o.x + 4, o.y + side - ImGui::GetFontSize() - 2), IM_COL32(255, 255, 255, 230), "a →");
    dl->AddText(ImVec2(o.x + 4, o.y + 2), IM_COL32(255, 255, 255, 230), "↑ b");
    if (ImGui::IsItemHovered()) {
      const ImVec2 m = ImGui::GetIO().MousePos;
      const double a = p.xs.front() + (m.x - o.x) / side * (p.xs.back() - p.xs.front());
      const double b = p.ys.front() + (o.y + side - m.y) / side * (p.ys.back() - p.ys.front());
      ImGui::SetTooltip("a = %s, b = %s", num_short(a).c_str(), num_short(b).c_str());
    }
  }

  std::vector<std::string> names_;
  std::vector<int64_t> sizes_;
  std::string param_, param_asked_;
  int64_t index_ = 0, index_asked_ = -1;
  uint64_t version_ = ~uint64_t{0}, gen_ = ~uint64_t{0};
  double half_width_ = 0;
  WiggleCurve curve_;
  LossPlane plane_;
  std::vector<std::pair<double, double>> path_;
  int steps_seen_ = 0;
};

}  // namespace

std::unique_ptr<Panel> make_wiggle_panel() { return std::make_unique<WigglePanel>(); }

}  // namespace gs::app
