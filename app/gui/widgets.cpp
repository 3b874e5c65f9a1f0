#include "widgets.h"

#include <algorithm>
#include <cstdarg>
#include <cmath>
#include <vector>

#include "format.h"

namespace gs::app {

namespace {

bool g_map_hovered = false;
constexpr float kMapSpacing = 3.0f;  // vertical pixels (× the text size) between a map's lines

// The stats under a map: shape in letters and numbers, min/max, mean/norm, what is unusual.
// Compact: one line (shape, and what is unusual); the numbers in the tooltip of that line.
void stats_block(PanelContext& ctx, const TensorRef& t, const Heatmap& h, float width, const TensorViewOptions& opt) {
  const TensorStats& s = h.stats;
  ImGui::PushFont(ctx.fonts.mono);
  // Compact: the labels' smaller size (ImGui 1.86 sizes a font by its scale).
  const float keep_scale = ctx.fonts.mono->Scale;
  if (opt.compact) {
    ctx.fonts.mono->Scale = 0.78f;
    ImGui::PushFont(ctx.fonts.mono);
  }
  std::string shape = shape_str(t.shape);
  if (t.transposed) shape += "ᵀ";
  std::string words;
  if (opt.axes) words = shape_words(t.shape, *opt.axes);
  if (!words.empty()) shape += "  " + words + (t.transposed ? "  (shown transposed)" : "");
  std::string pooled;
  if (h.grid.pooled()) {
    char b[48];
    snprintf(b, sizeof b, "pooled %d×%d", h.grid.rows, h.grid.cols);
    pooled = b;
  }
  // A mean that is round-off (−2.9e−20) reads as ≈ 0, with the reason.
  const std::string mean = !s.mean_is_roundoff ? "mean " + num_short(s.mean)
                           : s.rows_sum_to_zero ? std::string("mean ≈ 0 (rows sum to 0)")
                                                : std::string("mean ≈ 0 (round-off)");
  const std::string why_mean = s.mean_is_roundoff
                                   ? std::string(s.rows_sum_to_zero ? "every row sums to 0, so the mean is 0; " : "") +
                                         num_short(s.mean) + " is the rounding of floating point"
                                   : "";
  auto numbers_tooltip = [&] {
    if (!ImGui::IsItemHovered()) return;
    ImGui::BeginTooltip();
    ImGui::PushFont(ctx.fonts.mono);
    ImGui::Text("%s", shape_str(t.shape).c_str());
    if (!words.empty()) ImGui::Text("%s", words.c_str());
    ImGui::Text("min %s  max %s", num_short(s.min).c_str(), num_short(s.max).c_str());
    ImGui::Text("%s  ‖·‖ %s", mean.c_str(), num_short(s.norm).c_str());
    if (!why_mean.empty()) ImGui::TextDisabled("(%s)", why_mean.c_str());
    if (!pooled.empty()) ImGui::TextDisabled("%s: each cell shows its block's largest |value|", pooled.c_str());
    ImGui::PopFont();
    ImGui::EndTooltip();
  };
  auto wrapped = [&](const std::string& text, ImU32 col) {
    ImGui::PushStyleColor(ImGuiCol_Text, col);
    ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + width);
    ImGui::TextUnformatted(text.c_str());
    ImGui::PopTextWrapPos();
    ImGui::PopStyleColor();
  };
  const ImU32 text = ImGui::GetColorU32(ImGuiCol_Text), dim = ctx.palette.dim;
  // What is unusual comes first in the compact form.
  std::string unusual;
  if (s.all_zero()) unusual = "all zero" + (opt.zero_reason.empty() ? std::string() : ": " + opt.zero_reason);
  if (s.nan) unusual += (unusual.empty() ? "" : "  ") + std::string("NaN ×") + std::to_string(s.nan);
  if (s.pos_inf) unusual += (unusual.empty() ? "" : "  ") + std::string("+∞ ×") + std::to_string(s.pos_inf);
  if (opt.compact) {
    std::string line = shape;
    if (!pooled.empty()) line += "  " + pooled;
    if (ImGui::CalcTextSize(line.c_str()).x > width && !words.empty()) line = words;  // the letters say more
    wrapped(line, dim);
    numbers_tooltip();
    if (!unusual.empty()) wrapped(unusual, s.all_zero() ? ctx.palette.warn : ctx.palette.bad);
    ImGui::PopFont();
    ctx.fonts.mono->Scale = keep_scale;
    ImGui::PopFont();
    return;
  }
  // The shape and its letters where they fit on one line, else the letters (they hold the sizes).
  if (ImGui::CalcTextSize(shape.c_str()).x > width && !words.empty()) shape = words;
  wrapped(shape, text);
  numbers_tooltip();
  if (!pooled.empty()) wrapped(pooled, dim);
  // Two numbers a line where they fit, else one: never break inside a number.
  auto pair = [&](const std::string& a, const std::string& b) {
    const std::string both = a + "  " + b;
    if (ImGui::CalcTextSize(both.c_str()).x <= width) {
      ImGui::TextUnformatted(both.c_str());
    } else {
      ImGui::TextUnformatted(a.c_str());
      ImGui::TextUnformatted(b.c_str());
    }
  };
  pair("min " + num_short(s.min), "max " + num_short(s.max));
  pair(mean, "‖·‖ " + num_short(s.norm));
  if (!why_mean.empty() && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", why_mean.c_str());
  if (s.neg_inf) colored_text(ctx.palette.dim, "−∞ ×%lld (masked)", static_cast<long long>(s.neg_inf));
  if (!unusual.empty()) wrapped(unusual, s.all_zero() ? ctx.palette.warn : ctx.palette.bad);
  ImGui::PopFont();
}

void legend_line(PanelContext& ctx, const Heatmap& h, float width, bool compact) {
  const Heatmap& lg = ctx.heatmaps.legend(h.mode);
  if (!lg.texture) return;
  ImFont* mono = ctx.fonts.mono;
  const float px = compact ? mono->FontSize * 0.78f : mono->FontSize;
  const std::string lo = num_short(h.lo), hi = num_short(h.hi);
  const float sp = ImGui::GetStyle().ItemSpacing.x * 0.6f;
  const float lw = mono->CalcTextSizeA(px, FLT_MAX, 0, lo.c_str()).x, hw = mono->CalcTextSizeA(px, FLT_MAX, 0, hi.c_str()).x;
  const float bar = std::max(20.0f, width - lw - hw - 2 * sp);
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float line_h = std::max(px, ImGui::GetTextLineHeight() * (compact ? 0.8f : 1.0f));
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImU32 text = ImGui::GetColorU32(ImGuiCol_Text);
  dl->AddText(mono, px, ImVec2(p.x, p.y + (line_h - px) * 0.5f), text, lo.c_str());
  dl->AddImage(lg.texture, ImVec2(p.x + lw + sp, p.y + line_h * 0.25f), ImVec2(p.x + lw + sp + bar, p.y + line_h * 0.75f));
  dl->AddText(mono, px, ImVec2(p.x + lw + 2 * sp + bar, p.y + (line_h - px) * 0.5f), text, hi.c_str());
  ImGui::Dummy(ImVec2(lw + hw + 2 * sp + bar, line_h));
  if (ImGui::IsItemHovered()) {
    if (h.shared)
      ImGui::SetTooltip("one colour scale, ±%s, for this op's gradient maps of this shape, so their colours compare "
                        "(turn it off under the table)",
                        hi.c_str());
    else
      ImGui::SetTooltip(h.mode == ColorMode::diverging ? "this map's own scale: ±max|x|, blue negative, red positive, white 0"
                                                       : "this map's own scale: from its smallest to its largest value");
  }
}

// The token behind an entry (TensorViewOptions::tokens): "position 1: reads '␣model' (2746) ...".
std::string token_note(const Controller& c, const TensorRef& t, int64_t flat, TensorViewOptions::Tokens kind) {
  if (kind == TensorViewOptions::Tokens::none || !c.has_session() || t.shape.empty()) return "";
  const AnySession& s = c.session();
  // The multi-index of the entry.
  std::vector<int64_t> idx(t.shape.size());
  for (size_t d = t.shape.size(); d-- > 0;) {
    idx[d] = flat % t.shape[d];
    flat /= t.shape[d];
  }
  auto text = [&](int32_t id) {
    std::string r = "'";  // appended piece by piece: GCC 12 mis-warns (-Wrestrict) on "'" + string + …
    r += token_glyph(s.token_text(id));
    r += "' (";
    r += std::to_string(id);
    r += ')';
    return r;
  };
  if (kind == TensorViewOptions::Tokens::vocab) {
    if (idx[0] < 0 || idx[0] >= s.config().vocab_size) return "";
    return "row " + std::to_string(idx[0]) + ": token " + text(static_cast<int32_t>(idx[0]));
  }
  const Batch& b = s.batch();
  int64_t row = -1, pos = -1;
  if (t.shape.size() >= 2 && t.shape.size() != 4 && t.shape[0] == b.B && t.shape[1] == b.T) {
    row = idx[0];
    pos = idx[1];
  } else if (t.shape.size() == 4 && t.shape[0] == b.B && t.shape[2] == b.T) {
    row = idx[0];
    pos = idx[2];  // (B, H, T, ·): the query position
  }
  if (pos < 0) return "";
  const size_t at = static_cast<size_t>(row * b.T + pos);
  return "position " + std::to_string(pos) + ": reads " + text(b.x[at]) + ", predicts " + text(b.y[at]);
}

}  // namespace

void colored_text(ImU32 col, const char* fmt, ...) {
  ImGui::PushStyleColor(ImGuiCol_Text, col);
  va_list args;
  va_start(args, fmt);
  ImGui::TextV(fmt, args);
  va_end(args);
  ImGui::PopStyleColor();
}

void colored_wrapped(ImU32 col, const char* fmt, ...) {
  ImGui::PushStyleColor(ImGuiCol_Text, col);
  va_list args;
  va_start(args, fmt);
  ImGui::TextWrappedV(fmt, args);
  va_end(args);
  ImGui::PopStyleColor();
}

void mono_text(PanelContext& ctx, const char* fmt, ...) {
  ImGui::PushFont(ctx.fonts.mono);
  va_list args;
  va_start(args, fmt);
  ImGui::TextV(fmt, args);
  va_end(args);
  ImGui::PopFont();
}

void help_marker(const char* text) {
  ImGui::TextDisabled("(?)");
  if (ImGui::IsItemHovered()) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30.0f);
    ImGui::TextUnformatted(text);
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
  }
}

