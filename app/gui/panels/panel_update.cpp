// Update: what one optimiser step does, as its own view. Every parameter before, the step (SGD:
// −η·g; AdamW: its moment-scaled step) and after; the loss before and after beside the
// first-order prediction g·Δθ (SGD: −η·‖g‖²); the same step at other learning rates, where the
// straight line stops predicting (a rate that overshoots); for models with class or token
// targets the probability of each target before and after. Computed on a copy (wiggle.h); "take
// this step" asks for the real one.
#include <imgui.h>

#include <algorithm>
#include <cmath>

#include "format.h"
#include "panel.h"
#include "widgets.h"
#include "wiggle.h"

namespace gs::app {

namespace {

class UpdatePanel final : public Panel {
 public:
  UpdatePanel() { open = false; }
  const char* title() const override { return "Update"; }
  Rect home(const WorkArea& a) const override {
    const float l = layout::left_width(a), t = layout::top_height(a);
    return {a.x + l + 3 * a.line, a.y + t + a.line, std::max((a.w - l) * 0.65f, 24.0f * a.line), a.h - t - a.line};
  }

  void contents(const Controller& c, PanelContext& ctx) override {
    // Right after an optimiser step: that step, from the model before it to the one on screen.
    const bool taken = c.last_step_on_screen() && !preview_;
    if (taken) {
      if (c.version() != version_ || !showing_taken_) {
        version_ = c.version();
        showing_taken_ = true;
        u_ = describe_step(c.before_last_step(), c.session(), c.last_step_options());
      }
      colored_text(ctx.palette.backward, "The step just taken (%s, η = %s)", u_.opt.kind.c_str(),
                   num_short(u_.opt.lr).c_str());
      ImGui::SameLine();
      if (ImGui::SmallButton("preview the next step")) preview_ = true;
    } else {
      options(c, ctx);
      if (c.version() != version_ || showing_taken_ || opt_.kind != u_.opt.kind || opt_.lr != u_.opt.lr) {
        version_ = c.version();
        showing_taken_ = false;
        u_ = preview_update(c.session(), opt_, c.optimizer_steps() + 1);
      }
      if (c.last_step_on_screen() && ImGui::SmallButton("show the step just taken")) preview_ = false;
    }
    if (!u_.error.empty()) {
      colored_text(ctx.palette.bad, "%s", u_.error.c_str());
      return;
    }
    loss(ctx);
    ImGui::Separator();
    params(ctx);
    targets(ctx);
    if (!u_.sweep.empty()) sweep(ctx);
  }

 private:
  void options(const Controller& c, PanelContext& ctx) {
    const char* kinds[] = {"sgd", "adamw"};
    int k = opt_.kind == "adamw" ? 1 : 0;
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
    if (ImGui::Combo("optimiser", &k, kinds, 2)) opt_.kind = kinds[k];
    ImGui::SameLine();
    double lr = opt_.lr;
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
    ImGui::InputDouble("η (learning rate)", &lr, 0, 0, "%.4g");
    if (ImGui::IsItemDeactivatedAfterEdit() && lr > 0 && std::isfinite(lr)) opt_.lr = lr;
    ImGui::SameLine();
    ImGui::BeginDisabled(c.busy());
    if (ImGui::Button("take this step")) ctx.requests.push(req::OptimizerStep{opt_});
    ImGui::EndDisabled();
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("the real optimiser step: the model on screen becomes the 'after'");
    ImGui::TextDisabled("what one step would do to the model on screen (step %d of the optimiser)", c.optimizer_steps() + 1);
  }

  void loss(PanelContext& ctx) {
    const double actual = u_.loss_after - u_.loss_before;
    ImGui::PushFont(ctx.fonts.big);
    ImGui::Text("loss %s → %s", num(u_.loss_before).c_str(), num(u_.loss_after).c_str());
    ImGui::PopFont();
    ImGui::PushFont(ctx.fonts.mono);
    ImGui::Text("change %s", num(actual).c_str());
    ImGui::SameLine();
    ImGui::TextDisabled("   first-order prediction g·Δθ = %s%s", num(u_.predicted).c_str(),
                        opt_.kind == "sgd" ? "  (= −η·‖g‖²)" : "");
    ImGui::PopFont();
    // How well the straight line predicted the real change.
    const double rel = std::abs(actual - u_.predicted) / std::max(1e-300, std::abs(u_.predicted));
    if (actual > 0)
      colored_text(ctx.palette.bad, "the loss went up: this learning rate overshoots the bottom");
    else if (rel < 0.1)
      colored_text(ctx.palette.ok, "the straight line predicts the change well (within %.0f%%)", 100 * rel);
    else
      colored_text(ctx.palette.warn, "the real change differs from the prediction by %.0f%%: the loss curves here", 100 * rel);
  }

