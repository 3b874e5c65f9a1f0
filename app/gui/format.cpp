#include "format.h"

#include <cmath>
#include <cstdio>

namespace gs::app {

std::string human(double v) {
  char b[32];
  const double a = std::abs(v);
  if (a >= 1e12) snprintf(b, sizeof b, "%.2fT", v / 1e12);
  else if (a >= 1e9) snprintf(b, sizeof b, "%.2fG", v / 1e9);
  else if (a >= 1e6) snprintf(b, sizeof b, "%.2fM", v / 1e6);
  else if (a >= 1e3) snprintf(b, sizeof b, "%.2fk", v / 1e3);
  else snprintf(b, sizeof b, "%.0f", v);
  return b;
}

namespace {
std::string fmt(double v, int digits) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v < 0 ? "−∞" : "+∞";
  if (v == 0) v = 0;  // no "−0"
  char b[48];
  snprintf(b, sizeof b, "%.*g", digits, v);
  std::string s = b;
  if (!s.empty() && s[0] == '-') s.replace(0, 1, "−");  // a real minus sign reads better
  return s;
}
}  // namespace

std::string num(double v) { return fmt(v, 6); }
std::string num_short(double v) { return fmt(v, 3); }

std::string token_glyph(const std::string& tok) {
  if (tok == " ") return "␣";
  if (tok == "\n") return "↵";
  if (tok == "\t") return "→";
  return tok;
}

}  // namespace gs::app
