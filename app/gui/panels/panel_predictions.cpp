// Predictions: what the model predicts at each position (GPT-2) or for each example (a
// classifier lesson): the most probable next tokens with their probabilities, the target
// marked, the target's probability and −log P(target), whose mean is the loss. After an
// optimiser step (the Training panel), what it predicted before and what it predicts now, side
// by side. The numbers come from the stored log-probabilities (predictions.h).
#include <algorithm>
#include <cmath>

#include "format.h"
#include "panel.h"
#include "predictions.h"
#include "widgets.h"

namespace gs::app {

namespace {

class PredictionsPanel final : public Panel {
 public:
  PredictionsPanel() { open = false; }
  const char* title() const override { return "Predictions"; }

  void contents(const Controller& c, PanelContext& ctx) override {
    if (c.version() != version_) {
      version_ = c.version();
      now_ = c.session().visit([](const auto& s) { return predictions(*s.tape, 5); });
    }
    if (!now_.ok) {
      ImGui::PushTextWrapPos(0);
      ImGui::TextUnformatted("This view shows what a model predicts: the probabilities its last softmax gives.");
      ImGui::TextDisabled("Program %s: %s.", c.session().program().c_str(), now_.why_not.c_str());
      ImGui::PopTextWrapPos();
      return;
    }
    const Predictions* before = c.predictions_before();
    if (before && before->rows.size() != now_.rows.size()) before = nullptr;
    ImGui::PushFont(ctx.fonts.big);
    ImGui::Text("loss %s", num_short(now_.mean_nll).c_str());
    ImGui::PopFont();
    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled("the mean of −log P(target) over the %zu %s", now_.rows.size(), now_.tokens ? "positions" : "examples");
    ImGui::PopTextWrapPos();
    if (before) {
      const double d = now_.mean_nll - before->mean_nll;
      colored_text(d < 0 ? ctx.palette.ok : ctx.palette.warn, "(was %s before the last %d step%s)",
                   num_short(before->mean_nll).c_str(), c.steps_since_before(), c.steps_since_before() == 1 ? "" : "s");
    } else {
      ImGui::PushTextWrapPos(0);
      ImGui::TextDisabled("take an optimiser step (Training panel) to see what the model predicted before it beside what "
                          "it predicts after");
      ImGui::PopTextWrapPos();
    }
    if (c.session().is_gpt2() && c.spec().checkpoint.empty() && c.optimizer_steps() == 0) {
      ImGui::PushTextWrapPos(0);
      colored_text(ctx.palette.warn, "The weights are random (untrained): every next token is about as likely as any "
                                     "other, and the loss is near log V = %s.",
                   num_short(std::log(static_cast<double>(now_.classes))).c_str());
      ImGui::PopTextWrapPos();
    }
    if (!c.forward_done(c.n_ops() - 1))
      ImGui::TextDisabled("(the forward pass is computed already; the cursor has not got to the loss yet)");
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5);
    ImGui::SliderInt("most probable shown", &k_, 1, 5);
    table(c, ctx, before);
  }

 private:
  std::string name(const Controller& c, int32_t id) const {
    return now_.tokens && c.session().has_vocab() ? token_glyph(c.session().token_text(id)) : std::to_string(id);
  }

  void table(const Controller& c, PanelContext& ctx, const Predictions* before) {
    const int cols = before ? 5 : 5;
    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY |
                                  ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_NoSavedSettings;
    if (!ImGui::BeginTable("predictions", cols, flags, ImVec2(0, ImGui::GetContentRegionAvail().y))) return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn(now_.tokens ? "pos" : "example");
    ImGui::TableSetupColumn(now_.tokens ? "reads → next" : "class");
    ImGui::TableSetupColumn(before ? "P(target) before → now" : "P(target)");
    ImGui::TableSetupColumn("−log P");
    ImGui::TableSetupColumn(before ? "now, most probable" : "most probable", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableHeadersRow();
    ImGuiListClipper clip;
    clip.Begin(static_cast<int>(now_.rows.size()));
    while (clip.Step()) {
      for (int i = clip.DisplayStart; i < clip.DisplayEnd; ++i) {
        const RowPrediction& r = now_.rows[static_cast<size_t>(i)];
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::PushFont(ctx.fonts.mono);
        if (now_.tokens && r.batch > 0)
          ImGui::Text("%lld,%lld", static_cast<long long>(r.batch), static_cast<long long>(r.pos));
        else
          ImGui::Text("%lld", static_cast<long long>(r.pos));
        ImGui::TableNextColumn();
        if (now_.tokens)
          ImGui::Text("'%s' → '%s'", name(c, r.input).c_str(), name(c, r.target).c_str());
        else
          ImGui::Text("%d", r.target);
        ImGui::TableNextColumn();
        if (before) {
          const double was = before->rows[static_cast<size_t>(i)].p_target, d = r.p_target - was;
          ImGui::Text("%.3f →", was);
          ImGui::SameLine();
          colored_text(d > 0.0005 ? ctx.palette.ok : d < -0.0005 ? ctx.palette.bad : ImGui::GetColorU32(ImGuiCol_Text), "%.3f",
                       r.p_target);
        } else {
          ImGui::Text("%.3f", r.p_target);
        }
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(num_short(r.nll).c_str());
        ImGui::TableNextColumn();
        guesses(c, ctx, r);
        ImGui::PopFont();
      }
    }
    ImGui::EndTable();
  }

  // The k most probable answers, the target in its own colour.
  void guesses(const Controller& c, PanelContext& ctx, const RowPrediction& r) {
    for (int j = 0; j < std::min<int>(k_, static_cast<int>(r.top.size())); ++j) {
      const Candidate& cd = r.top[static_cast<size_t>(j)];
      const std::string s = "'" + name(c, cd.id) + "' " + num_short(cd.p);
      if (j) {
        // As many as the column holds (all of them in the tooltip of the "…").
        ImGui::SameLine();
        if (ImGui::GetContentRegionAvail().x < ImGui::CalcTextSize((s + " ✓").c_str()).x) {
          ImGui::TextDisabled("…");
          if (ImGui::IsItemHovered()) {
            ImGui::BeginTooltip();
            for (const Candidate& o : r.top) ImGui::Text("'%s' %s", name(c, o.id).c_str(), num_short(o.p).c_str());
            ImGui::EndTooltip();
          }
          break;
        }
      }
      if (cd.id == r.target)
        colored_text(ctx.palette.ok, "%s ✓", s.c_str());
      else
        ImGui::TextUnformatted(s.c_str());
    }
    if (r.target_rank > k_) {
      ImGui::SameLine();
      ImGui::TextDisabled("(target ranked %d)", r.target_rank);
    }
  }

  uint64_t version_ = ~uint64_t{0};
  Predictions now_;
  int k_ = 3;
};

}  // namespace

std::unique_ptr<Panel> make_predictions_panel() { return std::make_unique<PredictionsPanel>(); }

}  // namespace gs::app
