#pragma once
// Text the views show: numbers sized for reading from the back of a room, token glyphs.
#include <cstdint>
#include <string>

namespace gs::app {

std::string human(double v);          // 1.23k, 4.56M, 7.89G (FLOPs, parameter counts)
std::string num(double v);            // a tensor entry: 6 significant digits, −∞ / NaN spelled out
std::string num_short(double v);      // 3 significant digits
// One token as a chip shows it: a space as ␣, a newline as ↵, a tab as →.
std::string token_glyph(const std::string& tok);

}  // namespace gs::app
