#pragma once
// Where every window of the app goes (no ImGui, no GL): one pure function of the work area (the
// framebuffer between the menu bar and the status bar), the text size (WorkArea::line, one row
// of widgets in pixels), the chosen arrangement and the panels that are open. Dear ImGui 1.86
// has no docking, so the app applies these rectangles itself, every frame, while a panel is in
// the layout (SetNextWindowPos/Size with ImGuiCond_Always); a panel the user drags out or
// resizes leaves the layout until View ▸ Reset layout.
//
// A panel takes part by its Role:
//   main      the op inspector: what is left in the middle once the others have their room; the
//             layout guarantees nothing laid out covers it
//   top       a strip across the top of the middle (the transport)
//   left      the left column: model & input over the tape (the standard arrangement only;
//             the presenter arrangement treats these as side panels)
//   side      a secondary view (Graph, FLOPs, Training …; the default for a new panel): stacked
//             in the side column at the right of the inspector, or one tab of the side strip
//   lesson    a narrative panel (a lesson's text): a column at the left edge, full height,
//             beside everything else
//   floating  not laid out at all: opens where Panel::home() says, and moves freely
#include <string>
#include <vector>

namespace gs::app {

// A window's place, in pixels.
struct Rect {
  float x = 0, y = 0, w = 0, h = 0;
  float right() const { return x + w; }
  float bottom() const { return y + h; }
  bool empty() const { return w <= 0 || h <= 0; }
};
// Whether the interiors of two rectangles meet (rectangles that only touch do not).
bool overlaps(const Rect& a, const Rect& b, float tolerance = 0.5f);
// Whether `inner` lies inside `outer`.
bool contains(const Rect& outer, const Rect& inner, float tolerance = 0.5f);

// The work area between the menu bar and the status bar; `line` is one row of widgets (the
// frame height with spacing at the current text size).
struct WorkArea {
  float x = 0, y = 0, w = 0, h = 0;
  float line = 30;
  bool left_column = true;  // (kept for panels' home(); the layout decides for itself)
};

enum class Role { main, top, left, side, lesson, floating };
const char* role_name(Role r);

// standard: left column, transport, inspector, side column. presenter: no left column, a
// compact transport, the inspector as wide as the side panels leave it.
enum class Arrangement { standard, presenter };
// The side panels: one above the other in a column (as many as fit at six rows each; more
// become tabs), or sharing one place as tabs.
enum class SideMode { column, tabs };

struct LayoutOptions {
  Arrangement arrangement = Arrangement::standard;
  SideMode side = SideMode::column;
  // A side panel that takes the middle instead of the inspector (which then heads the side
  // column): a lesson step's first view. −1: none. With no main panel open, the first side
  // panel takes the middle anyway (the middle is never left empty while a view is open).
  int focus = -1;
};

struct LayoutPanel {
  std::string title;
  Role role = Role::side;
  bool open = true;
  bool detached = false;  // dragged or resized out of the layout by the user
};

struct Layout {
  // One per panel, in the order given: where it goes. Empty for a panel that is not laid out
  // (closed, detached, floating, or drawn inside the tab strip).
  std::vector<Rect> rects;
  Rect main;                     // the inspector's place (also when it is closed: the middle)
  Rect side;                     // the side column or the tab strip; empty when no side panel is open
  bool tabs = false;             // side panels share `side` as tabs
  std::vector<int> tab_panels;   // which panels are tabs there, in order
  float top_height = 0;          // the top strip's height (0 when none is open)
};

// The transport's height in a given arrangement, for a text size `line`.
float top_strip_height(const WorkArea& a, Arrangement arr);

Layout compute_layout(const WorkArea& a, const LayoutOptions& o, const std::vector<LayoutPanel>& panels);

// The role a panel has in an arrangement: the presenter arrangement has no left column, so its
// left panels go to the side.
Role effective_role(Role r, Arrangement arr);

}  // namespace gs::app
