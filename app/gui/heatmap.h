#pragma once
// What the views ask of the heatmap renderer (the GL corner implements it). A heatmap is an
// opaque texture the views hand to ImGui::Image, plus the grid and numbers it was drawn from.
#include <imgui.h>

#include <cstdint>
#include <string>

#include "tensor_grid.h"

namespace gs::app {

// Sequential (viridis-like, min … max) for values; diverging (blue – white – red, centred on 0,
// ±max|x|) for gradients and derivatives. −∞ is hatched grey (masked attention scores), +∞
// hatched amber, NaN magenta, in both.
enum class ColorMode { sequential, diverging };

struct Heatmap {
  void* texture = nullptr;  // ImTextureID; null when the renderer is unavailable
  DisplayGrid grid;         // the cells drawn (values dropped after upload)
  TensorStats stats;
  ColorMode mode = ColorMode::sequential;
  double lo = 0, hi = 0;    // ends of the colour scale
  bool shared = false;      // the scale was given (shared with other maps), not the map's own
};

class HeatmapProvider {
 public:
  virtual ~HeatmapProvider() = default;
  // The heatmap of t, drawn when first asked for and cached by (data pointer, shape, version,
  // transposed, mode, range): an unchanged tensor is never uploaded again. `range` > 0 puts a
  // diverging map on the scale ±range (one scale shared by maps that are compared), else each
  // map has its own ±max|x|.
  virtual const Heatmap& get(const TensorRef& t, ColorMode mode, uint64_t version, double range) = 0;
  const Heatmap& get(const TensorRef& t, ColorMode mode, uint64_t version) { return get(t, mode, version, 0.0); }
  // A 1-row ramp of the colour map from its low end to its high end (for legends).
  virtual const Heatmap& legend(ColorMode mode) = 0;
  // Diverging maps on a signed-√ scale (small entries show); part of the cache key.
  virtual void set_boost(bool on) = 0;
  // Why heatmaps are unavailable ("" when they work).
  virtual const std::string& error() const = 0;
  // A draw-list callback from the renderer's GL corner that samples the font atlas smoothly
  // (user data non-null) or nearest (null): text drawn scaled, as in the zoomed graph, needs
  // the smooth filter. nullptr where there is no GL (tests).
  virtual ImDrawCallback font_filter() const { return nullptr; }
};

}  // namespace gs::app
