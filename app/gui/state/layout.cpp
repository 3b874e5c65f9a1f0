#include "layout.h"

#include <algorithm>

namespace gs::app {

bool overlaps(const Rect& a, const Rect& b, float tol) {
  if (a.empty() || b.empty()) return false;
  return a.x + tol < b.right() && b.x + tol < a.right() && a.y + tol < b.bottom() && b.y + tol < a.bottom();
}

bool contains(const Rect& outer, const Rect& inner, float tol) {
  return inner.x >= outer.x - tol && inner.y >= outer.y - tol && inner.right() <= outer.right() + tol &&
         inner.bottom() <= outer.bottom() + tol;
}

const char* role_name(Role r) {
  switch (r) {
    case Role::main: return "main";
    case Role::top: return "top";
    case Role::left: return "left";
    case Role::side: return "side";
    case Role::lesson: return "lesson";
    case Role::floating: return "floating";
  }
  return "?";
}

Role effective_role(Role r, Arrangement arr) {
  if (arr == Arrangement::presenter && r == Role::left) return Role::side;
  return r;
}

float top_strip_height(const WorkArea& a, Arrangement arr) {
  // standard: a title bar, the big title line, the buttons, the scrubber (4.4 rows of widgets);
  // presenter: no title bar, the buttons and the scrubber on one row.
  return (arr == Arrangement::presenter ? 1.55f : 4.4f) * a.line;
}

namespace {

// lo ≤ v ≤ hi with lo winning when the range is empty (std::clamp would be undefined).
float fit(float v, float lo, float hi) { return std::max(lo, std::min(v, hi)); }

// Splits [y, y+h) among n panels, one above the other; `first` is the first one's share.
void stack(std::vector<Rect>& rects, const std::vector<int>& ids, float x, float y, float w, float h, float first = 0) {
  const int n = static_cast<int>(ids.size());
  if (n == 0) return;
  float at = y;
  for (int i = 0; i < n; ++i) {
    float hi = h / n;
    if (first > 0 && n == 2) hi = i == 0 ? h * first : h - h * first;
    if (i == n - 1) hi = y + h - at;  // no gap from rounding
    rects[ids[i]] = {x, at, w, hi};
    at += hi;
  }
}

}  // namespace

Layout compute_layout(const WorkArea& a, const LayoutOptions& o, const std::vector<LayoutPanel>& panels) {
  Layout L;
  const int n = static_cast<int>(panels.size());
  L.rects.assign(n, Rect{});
  std::vector<int> lesson, left, top, side, main;
  for (int i = 0; i < n; ++i) {
    const LayoutPanel& p = panels[i];
    if (!p.open || p.detached) continue;
    switch (effective_role(p.role, o.arrangement)) {
      case Role::lesson: lesson.push_back(i); break;
      case Role::left: left.push_back(i); break;
      case Role::top: top.push_back(i); break;
      case Role::side: side.push_back(i); break;
      case Role::main: main.push_back(i); break;
      case Role::floating: break;
    }
  }
  // The middle: the inspector, or the side panel in focus (the inspector then joins the side).
  int promote = -1;
  if (std::find(side.begin(), side.end(), o.focus) != side.end())
    promote = o.focus;
  else if (main.empty() && !side.empty())
    promote = side.front();
  if (promote >= 0) {
    side.erase(std::find(side.begin(), side.end(), promote));
    side.insert(side.begin(), main.begin(), main.end());
    main = {promote};
  }
  const float W = std::max(a.w, 1.0f), H = std::max(a.h, 1.0f), line = std::max(a.line, 1.0f);

  // Column widths, each from the width that is left for it.
  float wl = 0, wc = 0, ws = 0;
  auto widths = [&] {
    wl = wc = ws = 0;
    if (!lesson.empty()) wl = fit(0.28f * W, std::min(7.0f * line, 0.36f * W), 0.36f * W);
    if (!left.empty()) {
      const float R = W - wl;
      wc = fit(0.25f * R, std::min(12.0f * line, 0.4f * R), std::min(20.0f * line, 0.4f * R));
    }
    if (!side.empty()) {
      const float R = W - wl - wc;
      // Beside a lesson's column the views it shows give the inspector more of the room.
      // So do the presenter's: its inspector is the picture the room reads.
      const bool presenter = o.arrangement == Arrangement::presenter;
      ws = !lesson.empty() || presenter ? fit(0.34f * R, std::min(10.0f * line, 0.36f * R), 0.45f * R)
                                        : fit(0.34f * R, std::min(14.0f * line, 0.45f * R), 0.5f * R);
    }
    // The inspector keeps at least a third of the width: the columns give way in proportion.
    const float min_main = W / 3.0f;
    if (W - wl - wc - ws < min_main) {
      const float k = (W - min_main) / std::max(wl + wc + ws, 1.0f);
      wl *= k;
      wc *= k;
      ws *= k;
    }
  };
  // Beside a lesson's column, a step's model & input or tape goes with the other views at the
  // right: the lesson, the inspector and what the step points at read left to right.
  if (!lesson.empty() && !left.empty()) {
    side.insert(side.begin(), left.begin(), left.end());
    left.clear();
  }
  widths();
  // Three columns beside the inspector do not fit (large text on a small screen): the left
  // panels join the side column, above the secondary ones.
  const float narrow = 6.0f * line;
  if (!left.empty() && !side.empty() && (wc < narrow || ws < narrow || (!lesson.empty() && wl < narrow))) {
    side.insert(side.begin(), left.begin(), left.end());
    left.clear();
    widths();
  }

  float x0 = a.x;
  const float x1 = a.x + W, y0 = a.y, y1 = a.y + H;
  stack(L.rects, lesson, x0, y0, wl, H);
  x0 += wl;
  stack(L.rects, left, x0, y0, wc, H, 0.45f);  // model & input over the tape
  x0 += wc;

  float ym = y0;
  if (!top.empty()) {
    L.top_height = std::min(top_strip_height(a, o.arrangement), 0.45f * H);
    const float w = (x1 - x0) / static_cast<float>(top.size());
    for (size_t i = 0; i < top.size(); ++i) L.rects[top[i]] = {x0 + w * static_cast<float>(i), y0, w, L.top_height};
    ym = y0 + L.top_height;
  }

  if (!side.empty()) {
    L.side = {x1 - ws, ym, ws, y1 - ym};
    // A column holds the panels that fit at six rows each or more; beyond that they share the
    // place as tabs, which a class can still read.
    const bool fits = L.side.h / static_cast<float>(side.size()) >= 6.0f * line;
    if (o.side == SideMode::tabs || !fits) {
      L.tabs = true;
      L.tab_panels = side;
    } else {
      stack(L.rects, side, L.side.x, L.side.y, L.side.w, L.side.h);
    }
  }
  L.main = {x0, ym, x1 - ws - x0, y1 - ym};
  for (int i : main) L.rects[i] = L.main;
  return L;
}

}  // namespace gs::app