  void params(PanelContext& ctx) {
    if (!ImGui::BeginTable("params", 5, ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_RowBg |
                                            ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_ScrollY,
                           ImVec2(0, std::min(ImGui::GetContentRegionAvail().y * 0.5f,
                                              (static_cast<float>(u_.rows.size()) + 1.4f) * ImGui::GetFrameHeight()))))
      return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("parameter");
    ImGui::TableSetupColumn("before");
    ImGui::TableSetupColumn(opt_.kind == "sgd" ? "step −η·g" : "step (AdamW)");
    ImGui::TableSetupColumn("after");
    ImGui::TableSetupColumn("‖g‖, ‖step‖");
    ImGui::TableHeadersRow();
    for (const UpdateRow& r : u_.rows) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(r.param.c_str());
      if (r.frozen) {
        ImGui::TableNextColumn();
        ImGui::TextDisabled("frozen: not updated");
        ImGui::TableNextColumn();
        ImGui::TableNextColumn();
        ImGui::TableNextColumn();
        continue;
      }
      auto list = [&](const std::vector<double>& v) {
        std::string s;
        for (size_t i = 0; i < v.size(); ++i) s += (i ? "  " : "") + num_short(v[i]);
        if (r.n > static_cast<int64_t>(v.size())) s += "  …";
        ImGui::PushFont(ctx.fonts.mono);
        ImGui::TextUnformatted(s.c_str());
        ImGui::PopFont();
      };
      ImGui::TableNextColumn();
      list(r.before);
      ImGui::TableNextColumn();
      list(r.step);
      ImGui::TableNextColumn();
      list(r.after);
      ImGui::TableNextColumn();
      ImGui::PushFont(ctx.fonts.mono);
      ImGui::Text("%s, %s", num_short(r.grad_norm).c_str(), num_short(r.step_norm).c_str());
      ImGui::PopFont();
    }
    ImGui::EndTable();
  }

  void targets(PanelContext& ctx) {
    if (u_.targets.empty()) return;
    ImGui::Separator();
    ImGui::TextUnformatted("the probability of each target, before → after");
    ImGui::PushFont(ctx.fonts.mono);
    for (const TargetProb& t : u_.targets) {
      const ImU32 col = t.after > t.before ? ctx.palette.ok : ctx.palette.bad;
      ImGui::Text("%-28s %6.3f →", t.where.c_str(), t.before);
      ImGui::SameLine();
      colored_text(col, "%6.3f", t.after);
    }
    ImGui::PopFont();
  }

  void sweep(PanelContext& ctx) {
    ImGui::Separator();
    ImGui::TextUnformatted("the same step at other learning rates: where the straight line stops predicting");
    if (!ImGui::BeginTable("sweep", 3, ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit)) return;
    ImGui::TableSetupColumn("η");
    ImGui::TableSetupColumn("real change");
    ImGui::TableSetupColumn("predicted g·Δθ");
    ImGui::TableHeadersRow();
    for (const auto& s : u_.sweep) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::PushFont(ctx.fonts.mono);
      ImGui::TextUnformatted(num_short(s.lr).c_str());
      ImGui::TableNextColumn();
      colored_text(s.actual > 0 ? ctx.palette.bad : ctx.palette.ok, "%s", num_short(s.actual).c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(num_short(s.predicted).c_str());
      ImGui::PopFont();
    }
    ImGui::EndTable();
  }

  OptimizerOptions opt_ = [] {
    OptimizerOptions o;
    o.kind = "sgd";
    o.lr = 0.05;
    return o;
  }();
  uint64_t version_ = ~uint64_t{0};
  bool preview_ = false, showing_taken_ = false;
  UpdatePreview u_;
};

}  // namespace

std::unique_ptr<Panel> make_update_panel() { return std::make_unique<UpdatePanel>(); }

}  // namespace gs::app