std::string check_glyph(CheckMark m) {
  switch (m) {
    case CheckMark::pass: return "✓";
    case CheckMark::fail: return "✗";
    case CheckMark::nothing_to_check: return "–";
    case CheckMark::not_run: break;
  }
  return "·";
}

void maps_frame_begin() { g_map_hovered = false; }
bool map_hovered_this_frame() { return g_map_hovered; }

namespace {

// Sizes of a map's cells in a width and height: square where they fit, wider or taller where
// the tensor is wide or tall, so every map uses its room and stays readable.
struct Cells {
  float cw = 0, ch = 0;
};
Cells cell_size(PanelContext& ctx, int rows, int cols, float W, float maxh) {
  const float cap = 90.0f * ctx.scale;  // a cell this large is already readable from the back
  Cells c;
  c.cw = std::min(W / std::max(cols, 1), cap);
  c.ch = std::min(maxh / std::max(rows, 1), std::max(c.cw, 12.0f * ctx.scale));
  if (rows * c.ch < 18.0f * ctx.scale) c.ch = std::min(18.0f * ctx.scale / std::max(rows, 1), cap);
  c.cw = std::min(c.cw, 2.5f * c.ch);  // no wider than 2.5× their height (T×T maps stay near square)
  return c;
}

float label_px(PanelContext& ctx) { return ctx.fonts.mono->FontSize * 0.78f; }

// The grid cell a flat index of the tensor's data is shown in.
bool cell_of(const TensorRef& t, const DisplayGrid& g, int64_t flat, int& r, int& c) {
  if (flat < 0 || flat >= t.size()) return false;
  const int64_t fc = t.flat_cols();
  int64_t sr = flat / fc, sc = flat % fc;
  if (t.transposed) std::swap(sr, sc);
  r = static_cast<int>(sr / std::max<int64_t>(g.block_rows, 1));
  c = static_cast<int>(sc / std::max<int64_t>(g.block_cols, 1));
  return r < g.rows && c < g.cols;
}

}  // namespace

