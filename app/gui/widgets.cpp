#include "widgets.h"

#include <algorithm>
#include <cstdarg>
#include <cmath>
#include <vector>

#include "format.h"

namespace gs::app {

namespace {

// The stats lines under a map: shape, min/max, mean/norm, and what is unusual about it.
void stats_block(PanelContext& ctx, const TensorRef& t, const Heatmap& h, float width) {
  const TensorStats& s = h.stats;
  ImGui::PushFont(ctx.fonts.mono);
  std::string shape = shape_str(t.shape);
  if (t.transposed) shape += "ᵀ";
  if (h.grid.pooled()) {
    char pooled[48];
    snprintf(pooled, sizeof pooled, "pooled %d×%d", h.grid.rows, h.grid.cols);
    if (ImGui::CalcTextSize((shape + "  " + pooled).c_str()).x <= width) {
      ImGui::TextUnformatted(shape.c_str());
      ImGui::SameLine();
    } else {
      ImGui::TextUnformatted(shape.c_str());
    }
    ImGui::TextDisabled("%s", pooled);
  } else {
    ImGui::TextUnformatted(shape.c_str());
  }
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
  pair("mean " + num_short(s.mean), "‖·‖ " + num_short(s.norm));
  if (s.neg_inf) colored_text(ctx.palette.dim, "−∞ ×%lld (masked)", static_cast<long long>(s.neg_inf));
  if (s.pos_inf) colored_text(ctx.palette.bad, "+∞ ×%lld", static_cast<long long>(s.pos_inf));
  if (s.nan) colored_text(ctx.palette.bad, "NaN ×%lld", static_cast<long long>(s.nan));
  if (s.all_zero()) colored_text(ctx.palette.warn, "all zero");
  ImGui::PopFont();
}

void legend_line(PanelContext& ctx, const Heatmap& h, float width) {
  const Heatmap& lg = ctx.heatmaps.legend(h.mode);
  if (!lg.texture) return;
  ImGui::PushFont(ctx.fonts.mono);
  const std::string lo = num_short(h.lo), hi = num_short(h.hi);
  const float sp = ImGui::GetStyle().ItemSpacing.x;
  const float bar = std::max(20.0f, width - ImGui::CalcTextSize(lo.c_str()).x - ImGui::CalcTextSize(hi.c_str()).x -
                                         2 * sp);
  ImGui::TextUnformatted(lo.c_str());
  ImGui::SameLine();
  const float line_h = ImGui::GetTextLineHeight();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImGui::SetCursorScreenPos(ImVec2(p.x, p.y + line_h * 0.25f));
  ImGui::Image(lg.texture, ImVec2(bar, line_h * 0.5f));
  ImGui::SameLine();
  ImGui::SetCursorScreenPos(ImVec2(ImGui::GetCursorScreenPos().x, p.y));
  ImGui::TextUnformatted(hi.c_str());
  ImGui::PopFont();
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

void tensor_view(const Controller& c, PanelContext& ctx, const std::string& caption, const TensorRef& t,
                 ColorMode mode, uint64_t version, const TensorViewOptions& opt) {
  ImGui::PushID(t.data);
  ImGui::PushID(caption.c_str());
  const float W = std::max(40.0f, opt.width > 0 ? opt.width : ImGui::GetContentRegionAvail().x);
  ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + W);
  ImGui::TextUnformatted(caption.c_str());
  ImGui::PopTextWrapPos();

  if (t.empty()) {
    ImGui::TextDisabled("(none)");
  } else if (t.size() == 1) {
    // One number: show it, large.
    ImGui::PushFont(ctx.fonts.big);
    ImGui::TextUnformatted(num(t.at(0)).c_str());
    ImGui::PopFont();
    ImGui::PushFont(ctx.fonts.mono);
    ImGui::TextDisabled("%s", shape_str(t.shape).c_str());
    ImGui::PopFont();
  } else {
    const Heatmap& h = ctx.heatmaps.get(t, mode, version);
    const DisplayGrid& g = h.grid;
    const float maxh = opt.max_height > 0 ? opt.max_height : 260.0f * ctx.scale;
    // Square cells where they fit; a wide tensor (few rows, many columns) gets taller cells and
    // a tall one flatter cells, so every map uses the column's width and stays readable.
    float cw = std::min(W / g.cols, 36.0f * ctx.scale);
    float ch = std::min(maxh / g.rows, std::max(cw, 12.0f * ctx.scale));
    if (g.rows * ch < 18.0f * ctx.scale) ch = std::min(18.0f * ctx.scale / g.rows, 36.0f * ctx.scale);
    cw = std::min(cw, 2.5f * ch);  // cells no wider than 2.5× their height (T×T maps stay near square)
    // A small tensor (a lesson model's) shows its numbers in the cells, when they fit there.
    bool numbers = false;
    if (!g.pooled() && g.rows * g.cols <= 64) {
      float need_w = 0;
      ImGui::PushFont(ctx.fonts.mono);
      for (int r = 0; r < g.rows; ++r)
        for (int k = 0; k < g.cols; ++k)
          need_w = std::max(need_w, ImGui::CalcTextSize(num_short(t.at(t.flat_index(r, k))).c_str()).x);
      const float need_h = ImGui::GetTextLineHeight() * 1.5f;
      ImGui::PopFont();
      need_w += 10.0f * ctx.scale;
      if (need_w * g.cols <= W) {
        numbers = true;
        cw = std::max(cw, std::min(need_w * 1.4f, W / g.cols));
        ch = std::max(ch, need_h);
        if (maxh > 0) ch = std::max(need_h, std::min(ch, maxh / g.rows));
      }
    }
    const ImVec2 size(std::max(1.0f, g.cols * cw), std::max(1.0f, g.rows * ch));
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImU32 frame = ImGui::GetColorU32(ImGuiCol_Border);
    if (h.texture) {
      ImGui::Image(h.texture, size);
    } else {
      ImGui::Dummy(size);
      dl->AddRectFilled(p0, ImVec2(p0.x + size.x, p0.y + size.y), ImGui::GetColorU32(ImGuiCol_FrameBg));
      dl->AddText(ImVec2(p0.x + 4, p0.y + 2), ctx.palette.bad, "no heatmap (shader error)");
    }
    const bool hovered = ImGui::IsItemHovered();
    dl->AddRect(ImVec2(p0.x - 1, p0.y - 1), ImVec2(p0.x + size.x + 1, p0.y + size.y + 1), frame);
    if (numbers) {
      // White on a dark shadow: readable on every colour of both maps.
      ImGui::PushFont(ctx.fonts.mono);
      const float sh = std::max(1.0f, ctx.scale);
      for (int r = 0; r < g.rows; ++r)
        for (int k = 0; k < g.cols; ++k) {
          const std::string v = num_short(t.at(t.flat_index(r, k)));
          const ImVec2 ts = ImGui::CalcTextSize(v.c_str());
          const ImVec2 at(p0.x + k * cw + (cw - ts.x) * 0.5f, p0.y + r * ch + (ch - ts.y) * 0.5f);
          dl->AddText(ImVec2(at.x + sh, at.y + sh), IM_COL32(0, 0, 0, 230), v.c_str());
          dl->AddText(at, IM_COL32(255, 255, 255, 255), v.c_str());
        }
      ImGui::PopFont();
    }
    // Heads (or batch rows) of a 4-d tensor are separate blocks of rows: mark where each starts.
    if (!t.transposed && !g.pooled() && t.shape.size() >= 3) {
      const int64_t block = t.shape[t.shape.size() - 2];
      for (int64_t r = block; r < g.rows; r += block)
        dl->AddLine(ImVec2(p0.x - 4, p0.y + r * ch), ImVec2(p0.x + size.x + 4, p0.y + r * ch), ctx.palette.hover,
                    std::max(1.0f, 2.0f * ctx.scale));
    }
    if (opt.mark_row >= 0 && !g.pooled() && !t.transposed && opt.mark_row < g.rows) {
      const float y = p0.y + static_cast<float>(opt.mark_row) * ch;
      dl->AddRect(ImVec2(p0.x - 2, y - 1), ImVec2(p0.x + size.x + 2, y + ch + 1), ctx.palette.warn, 0, 0,
                  std::max(2.0f, 2.5f * ctx.scale));
    }
    if (hovered) {
      const ImVec2 m = ImGui::GetIO().MousePos;
      const int col = std::clamp(static_cast<int>((m.x - p0.x) / cw), 0, g.cols - 1);
      const int row = std::clamp(static_cast<int>((m.y - p0.y) / ch), 0, g.rows - 1);
      const int64_t src = cell_source_index(t, g, row, col);
      const ImVec2 a(p0.x + col * cw, p0.y + row * ch);
      dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(a.x + cw + 1, a.y + ch + 1), ctx.palette.hover, 0, 0,
                  std::max(1.5f, 2.0f * ctx.scale));
      ImGui::BeginTooltip();
      ImGui::PushFont(ctx.fonts.mono);
      ImGui::Text("%s %s", caption.substr(0, caption.find("  ")).c_str(), multi_index_str(t.shape, src).c_str());
      ImGui::Text("= %s", num(t.at(src)).c_str());
      if (const std::string note = token_note(c, t, src, opt.tokens); !note.empty()) ImGui::TextDisabled("%s", note.c_str());
      if (g.pooled()) {
        const int64_t r0 = row * g.block_rows, c0 = col * g.block_cols;
        ImGui::TextDisabled("cell: rows %lld…%lld, cols %lld…%lld", static_cast<long long>(r0),
                            static_cast<long long>(std::min(g.src_rows, r0 + g.block_rows) - 1),
                            static_cast<long long>(c0),
                            static_cast<long long>(std::min(g.src_cols, c0 + g.block_cols) - 1));
        ImGui::TextDisabled("showing its largest |value|");
      }
      ImGui::PopFont();
      ImGui::EndTooltip();
      if (c.selection().hover_tensor != caption || c.selection().hover_index != src)
        ctx.requests.push(req::Hover{caption, src});
    }
    if (opt.legend) legend_line(ctx, h, std::max(size.x, std::min(W, 220.0f * ctx.scale)));
    if (opt.stats) stats_block(ctx, t, h, W);
  }
  ImGui::PopID();
  ImGui::PopID();
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
  const ImVec2 ts = ImGui::CalcTextSize(why);
  dl->AddText(ImVec2(p0.x + (W - ts.x) * 0.5f, p0.y + (h - ts.y) * 0.5f), ctx.palette.dim, why);
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
