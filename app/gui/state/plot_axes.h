#pragma once
// Axes for the hand-drawn plots (ImGui 1.86 has no log axes): value ↔ pixel mapping on a
// linear or log10 scale, decade and "nice" ticks with their labels. No ImGui, no GL.
#include <string>
#include <vector>

namespace gs::app {

struct Axis {
  double lo = 0, hi = 1;  // the value range shown (lo < hi; both > 0 on a log axis)
  bool log = false;
  float p0 = 0, p1 = 1;   // pixels for lo and hi (p1 < p0 for a y axis growing upwards)

  float to_px(double v) const;
  double from_px(float px) const;
};

struct Tick {
  double value = 0;
  bool major = true;
  std::string label;  // "" for minor ticks
};

// Decades 10^a … 10^b covering [lo, hi] as major ticks ("10⁻⁶"), 2…9 × 10^a as minor ones.
// When the range spans many decades, majors are thinned to at most max_labels labels.
std::vector<Tick> log_ticks(double lo, double hi, int max_labels = 8);
// Round steps (1, 2, 5 × 10^k) over [lo, hi], about `target` of them.
std::vector<Tick> linear_ticks(double lo, double hi, int target = 5);

// The smallest whole-decade range holding every positive finite value (1 … 10 if none).
void decade_range(const std::vector<double>& v, double& lo, double& hi);
// A padded range holding every finite value (a flat series gets ±1 or ±10 %).
void padded_range(const std::vector<double>& v, double& lo, double& hi, double pad = 0.05);

// "10⁻⁶", "10³", "1" with real superscripts.
std::string decade_label(int exponent);

}  // namespace gs::app
