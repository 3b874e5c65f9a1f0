// Training: the loss after each optimiser step (Controller::losses(); hover reads step and
// loss), the gradient norm of each layer (parameters grouped as the program recorded them:
// GPT-2's embeddings, blocks and head; a lesson's layers), and the optimiser: sgd or adamw,
// learning rate, one step or N.
#include <algorithm>
#include <cmath>

#include "format.h"
#include "grad_norms.h"
#include "panel.h"
#include "plot.h"
#include "widgets.h"

namespace gs::app {

namespace {

class TrainingPanel final : public Panel {
 public:
  TrainingPanel() { open = false; }
  const char* title() const override { return "Training"; }
  Rect home(const WorkArea& a) const override {
    const float l = layout::left_width(a), t = layout::top_height(a);
    const float w = (a.w - l) * 0.6f;
    return {a.x + l + 3 * a.line, a.y + t + 3 * a.line, std::max(w, 20.0f * a.line), a.h - t - 3 * a.line};
  }

  void contents(const Controller& c, PanelContext& ctx) override {
    optimiser(c, ctx);
    ImGui::Separator();
    loss_curve(c, ctx);
    ImGui::Separator();
    norms(c, ctx);
  }

 private:
  // [SECTION] optimiser
  void optimiser(const Controller& c, PanelContext& ctx) {
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted("optimiser");
    ImGui::SameLine();
    if (ImGui::RadioButton("sgd", opt_.kind == "sgd")) opt_.kind = "sgd";
    ImGui::SameLine();
    if (ImGui::RadioButton("adamw", opt_.kind == "adamw")) opt_.kind = "adamw";
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 9);
    log_slider("lr", &opt_.lr, 1e-5, 1.0, 3);
    if (opt_.kind == "adamw") {
      ImGui::SameLine();
      ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
      const double wlo = 0, whi = 0.5;
      ImGui::SliderScalar("weight decay", ImGuiDataType_Double, &opt_.weight_decay, &wlo, &whi, "%.2f");
    }
    if (ImGui::Button("optimizer step")) ctx.requests.push(req::OptimizerStep{opt_});
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("update every trainable parameter from its gradient, then run forward and backward again");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5);
    ImGui::InputInt("##n", &steps_, 0, 0);
    steps_ = std::clamp(steps_, 1, 100000);
    ImGui::SameLine();
    char label[48];
    snprintf(label, sizeof label, "train %d steps", steps_);
    if (ImGui::Button(label)) ctx.requests.push(req::Train{steps_, opt_});
    ImGui::SameLine();
    const Config& cfg = c.session().config();
    ImGui::TextDisabled("%s, %d step%s taken", cfg.lora() ? "LoRA: only A and B move" : "every weight moves",
                        c.optimizer_steps(), c.optimizer_steps() == 1 ? "" : "s");
    if (c.busy() && c.job().kind == JobKind::train) {
      job_progress(c, ctx, ImGui::GetFontSize() * 9, true);
      ImGui::PushTextWrapPos(0);
      ImGui::TextDisabled("the curve grows as each step finishes; the tape shows the model before training until the "
                          "last step is done");
      ImGui::PopTextWrapPos();
    }
  }

  // [SECTION] loss curve
  void loss_curve(const Controller& c, PanelContext& ctx) {
    const std::vector<double>& L = c.losses();
    ImGui::Text("loss");
    ImGui::SameLine();
    ImGui::PushFont(ctx.fonts.mono);
    if (!L.empty()) {
      if (std::isfinite(L.back()))
        ImGui::Text("%s", num(L.back()).c_str());
      else
        colored_text(ctx.palette.bad, "%s", num(L.back()).c_str());
    }
    ImGui::PopFont();
    if (L.size() >= 2) {
      ImGui::SameLine();
      const double d = L.back() - L.front();
      colored_text(d < 0 ? ctx.palette.ok : ctx.palette.warn, "(%s%s since step 0)", d < 0 ? "" : "+", num_short(d).c_str());
    }
    ImGui::SameLine();
    ImGui::Checkbox("log loss", &log_y_);
    if (L.size() < 2) {
      ImGui::TextDisabled("take an optimiser step to start the curve");
    }
    std::vector<double> xs(L.size()), ys = L;
    for (size_t i = 0; i < L.size(); ++i) xs[i] = static_cast<double>(i);
    PlotSpec spec;
    spec.x_label = "optimiser step";
    spec.y_label = "loss";
    double xl = 0, xh = std::max<double>(5, static_cast<double>(L.size()) - 1);  // whole steps on the axis
    spec.x = Axis{xl, xh, false};
    double lo, hi;
    bool log_y = log_y_;
    if (log_y) {
      for (double v : L)
        if (!(v > 0)) log_y = false;
    }
    if (log_y) {
      decade_range(L, lo, hi);
    } else {
      padded_range(L, lo, hi, 0.08);
      if (L.size() >= 1 && lo > 0 && lo < hi * 0.5) lo = 0;
    }
    spec.y = Axis{lo, hi, log_y};
    spec.height = std::clamp(ImGui::GetContentRegionAvail().y * 0.45f, 160.0f * ctx.scale, 320.0f * ctx.scale);
    std::vector<PlotSeries> series(1);
    series[0].x = xs;
    series[0].y = ys;
    series[0].color = ctx.palette.forward;
    series[0].markers = L.size() <= 60;
    const PlotHit hit = plot("loss", ctx, spec, series);
    if (hit.index >= 0) {
      ImGui::BeginTooltip();
      ImGui::PushFont(ctx.fonts.mono);
      ImGui::Text("step %d: loss %s", hit.index, num(L[hit.index]).c_str());
      ImGui::PopFont();
      ImGui::EndTooltip();
    }
  }

