// FLOPs: per-op forward and backward bars (log or linear), the totals and the
// backward/forward ratio, the closed form of "Backpropagating through GPT-2" L(48BTC² + 8BHT²d + 5BHT² + 98BTC) + 11BTC
// + 4BTCV beside the sum over the ops it counts (✓ when equal), the ops it leaves out, and in
// LoRA mode the backward FLOPs saved against full fine-tuning. Every number is the tape's
// (Op::flops, Tape::total_flops, closed_form_bwd, full_finetune_bwd).
#include <algorithm>
#include <cmath>
#include <map>

#include "format.h"
#include "panel.h"
#include "widgets.h"

namespace gs::app {

namespace {

// 1234567 → "1,234,567"
std::string grouped(int64_t v) {
  const std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out = v < 0 ? "−" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

struct OpRow {
  std::string name, type;
  Flops flops;
};

struct Facts {
  std::vector<OpRow> rows;
  Flops total;
  int64_t closed = 0, full_ft = 0;
  int64_t L = 0, B = 0, T = 0, C = 0, H = 0, d = 0, V = 0;
  int lora_rank = 0;
  std::string program;
  // What the closed form leaves out, by kind.
  std::vector<std::pair<std::string, int64_t>> extras;
  int64_t max_fwd = 0, max_bwd = 0;
};

ImU32 with_alpha(ImU32 col, float a) {
  ImVec4 v = ImGui::ColorConvertU32ToFloat4(col);
  v.w *= a;
  return ImGui::ColorConvertFloat4ToU32(v);
}

class FlopsPanel final : public Panel {
 public:
  FlopsPanel() { open = false; }
  const char* title() const override { return "FLOPs"; }
  Rect home(const WorkArea& a) const override {
    const float l = layout::left_width(a), t = layout::top_height(a);
    return {a.x + l + 2 * a.line, a.y + t + 2 * a.line, std::max((a.w - l) * 0.8f, 20.0f * a.line),
            a.h - t - 2 * a.line};
  }

  void contents(const Controller& c, PanelContext& ctx) override {
    refresh(c);
    summary(ctx);
    ImGui::Separator();
    bars(c, ctx);
  }

 private:
  void refresh(const Controller& c) {
    if (c.version() == version_) return;
    version_ = c.version();
    f_ = Facts{};
    c.session().visit([&](const auto& s) {
      const auto& tape = *s.tape;
      const Config& cfg = tape.config();
      std::map<std::string, int64_t> extra;
      for (int k = 0; k < tape.size(); ++k) {
        const auto& op = tape.op(k);
        f_.rows.push_back({op.name, info(op.type).name, op.flops});
        f_.max_fwd = std::max(f_.max_fwd, op.flops.fwd);
        f_.max_bwd = std::max(f_.max_bwd, op.flops.bwd());
        if (op.flops.bwd_extra > 0) {
          const char* e = info(op.type).extra;
          const std::string why = *e ? e : info(op.type).name;
          extra[why] += op.flops.bwd_extra;
        }
      }
      for (auto& [w, v] : extra) f_.extras.emplace_back(w, v);
      f_.total = tape.total_flops();
      f_.closed = tape.closed_form_bwd();
      f_.full_ft = tape.full_finetune_bwd();
      f_.L = cfg.n_layer;
      f_.B = tape.batch().B;
      f_.T = tape.batch().T;
      f_.C = cfg.n_embd;
      f_.H = cfg.n_head;
      f_.d = cfg.head_size();
      f_.V = cfg.vocab_size;
      f_.lora_rank = cfg.lora_rank;
      f_.program = cfg.program;
    });
  }

  // [SECTION] totals and the closed form
  void summary(PanelContext& ctx) {
    const Facts& f = f_;
    const double ratio = f.total.fwd > 0 ? static_cast<double>(f.total.bwd()) / static_cast<double>(f.total.fwd) : 0;
    ImGui::PushFont(ctx.fonts.big);
    colored_text(ctx.palette.forward, "forward %s", human(static_cast<double>(f.total.fwd)).c_str());
    ImGui::SameLine();
    colored_text(ctx.palette.backward, "   backward %s", human(static_cast<double>(f.total.bwd())).c_str());
    ImGui::PopFont();
    ImGui::Text("backward / forward = %.2f", ratio);
    ImGui::SameLine();
    help_marker("A matmul (m,n)@(n,p) costs 2mnp forward. Backward it needs two: one for the input's gradient and one "
                "for the weight's, so about twice the forward. Element-wise ops cost a few FLOPs per entry; residual "
                "adds and the NLL cost nothing backward (the conventions of \"Backpropagating through GPT-2\").");

    if (f.closed < 0) {
      // Only GPT-2 has one: the post derives it for GPT-2's ops.
      ImGui::Spacing();
      ImGui::PushTextWrapPos(0);
      ImGui::TextDisabled("The closed form of \"Backpropagating through GPT-2\" counts GPT-2's ops; this program (%s) "
                          "has none. Its FLOPs are the sum of its ops, below.",
                          f.program.c_str());
      ImGui::PopTextWrapPos();
      lora_saving(ctx);
      return;
    }
    // The closed form with this model's letters.
    const int64_t L = f.L, B = f.B, T = f.T, C = f.C, H = f.H, d = f.d, V = f.V;
    const int64_t t1 = 48 * B * T * C * C, t2 = 8 * B * H * T * T * d, t3 = 5 * B * H * T * T, t4 = 98 * B * T * C;
    const int64_t t5 = 11 * B * T * C, t6 = 4 * B * T * C * V;
    const int64_t mine = L * (t1 + t2 + t3 + t4) + t5 + t6;
    ImGui::Spacing();
    ImGui::TextUnformatted("the closed form of \"Backpropagating through GPT-2\" for the backward pass:");
    ImGui::PushFont(ctx.fonts.mono);
    ImGui::Text("  L(48BTC² + 8BHT²d + 5BHT² + 98BTC) + 11BTC + 4BTCV");
    ImGui::TextDisabled("  L=%lld B=%lld T=%lld C=%lld H=%lld d=%lld V=%lld", (long long)L, (long long)B, (long long)T,
                        (long long)C, (long long)H, (long long)d, (long long)V);
    ImGui::Text("  = %lld·(%s + %s + %s + %s) + %s + %s", (long long)L, grouped(t1).c_str(), grouped(t2).c_str(),
                grouped(t3).c_str(), grouped(t4).c_str(), grouped(t5).c_str(), grouped(t6).c_str());
    ImGui::Text("  = %s", grouped(f.closed).c_str());
    if (mine != f.closed) {
      ImGui::SameLine();
      colored_text(ctx.palette.warn, "  (recomputed here: %s)", grouped(mine).c_str());
    }
    ImGui::PopFont();

    const bool equal = f.total.bwd_seed == f.closed;
    ImGui::TextUnformatted("sum over the ops \"Backpropagating through GPT-2\" counts:");
    ImGui::SameLine();
    ImGui::PushFont(ctx.fonts.mono);
    ImGui::TextUnformatted(grouped(f.total.bwd_seed).c_str());
    ImGui::PopFont();
    ImGui::SameLine();
    if (equal)
      colored_text(ctx.palette.ok, "✓ equal to the closed form");
    else if (f.lora_rank > 0)
      colored_text(ctx.palette.warn, "≠ the closed form: LoRA freezes the base weights, so their gradients (in the "
                                     "formula) are never computed");
    else
      colored_text(ctx.palette.bad, "✗ differs from the closed form by %s", grouped(f.total.bwd_seed - f.closed).c_str());

    std::string left_out = "what the post leaves out, counted too: " + grouped(f.total.bwd_extra);
    for (size_t i = 0; i < f.extras.size(); ++i)
      left_out += (i ? ", " : "  (") + f.extras[i].first + " " + human(static_cast<double>(f.extras[i].second)) +
                  (i + 1 == f.extras.size() ? ")" : "");
    ImGui::TextWrapped("%s", left_out.c_str());
    lora_saving(ctx);
  }

  // In LoRA mode: the backward FLOPs the frozen weights save.
  void lora_saving(PanelContext& ctx) {
    const Facts& f = f_;
    if (f.lora_rank > 0) {
      ImGui::Spacing();
      const int64_t saved = f.full_ft - f.total.bwd();
      const double pct = f.full_ft > 0 ? 100.0 * static_cast<double>(saved) / static_cast<double>(f.full_ft) : 0;
      ImGui::PushFont(ctx.fonts.big);
      colored_text(ctx.palette.ok, "LoRA r=%d saves %s backward FLOPs (%.1f%%)", f.lora_rank, human(double(saved)).c_str(),
                   pct);
      ImGui::PopFont();
      compare_bar(ctx, "full fine-tuning", f.full_ft, f.full_ft, with_alpha(ctx.palette.backward, 0.5f));
      compare_bar(ctx, "LoRA", f.total.bwd(), f.full_ft, ctx.palette.backward);
      ImGui::TextDisabled("a frozen W needs only ∂L/∂X = ∂L/∂Y·Wᵀ (2mnp), not also ∂L/∂W = Xᵀ·∂L/∂Y (another 2mnp)");
    }
  }

  void compare_bar(PanelContext& ctx, const char* label, int64_t v, int64_t max, ImU32 col) {
    const float x0 = ImGui::GetCursorPosX();
    const float lw = ImGui::CalcTextSize("full fine-tuning").x + ImGui::GetStyle().ItemSpacing.x * 2;
    ImGui::TextUnformatted(label);
    ImGui::SameLine(x0 + lw);
    const float W = std::max(50.0f, ImGui::GetContentRegionAvail().x - 120.0f * ctx.scale);
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float h = ImGui::GetTextLineHeight();
    ImGui::Dummy(ImVec2(W, h));
    const float w = max > 0 ? W * static_cast<float>(static_cast<double>(v) / static_cast<double>(max)) : 0;
    ImGui::GetWindowDrawList()->AddRectFilled(p, ImVec2(p.x + w, p.y + h), col, 2.0f);
    ImGui::SameLine();
    ImGui::PushFont(ctx.fonts.mono);
    ImGui::TextUnformatted(human(static_cast<double>(v)).c_str());
    ImGui::PopFont();
  }

  // [SECTION] per-op bars
  void bars(const Controller& c, PanelContext& ctx) {
    ImGui::TextUnformatted("per op");
    ImGui::SameLine();
    ImGui::Checkbox("log scale", &log_);
    ImGui::SameLine();
    ImGui::Checkbox("hide zero rows", &hide_zero_);
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    auto key = [&](ImU32 col, const char* what) {
      // Onto the next line when the window is narrow.
      const float w = ImGui::GetTextLineHeight() + 4 * ctx.scale + ImGui::CalcTextSize(what).x;
      if (ImGui::GetItemRectMax().x + 12 * ctx.scale + w < right) ImGui::SameLine(0, 12 * ctx.scale);
      const ImVec2 p = ImGui::GetCursorScreenPos();
      const float h = ImGui::GetTextLineHeight();
      ImGui::Dummy(ImVec2(h, h));
      ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(p.x, p.y + h * 0.2f), ImVec2(p.x + h, p.y + h * 0.8f), col, 2.0f);
      ImGui::SameLine(0, 4 * ctx.scale);
      ImGui::TextUnformatted(what);
    };
    key(ctx.palette.forward, "forward");
    key(ctx.palette.backward, f_.closed >= 0 ? "backward (in the closed form)" : "backward");
    if (f_.closed >= 0) key(with_alpha(ctx.palette.backward, 0.45f), "backward (left out of it)");

    visible_.clear();
    for (int k = 0; k < static_cast<int>(f_.rows.size()); ++k)
      if (!hide_zero_ || f_.rows[k].flops.fwd > 0 || f_.rows[k].flops.bwd() > 0) visible_.push_back(k);
    const int cur = c.at_start() ? -1 : c.info().op;
    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY |
                                  ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_NoSavedSettings;
    if (!ImGui::BeginTable("bars", 3, flags, ImVec2(0, ImGui::GetContentRegionAvail().y))) return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("op", ImGuiTableColumnFlags_WidthFixed, ImGui::GetFontSize() * 11);
    ImGui::TableSetupColumn("forward", ImGuiTableColumnFlags_WidthStretch, 1.0f);
    ImGui::TableSetupColumn("backward", ImGuiTableColumnFlags_WidthStretch, 1.0f);
    ImGui::TableHeadersRow();
    // One scale for both columns, so the bars compare across them.
    const double vmax = static_cast<double>(std::max<int64_t>({f_.max_fwd, f_.max_bwd, 1}));
    auto frac = [&](double v) -> float {
      if (v <= 0) return 0;
      return log_ ? static_cast<float>(std::log10(1 + v) / std::log10(1 + vmax)) : static_cast<float>(v / vmax);
    };
    ImGuiListClipper clip;
    clip.Begin(static_cast<int>(visible_.size()));
    while (clip.Step()) {
      for (int i = clip.DisplayStart; i < clip.DisplayEnd; ++i) {
        const int k = visible_[i];
        const OpRow& r = f_.rows[k];
        ImGui::TableNextRow();
        if (k == cur) ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, ctx.palette.current_row);
        ImGui::TableNextColumn();
        ImGui::PushID(k);
        if (ImGui::Selectable(r.name.c_str(), k == cur, ImGuiSelectableFlags_SpanAllColumns))
          ctx.requests.push(req::FocusOp{k, Half::current});
        if (ImGui::IsItemHovered())
          ImGui::SetTooltip("%s (%s)\nforward %s\nbackward %s = %s counted by the post + %s left out", r.name.c_str(),
                            r.type.c_str(), grouped(r.flops.fwd).c_str(), grouped(r.flops.bwd()).c_str(),
                            grouped(r.flops.bwd_seed).c_str(), grouped(r.flops.bwd_extra).c_str());
        ImGui::PopID();
        ImGui::TableNextColumn();
        bar(ctx, {{static_cast<double>(r.flops.fwd), ctx.palette.forward}}, frac, static_cast<double>(r.flops.fwd));
        ImGui::TableNextColumn();
        bar(ctx,
            {{static_cast<double>(r.flops.bwd_seed), ctx.palette.backward},
             {static_cast<double>(r.flops.bwd_extra), with_alpha(ctx.palette.backward, 0.45f)}},
            frac, static_cast<double>(r.flops.bwd()));
      }
    }
    ImGui::EndTable();
  }