float map_overhead(PanelContext& ctx, const TensorViewOptions& opt, bool labels) {
  const float sp = kMapSpacing * ctx.scale, line = ImGui::GetTextLineHeight() + sp;
  const float small = ImGui::GetTextLineHeight() * 0.8f + sp;
  float h = line;                                                     // caption
  if (opt.legend) h += opt.compact ? small : line;                    // colour scale
  if (opt.stats) h += opt.compact ? small : 3.2f * line;              // shape (and numbers)
  if (labels) h += label_px(ctx) + 4.0f * ctx.scale;  // column labels
  return h + ImGui::GetStyle().ItemSpacing.y;  // the spacing after the map (the caller's)
}

float map_natural_height(PanelContext& ctx, int64_t rows, int64_t cols, float width) {
  const int r = static_cast<int>(std::min<int64_t>(rows, 512)), c = static_cast<int>(std::min<int64_t>(cols, 512));
  const Cells cs = cell_size(ctx, r, c, width, 1e6f);
  // A small tensor shows its numbers in its cells: a row of text each at least.
  if (static_cast<int64_t>(r) * c <= 64) return r * std::max(cs.ch, ctx.fonts.mono->FontSize * 0.78f * 1.5f);
  return r * cs.ch;
}

TensorViewResult tensor_view(const Controller& c, PanelContext& ctx, const std::string& caption, const TensorRef& t,
                             ColorMode mode, uint64_t version, const TensorViewOptions& opt) {
  TensorViewResult res;
  const float y_start = ImGui::GetCursorPosY();
  // One map is one thing: its caption, labels, legend and shape sit close together.
  ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(ImGui::GetStyle().ItemSpacing.x, kMapSpacing * ctx.scale));
  ImGui::PushID(t.data);
  ImGui::PushID(caption.c_str());
  const float W = std::max(40.0f, opt.width > 0 ? opt.width : ImGui::GetContentRegionAvail().x);
  // A number in a crowded column: one line, "caption = value" (the caption may say it already).
  const bool one_line = opt.inline_number && t.size() == 1;
  std::string cap = caption;
  if (one_line) {
    const std::string v = num(t.at(0));
    if (cap.size() < v.size() || cap.compare(cap.size() - v.size(), v.size(), v) != 0)
      cap += " = " + v;
  }
  ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + W);
  ImGui::TextUnformatted(cap.c_str());
  ImGui::PopTextWrapPos();
  if (opt.caption_tip && ImGui::IsItemHovered()) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 28);
    ImGui::TextUnformatted(opt.caption_tip);
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
  }
  const std::string key = opt.hover_key.empty() ? caption : opt.hover_key;
  static const TokenText kNoText;
  const TokenText& text = opt.text ? *opt.text : kNoText;
  static const std::vector<std::string> kNoAxes;
  const std::vector<std::string>& axes = opt.axes ? *opt.axes : kNoAxes;

  if (t.empty()) {
    ImGui::TextDisabled("(none)");
  } else if (t.size() == 1) {
    // One number: show it, large (or on the caption's line, above).
    if (!one_line) {
      ImGui::PushFont(ctx.fonts.big);
      ImGui::TextUnformatted(num(t.at(0)).c_str());
      ImGui::PopFont();
    }
    if (ImGui::IsItemHovered()) {
      g_map_hovered = true;
      res.hovered = 0;
      if (opt.tooltip) {
        ImGui::BeginTooltip();
        opt.tooltip(0);
        ImGui::EndTooltip();
      }
      if (c.selection().hover_tensor != key || c.selection().hover_index != 0) ctx.requests.push(req::Hover{key, 0});
    }
    if (!one_line) {
      ImGui::PushFont(ctx.fonts.mono);
      // Its shape, or "a number" (a bare "()" where the column is too narrow for the words).
      const std::string shape = t.shape.empty() ? "a number" : shape_str(t.shape);
      const bool fits = ImGui::CalcTextSize(shape.c_str()).x <= ImGui::GetContentRegionAvail().x;
      ImGui::TextDisabled("%s", fits || !t.shape.empty() ? shape.c_str() : "()");
      ImGui::PopFont();
    }
  } else {
    const Heatmap& h = ctx.heatmaps.get(t, mode, version, opt.range);
    const DisplayGrid& g = h.grid;
    const MapLabels labels(t.shape, axes, t.transposed, text);
    const bool with_labels = opt.labels && opt.axes && !axes.empty();
    ImFont* mono = ctx.fonts.mono;
    const float lpx = label_px(ctx);
    auto text_w = [&](const std::string& s) { return mono->CalcTextSizeA(lpx, FLT_MAX, 0, s.c_str()).x; };
    auto label_text = [](const Label& l) { return l.token ? l.main + " " + l.sub : l.main; };
    // The source row or column a cell of a pooled map starts at.
    auto src_row = [&](int r) { return static_cast<int64_t>(r) * g.block_rows; };
    auto src_col = [&](int k) { return static_cast<int64_t>(k) * g.block_cols; };
    // Gutter widths: the widest of a sample of labels.
    float gutter = 0, block_w = 0;
    const bool row_labels = with_labels && g.rows > 1;
    const bool col_labels = with_labels && g.cols > 1;
    if (row_labels) {
      const int step = std::max(1, g.rows / 48);
      for (int r = 0; r < g.rows; r += step) gutter = std::max(gutter, text_w(label_text(labels.row(src_row(r)))));
      gutter = std::max(gutter, text_w(label_text(labels.row(src_row(g.rows - 1)))));
      if (labels.block_rows() > 0 && !g.pooled())
        for (int r = 0; r < g.rows; r += static_cast<int>(labels.block_rows()))
          block_w = std::max(block_w, text_w(labels.block(src_row(r), true)));
      gutter += 6.0f * ctx.scale;
      if (block_w > 0) block_w += 6.0f * ctx.scale;
    }
    const float left = gutter + block_w;
    const float top = col_labels ? lpx + 4.0f * ctx.scale : 0.0f;
    const float Wm = std::max(20.0f, W - left);
    const float maxh = std::max(24.0f * ctx.scale, (opt.max_height > 0 ? opt.max_height : 260.0f * ctx.scale));
    Cells cs = cell_size(ctx, g.rows, g.cols, Wm, maxh);
    float cw = cs.cw, ch = cs.ch;
    // A small tensor (a lesson model's) shows its numbers in the cells, when they fit there (in
    // the labels' smaller size where the text's does not fit).
    bool numbers = false;
    float num_px = mono->FontSize;
    if (!g.pooled() && g.rows * g.cols <= 64) {
      float widest = 0;
      for (int r = 0; r < g.rows; ++r)
        for (int k = 0; k < g.cols; ++k)
          widest = std::max(widest, mono->CalcTextSizeA(mono->FontSize, FLT_MAX, 0,
                                                        num_short(t.at(t.flat_index(r, k))).c_str()).x);
      for (const float f : {1.0f, 0.78f}) {
        const float need_w = widest * f + 10.0f * ctx.scale, need_h = mono->FontSize * f * 1.5f;
        if (need_w * g.cols > Wm || need_h * g.rows > maxh) continue;  // the numbers must fit both ways
        numbers = true;
        num_px = mono->FontSize * f;
        cw = std::max(cw, std::min(need_w * 1.4f, Wm / g.cols));
        ch = std::max(ch, need_h);
        ch = std::max(need_h, std::min(ch, maxh / g.rows));
        break;
      }
    }
    const ImVec2 size(std::max(1.0f, g.cols * cw), std::max(1.0f, g.rows * ch));
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    const ImVec2 p0(origin.x + left, origin.y + top);
    // One button over the map: hovering and clicking belong to the map (not to the window,
    // which would start moving).
    ImGui::InvisibleButton("##map", ImVec2(left + size.x, top + size.y));
    const bool item_hovered = ImGui::IsItemHovered();
    const bool clicked = ImGui::IsItemClicked();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImU32 frame = ImGui::GetColorU32(ImGuiCol_Border);
    if (h.texture) {
      dl->AddImage(h.texture, p0, ImVec2(p0.x + size.x, p0.y + size.y));
    } else {
      dl->AddRectFilled(p0, ImVec2(p0.x + size.x, p0.y + size.y), ImGui::GetColorU32(ImGuiCol_FrameBg));
      dl->AddText(ImVec2(p0.x + 4, p0.y + 2), ctx.palette.bad, "no heatmap (shader error)");
    }
    dl->AddRect(ImVec2(p0.x - 1, p0.y - 1), ImVec2(p0.x + size.x + 1, p0.y + size.y + 1), frame);
    if (numbers) {
      // White on a dark shadow: readable on every colour of both maps.
      const float sh = std::max(1.0f, ctx.scale);
      for (int r = 0; r < g.rows; ++r)
        for (int k = 0; k < g.cols; ++k) {
          const std::string v = num_short(t.at(t.flat_index(r, k)));
          const ImVec2 ts = mono->CalcTextSizeA(num_px, FLT_MAX, 0, v.c_str());
          const ImVec2 at(p0.x + k * cw + (cw - ts.x) * 0.5f, p0.y + r * ch + (ch - ts.y) * 0.5f);
          dl->AddText(mono, num_px, ImVec2(at.x + sh, at.y + sh), IM_COL32(0, 0, 0, 230), v.c_str());
          dl->AddText(mono, num_px, at, IM_COL32(255, 255, 255, 255), v.c_str());
        }
    }
    const ImU32 label_col = ImGui::GetColorU32(ImGuiCol_Text), dim = ctx.palette.dim;
    // Heads (or batch rows) of a 4-d tensor are separate blocks of rows: mark where each starts.
    if (!t.transposed && !g.pooled() && t.shape.size() >= 3) {
      const int64_t block = t.shape[t.shape.size() - 2];
      for (int64_t r = block; r < g.rows; r += block)
        dl->AddLine(ImVec2(p0.x - 4 - left, p0.y + r * ch), ImVec2(p0.x + size.x + 4, p0.y + r * ch), ctx.palette.hover,
                    std::max(1.0f, 2.0f * ctx.scale));
    }
    // Row labels (every n-th where they would touch), block labels, column labels.
    if (row_labels) {
      const int every = std::max(1, static_cast<int>(std::ceil(lpx * 1.05f / ch)));
      for (int r = 0; r < g.rows; r += every) {
        const Label l = labels.row(src_row(r));
        const float y = p0.y + r * ch + (ch - lpx) * 0.5f;
        float x = p0.x - 4.0f * ctx.scale;
        if (l.token) {
          const float mw = text_w(l.main);
          dl->AddText(mono, lpx, ImVec2(x - mw, y), label_col, l.main.c_str());
          x -= mw + text_w(" ");
          dl->AddText(mono, lpx, ImVec2(x - text_w(l.sub), y), dim, l.sub.c_str());
        } else {
          dl->AddText(mono, lpx, ImVec2(x - text_w(l.main), y), dim, l.main.c_str());
        }
      }
      if (block_w > 0)
        for (int r = 0; r < g.rows; r += static_cast<int>(labels.block_rows())) {
          const std::string b = labels.block(src_row(r), true);
          dl->AddText(mono, lpx, ImVec2(origin.x, p0.y + r * ch + 2.0f * ctx.scale), ctx.palette.warn, b.c_str());
        }
    }
    if (col_labels) {
      float widest = 0;
      const int step = std::max(1, g.cols / 48);
      for (int k = 0; k < g.cols; k += step) widest = std::max(widest, text_w(labels.col(src_col(k)).main));
      const int every = std::max(1, static_cast<int>(std::ceil((widest + 4.0f * ctx.scale) / cw)));
      for (int k = 0; k < g.cols; k += every) {
        const Label l = labels.col(src_col(k));
        const float w = text_w(l.main), cx = p0.x + k * cw + cw * 0.5f;
        const float room = cw * every;
        dl->PushClipRect(ImVec2(cx - room * 0.5f, origin.y), ImVec2(cx + room * 0.5f, p0.y), true);
        dl->AddText(mono, lpx, ImVec2(cx - std::min(w, room) * 0.5f, origin.y), l.token ? label_col : dim, l.main.c_str());
        dl->PopClipRect();
      }
      // The dimensions' letters in the corner: rows \ columns.
      if (left > 0 && !labels.row_letter().empty()) {
        const std::string corner = labels.row_letter() + "\\" + labels.col_letter();
        if (text_w(corner) < left) dl->AddText(mono, lpx, ImVec2(origin.x, origin.y), dim, corner.c_str());
      }
    }
    if (opt.mark_row >= 0 && !g.pooled() && !t.transposed && opt.mark_row < g.rows) {
      const float y = p0.y + static_cast<float>(opt.mark_row) * ch;
      dl->AddRect(ImVec2(p0.x - 2, y - 1), ImVec2(p0.x + size.x + 2, y + ch + 1), ctx.palette.warn, 0, 0,
                  std::max(2.0f, 2.5f * ctx.scale));
    }
    // The chain rule's entries, lit up: a wash over each cell and an outline.
    auto light = [&](int r, int k, ImU32 col, bool fill, float thick) {
      const ImVec2 a(p0.x + k * cw, p0.y + r * ch), b(a.x + cw, a.y + ch);
      if (fill) {
        ImVec4 v = ImGui::ColorConvertU32ToFloat4(col);
        v.w = 0.28f;
        dl->AddRectFilled(a, b, ImGui::ColorConvertFloat4ToU32(v));
      }
      dl->AddRect(ImVec2(a.x + 0.5f, a.y + 0.5f), ImVec2(b.x - 0.5f, b.y - 0.5f), col, 0, 0, thick);
    };
    if (opt.marks) {
      for (const MapMarks& m : *opt.marks) {
        std::vector<int64_t> cells;
        for (int64_t e : m.entries) {
          int r = 0, k = 0;
          if (cell_of(t, g, e, r, k)) cells.push_back(static_cast<int64_t>(r) * g.cols + k);
        }
        std::sort(cells.begin(), cells.end());
        cells.erase(std::unique(cells.begin(), cells.end()), cells.end());
        for (int64_t cell : cells)
          light(static_cast<int>(cell / g.cols), static_cast<int>(cell % g.cols), m.colour, m.fill,
                std::max(1.5f, 2.0f * ctx.scale));
      }
    }
    if (opt.pinned >= 0) {
      int r = 0, k = 0;
      if (cell_of(t, g, opt.pinned, r, k)) light(r, k, ctx.palette.warn, false, std::max(2.5f, 3.0f * ctx.scale));
    }
    const ImVec2 m = ImGui::GetIO().MousePos;
    const bool on_map = item_hovered && m.x >= p0.x && m.y >= p0.y && m.x < p0.x + size.x && m.y < p0.y + size.y;
    if (on_map) {
      const int col = std::clamp(static_cast<int>((m.x - p0.x) / cw), 0, g.cols - 1);
      const int row = std::clamp(static_cast<int>((m.y - p0.y) / ch), 0, g.rows - 1);
      const int64_t src = cell_source_index(t, g, row, col);
      res.hovered = src;
      res.clicked = clicked;
      g_map_hovered = true;
      const ImVec2 a(p0.x + col * cw, p0.y + row * ch);
      dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(a.x + cw + 1, a.y + ch + 1), ctx.palette.hover, 0, 0,
                  std::max(1.5f, 2.0f * ctx.scale));
      ImGui::BeginTooltip();
      ImGui::PushFont(mono);
      ImGui::Text("%s %s = %s", caption.substr(0, caption.find("  ")).c_str(), multi_index_str(t.shape, src).c_str(),
                  num(t.at(src)).c_str());
      std::string where = opt.axes ? entry_words(t.shape, axes, src, text) : "";
      if (where.empty()) where = token_note(c, t, src, opt.tokens);
      if (!where.empty()) ImGui::TextDisabled("%s", where.c_str());
      if (g.pooled()) {
        const int64_t r0 = row * g.block_rows, c0 = col * g.block_cols;
        ImGui::TextDisabled("cell: rows %lld…%lld, cols %lld…%lld", static_cast<long long>(r0),
                            static_cast<long long>(std::min(g.src_rows, r0 + g.block_rows) - 1),
                            static_cast<long long>(c0),
                            static_cast<long long>(std::min(g.src_cols, c0 + g.block_cols) - 1));
        ImGui::TextDisabled("showing its largest |value|");
      }
      ImGui::PopFont();
      if (opt.tooltip) opt.tooltip(src);
      ImGui::EndTooltip();
      if (c.selection().hover_tensor != key || c.selection().hover_index != src) ctx.requests.push(req::Hover{key, src});
      if (clicked) {
        const bool same = c.selection().pinned_tensor == key && c.selection().pinned_index == src;
        ctx.requests.push(req::PinEntry{key, same ? -1 : src});  // a second click lets go
      }
    }
    if (opt.legend) legend_line(ctx, h, std::max(left + size.x, std::min(W, 220.0f * ctx.scale)), opt.compact);
    if (opt.stats) stats_block(ctx, t, h, W, opt);
  }
  ImGui::PopID();
  ImGui::PopID();
  ImGui::PopStyleVar();
  res.height = ImGui::GetCursorPosY() - y_start;
  return res;
}

