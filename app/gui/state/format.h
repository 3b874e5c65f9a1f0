#pragma once
// Text the views show: numbers sized for reading from the back of a room, token glyphs.
#include <cstdint>
#include <string>

#include "gradscope/ops.h"

namespace gs::app {

std::string human(double v);          // 1.23k, 4.56M, 7.89G (FLOPs, parameter counts)
std::string num(double v);            // a tensor entry: 6 significant digits, −∞ / NaN spelled out
std::string num_short(double v);      // 3 significant digits
// One token as a chip shows it: every space as ␣, a newline as ↵, a tab as →, other control
// characters as their control pictures (GPT-2 tokens hold several: " model" → "␣model").
std::string token_glyph(const std::string& tok);

// The value an op puts out, as a name to take ∂L/∂ of. An op named after a parameter (wte, wpe,
// a linear layer, a LoRA factor) would read like that parameter's gradient, so where the program
// recorded the output's letter in the equations (Op::symbol) it is called by that: "h (output of
// wpe)", "qkv (output of h.0.attn.c_attn)". Other ops' outputs keep the op's name (y1, D).
std::string value_label(const std::string& op_name, const std::string& symbol);

}  // namespace gs::app