  // [SECTION] gradient norms per layer
  void norms(const Controller& c, PanelContext& ctx) {
    if (c.version() != version_) {
      version_ = c.version();
      groups_ = c.session().visit([](const auto& s) { return grad_norms_by_layer(*s.model); });
    }
    ImGui::TextUnformatted("gradient norm per layer  ‖∂L/∂θ‖");
    ImGui::SameLine();
    help_marker("For each layer, the square root of the sum of squares of every trainable parameter's gradient in it "
                "(the full backward of the current step). wte's gradient is the sum of its two shares: the embedding "
                "and the tied lm_head. Hover a bar for its parameters.");
    if (!c.at_end() && !c.in_backward()) {
      ImGui::SameLine();
      ImGui::TextDisabled("(the backward pass is computed already; the cursor has not got there)");
    }
    double mx = 0;
    for (const NormGroup& g : groups_)
      if (std::isfinite(g.norm)) mx = std::max(mx, g.norm);
    const float x0 = ImGui::GetCursorPosX();
    const float lw = x0 + ImGui::CalcTextSize("embeddings").x + ImGui::GetStyle().ItemSpacing.x * 2;
    ImGui::PushFont(ctx.fonts.mono);
    const float tw = ImGui::CalcTextSize("0.000e+00  ").x;
    ImGui::PopFont();
    for (const NormGroup& g : groups_) {
      ImGui::PushID(g.title.c_str());
      ImGui::TextUnformatted(g.title.c_str());
      ImGui::SameLine(lw);
      const float W = std::max(30.0f, ImGui::GetContentRegionAvail().x - tw);
      const ImVec2 p = ImGui::GetCursorScreenPos();
      const float h = ImGui::GetTextLineHeight();
      ImGui::Dummy(ImVec2(W, h));
      const bool hov = ImGui::IsItemHovered();
      ImDrawList* dl = ImGui::GetWindowDrawList();
      if (g.frozen) {
        dl->AddRect(ImVec2(p.x, p.y + h * 0.15f), ImVec2(p.x + W, p.y + h * 0.85f), ctx.palette.dim);
        dl->AddText(ImVec2(p.x + 6 * ctx.scale, p.y), ctx.palette.dim, "frozen");
      } else if (!std::isfinite(g.norm)) {
        dl->AddRect(ImVec2(p.x, p.y + h * 0.15f), ImVec2(p.x + W, p.y + h * 0.85f), ctx.palette.bad);
        dl->AddText(ImVec2(p.x + 6 * ctx.scale, p.y), ctx.palette.bad, "NaN or ±∞ in these gradients");
      } else {
        const float w = mx > 0 ? W * static_cast<float>(g.norm / mx) : 0;
        dl->AddRectFilled(ImVec2(p.x, p.y + h * 0.15f), ImVec2(p.x + std::max(w, 1.0f), p.y + h * 0.85f),
                          ctx.palette.backward, 2.0f);
      }
      ImGui::SameLine();
      ImGui::PushFont(ctx.fonts.mono);
      if (g.frozen)
        ImGui::TextDisabled("—");
      else
        ImGui::TextUnformatted(num_short(g.norm).c_str());
      ImGui::PopFont();
      if (hov) {
        ImGui::BeginTooltip();
        ImGui::PushFont(ctx.fonts.mono);
        for (const NormGroup::Part& part : g.parts) {
          if (part.norm < 0)
            ImGui::TextDisabled("%-28s frozen", part.name.c_str());
          else
            ImGui::Text("%-28s %s", part.name.c_str(), num_short(part.norm).c_str());
        }
        ImGui::PopFont();
        ImGui::EndTooltip();
      }
      ImGui::PopID();
    }
  }

  OptimizerOptions opt_;
  int steps_ = 20;
  bool log_y_ = false;
  uint64_t version_ = ~uint64_t{0};
  std::vector<NormGroup> groups_;
};

}  // namespace

std::unique_ptr<Panel> make_training_panel() { return std::make_unique<TrainingPanel>(); }

}  // namespace gs::app
