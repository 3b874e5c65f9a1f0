// Attention: for one layer and head, the attention probabilities P (T×T, the output of
// h.{l}.attn.softmax) and their gradient ∂L/∂P, with the tokens as row (query) and column
// (key) labels. Heatmaps come from the HeatmapProvider; hovering a cell reads
// "query 'e'@5 → key 't'@2: 0.43".
#include <algorithm>
#include <cmath>

#include "format.h"
#include "panel.h"
#include "widgets.h"

namespace gs::app {

namespace {

class AttentionPanel final : public Panel {
 public:
  AttentionPanel() { open = false; }
  const char* title() const override { return "Attention"; }

  void contents(const Controller& c, PanelContext& ctx) override {
    if (!c.session().is_gpt2()) {
      // Attention over tokens is GPT-2's: its heads read a text.
      ImGui::PushTextWrapPos(0);
      ImGui::TextUnformatted("This view shows GPT-2's attention over the tokens of its text, head by head.");
      if (const std::string p = c.session().attention_weights_op(); !p.empty())
        ImGui::TextDisabled("This model's attention head is on the tape itself: step to its op %s (the softmax) "
                            "to see the weights, and back through it to see their gradient.", p.c_str());
      else
        ImGui::TextDisabled("Program %s has no attention heads.", c.session().program().c_str());
      ImGui::PopTextWrapPos();
      return;
    }
    c.session().visit([&](const auto& s) { body(c, ctx, *s.tape); });
  }

 private:
  template <class T>
  void body(const Controller& c, PanelContext& ctx, const Tape<T>& tape) {
    const Config& cfg = tape.config();
    const int L = cfg.n_layer, H = cfg.n_head, B = tape.batch().B, Tn = tape.batch().T;
    // Follow the cursor into the layer it is in.
    const int cur = c.at_start() ? -1 : c.info().op;
    const int cur_layer = cur >= 0 ? tape.op(cur).layer : -1;
    if (follow_ && cur_layer >= 0 && cur_layer != last_cursor_layer_) layer_ = cur_layer;
    last_cursor_layer_ = cur_layer;
    layer_ = std::clamp(layer_, 0, L - 1);
    head_ = std::clamp(head_, 0, H - 1);
    row_ = std::clamp(row_, 0, B - 1);

    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
    ImGui::SliderInt("layer", &layer_, 0, L - 1);
    ImGui::SameLine();
    ImGui::Checkbox("follow", &follow_);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("show the layer the cursor is in");
    ImGui::SameLine();
    ImGui::TextUnformatted("  head");
    for (int h = 0; h < H && h < 16; ++h) {
      ImGui::SameLine();
      char id[16];
      snprintf(id, sizeof id, "%d", h);
      if (ImGui::RadioButton(id, head_ == h)) head_ = h;
    }
    if (H > 16) {
      ImGui::SameLine();
      ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
      ImGui::SliderInt("##head", &head_, 0, H - 1);
    }
    if (B > 1) {
      ImGui::SameLine();
      ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
      ImGui::SliderInt("batch row", &row_, 0, B - 1);
    }

    const std::string name = "h." + std::to_string(layer_) + ".attn.softmax";
    const int k = tape.find_op(name);
    if (k < 0) {
      colored_text(ctx.palette.bad, "no op %s on the tape", name.c_str());
      return;
    }
    const auto& op = tape.op(k);
    const auto& val = tape.value(op.out);
    if (val.data.rank() != 4 || val.data.dim(2) != Tn || val.data.dim(3) != Tn) {
      colored_text(ctx.palette.bad, "%s has shape %s, not (B,H,T,T)", name.c_str(), shape_str(val.data.shape).c_str());
      return;
    }
    // Token labels: each token's text (spaces shown as ␣), "#id" without a vocabulary.
    labels_.clear();
    for (int t = 0; t < Tn; ++t) {
      const int32_t id = tape.batch().x[static_cast<size_t>(row_) * Tn + t];
      labels_.push_back(token_glyph(c.session().token_text(id)));
    }
    const int64_t off = (static_cast<int64_t>(row_) * H + head_) * Tn * Tn;
    Tensor<T> P{val.data.data + off, {Tn, Tn}};
    const bool has_grad = !val.grad.empty();
    Tensor<T> dP{has_grad ? val.grad.data + off : nullptr, {Tn, Tn}};

    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled("row i: query position i reads keys 0 … i (the causal mask hides the later ones, hatched); each "
                        "row of P sums to 1");
    ImGui::PopTextWrapPos();
    const float W = ImGui::GetContentRegionAvail().x;
    // Side by side where the panel is wide enough, measured without the scrollbar (which the
    // stacked maps bring: else the choice flips between frames at a border width).
    const float W_bare = ImGui::GetWindowWidth() - 2 * ImGui::GetStyle().WindowPadding.x;
    const bool side = W_bare > 26.0f * ImGui::GetFontSize();
    const float map_w = side ? W * 0.5f - ImGui::GetStyle().ItemSpacing.x : W;
    if (ImGui::BeginTable("maps", side ? 2 : 1, ImGuiTableFlags_NoSavedSettings | ImGuiTableFlags_SizingStretchSame)) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      const std::string capP = "P = softmax(" + name.substr(0, name.size() - 8) + ".mask)   head " + std::to_string(head_);
      if (c.forward_done(k))
        map(c, ctx, capP, TensorRef::of(P), ColorMode::sequential, map_w, false);
      else
        not_computed(ctx, capP, P.shape, "not computed yet", map_w);
      if (side)
        ImGui::TableNextColumn();
      else
        ImGui::TableNextRow(), ImGui::TableNextColumn();
      const std::string capG = "∂L/∂P   head " + std::to_string(head_);
      if (!has_grad)
        ImGui::TextWrapped("∂L/∂P: no gradient needed here (nothing trainable upstream)");
      else if (c.incoming_ready(k))
        map(c, ctx, capG, TensorRef::of(dP), ColorMode::diverging, map_w, true);
      else
        not_computed(ctx, capG, dP.shape, "not computed yet (backward half)", map_w);
      ImGui::EndTable();
    }
  }

