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
  std::string out;
  for (const char ch : tok) {
    const unsigned char u = static_cast<unsigned char>(ch);
    if (ch == ' ') out += "␣";
    else if (ch == '\n') out += "↵";
    else if (ch == '\t') out += "→";
    else if (u < 0x20) out += "\xE2\x90" + std::string(1, static_cast<char>(0x80 + u));  // U+2400 + u: ␀ … ␟
    else if (u == 0x7F) out += "␡";
    else out += ch;
  }
  return out;
}

std::string value_label(const std::string& op_name, const std::string& symbol) {
  if (symbol.empty() || symbol == op_name) return op_name;
  return symbol + " (output of " + op_name + ")";
}

}  // namespace gs::app
