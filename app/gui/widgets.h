#pragma once
// ImGui pieces the panels share: a tensor shown as a heatmap with its numbers and a hover
// tooltip, the "not computed yet" placeholder, token chips, titles. No GL here: heatmaps come
// from the HeatmapProvider.
#include <imgui.h>

#include <functional>
#include <string>
#include <vector>

#include "axis_labels.h"
#include "panel.h"
#include "tensor_grid.h"

namespace gs::app {

// Entries to light up in a map: flat indices into the tensor's data, drawn in one colour.
struct MapMarks {
  std::vector<int64_t> entries;
  ImU32 colour = 0;
  bool fill = true;  // a translucent wash over the cells besides the outline
};

struct TensorViewOptions {
  float width = 0;        // 0: the available width
  float max_height = 0;   // 0: 260 px × scale; the map grows to fill it (and the width)
  bool stats = true;      // shape (and in full: min, max, mean, norm) under the map
  bool compact = false;   // the stats in one line (the rest in the tooltip of that line)
  bool legend = true;     // the colour scale's ends
  bool inline_number = false;  // a 1-entry tensor: its number on the caption's line, not large (a crowded column)
  int64_t mark_row = -1;  // outline this row of the grid (the row a Jacobian is shown for)
  // What the leading index stands for, so the hover tooltip can name the token:
  // positions: a tape tensor (B, T, ...) or (B, H, T, ...); vocab: a row per token id (wte).
  // (Without `axes`; with them the labels say it.)
  enum class Tokens { none, positions, vocab } tokens = Tokens::none;
  // The letters of the tensor's dimensions (Value::axes, Param::axes): rows and columns get
  // labels (tokens, heads, channels …), the shape is spelled out, entries are named in words.
  const std::vector<std::string>* axes = nullptr;
  const TokenText* text = nullptr;  // the tokens a T axis reads (GPT-2)
  bool labels = true;               // draw the row and column labels (with axes)
  std::string hover_key;            // what req::Hover/PinEntry call this map ("" = the caption)
  const std::vector<MapMarks>* marks = nullptr;  // entries to light up (the chain rule's)
  int64_t pinned = -1;              // the entry picked (a click), outlined
  double range = 0;                 // > 0: a diverging map on ±range, shared with other maps
  std::string zero_reason;          // why the tensor is all zero, said beside "all zero"
  const char* caption_tip = nullptr;  // what the caption's words mean, on hovering it
  // More lines in the hover tooltip for an entry (flat index): the chain rule's arithmetic.
  std::function<void(int64_t)> tooltip;
};

// What the pointer did on a map this frame.
struct TensorViewResult {
  int64_t hovered = -1;  // flat index under the pointer (-1: none)
  bool clicked = false;  // the hovered entry was clicked
  float height = 0;      // pixels the view took
};

// Caption, heatmap with its labels, numbers. A 1-entry tensor is shown as its number. Hovering
// an entry shows its index, words and value (and pushes req::Hover); clicking it pushes
// req::PinEntry. `version` keys the heatmap cache.
TensorViewResult tensor_view(const Controller& c, PanelContext& ctx, const std::string& caption, const TensorRef& t,
                             ColorMode mode, uint64_t version, const TensorViewOptions& opt = {});
// The height tensor_view would give a map of `rows` × `cols` cells in `width` with at most
// `max_height` for the map itself, besides its caption, legend and stats (for planning a column).
float map_natural_height(PanelContext& ctx, int64_t rows, int64_t cols, float width);
// The lines tensor_view draws besides the map (caption, legend, stats), in pixels.
float map_overhead(PanelContext& ctx, const TensorViewOptions& opt, bool labels);

// Whether some map was hovered this frame (the app clears the selection's hover when none was).
void maps_frame_begin();
bool map_hovered_this_frame();

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
// The same, wrapped at the window's edge (a sentence in a narrow column).
void colored_wrapped(ImU32 col, const char* fmt, ...) IM_FMTARGS(2);
// A (?) that shows `text` on hover.
void help_marker(const char* text);
// Text in the mono font.
void mono_text(PanelContext& ctx, const char* fmt, ...) IM_FMTARGS(2);

std::string check_glyph(CheckMark m);  // ✓ ✗ · –

}  // namespace gs::app