void job_progress(const Controller& c, PanelContext& ctx, float bar_width, bool with_phase, bool stacked) {
  const JobView& j = c.job();
  if (!j.running) return;
  ImGui::PushID("job");
  char over[32];
  snprintf(over, sizeof over, "%.0f%%", 100.0 * j.fraction);
  ImGui::ProgressBar(static_cast<float>(j.fraction), ImVec2(bar_width, 0), over);
  ImGui::SameLine();
  if (j.cancellable) {
    ImGui::BeginDisabled(j.cancelling);
    if (ImGui::SmallButton("cancel")) ctx.requests.push(req::CancelJob{});
    ImGui::EndDisabled();
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
      ImGui::SetTooltip(j.kind == JobKind::train ? "stop after the step in progress (the steps done are kept)"
                                                 : "stop it; the model on screen stays as it is");
    ImGui::SameLine();
  }
  if (stacked) {
    ImGui::NewLine();
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted((j.title + "…").c_str());
    if (with_phase && !j.phase.empty()) ImGui::TextDisabled("%s", j.phase.c_str());
    if (j.waiting > 0) ImGui::TextDisabled("%d request%s waiting behind it", j.waiting, j.waiting == 1 ? "" : "s");
    ImGui::PopTextWrapPos();
    ImGui::PopID();
    return;
  }
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted((j.title + "…").c_str());
  if (with_phase && !j.phase.empty()) {
    ImGui::SameLine();
    ImGui::TextDisabled("%s", j.phase.c_str());
  }
  if (j.waiting > 0) {
    ImGui::SameLine();
    ImGui::TextDisabled("(+%d waiting)", j.waiting);
  }
  ImGui::PopID();
}

