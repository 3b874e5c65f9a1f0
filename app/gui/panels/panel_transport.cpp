// Transport: where the cursor is (big), stepping and playing, a scrubber over all 2N steps,
// and the optimiser buttons.
#include <algorithm>
#include <cmath>

#include "format.h"
#include "panel.h"
#include "widgets.h"

namespace gs::app {

namespace {

// After SameLine(): go to a new line when less than `needed` pixels are left on this one.
void wrap_unless_fits(float needed) {
  if (ImGui::GetContentRegionAvail().x < needed) ImGui::NewLine();
}

class TransportPanel final : public Panel {
 public:
  const char* title() const override { return "Transport"; }
  Rect home(const WorkArea& a) const override {
    const float l = layout::left_width(a);
    return {a.x + l, a.y, a.w - l, layout::top_height(a)};
  }

  void contents(const Controller& c, PanelContext& ctx) override {
    title_line(c, ctx);
    buttons(c, ctx);
    scrubber(c, ctx);
    optimiser(c, ctx);
  }

 private:
  // "forward 12/84: h.0.attn.softmax" in large type, coloured by the half.
  void title_line(const Controller& c, PanelContext& ctx) {
    const StepInfo s = c.info();
    const ImU32 col = s.step == 0 ? ctx.palette.dim : s.half == Half::forward ? ctx.palette.forward : ctx.palette.backward;
    ImGui::PushFont(ctx.fonts.big);
    if (s.step == 0) {
      colored_text(col, "ready: nothing computed yet");
    } else {
      colored_text(col, "%s %d/%d:", s.half == Half::forward ? "forward" : "backward", s.index, s.n);
      ImGui::SameLine();
      ImGui::TextUnformatted(c.session().op_name(s.op).c_str());
    }
    ImGui::PopFont();
    const int k = s.step == 0 ? 0 : s.op;
    ImGui::SameLine();
    ImGui::TextDisabled("  %s%s  ", s.step == 0 ? "next: " : "", info(c.session().op_type(k)).name);
    ImGui::SameLine();
    const double loss = c.session().loss();
    if (!c.health().empty()) {
      // NaN or ±∞ in the model: said at once, whatever the cursor (the status bar says what).
      colored_text(ctx.palette.bad, "⚠ loss %s", num(loss).c_str());
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", c.health().c_str());
    } else if (c.forward_done(c.n_ops() - 1)) {
      ImGui::TextDisabled("loss %s", num(loss).c_str());
    } else {
      ImGui::TextDisabled("loss: once forward ends");
    }
  }

  void buttons(const Controller& c, PanelContext& ctx) {
    const float h = ImGui::GetFrameHeight() * 1.25f;
    const ImVec2 b(h * 1.6f, h);
    ImGui::BeginDisabled(c.at_start());
    if (ImGui::Button("|◀", b)) ctx.requests.push(req::JumpTo{0});
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("to the start (Home)");
    ImGui::SameLine();
    if (ImGui::Button("◀", b)) ctx.requests.push(req::Step{-1});
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("one step back (←)");
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::BeginDisabled(c.at_end());
    if (ImGui::Button("▶", b)) ctx.requests.push(req::Step{+1});
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("one step on (→)");
    ImGui::SameLine();
    if (ImGui::Button("▶|", b)) ctx.requests.push(req::JumpTo{c.total_steps()});
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("to the end (End)");
    ImGui::EndDisabled();
    ImGui::SameLine();
    if (ImGui::Button(c.playing() ? "❚❚ pause" : "▶ play", ImVec2(0, h))) ctx.requests.push(req::TogglePlaying{});
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("play / pause (Space)");
    ImGui::SameLine();
    Settings st = c.settings();
    float speed = static_cast<float>(st.play_speed);
    ImGui::SetNextItemWidth(std::max(ImGui::GetFontSize() * 5,
                                     std::min(ImGui::GetFontSize() * 11, ImGui::GetContentRegionAvail().x * 0.5f)));
    ImGui::AlignTextToFramePadding();
    if (ImGui::SliderFloat("steps/s", &speed, static_cast<float>(Settings::kMinSpeed),
                           static_cast<float>(Settings::kMaxSpeed), "%.2g", ImGuiSliderFlags_Logarithmic)) {
      st.play_speed = speed;
      ctx.requests.push(req::SetSettings{st});
    }
    char steps[48];
    snprintf(steps, sizeof steps, "   step %d of %d", c.step(), c.total_steps());
    ImGui::SameLine();
    if (ImGui::GetContentRegionAvail().x >= ImGui::CalcTextSize(steps).x) ImGui::TextDisabled("%s", steps);
    else ImGui::NewLine();
  }

