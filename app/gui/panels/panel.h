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

// Where a panel opens the first time (or after View ▸ Reset layout), in pixels.
struct Rect {
  float x = 0, y = 0, w = 0, h = 0;
};
// The work area between the menu bar and the status bar; `line` is one row of widgets.
struct WorkArea {
  float x = 0, y = 0, w = 0, h = 0;
  float line = 30;
  bool left_column = true;  // some left-column panel is open (else the others take the width)
};

// The default arrangement: a left column (model & input over the tape), a strip along the top
// (transport), the op inspector filling the rest. New panels may cascade over it.
namespace layout {
inline float left_width(const WorkArea& a) {
  if (!a.left_column) return 0.0f;
  return std::clamp(a.w * 0.25f, std::min(a.w * 0.4f, 12.0f * a.line), 20.0f * a.line);
}
inline float top_height(const WorkArea& a) { return std::min(a.h * 0.45f, 5.6f * a.line); }
inline float model_height(const WorkArea& a) { return a.h * 0.45f; }
}  // namespace layout

class Panel {
 public:
  virtual ~Panel() = default;
  // The window title, unique; also its entry in the View menu.
  virtual const char* title() const = 0;
  virtual Rect home(const WorkArea& a) const { return {a.x + a.w * 0.3f, a.y + a.h * 0.2f, a.w * 0.4f, a.h * 0.5f}; }
  // Draws the window: Begin, "no model" when the panel needs one and there is none, else
  // contents(), then End.
  void draw(const Controller& c, PanelContext& ctx);
  // What the window shows, between Begin and End.
  virtual void contents(const Controller& c, PanelContext& ctx) = 0;
  // False: contents() runs without a model too (it shows what it can).
  virtual bool needs_model() const { return true; }
  virtual int window_flags() const { return 0; }
  // Lives in the default layout's left column (model & input, tape).
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

}  // namespace gs::app
