#pragma once
// ImGui pieces the panels share: a tensor shown as a heatmap with its numbers and a hover
// tooltip, the "not computed yet" placeholder, token chips, titles. No GL here: heatmaps come
// from the HeatmapProvider.
#include <imgui.h>

#include <string>

#include "panel.h"
#include "tensor_grid.h"

namespace gs::app {

struct TensorViewOptions {
  float width = 0;        // 0: the available width
  float max_height = 0;   // 0: 260 px × scale
  bool stats = true;      // shape, min, max, mean, norm under the map
  bool legend = true;     // the colour scale's ends
  int64_t mark_row = -1;  // outline this row of the grid (the row a Jacobian is shown for)
  // What the leading index stands for, so the hover tooltip can name the token:
  // positions: a tape tensor (B, T, ...) or (B, H, T, ...); vocab: a row per token id (wte).
  enum class Tokens { none, positions, vocab } tokens = Tokens::none;
};

// Caption, heatmap, numbers. A 1-entry tensor is shown as its number. Hovering an entry shows
// its index and value (and pushes req::Hover). `version` keys the heatmap cache.
void tensor_view(const Controller& c, PanelContext& ctx, const std::string& caption, const TensorRef& t,
                 ColorMode mode, uint64_t version, const TensorViewOptions& opt = {});

// A dimmed box where a tensor will be once the cursor gets there.
void not_computed(PanelContext& ctx, const std::string& caption, const Shape& shape,
                  const char* why = "not computed yet", float width = 0);

// A token as a chip: its text large, its id small under it; returns true if clicked.
bool token_chip(PanelContext& ctx, const char* id, const std::string& glyph, int token_id, bool dim = false);
ImVec2 token_chip_size(PanelContext& ctx, const std::string& glyph, int token_id);

// The running job (Controller::job()): a progress bar of `bar_width` with its percentage, a
// cancel button where it can be stopped (req::CancelJob), and what the job is doing: on the same
// line, or (stacked, for a narrow panel) wrapped on the lines below. Nothing when no job runs.
void job_progress(const Controller& c, PanelContext& ctx, float bar_width, bool with_phase = true, bool stacked = false);

// Text in a palette colour.
void colored_text(ImU32 col, const char* fmt, ...) IM_FMTARGS(2);
// A (?) that shows `text` on hover.
void help_marker(const char* text);
// Text in the mono font.
void mono_text(PanelContext& ctx, const char* fmt, ...) IM_FMTARGS(2);

std::string check_glyph(CheckMark m);  // ✓ ✗ · –

}  // namespace gs::app