  // A slider over 0 … 2N on a bar that shows the forward half and the backward half.
  void scrubber(const Controller& c, PanelContext& ctx) {
    const int n = c.n_ops(), total = c.total_steps();
    const float w = ImGui::GetContentRegionAvail().x;
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float hh = ImGui::GetFrameHeight();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float grab = std::max(ImGui::GetStyle().GrabMinSize, 1.0f);
    // The slider's track runs from grab/2 to w − grab/2; colour the two halves under it.
    const float x0 = p.x + grab * 0.5f, x1 = p.x + w - grab * 0.5f;
    const float xm = x0 + (x1 - x0) * (total ? float(n) / float(total) : 0.5f);
    auto faded = [](ImU32 col, float alpha) {
      ImVec4 v = ImGui::ColorConvertU32ToFloat4(col);
      v.w = alpha;
      return ImGui::ColorConvertFloat4ToU32(v);
    };
    dl->AddRectFilled(ImVec2(x0, p.y), ImVec2(xm, p.y + hh), faded(ctx.palette.forward, 0.30f), 3.0f);
    dl->AddRectFilled(ImVec2(xm, p.y), ImVec2(x1, p.y + hh), faded(ctx.palette.backward, 0.30f), 3.0f);
    // Done part of the tape, stronger.
    const float xs = x0 + (x1 - x0) * (total ? float(c.step()) / float(total) : 0.0f);
    if (c.step() > 0) {
      dl->AddRectFilled(ImVec2(x0, p.y + hh * 0.7f), ImVec2(std::min(xs, xm), p.y + hh), faded(ctx.palette.forward, 0.9f));
      if (xs > xm) dl->AddRectFilled(ImVec2(xm, p.y + hh * 0.7f), ImVec2(xs, p.y + hh), faded(ctx.palette.backward, 0.9f));
    }
    const char* fl = "forward →";
    const char* bl = "← backward";
    const ImVec2 fs = ImGui::CalcTextSize(fl), bs = ImGui::CalcTextSize(bl);
    const ImU32 label = ImGui::GetColorU32(ImGuiCol_TextDisabled);
    dl->AddText(ImVec2((x0 + xm - fs.x) * 0.5f, p.y + (hh - fs.y) * 0.5f), label, fl);
    dl->AddText(ImVec2((xm + x1 - bs.x) * 0.5f, p.y + (hh - bs.y) * 0.5f), label, bl);
    ImGui::SetNextItemWidth(w);
    ImGui::PushStyleColor(ImGuiCol_FrameBg, IM_COL32(0, 0, 0, 0));
    ImGui::PushStyleColor(ImGuiCol_FrameBgHovered, IM_COL32(255, 255, 255, 20));
    ImGui::PushStyleColor(ImGuiCol_FrameBgActive, IM_COL32(255, 255, 255, 30));
    int s = c.step();
    if (ImGui::SliderInt("##scrub", &s, 0, total, "")) ctx.requests.push(req::JumpTo{s});
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("drag over all 2N = %d steps", total);
    ImGui::PopStyleColor(3);
  }

  void optimiser(const Controller& c, PanelContext& ctx) {
    ImGui::Separator();
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted("optimiser");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
    const char* kinds[] = {"adamw", "sgd"};
    int kind = opt_.kind == "sgd" ? 1 : 0;
    if (ImGui::Combo("##kind", &kind, kinds, 2)) opt_.kind = kinds[kind];
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
    ImGui::InputDouble("lr", &opt_.lr, 0, 0, "%.2g");
    if (opt_.lr <= 0 || !std::isfinite(opt_.lr)) opt_.lr = 1e-3;
    ImGui::SameLine();
    if (ImGui::Button("optimizer step")) ctx.requests.push(req::OptimizerStep{opt_});
    ImGui::SameLine();
    wrap_unless_fits(ImGui::GetFontSize() * 15);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5);
    ImGui::InputInt("##n", &train_steps_, 0, 0);
    train_steps_ = std::clamp(train_steps_, 1, 100000);
    ImGui::SameLine();
    char label[48];
    snprintf(label, sizeof label, "train %d steps", train_steps_);
    if (ImGui::Button(label)) ctx.requests.push(req::Train{train_steps_, opt_});
    ImGui::SameLine();
    if (c.busy() && c.job().kind == JobKind::train) {
      // The steps run off the UI thread; the model above stays until they are done.
      wrap_unless_fits(ImGui::GetFontSize() * 20);
      job_progress(c, ctx, ImGui::GetFontSize() * 7, false);
      return;
    }
    const auto& l = c.losses();
    char done[96];
    if (l.size() > 1)
      snprintf(done, sizeof done, "  %d step%s: loss %s → %s", c.optimizer_steps(), c.optimizer_steps() == 1 ? "" : "s",
               num_short(l.front()).c_str(), num_short(l.back()).c_str());
    else
      snprintf(done, sizeof done, "  no steps taken yet");
    wrap_unless_fits(ImGui::CalcTextSize(done).x);
    ImGui::TextDisabled("%s", done);
  }

  OptimizerOptions opt_;
  int train_steps_ = 20;
};

}  // namespace

std::unique_ptr<Panel> make_transport_panel() { return std::make_unique<TransportPanel>(); }

}  // namespace gs::app
