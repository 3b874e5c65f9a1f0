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

std::string value_label(const std::string& op_name, OpType type, bool named_after_param) {
  if (!named_after_param) return op_name;
  // The target linear layer of a LoRA factor: "h.0.attn.c_attn.lora_B" → "h.0.attn.c_attn".
  const size_t lora = op_name.rfind(".lora_");
  const std::string layer = lora == std::string::npos ? op_name : op_name.substr(0, lora);
  auto letter_of = [&](const std::string& l) -> std::string {
    auto is = [&](const char* s) {
      const std::string e(s);
      return l.size() >= e.size() && l.compare(l.size() - e.size(), e.size(), e) == 0;
    };
    if (is("attn.c_attn")) return "qkv";
    if (is("attn.c_proj")) return "o";
    if (is("mlp.c_fc")) return "u";
    if (is("mlp.c_proj")) return "z";
    return "Y";
  };
  std::string letter;
  switch (type) {
    case OpType::embedding: letter = "wte[x]"; break;        // the rows of the token embedding
    case OpType::pos_embedding: letter = "h"; break;         // h = wte[x] + wpe[0…T−1]
    case OpType::lora_down: letter = "X·A"; break;
    case OpType::linear:
    case OpType::lora_up: letter = letter_of(layer); break;  // Y = XW + b (+ (α/r)·(X·A)·B)
    default: return op_name;
  }
  return letter + " (output of " + op_name + ")";
}

}  // namespace gs::app
