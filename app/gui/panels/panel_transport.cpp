// Transport: where the cursor is (big), stepping and playing, and a scrubber over all 2N steps.
// The optimiser lives in the Training panel (one set of controls). In the presenter layout the
// buttons and the scrubber share one row and the inspector's title says where the cursor is,
// so the maps under it get the height.
#include <algorithm>
#include <cmath>

#include "format.h"
#include "layout.h"
#include "panel.h"
#include "widgets.h"

namespace gs::app {

namespace {

class TransportPanel final : public Panel {
 public:
  const char* title() const override { return "Transport"; }
  Role role() const override { return Role::top; }

  void contents(const Controller& c, PanelContext& ctx) override {
    if (c.settings().arrangement == Arrangement::presenter) {
      // One row: the buttons and the scrubber; the inspector under it carries the title.
      buttons(c, ctx, true);
      ImGui::SameLine(0, ImGui::GetFontSize());
    } else {
      title_line(c, ctx);
      buttons(c, ctx, false);
    }
    scrubber(c, ctx);
  }

 private:
  // "backward · op 28: h.1.attn.softmax" in large type, coloured by the half; the op's type,
  // the step and the loss after it. Op k is the op's place on the tape, as the tape says.
  void title_line(const Controller& c, PanelContext& ctx) {
    const StepInfo s = c.info();
    const ImU32 col = s.step == 0 ? ctx.palette.dim : s.half == Half::forward ? ctx.palette.forward : ctx.palette.backward;
    ImGui::PushFont(ctx.fonts.big);
    if (s.step == 0) {
      colored_text(col, "ready: nothing computed yet");
    } else {
      colored_text(col, "%s · op %d:", s.half == Half::forward ? "forward" : "backward", s.op);
      ImGui::SameLine();
      ImGui::TextUnformatted(c.session().op_name(s.op).c_str());
    }
    ImGui::PopFont();
    const int k = s.step == 0 ? 0 : s.op;
    char steps[64];
    snprintf(steps, sizeof steps, "step %d of %d", c.step(), c.total_steps());
    // The small words after the title, where they fit (else they are in the tooltip).
    std::string small = std::string(s.step == 0 ? "next: " : "") + info(c.session().op_type(k)).name + "  ·  " + steps;
    const double loss = c.session().loss();
    ImGui::SameLine();
    if (ImGui::GetContentRegionAvail().x > ImGui::CalcTextSize(small.c_str()).x) {
      ImGui::AlignTextToFramePadding();
      ImGui::TextDisabled("%s", small.c_str());
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("2N steps: steps 1 … N run the N ops forward, in tape order; steps N+1 … 2N run them "
                          "backward, from the loss back to the first op (here N = %d)",
                          c.n_ops());
      ImGui::SameLine();
    }
    if (!c.health().empty()) {
      // NaN or ±∞ in the model: said at once, whatever the cursor (the status bar says what).
      colored_text(ctx.palette.bad, "⚠ loss %s", num(loss).c_str());
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", c.health().c_str());
    } else if (c.forward_done(c.n_ops() - 1) && ImGui::GetContentRegionAvail().x > ImGui::CalcTextSize("loss 0.000").x) {
      ImGui::TextDisabled("loss %s", num_short(loss).c_str());
    } else if (c.forward_done(c.n_ops() - 1)) {
      ImGui::NewLine();
    } else if (ImGui::GetContentRegionAvail().x > ImGui::CalcTextSize("loss: once forward ends").x) {
      ImGui::TextDisabled("loss: once forward ends");
    } else {
      ImGui::NewLine();
    }
  }

  void buttons(const Controller& c, PanelContext& ctx, bool compact) {
    const float h = ImGui::GetFrameHeight() * (compact ? 1.0f : 1.25f);
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
    if (compact) return;  // the title follows on this line; speed in the tooltip of play
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
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("how fast play steps through the ops");
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
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("drag over all 2N = %d steps: the N = %d ops forward (blue), then backward from the loss "
                        "(orange)",
                        total, n);
    ImGui::PopStyleColor(3);
  }
};

}  // namespace

std::unique_ptr<Panel> make_transport_panel() { return std::make_unique<TransportPanel>(); }

}  // namespace gs::app
