#include "plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace gs::app {

namespace {

void dashed_line(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 col, float th, float dash) {
  const float dx = b.x - a.x, dy = b.y - a.y;
  const float len = std::sqrt(dx * dx + dy * dy);
  if (len < 1e-3f) return;
  const float ux = dx / len, uy = dy / len;
  for (float s = 0; s < len; s += 2 * dash) {
    const float e = std::min(len, s + dash);
    dl->AddLine(ImVec2(a.x + ux * s, a.y + uy * s), ImVec2(a.x + ux * e, a.y + uy * e), col, th);
  }
}

bool plottable(const Axis& ax, double v) { return std::isfinite(v) && (!ax.log || v > 0); }

ImU32 fade(ImU32 col, float a) {
  ImVec4 v = ImGui::ColorConvertU32ToFloat4(col);
  v.w *= a;
  return ImGui::ColorConvertFloat4ToU32(v);
}

}  // namespace

PlotHit plot(const char* id, PanelContext& ctx, PlotSpec& spec, const std::vector<PlotSeries>& series) {
  PlotHit hit;
  const float s = ctx.scale;
  const float W = std::max(120.0f * s, ImGui::GetContentRegionAvail().x);
  const float H = spec.height > 0 ? spec.height : 240.0f * s;
  const float line = ImGui::GetTextLineHeight();
  const std::vector<Tick> xt = spec.x.log ? log_ticks(spec.x.lo, spec.x.hi) : linear_ticks(spec.x.lo, spec.x.hi);
  const std::vector<Tick> yt = spec.y.log ? log_ticks(spec.y.lo, spec.y.hi, 6) : linear_ticks(spec.y.lo, spec.y.hi, 4);
  float label_w = 0;
  for (const Tick& t : yt)
    if (!t.label.empty()) label_w = std::max(label_w, ImGui::CalcTextSize(t.label.c_str()).x);

  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImGui::InvisibleButton(id, ImVec2(W, H));
  hit.hovered = ImGui::IsItemHovered();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  // The plot area inside the item: room for the y labels on the left, x labels below.
  const ImVec2 a(p.x + label_w + 10 * s, p.y + line * 1.3f);
  const ImVec2 b(p.x + W - 12 * s, p.y + H - line * 2.4f);
  if (b.x - a.x < 20 || b.y - a.y < 20) return hit;
  spec.x.p0 = a.x;
  spec.x.p1 = b.x;
  spec.y.p0 = b.y;
  spec.y.p1 = a.y;

  const ImU32 text = ImGui::GetColorU32(ImGuiCol_Text);
  const ImU32 grid = ImGui::GetColorU32(ImGuiCol_Border);
  dl->AddRectFilled(a, b, ImGui::GetColorU32(ImGuiCol_FrameBg));
  // Grid and ticks.
  for (const Tick& t : xt) {
    const float x = spec.x.to_px(t.value);
    if (x < a.x - 0.5f || x > b.x + 0.5f) continue;
    dl->AddLine(ImVec2(x, a.y), ImVec2(x, b.y), fade(grid, t.major ? 0.7f : 0.3f), 1.0f);
    dl->AddLine(ImVec2(x, b.y), ImVec2(x, b.y + (t.major ? 6 : 3) * s), text, 1.0f);
    if (!t.label.empty()) {
      const ImVec2 ts = ImGui::CalcTextSize(t.label.c_str());
      dl->AddText(ImVec2(std::clamp(x - ts.x * 0.5f, p.x, p.x + W - ts.x), b.y + 6 * s), text, t.label.c_str());
    }
  }
  for (const Tick& t : yt) {
    const float y = spec.y.to_px(t.value);
    if (y < a.y - 0.5f || y > b.y + 0.5f) continue;
    dl->AddLine(ImVec2(a.x, y), ImVec2(b.x, y), fade(grid, t.major ? 0.7f : 0.3f), 1.0f);
    dl->AddLine(ImVec2(a.x - (t.major ? 6 : 3) * s, y), ImVec2(a.x, y), text, 1.0f);
    if (!t.label.empty()) {
      const ImVec2 ts = ImGui::CalcTextSize(t.label.c_str());
      dl->AddText(ImVec2(a.x - 8 * s - ts.x, y - ts.y * 0.5f), text, t.label.c_str());
    }
  }
  dl->AddRect(a, b, text, 0, 0, 1.0f);
  // Axis names: y above the axis, x under the tick labels, right-aligned.
  dl->AddText(ImVec2(p.x, p.y), fade(text, 0.8f), spec.y_label.c_str());
  {
    const ImVec2 ts = ImGui::CalcTextSize(spec.x_label.c_str());
    dl->AddText(ImVec2(b.x - ts.x, b.y + 6 * s + line), fade(text, 0.8f), spec.x_label.c_str());
  }

  dl->PushClipRect(a, b, true);
  // Reference lines.
  for (const PlotLine& l : spec.lines) {
    ImVec2 u, v;
    if (l.kind == PlotLine::vertical) {
      if (!plottable(spec.x, l.value)) continue;
      u = ImVec2(spec.x.to_px(l.value), a.y);
      v = ImVec2(u.x, b.y);
    } else if (l.kind == PlotLine::horizontal) {
      if (!plottable(spec.y, l.value)) continue;
      u = ImVec2(a.x, spec.y.to_px(l.value));
      v = ImVec2(b.x, u.y);
    } else {
      if (!plottable(spec.x, l.x0) || !plottable(spec.x, l.x1) || !plottable(spec.y, l.y0) || !plottable(spec.y, l.y1))
        continue;
      u = ImVec2(spec.x.to_px(l.x0), spec.y.to_px(l.y0));
      v = ImVec2(spec.x.to_px(l.x1), spec.y.to_px(l.y1));
    }
    if (l.dashed)
      dashed_line(dl, u, v, l.color, 1.5f * s, 6 * s);
    else
      dl->AddLine(u, v, l.color, 1.5f * s);
    if (!l.label.empty()) {
      const ImVec2 ts = ImGui::CalcTextSize(l.label.c_str());
      ImVec2 at;
      if (l.kind == PlotLine::vertical)
        at = ImVec2(u.x + 4 * s, a.y + 2 * s);
      else if (l.kind == PlotLine::horizontal)
        at = ImVec2(b.x - ts.x - 4 * s, u.y - ts.y - 1 * s);
      else
        at = ImVec2((u.x + v.x) * 0.5f + 4 * s, (u.y + v.y) * 0.5f - ts.y);
      dl->AddText(at, l.color, l.label.c_str());
    }
  }
  // Series.
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  float best = 14.0f * s;
  for (size_t si = 0; si < series.size(); ++si) {
    const PlotSeries& ser = series[si];
    const float th = ser.thickness * s;
    bool have_prev = false;
    ImVec2 prev;
    const size_t n = std::min(ser.x.size(), ser.y.size());
    for (size_t i = 0; i < n; ++i) {
      if (!plottable(spec.x, ser.x[i]) || !plottable(spec.y, ser.y[i])) {
        have_prev = false;
        continue;
      }
      const ImVec2 q(spec.x.to_px(ser.x[i]), spec.y.to_px(ser.y[i]));
      if (have_prev) {
        if (ser.dashed)
          dashed_line(dl, prev, q, ser.color, th, 5 * s);
        else
          dl->AddLine(prev, q, ser.color, th);
      }
      if (ser.markers) dl->AddCircleFilled(q, 3.5f * s, ser.color);
      if (hit.hovered) {
        const float d = std::abs(q.x - mouse.x) + 0.25f * std::abs(q.y - mouse.y);
        if (d < best) {
          best = d;
          hit.series = static_cast<int>(si);
          hit.index = static_cast<int>(i);
        }
      }
      prev = q;
      have_prev = true;
    }
  }
  if (hit.index >= 0) {
    const PlotSeries& ser = series[hit.series];
    const ImVec2 q(spec.x.to_px(ser.x[hit.index]), spec.y.to_px(ser.y[hit.index]));
    dl->AddCircle(q, 7.0f * s, ImGui::GetColorU32(ImGuiCol_Text), 0, 2.0f * s);
    dashed_line(dl, ImVec2(q.x, a.y), ImVec2(q.x, b.y), fade(text, 0.5f), 1.0f, 4 * s);
  }
  dl->PopClipRect();
  if (hit.hovered) {
    hit.x = spec.x.from_px(mouse.x);
    hit.y = spec.y.from_px(mouse.y);
  }
  return hit;
}

bool log_slider(const char* id, double* v, double lo, double hi, int per_decade) {
  const float a = static_cast<float>(std::log10(lo)), b = static_cast<float>(std::log10(hi));
  float p = static_cast<float>(std::log10(std::clamp(*v, lo, hi)));
  char shown[32];
  snprintf(shown, sizeof shown, "%.0e", *v);
  if (!ImGui::SliderFloat(id, &p, a, b, shown, ImGuiSliderFlags_AlwaysClamp | ImGuiSliderFlags_NoRoundToFormat))
    return false;
  const double q = std::round(static_cast<double>(p) * per_decade) / per_decade;
  // Whole decades read best ("1e-06"); quarter steps keep one significant digit.
  double nv = std::pow(10.0, q);
  char buf[32];
  snprintf(buf, sizeof buf, "%.0e", nv);
  nv = std::clamp(std::strtod(buf, nullptr), lo, hi);
  if (nv == *v) return false;
  *v = nv;
  return true;
}

}  // namespace gs::app
