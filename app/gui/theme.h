#pragma once
// Two presenter themes: dark, and light high-contrast (black on white, strong borders) for
// bright rooms and weak projectors. Also the handful of colours the views use for meaning.
#include <imgui.h>

#include "requests.h"

namespace gs::app {

struct Palette {
  ImU32 ok, bad, warn;       // ✓ pass, ✗ fail / errors, warnings and planted mistakes
  ImU32 dim;                 // "not computed yet", secondary text
  ImU32 forward, backward;   // the two halves of the tape
  ImU32 current_row;         // the op the cursor is on
  ImU32 done_row;            // ops the cursor has passed in this half
  ImU32 chip_bg, chip_border, chip_text;
  ImU32 hover;               // outline of the entry under the mouse
  ImVec4 clear;              // behind all windows
};

// Sets ImGui's style for the theme at the font scale (sizes scaled with the text) and
// returns its palette.
const Palette& apply_theme(Theme t, float scale);
const Palette& palette(Theme t);

}  // namespace gs::app
