#include "plot_axes.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace gs::app {

float Axis::to_px(double v) const {
  double t;
  if (log) {
    const double a = std::log10(lo), b = std::log10(hi);
    t = v > 0 ? (std::log10(v) - a) / (b - a) : -1.0;
  } else {
    t = (v - lo) / (hi - lo);
  }
  return static_cast<float>(p0 + t * (p1 - p0));
}

double Axis::from_px(float px) const {
  const double t = (px - p0) / static_cast<double>(p1 - p0);
  if (log) {
    const double a = std::log10(lo), b = std::log10(hi);
    return std::pow(10.0, a + t * (b - a));
  }
  return lo + t * (hi - lo);
}

std::string decade_label(int e) {
  if (e == 0) return "1";
  if (e == 1) return "10";
  static const char* sup[] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};
  std::string s = "10";
  if (e < 0) s += "⁻";
  const std::string digits = std::to_string(std::abs(e));
  for (char d : digits) s += sup[d - '0'];
  return s;
}

std::vector<Tick> log_ticks(double lo, double hi, int max_labels) {
  std::vector<Tick> t;
  if (!(lo > 0) || !(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return t;
  const int a = static_cast<int>(std::floor(std::log10(lo) + 1e-9));
  const int b = static_cast<int>(std::ceil(std::log10(hi) - 1e-9));
  const int decades = b - a + 1;
  const int every = std::max(1, (decades + std::max(1, max_labels) - 1) / std::max(1, max_labels));
  const bool minors = decades <= 14;
  for (int e = a; e <= b; ++e) {
    const double v = std::pow(10.0, e);
    if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9))
      t.push_back({v, true, (e - a) % every == 0 ? decade_label(e) : std::string()});
    if (!minors) continue;
    for (int m = 2; m <= 9; ++m) {
      const double mv = m * v;
      if (mv > lo && mv < hi) t.push_back({mv, false, ""});
    }
  }
  std::sort(t.begin(), t.end(), [](const Tick& x, const Tick& y) { return x.value < y.value; });
  return t;
}

std::vector<Tick> linear_ticks(double lo, double hi, int target) {
  std::vector<Tick> t;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return t;
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  const double first = std::ceil(lo / step - 1e-9) * step;
  for (int i = 0; i < 1000; ++i) {
    double v = first + i * step;
    if (v > hi + step * 1e-9) break;
    if (std::abs(v) < step * 1e-9) v = 0;  // no "−0"
    char b[32];
    snprintf(b, sizeof b, "%g", v);
    t.push_back({v, true, b});
  }
  return t;
}

void decade_range(const std::vector<double>& v, double& lo, double& hi) {
  double mn = HUGE_VAL, mx = 0;
  for (double x : v)
    if (x > 0 && std::isfinite(x)) {
      mn = std::min(mn, x);
      mx = std::max(mx, x);
    }
  if (mx == 0) {
    lo = 1;
    hi = 10;
    return;
  }
  lo = std::pow(10.0, std::floor(std::log10(mn) + 1e-9));
  hi = std::pow(10.0, std::ceil(std::log10(mx) - 1e-9));
  if (hi <= lo) hi = lo * 10;
}

void padded_range(const std::vector<double>& v, double& lo, double& hi, double pad) {
  double mn = HUGE_VAL, mx = -HUGE_VAL;
  for (double x : v)
    if (std::isfinite(x)) {
      mn = std::min(mn, x);
      mx = std::max(mx, x);
    }
  if (mn > mx) {
    lo = 0;
    hi = 1;
    return;
  }
  if (mx == mn) {
    const double d = mn == 0 ? 1.0 : std::abs(mn) * 0.1;
    lo = mn - d;
    hi = mx + d;
    return;
  }
  const double d = (mx - mn) * pad;
  lo = mn - d;
  hi = mx + d;
}

}  // namespace gs::app
