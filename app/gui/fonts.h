#pragma once
// The app's fonts: DejaVu Sans for text and formulas (with the maths glyphs the formulas use:
// ∂ ᵀ ⊙ Σ √ ε σ μ γ β α ℓ − × ≤ → ← …), DejaVu Sans Mono for numbers, a larger bold face for
// the current op. Rebuilt at each font scale so text stays sharp on a projector.
#include <string>

struct ImFont;

namespace gs::app {

struct Fonts {
  ImFont* ui = nullptr;
  ImFont* mono = nullptr;
  ImFont* big = nullptr;
  float scale = 0;          // the scale the atlas was built at
  std::string error;        // a font file that could not be loaded ("" if all loaded)
  static constexpr float kBasePx = 18.0f;
};

// Clears ImGui's font atlas and adds the fonts at kBasePx·scale. The renderer's font texture
// must be rebuilt afterwards (ImGui_ImplOpenGL3_CreateFontsTexture).
void build_fonts(Fonts& f, float scale);

// Every character the op table, the mistakes and the views use, for the glyph ranges.
const char* glyph_text();

}  // namespace gs::app