void not_computed(PanelContext& ctx, const std::string& caption, const Shape& shape, const char* why, float width) {
  const float W = std::max(40.0f, width > 0 ? width : ImGui::GetContentRegionAvail().x);
  ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + W);
  ImGui::TextUnformatted(caption.c_str());
  ImGui::PopTextWrapPos();
  const float h = 3.0f * ImGui::GetTextLineHeightWithSpacing();
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  ImGui::Dummy(ImVec2(W, h));
  ImDrawList* dl = ImGui::GetWindowDrawList();
  // Dashed outline: where the tensor will appear.
  const float dash = 8.0f * ctx.scale;
  const ImVec2 p1(p0.x + W, p0.y + h);
  for (float x = p0.x; x < p1.x; x += 2 * dash) {
    dl->AddLine(ImVec2(x, p0.y), ImVec2(std::min(x + dash, p1.x), p0.y), ctx.palette.dim);
    dl->AddLine(ImVec2(x, p1.y), ImVec2(std::min(x + dash, p1.x), p1.y), ctx.palette.dim);
  }
  for (float y = p0.y; y < p1.y; y += 2 * dash) {
    dl->AddLine(ImVec2(p0.x, y), ImVec2(p0.x, std::min(y + dash, p1.y)), ctx.palette.dim);
    dl->AddLine(ImVec2(p1.x, y), ImVec2(p1.x, std::min(y + dash, p1.y)), ctx.palette.dim);
  }
  // The words inside the box, wrapped there where the column is narrow.
  const float pad = 4.0f * ctx.scale, wrap = std::max(1.0f, W - 2 * pad);
  ImFont* f = ImGui::GetFont();
  const ImVec2 ts = f->CalcTextSizeA(ImGui::GetFontSize(), FLT_MAX, wrap, why);
  dl->AddText(f, ImGui::GetFontSize(), ImVec2(p0.x + std::max(pad, (W - ts.x) * 0.5f), p0.y + std::max(0.0f, (h - ts.y) * 0.5f)),
              ctx.palette.dim, why, nullptr, wrap);
  ImGui::PushFont(ctx.fonts.mono);
  ImGui::TextDisabled("%s", shape_str(shape).c_str());
  ImGui::PopFont();
}

