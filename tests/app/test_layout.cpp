// The window layout (layout.h): at the screens a class uses (1280×720 with large text, 1600×900,
// 1920×1080), in both arrangements and both side modes, with every combination of panels open,
// no window laid out overlaps the inspector or another laid-out window, every one stays on
// screen, and the inspector keeps a usable share of the screen.
#include <gtest/gtest.h>

#include <algorithm>

#include <string>
#include <vector>

#include "layout.h"

namespace gs::app {
namespace {

// The app's panels by role, plus two a lesson adds (a narrative column and a new secondary view).
std::vector<LayoutPanel> panels() {
  return {{"Model & input", Role::left}, {"Transport", Role::top},         {"Tape", Role::left},
          {"Op inspector", Role::main},  {"Graph", Role::side},            {"Finite differences", Role::side},
          {"FLOPs", Role::side},         {"Training", Role::side},         {"Attention", Role::side},
          {"Planted mistakes", Role::side}, {"Predictions", Role::side},   {"Lesson", Role::lesson},
          {"Wiggle", Role::side},        {"Floating", Role::floating}};
}

struct Screen {
  float w, h, font;
};
// The menu bar and the status bar take about one row each; `line` grows with the text.
WorkArea area(const Screen& s) {
  const float line = 35.0f * s.font;  // ImGui's frame height with spacing at 18 px × font
  WorkArea a;
  a.x = 0;
  a.y = 28.0f * s.font;
  a.w = s.w;
  a.h = s.h - a.y - 38.0f * s.font;
  a.line = line;
  return a;
}

const Screen kScreens[] = {{1280, 720, 1.6f}, {1280, 720, 1.0f}, {1600, 900, 1.0f}, {1600, 900, 1.6f}, {1920, 1080, 1.0f},
                           {1920, 1080, 2.0f}};

void check(const WorkArea& a, const LayoutOptions& o, const std::vector<LayoutPanel>& ps, const std::string& what) {
  const Layout L = compute_layout(a, o, ps);
  ASSERT_EQ(L.rects.size(), ps.size()) << what;
  const Rect screen{a.x, a.y, a.w, a.h};
  int main = -1;
  for (size_t i = 0; i < ps.size(); ++i)
    if (ps[i].role == Role::main) main = static_cast<int>(i);
  // The inspector: in the middle, at least a third of the width and half the height.
  EXPECT_FALSE(L.main.empty()) << what;
  EXPECT_TRUE(contains(screen, L.main)) << what;
  EXPECT_GE(L.main.w, a.w / 3.0f - 1.0f) << what;
  EXPECT_GE(L.main.h, a.h * 0.5f) << what;
  if (main >= 0 && ps[main].open) {
    EXPECT_EQ(L.rects[main].x, L.main.x) << what;
    EXPECT_EQ(L.rects[main].w, L.main.w) << what;
  }
  for (size_t i = 0; i < ps.size(); ++i) {
    const Rect& r = L.rects[i];
    const bool shown = ps[i].open && !ps[i].detached && ps[i].role != Role::floating;
    const bool tab = L.tabs && std::find(L.tab_panels.begin(), L.tab_panels.end(), static_cast<int>(i)) != L.tab_panels.end();
    if (!shown || tab) {
      EXPECT_TRUE(r.empty()) << what << ": " << ps[i].title << " is not laid out, yet has a rectangle";
      continue;
    }
    EXPECT_FALSE(r.empty()) << what << ": " << ps[i].title << " is open but has no place";
    EXPECT_TRUE(contains(screen, r)) << what << ": " << ps[i].title << " leaves the screen";
    if (static_cast<int>(i) != main) {
      EXPECT_FALSE(overlaps(r, L.main)) << what << ": " << ps[i].title << " covers the inspector";
    }
    for (size_t j = i + 1; j < ps.size(); ++j)
      EXPECT_FALSE(overlaps(r, L.rects[j])) << what << ": " << ps[i].title << " overlaps " << ps[j].title;
    // A panel big enough to read: a few rows of text and some width.
    EXPECT_GE(r.h, 1.5f * a.line) << what << ": " << ps[i].title;  // a row of widgets and its padding
    EXPECT_GE(r.w, std::min(5.5f * a.line, a.w / 4.0f)) << what << ": " << ps[i].title;
  }
  if (L.tabs) {
    EXPECT_FALSE(L.side.empty()) << what;
    EXPECT_FALSE(overlaps(L.side, L.main)) << what << ": the tab strip covers the inspector";
    for (size_t i = 0; i < ps.size(); ++i) EXPECT_FALSE(overlaps(L.side, L.rects[i])) << what << ": " << ps[i].title;
  }
}

TEST(layout, nothing_covers_the_inspector_at_any_screen_or_set_of_panels) {
  const std::vector<LayoutPanel> base = panels();
  // Every subset of the optional panels (all but transport and inspector), by bit mask.
  std::vector<size_t> optional;
  for (size_t i = 0; i < base.size(); ++i)
    if (base[i].role != Role::main && base[i].role != Role::top) optional.push_back(i);
  int cases = 0;
  for (const Screen& s : kScreens)
    for (Arrangement arr : {Arrangement::standard, Arrangement::presenter})
      for (SideMode side : {SideMode::column, SideMode::tabs})
        for (unsigned mask = 0; mask < (1u << optional.size()); mask += 7) {  // a spread of the 4096 subsets
          std::vector<LayoutPanel> ps = base;
          for (size_t b = 0; b < optional.size(); ++b) ps[optional[b]].open = (mask >> b) & 1u;
          const std::string what = std::to_string(static_cast<int>(s.w)) + "x" + std::to_string(static_cast<int>(s.h)) +
                                   " font " + std::to_string(s.font) + (arr == Arrangement::presenter ? " presenter" : " standard") +
                                   (side == SideMode::tabs ? " tabs" : " column") + " mask " + std::to_string(mask);
          check(area(s), {arr, side}, ps, what);
          ++cases;
          if (::testing::Test::HasFailure()) return;
        }
  EXPECT_GT(cases, 1000);
}

TEST(layout, the_presenter_layout_gives_the_inspector_the_width) {
  const WorkArea a = area({1280, 720, 1.6f});
  std::vector<LayoutPanel> ps = panels();
  for (auto& p : ps) p.open = p.role == Role::main || p.role == Role::top;
  const Layout L = compute_layout(a, {Arrangement::presenter, SideMode::column}, ps);
  EXPECT_FLOAT_EQ(L.main.x, a.x);
  EXPECT_FLOAT_EQ(L.main.w, a.w);
  // A compact transport: less than a quarter of the height, so the maps get the rest.
  EXPECT_LT(L.top_height, 0.25f * a.h);
  EXPECT_FLOAT_EQ(L.main.y, a.y + L.top_height);
  EXPECT_FLOAT_EQ(L.main.bottom(), a.y + a.h);
  // The standard arrangement puts the left column beside it.
  for (auto& p : ps) p.open = p.role != Role::side && p.role != Role::lesson && p.role != Role::floating;
  const Layout S = compute_layout(a, {Arrangement::standard, SideMode::column}, ps);
  EXPECT_GT(S.main.x, a.x);
  EXPECT_LT(S.main.w, a.w);
  // Left panels opened in the presenter layout go to the side, not back into a left column.
  const Layout P = compute_layout(a, {Arrangement::presenter, SideMode::column}, ps);
  EXPECT_FLOAT_EQ(P.main.x, a.x);
  EXPECT_FALSE(P.side.empty());
}

TEST(layout, side_panels_stack_in_a_column_or_share_one_place_as_tabs) {
  const WorkArea a = area({1600, 900, 1.0f});
  std::vector<LayoutPanel> ps = panels();
  for (auto& p : ps) p.open = p.role != Role::lesson && p.role != Role::floating;
  const int graph = 4, fd = 5;
  ASSERT_EQ(ps[graph].title, "Graph");
  // Eight secondary panels do not fit in one column at six rows each: they become tabs.
  EXPECT_TRUE(compute_layout(a, {Arrangement::standard, SideMode::column}, ps).tabs);
  const std::vector<LayoutPanel> all = ps;
  for (auto& p : ps)
    p.open = p.role == Role::left || p.role == Role::top || p.role == Role::main || p.title == "Graph" ||
             p.title == "Finite differences";
  const Layout col = compute_layout(a, {Arrangement::standard, SideMode::column}, ps);
  EXPECT_FALSE(col.tabs);
  EXPECT_FLOAT_EQ(col.rects[graph].x, col.rects[fd].x);  // one column
  EXPECT_LT(col.rects[graph].y, col.rects[fd].y);        // one above the other
  EXPECT_FLOAT_EQ(col.rects[graph].right(), a.x + a.w);  // at the right edge
  EXPECT_GE(col.main.right(), col.rects[graph].x - 0.5f);
  const Layout tabs = compute_layout(a, {Arrangement::standard, SideMode::tabs}, all);
  EXPECT_TRUE(tabs.tabs);
  EXPECT_TRUE(tabs.rects[graph].empty());
  EXPECT_EQ(std::count(tabs.tab_panels.begin(), tabs.tab_panels.end(), graph), 1);
  EXPECT_EQ(tabs.tab_panels.size(), 8u);  // the seven secondary panels and the new one
  EXPECT_FLOAT_EQ(tabs.side.x, col.rects[graph].x);
  // No side panel open: the inspector takes the width up to the right edge.
  for (auto& p : ps)
    if (p.role == Role::side) p.open = false;
  const Layout none = compute_layout(a, {Arrangement::standard, SideMode::column}, ps);
  EXPECT_TRUE(none.side.empty());
  EXPECT_FLOAT_EQ(none.main.right(), a.x + a.w);
}

TEST(layout, a_lesson_column_sits_at_the_left_edge_beside_everything) {
  const WorkArea a = area({1920, 1080, 1.0f});
  std::vector<LayoutPanel> ps = panels();
  for (auto& p : ps) p.open = p.role == Role::main || p.role == Role::top || p.title == "Lesson" || p.title == "Graph";
  const int lesson = 11, transport = 1;
  ASSERT_EQ(ps[lesson].title, "Lesson");
  const Layout L = compute_layout(a, {Arrangement::presenter, SideMode::column}, ps);
  EXPECT_FLOAT_EQ(L.rects[lesson].x, a.x);
  EXPECT_FLOAT_EQ(L.rects[lesson].y, a.y);
  EXPECT_FLOAT_EQ(L.rects[lesson].h, a.h);  // the whole height: the text reads top to bottom
  EXPECT_FLOAT_EQ(L.main.x, L.rects[lesson].right());
  EXPECT_FLOAT_EQ(L.rects[transport].x, L.rects[lesson].right());
  EXPECT_FALSE(overlaps(L.rects[lesson], L.main));

  // A step that shows the tape (a left panel): beside a lesson it goes to the right of the
  // inspector, so the lesson, the inspector and the view read left to right.
  int tape = -1;
  for (int i = 0; i < static_cast<int>(ps.size()); ++i)
    if (ps[i].title == "Tape") tape = i;
  ASSERT_GE(tape, 0);
  ps[tape].open = true;
  for (const WorkArea& w : {area({1600, 900, 1.0f}), area({1280, 720, 1.6f})}) {
    const Layout M = compute_layout(w, {Arrangement::standard, SideMode::column}, ps);
    const bool tab = std::find(M.tab_panels.begin(), M.tab_panels.end(), tape) != M.tab_panels.end();
    EXPECT_GE(tab ? M.side.x : M.rects[tape].x, M.main.right() - 0.5f);
    EXPECT_FLOAT_EQ(M.main.x, M.rects[lesson].right());
    EXPECT_GE(M.main.w, 0.4f * w.w);  // the inspector keeps the most room of the three
  }
}

TEST(layout, a_detached_or_closed_panel_leaves_the_layout_and_the_others_fill_in) {
  const WorkArea a = area({1600, 900, 1.0f});
  std::vector<LayoutPanel> ps = panels();
  for (auto& p : ps)
    p.open = p.role == Role::left || p.role == Role::top || p.role == Role::main || p.title == "Graph" ||
             p.title == "Finite differences" || p.title == "FLOPs" || p.role == Role::floating;
  const int graph = 4, fd = 5;
  const Layout before = compute_layout(a, {Arrangement::standard, SideMode::column}, ps);
  ps[graph].detached = true;
  const Layout after = compute_layout(a, {Arrangement::standard, SideMode::column}, ps);
  EXPECT_TRUE(after.rects[graph].empty());
  EXPECT_LT(after.rects[fd].y, before.rects[fd].y);  // moved up into the room Graph left
  EXPECT_GT(after.rects[fd].h, before.rects[fd].h);
  // The floating panel is never laid out.
  EXPECT_TRUE(after.rects[13].empty());
}

TEST(layout, tiny_or_odd_work_areas_give_sizes_that_are_not_negative) {
  std::vector<LayoutPanel> ps = panels();
  for (const WorkArea& a : {WorkArea{0, 0, 320, 100, 63}, WorkArea{0, 20, 1, 1, 35}, WorkArea{0, 0, 5000, 300, 10}}) {
    const Layout L = compute_layout(a, {Arrangement::standard, SideMode::column}, ps);
    for (const Rect& r : L.rects) {
      EXPECT_GE(r.w, 0);
      EXPECT_GE(r.h, 0);
    }
    EXPECT_GT(L.main.w, 0);
    EXPECT_GT(L.main.h, 0);
  }
}

}  // namespace
}  // namespace gs::app
