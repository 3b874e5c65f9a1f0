#pragma once
// A small line plot drawn with ImDrawList on the axes of plot_axes.h: frame, grid, ticks and
// labels, series with optional markers, reference lines, and the point under the mouse (the
// caller writes its tooltip). Used by the finite-difference and training panels. No GL.
#include <imgui.h>

#include <string>
#include <vector>

#include "panel.h"
#include "plot_axes.h"

namespace gs::app {

struct PlotSeries {
  std::vector<double> x, y;
  ImU32 color = 0;
  bool markers = true;
  float thickness = 2.0f;  // × ctx.scale
  bool dashed = false;
};

// A straight reference line in value space (vertical: x = value; horizontal: y = value), or
// a segment from (x0, y0) to (x1, y1).
struct PlotLine {
  enum Kind { vertical, horizontal, segment } kind = vertical;
  double value = 0;
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  ImU32 color = 0;
  std::string label;
  bool dashed = true;
};

struct PlotSpec {
  std::string x_label, y_label;
  Axis x, y;          // lo, hi and log; pixels are filled in by plot()
  float height = 0;   // 0: 240 px × scale
  std::vector<PlotLine> lines;
};

struct PlotHit {
  int series = -1, index = -1;  // the point nearest the mouse (within a few pixels in x)
  bool hovered = false;         // the mouse is over the plot area
  double x = 0, y = 0;          // the mouse position in values
};

PlotHit plot(const char* id, PanelContext& ctx, PlotSpec& spec, const std::vector<PlotSeries>& series);

// A slider over log10(v) from lo to hi, snapped to `per_decade` steps per decade, showing
// the value as "1e-06" (ImGui 1.86's logarithmic flag treats values below the format's
// precision as zero, which rules it out for steps like 1e-12). Returns true when v changed.
bool log_slider(const char* id, double* v, double lo, double hi, int per_decade = 4);

}  // namespace gs::app