ImVec2 token_chip_size(PanelContext& ctx, const std::string& glyph, int token_id) {
  const float top_px = ctx.fonts.ui->FontSize * 1.2f, bottom_px = ctx.fonts.mono->FontSize * 0.75f;
  const ImVec2 ts = ctx.fonts.big->CalcTextSizeA(top_px, FLT_MAX, 0, glyph.c_str());
  const ImVec2 ns = ctx.fonts.mono->CalcTextSizeA(bottom_px, FLT_MAX, 0, std::to_string(token_id).c_str());
  const float pad = 4.0f * ctx.scale;
  return ImVec2(std::max({ts.x, ns.x, top_px * 0.8f}) + 2 * pad, ts.y + ns.y + pad);
}

bool token_chip(PanelContext& ctx, const char* id, const std::string& glyph, int token_id, bool dim) {
  ImFont* top = ctx.fonts.big;
  ImFont* bottom = ctx.fonts.mono;
  const float top_px = ctx.fonts.ui->FontSize * 1.2f, bottom_px = ctx.fonts.mono->FontSize * 0.75f;
  const std::string num_s = std::to_string(token_id);
  const ImVec2 ts = top->CalcTextSizeA(top_px, FLT_MAX, 0, glyph.c_str());
  const ImVec2 ns = bottom->CalcTextSizeA(bottom_px, FLT_MAX, 0, num_s.c_str());
  const float pad = 4.0f * ctx.scale;
  const ImVec2 size(std::max({ts.x, ns.x, top_px * 0.8f}) + 2 * pad, ts.y + ns.y + pad);
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const bool clicked = ImGui::InvisibleButton(id, size);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float a = dim ? 0.45f : 1.0f;
  auto fade = [&](ImU32 col) {
    ImVec4 v = ImGui::ColorConvertU32ToFloat4(col);
    v.w *= a;
    return ImGui::ColorConvertFloat4ToU32(v);
  };
  dl->AddRectFilled(p, ImVec2(p.x + size.x, p.y + size.y), fade(ctx.palette.chip_bg), 4.0f * ctx.scale);
  dl->AddRect(p, ImVec2(p.x + size.x, p.y + size.y),
              ImGui::IsItemHovered() ? ctx.palette.hover : fade(ctx.palette.chip_border), 4.0f * ctx.scale, 0,
              std::max(1.0f, ctx.scale));
  dl->AddText(top, top_px, ImVec2(p.x + (size.x - ts.x) * 0.5f, p.y + pad * 0.5f), fade(ctx.palette.chip_text),
              glyph.c_str());
  dl->AddText(bottom, bottom_px, ImVec2(p.x + (size.x - ns.x) * 0.5f, p.y + pad * 0.5f + ts.y),
              fade(ctx.palette.dim), num_s.c_str());
  return clicked;
}

}  // namespace gs::app