  // A horizontal bar of stacked parts, its total written after it.
  template <class Frac>
  void bar(PanelContext& ctx, std::initializer_list<std::pair<double, ImU32>> parts, Frac frac, double total) {
    const std::string label = total > 0 ? human(total) : "0";
    ImGui::PushFont(ctx.fonts.mono);
    const float tw = ImGui::CalcTextSize("000.00k").x;
    const float W = std::max(10.0f, ImGui::GetContentRegionAvail().x - tw - 6 * ctx.scale);
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float h = ImGui::GetTextLineHeight();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    // Stacked on the chosen scale: the whole bar is frac(total); parts share it in proportion.
    const float whole = W * frac(total);
    float x = p.x;
    for (const auto& [v, col] : parts) {
      if (v <= 0 || total <= 0) continue;
      const float w = whole * static_cast<float>(v / total);
      dl->AddRectFilled(ImVec2(x, p.y + h * 0.15f), ImVec2(x + std::max(w, 1.0f), p.y + h * 0.85f), col);
      x += w;
    }
    ImGui::Dummy(ImVec2(W, h));
    ImGui::SameLine(0, 4 * ctx.scale);
    if (total > 0)
      ImGui::TextUnformatted(label.c_str());
    else
      ImGui::TextDisabled("0");
    ImGui::PopFont();
  }

  uint64_t version_ = ~uint64_t{0};
  Facts f_;
  bool log_ = true, hide_zero_ = false;
  std::vector<int> visible_;
};

}  // namespace

std::unique_ptr<Panel> make_flops_panel() { return std::make_unique<FlopsPanel>(); }

}  // namespace gs::app