  // A T×T map with the tokens along both sides.
  void map(const Controller& c, PanelContext& ctx, const std::string& caption, const TensorRef& t, ColorMode mode,
           float width, bool grad) {
    ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + width);  // in its column, not into the next one
    ImGui::TextUnformatted(caption.c_str());
    ImGui::PopTextWrapPos();
    const int Tn = static_cast<int>(t.rows());
    const Heatmap& h = ctx.heatmaps.get(t, mode, c.version());
    ImFont* mono = ctx.fonts.mono;
    float label_w = 0;
    for (const auto& l : labels_) label_w = std::max(label_w, ImGui::CalcTextSize(l.c_str()).x);
    const float idx_w = ImGui::CalcTextSize(std::to_string(Tn - 1).c_str()).x * 0.8f;
    const float left = label_w + idx_w + 10 * ctx.scale;
    const float line = ImGui::GetTextLineHeight();
    const float max_h = std::max(8.0f * line, ImGui::GetContentRegionAvail().y - 5 * line);
    const float cell = std::clamp(std::min((width - left - 8) / Tn, (max_h - line * 2.9f) / Tn), 3.0f, 48.0f * ctx.scale);
    // Key labels wider than a cell (GPT-2 tokens are words) go on two staggered lines, each
    // given two cells' width.
    const bool stagger = label_w > cell * 0.95f;
    const float top = line * (stagger ? 2.9f : 1.9f);
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const ImVec2 img(p.x + left, p.y + top);
    const ImVec2 size(cell * Tn, cell * Tn);
    ImGui::Dummy(ImVec2(left + size.x, top + size.y));
    const bool hovered = ImGui::IsItemHovered();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    if (h.texture)
      dl->AddImage(h.texture, img, ImVec2(img.x + size.x, img.y + size.y));
    else
      dl->AddText(img, ctx.palette.bad, "no heatmap (shader error)");
    dl->AddRect(ImVec2(img.x - 1, img.y - 1), ImVec2(img.x + size.x + 1, img.y + size.y + 1),
                ImGui::GetColorU32(ImGuiCol_Border));
    // The future keys a query may not see, hatched as the inspector hatches the masked scores.
    if (cell >= 4.0f) {
      const ImU32 hatch = IM_COL32(150, 150, 160, 200), under = IM_COL32(60, 60, 66, 255);
      const float step = std::max(3.0f, cell / 4.0f), thick = std::max(1.0f, ctx.scale);
      for (int i = 0; i < Tn; ++i)
        for (int j = i + 1; j < Tn; ++j) {
          const ImVec2 a(img.x + j * cell, img.y + i * cell), b(a.x + cell, a.y + cell);
          dl->AddRectFilled(a, b, under);
          dl->PushClipRect(a, b, true);
          for (float o = -cell; o < cell; o += step) dl->AddLine(ImVec2(a.x + o, b.y), ImVec2(a.x + o + cell, a.y), hatch, thick);
          dl->PopClipRect();
        }
    }
    // Labels: every one when they fit, else every n-th.
    const int every = std::max(1, static_cast<int>(std::ceil(line * 0.9f / cell)));
    const ImU32 text = ImGui::GetColorU32(ImGuiCol_Text), dim = ctx.palette.dim;
    const float small = mono->FontSize * 0.7f;
    for (int i = 0; i < Tn; i += every) {
      const ImVec2 ts = ImGui::CalcTextSize(labels_[i].c_str());
      // rows: queries
      dl->AddText(ImVec2(img.x - ts.x - idx_w - 6 * ctx.scale, img.y + i * cell + (cell - ts.y) * 0.5f), text,
                  labels_[i].c_str());
      const std::string n = std::to_string(i);
      dl->AddText(mono, small, ImVec2(img.x - idx_w - 3 * ctx.scale, img.y + i * cell + (cell - small) * 0.5f), dim,
                  n.c_str());
      // columns: keys
      const float ky = img.y - line * 1.85f - (stagger && (i / every) % 2 ? line : 0.0f);
      const float room = stagger ? 2 * cell * every : cell * every;
      const float cx = img.x + i * cell + cell * 0.5f;
      dl->PushClipRect(ImVec2(cx - room * 0.5f, ky), ImVec2(cx + room * 0.5f, ky + line), true);
      dl->AddText(ImVec2(cx - std::min(ts.x, room) * 0.5f, ky), text, labels_[i].c_str());
      dl->PopClipRect();
      const ImVec2 ns = mono->CalcTextSizeA(small, FLT_MAX, 0, n.c_str());
      dl->AddText(mono, small, ImVec2(img.x + i * cell + (cell - ns.x) * 0.5f, img.y - small - 2), dim, n.c_str());
    }
    dl->AddText(ImVec2(p.x, p.y), dim, "q\\k");
    if (hovered) {
      const ImVec2 m = ImGui::GetIO().MousePos;
      const int col = static_cast<int>((m.x - img.x) / cell), row = static_cast<int>((m.y - img.y) / cell);
      if (m.x >= img.x && m.y >= img.y && col >= 0 && col < Tn && row >= 0 && row < Tn) {
        const ImVec2 a(img.x + col * cell, img.y + row * cell);
        dl->AddRect(a, ImVec2(a.x + cell, a.y + cell), ctx.palette.hover, 0, 0, std::max(1.5f, 2.0f * ctx.scale));
        // The whole query row and key column, faintly.
        dl->AddRect(ImVec2(img.x, a.y), ImVec2(img.x + size.x, a.y + cell), ImGui::GetColorU32(ImGuiCol_Text, 0.35f));
        dl->AddRect(ImVec2(a.x, img.y), ImVec2(a.x + cell, img.y + size.y), ImGui::GetColorU32(ImGuiCol_Text, 0.35f));
        const double v = t.at(static_cast<int64_t>(row) * Tn + col);
        ImGui::BeginTooltip();
        ImGui::PushFont(mono);
        if (grad)
          ImGui::Text("∂L/∂P: query '%s'@%d → key '%s'@%d: %s", labels_[row].c_str(), row, labels_[col].c_str(), col,
                      num_short(v).c_str());
        else
          ImGui::Text("query '%s'@%d → key '%s'@%d: %.2f", labels_[row].c_str(), row, labels_[col].c_str(), col, v);
        ImGui::PopFont();
        if (col > row) ImGui::TextDisabled("a future key: masked, so P = 0 and no gradient reaches its score");
        ImGui::EndTooltip();
      }
    }
    // Legend.
    const Heatmap& lg = ctx.heatmaps.legend(mode);
    ImGui::PushFont(mono);
    ImGui::SetCursorScreenPos(ImVec2(img.x, ImGui::GetCursorScreenPos().y));
    ImGui::TextUnformatted(num_short(h.lo).c_str());
    ImGui::SameLine();
    if (lg.texture) {
      const ImVec2 q = ImGui::GetCursorScreenPos();
      ImGui::Image(lg.texture, ImVec2(std::max(20.0f, size.x * 0.6f), line * 0.5f));
      ImGui::SameLine();
      ImGui::SetCursorScreenPos(ImVec2(ImGui::GetCursorScreenPos().x, q.y));
    }
    ImGui::TextUnformatted(num_short(h.hi).c_str());
    ImGui::PopFont();
  }

  int layer_ = 0, head_ = 0, row_ = 0;
  bool follow_ = true;
  int last_cursor_layer_ = -2;
  std::vector<std::string> labels_;
};

}  // namespace

std::unique_ptr<Panel> make_attention_panel() { return std::make_unique<AttentionPanel>(); }

}  // namespace gs::app
