#pragma once
// A panel is one window of the app, in one file (panel_<name>.cpp). It keeps only display
// state; it reads the controller (const) and asks for changes by pushing requests, which the
// app applies once per frame before drawing. The app draws every panel of the dispatch list
// (make_panels() in panels.cpp) in order.
#include <algorithm>
#include <memory>
#include <vector>

#include "controller.h"
#include "fonts.h"
#include "heatmap.h"
#include "layout.h"
#include "requests.h"
#include "theme.h"

namespace gs::app {

// What a panel gets besides the controller.
struct PanelContext {
  RequestQueue& requests;
  HeatmapProvider& heatmaps;
  const Fonts& fonts;
  const Palette& palette;
  float scale = 1.0f;  // the font scale: multiply pixel sizes by it
};

// Sizes for a floating panel's home() and the panels' own proportions (the layout itself is
// layout.h's compute_layout: Rect, WorkArea and Role come from there).
namespace layout {
inline float left_width(const WorkArea& a) {
  if (!a.left_column) return 0.0f;
  return std::clamp(a.w * 0.25f, std::min(a.w * 0.4f, 12.0f * a.line), std::max(std::min(a.w * 0.4f, 12.0f * a.line), 20.0f * a.line));
}
inline float top_height(const WorkArea& a) { return std::min(a.h * 0.45f, 4.4f * a.line); }
}  // namespace layout

class Panel {
 public:
  virtual ~Panel() = default;
  // The window title, unique; also its entry in the View menu.
  virtual const char* title() const = 0;
  // Where it goes on screen (layout.h): the inspector is `main`, the transport `top`, model &
  // input and the tape `left`; every other panel is a secondary view, `side` (beside the
  // inspector, in the side column or the tab strip), unless it says otherwise. A lesson's text
  // says `lesson`: a column at the left edge that never covers the inspector. To put a set of
  // panels on screen (a lesson step), push req::ShowPanels{{"Graph", "FLOPs"}}: they open,
  // the others close, and the screen is laid out again.
  virtual Role role() const { return left_column() ? Role::left : Role::side; }
  // Where a `floating` panel opens the first time (the others are placed by compute_layout; one
  // dragged out of the layout stays where it was dropped).
  virtual Rect home(const WorkArea& a) const { return {a.x + a.w * 0.3f, a.y + a.h * 0.2f, a.w * 0.4f, a.h * 0.5f}; }
  // Draws the window: Begin (with `extra_flags` besides window_flags()), "no model" when the
  // panel needs one and there is none, else contents(), then End.
  void draw(const Controller& c, PanelContext& ctx, int extra_flags = 0);
  // What draw() puts between Begin and End: for a panel shown inside another window (a tab).
  void draw_body(const Controller& c, PanelContext& ctx);
  // What the window shows, between Begin and End.
  virtual void contents(const Controller& c, PanelContext& ctx) = 0;
  // False: contents() runs without a model too (it shows what it can).
  virtual bool needs_model() const { return true; }
  virtual int window_flags() const { return 0; }
  // Lives in the left column (model & input, tape): the same as role() Role::left.
  virtual bool left_column() const { return false; }
  bool open = true;
};

// The dispatch list, in drawing order.
std::vector<std::unique_ptr<Panel>> make_panels();

std::unique_ptr<Panel> make_model_panel();
std::unique_ptr<Panel> make_transport_panel();
std::unique_ptr<Panel> make_tape_panel();
std::unique_ptr<Panel> make_inspector_panel();
std::unique_ptr<Panel> make_graph_panel();
std::unique_ptr<Panel> make_fd_panel();
std::unique_ptr<Panel> make_flops_panel();
std::unique_ptr<Panel> make_training_panel();
std::unique_ptr<Panel> make_attention_panel();
std::unique_ptr<Panel> make_mistakes_panel();
std::unique_ptr<Panel> make_lesson_panel();
std::unique_ptr<Panel> make_lessons_panel();
std::unique_ptr<Panel> make_wiggle_panel();
std::unique_ptr<Panel> make_update_panel();
std::unique_ptr<Panel> make_predictions_panel();

}  // namespace gs::app
