#pragma once
// The UI of one frame: keyboard shortcuts, the menu bar, every panel of the dispatch list and
// the status bar. It reads the controller and only pushes requests; main applies them once per
// frame before drawing. No GL here (heatmaps come through HeatmapProvider).
#include <memory>
#include <string>
#include <vector>

#include "controller.h"
#include "fonts.h"
#include "heatmap.h"
#include "panel.h"
#include "theme.h"

namespace gs::app {

class App {
 public:
  App(const Controller& c, HeatmapProvider& heatmaps);

  // Fonts or theme differ from the settings: call update_style() before ImGui::NewFrame(), then
  // (if it returns true) rebuild the renderer's font texture.
  bool update_style();
  void draw(RequestQueue& q);  // between NewFrame and Render
  bool quit_requested() const { return quit_; }
  const Palette& palette() const { return *palette_; }

  // Only the transport and the op inspector, across the whole width (View ▸ Presenter layout).
  void presenter_layout();
  // Opens the panels of these titles (any case; --show). Returns false, with `err` naming the
  // unknown title and the known ones, when one is not a panel; nothing is opened then.
  bool show_panels(const std::vector<std::string>& titles, std::string& err);
  // A line the status bar keeps showing (a shader or font problem).
  void add_warning(const std::string& w);
  // The start screen (Lessons ▸ Lessons …): the path of lessons.
  void show_lessons();
  // A lesson view's name (lesson.h's lesson_views(): "inspector", "wiggle" …) → its window's title.
  static const char* view_title(const std::string& view);
  const std::vector<std::unique_ptr<Panel>>& panels() const { return panels_; }

 private:
  void keys(RequestQueue& q);
  void menu(RequestQueue& q);
  void status_bar(PanelContext& ctx);
  float status_height() const;
  void place(const Panel& p);
  // In a lesson: the windows its step asks for (and the transport and the lesson), once per step.
  void lesson_layout();
  Panel* panel(const char* title);

  const Controller& c_;
  HeatmapProvider& heatmaps_;
  Fonts fonts_;
  const Palette* palette_ = nullptr;
  Theme theme_ = Theme::dark;
  bool styled_ = false;
  std::vector<std::unique_ptr<Panel>> panels_;
  std::vector<std::string> warnings_;
  bool reset_layout_ = false;
  bool quit_ = false;
  bool show_keys_ = false;
  std::string lesson_key_;  // the lesson step the windows were last arranged for
};

}  // namespace gs::app
