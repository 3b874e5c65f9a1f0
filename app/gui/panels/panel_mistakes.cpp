// Planted mistakes: the teacher picks an op and one of the classic backprop mistakes its type
// supports (Tape::supports, names and descriptions from gs::info(Mistake)) and plants it
// (req::PlantMistake: the backward reruns, broken); then every op is checked by finite
// differences (req::RunChecks, off the UI thread) and the panel walks back from the loss to
// the first op where the analytic and numeric gradients disagree, and by how much. "repair"
// restores the correct backward. Nothing here is faked: the numbers are the core's checks.
//
// "Find the broken op" (Settings::hide_mistakes): a mistake is planted at random and no view says
// where; the class checks ops, walks back from the loss, and names the op it thinks is broken;
// the panel says whether it is, and why not (its check passes, or it only inherits a wrong
// gradient), until the class finds it or the teacher reveals it.
#include <algorithm>
#include <cmath>
#include <random>

#include "analysis.h"
#include "format.h"
#include "panel.h"
#include "widgets.h"

namespace gs::app {

namespace {

class MistakesPanel final : public Panel {
 public:
  MistakesPanel() { open = false; }
  const char* title() const override { return "Planted mistakes"; }

  void contents(const Controller& c, PanelContext& ctx) override {
    if (c.spec_generation() != gen_) {
      gen_ = c.spec_generation();
      op_ = -1;
      kind_ = Mistake::none;
    }
    mode(c, ctx);
    if (c.settings().hide_mistakes) {
      c.session().visit([&](const auto& s) { find_mode(c, ctx, *s.tape); });
      ImGui::Separator();
      findings(c, ctx);
      return;
    }
    c.session().visit([&](const auto& s) {
      picker(c, ctx, *s.tape);
      ImGui::Separator();
      planted(c, ctx, *s.tape);
    });
    ImGui::Separator();
    findings(c, ctx);
  }

 private:
  // [SECTION] find the broken op
  void mode(const Controller& c, PanelContext& ctx) {
    Settings s = c.settings();
    bool hide = s.hide_mistakes;
    if (ImGui::Checkbox("find the broken op", &hide)) {
      s.hide_mistakes = hide;
      ctx.requests.push(req::SetSettings{s});
      verdict_.clear();
    }
    ImGui::SameLine();
    help_marker("A game for the class: no view says which op the mistake is in (the tape, the inspector and the graph "
                "show no ⚑). Check ops, walk back from the loss to the first op whose check fails, and name it.");
    ImGui::Separator();
  }

  template <class T>
  void find_mode(const Controller& c, PanelContext& ctx, const Tape<T>& tape) {
    std::vector<int> planted_ops;
    for (int k = 0; k < tape.size(); ++k)
      if (tape.op(k).mistake != Mistake::none) planted_ops.push_back(k);
    ImGui::PushTextWrapPos(0);
    if (planted_ops.empty())
      ImGui::TextUnformatted("No mistake is planted. Plant one in an op picked at random; nobody sees which.");
    else
      colored_text(ctx.palette.warn, "⚑ A mistake is planted in one op's backward. Which one?");
    ImGui::PopTextWrapPos();
    ImGui::BeginDisabled(c.busy() || c.analysis().all_busy());
    if (ImGui::Button(planted_ops.empty() ? "plant one at random" : "plant another at random")) {
      // Every (op, kind) the op types support, one of them by chance.
      std::vector<std::pair<int, Mistake>> all;
      for (int k = 0; k < tape.size(); ++k)
        for (int m = 1; m < kNumMistakes; ++m)
          if (tape.supports(k, static_cast<Mistake>(m))) all.push_back({k, static_cast<Mistake>(m)});
      if (!all.empty()) {
        for (int k : planted_ops) ctx.requests.push(req::PlantMistake{k, Mistake::none});
        const auto [k, m] = all[std::uniform_int_distribution<size_t>(0, all.size() - 1)(rng_)];
        plant(ctx, k, m);
        verdict_.clear();
      }
    }
    ImGui::EndDisabled();
    if (planted_ops.empty()) return;
    // The class's guess.
    guess_ = std::clamp(guess_, 0, tape.size() - 1);
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted("the broken op is");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(std::min(ImGui::GetContentRegionAvail().x * 0.5f, 18.0f * ImGui::GetFontSize()));
    char preview[160];
    snprintf(preview, sizeof preview, "%d  %s", guess_, tape.op(guess_).name.c_str());
    if (ImGui::BeginCombo("##guess", preview, ImGuiComboFlags_HeightLarge)) {
      ImGuiListClipper clip;
      clip.Begin(tape.size());
      while (clip.Step())
        for (int i = clip.DisplayStart; i < clip.DisplayEnd; ++i) {
          char item[160];
          snprintf(item, sizeof item, "%3d  %s", i, tape.op(i).name.c_str());
          ImGui::PushID(i);
          if (ImGui::Selectable(item, guess_ == i)) guess_ = i;
          ImGui::PopID();
        }
      ImGui::EndCombo();
    }
    ImGui::SameLine();
    if (ImGui::Button("is it this one?")) judge(c, ctx, tape, planted_ops);
    ImGui::SameLine();
    if (ImGui::SmallButton("the cursor's op")) guess_ = std::clamp(c.selection().op, 0, tape.size() - 1);
    ImGui::SameLine();
    if (ImGui::SmallButton("reveal")) {
      Settings s = c.settings();
      s.hide_mistakes = false;
      ctx.requests.push(req::SetSettings{s});
      verdict_.clear();
    }
    if (!verdict_.empty()) {
      ImGui::PushTextWrapPos(0);
      colored_text(verdict_ok_ ? ctx.palette.ok : ctx.palette.warn, "%s", verdict_.c_str());
      ImGui::PopTextWrapPos();
    }
  }

  template <class T>
  void judge(const Controller& c, PanelContext& ctx, const Tape<T>& tape, const std::vector<int>& planted_ops) {
    const int g = guess_;
    const std::string name = "op " + std::to_string(g) + " (" + tape.op(g).name + ")";
    verdict_ok_ = false;
    if (std::find(planted_ops.begin(), planted_ops.end(), g) != planted_ops.end()) {
      verdict_ok_ = true;
      verdict_ = "Yes: " + name + " had '" + info(tape.op(g).mistake).name + "' planted: it " +
                 info(tape.op(g).mistake).description + ". Repair it in this panel.";
      Settings s = c.settings();
      s.hide_mistakes = false;  // found: every view may say it now
      ctx.requests.push(req::SetSettings{s});
      return;
    }
    const OpCheck* oc = c.check(g);
    const int first = first_failure_from_loss(c.n_ops(), [&](int k) { return c.check(k); });
    if (!oc)
      verdict_ = "Not known yet: check " + name + " first (the inspector's \"check this op\", or check every op).";
    else if (oc->checked == 0)
      verdict_ = "No: " + name + " has nothing to check (no gradient flows back through it).";
    else if (oc->pass)
      verdict_ = "No: " + name + "'s check passes, so its backward is right.";
    else if (first >= 0 && g < first)
      verdict_ = "No: " + name + " fails, but only because a wrong gradient reaches it. Walking back from the loss, "
                 "which op fails first?";
    else
      verdict_ = "No: not " + name + ".";
  }

  void plant(PanelContext& ctx, int op, Mistake m) {
    ctx.requests.push(req::PlantMistake{op, m});
    ctx.requests.push(req::RunChecks{-1, false, true});
  }

  // [SECTION] choosing
  template <class T>
  void picker(const Controller& c, PanelContext& ctx, const Tape<T>& tape) {
    const int cur = std::clamp(c.selection().op, 0, tape.size() - 1);
    const int k = op_ >= 0 && op_ < tape.size() ? op_ : cur;
    ImGui::TextUnformatted("op");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(std::min(ImGui::GetContentRegionAvail().x * 0.6f, 22.0f * ImGui::GetFontSize()));
    char preview[160];
    snprintf(preview, sizeof preview, "%d  %s%s", k, tape.op(k).name.c_str(), op_ < 0 ? "  (the cursor's op)" : "");
    if (ImGui::BeginCombo("##op", preview, ImGuiComboFlags_HeightLarge)) {
      if (ImGui::Selectable("follow the cursor", op_ < 0)) op_ = -1;
      ImGuiListClipper clip;
      clip.Begin(tape.size());
      while (clip.Step()) {
        for (int i = clip.DisplayStart; i < clip.DisplayEnd; ++i) {
          int n = 0;
          for (int m = 1; m < kNumMistakes; ++m) n += tape.supports(i, static_cast<Mistake>(m));
          char item[160];
          snprintf(item, sizeof item, "%3d  %s  (%s)%s", i, tape.op(i).name.c_str(), info(tape.op(i).type).name,
                   n == 0 ? "  — no mistakes for this type" : "");
          ImGui::PushID(i);
          if (n == 0) ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetColorU32(ImGuiCol_TextDisabled));
          if (ImGui::Selectable(item, op_ == i)) op_ = i;
          if (n == 0) ImGui::PopStyleColor();
          ImGui::PopID();
        }
      }
      ImGui::EndCombo();
    }
    ImGui::SameLine();
    ImGui::TextDisabled("%s", info(tape.op(k).type).name);

    // The kinds this op's type supports.
    std::vector<Mistake> kinds;
    for (int m = 1; m < kNumMistakes; ++m)
      if (tape.supports(k, static_cast<Mistake>(m))) kinds.push_back(static_cast<Mistake>(m));
    if (kinds.empty()) {
      ImGui::TextDisabled("no planted mistake applies to a %s op; pick another (linear, softmax, layernorm, scale, "
                          "a residual add …)",
                          info(tape.op(k).type).name);
      return;
    }
    if (std::find(kinds.begin(), kinds.end(), kind_) == kinds.end()) kind_ = kinds.front();
    for (Mistake m : kinds) {
      ImGui::PushID(static_cast<int>(m));
      if (ImGui::RadioButton(info(m).name, kind_ == m)) kind_ = m;
      // What it does beside the name where a few words fit on the line, else under it.
      ImGui::SameLine();
      const bool under = ImGui::GetContentRegionAvail().x < 12.0f * ImGui::GetFontSize();
      if (under) {
        ImGui::NewLine();
        ImGui::Indent(ImGui::GetFrameHeight());
      }
      ImGui::PushTextWrapPos(0);
      ImGui::TextDisabled("— %s", info(m).description);
      ImGui::PopTextWrapPos();
      if (under) ImGui::Unindent(ImGui::GetFrameHeight());
      ImGui::PopID();
    }
    const bool already = tape.op(k).mistake == kind_;
    ImGui::BeginDisabled(already || c.analysis().all_busy());
    if (ImGui::Button("plant")) plant(ctx, k, kind_);
    ImGui::EndDisabled();
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("break %s's backward this way, rerun the step, then check every op", tape.op(k).name.c_str());
    if (already) {
      ImGui::SameLine();
      colored_text(ctx.palette.warn, "planted");
    }
  }

  template <class T>
  void planted(const Controller& c, PanelContext& ctx, const Tape<T>& tape) {
    std::vector<int> ops;
    for (int k = 0; k < tape.size(); ++k)
      if (tape.op(k).mistake != Mistake::none) ops.push_back(k);
    if (ops.empty()) {
      colored_text(ctx.palette.ok, "no mistake planted: every backward is the correct one");
      return;
    }
    for (int k : ops) {
      ImGui::PushID(k);
      colored_text(ctx.palette.warn, "⚑ %s in %s", info(tape.op(k).mistake).name, tape.op(k).name.c_str());
      ImGui::SameLine();
      ImGui::BeginDisabled(c.analysis().all_busy());
      if (ImGui::SmallButton("repair")) plant(ctx, k, Mistake::none);
      ImGui::EndDisabled();
      ImGui::PopID();
    }
  }

  // [SECTION] what the checks found (the controller's per-op results, however they were run)
  void findings(const Controller& c, PanelContext& ctx) {
    const Analysis& a = c.analysis();
    if (a.all_busy()) {
      const AllProgress p = a.all_progress_info();
      char over[64];
      snprintf(over, sizeof over, "checking every op: %d / %d", p.done, p.total);
      ImGui::ProgressBar(static_cast<float>(p.fraction),
                         ImVec2(std::min(ImGui::GetContentRegionAvail().x, 420.0f * ctx.scale), 0), over);
      ImGui::SameLine();
      if (ImGui::Button("cancel")) ctx.requests.push(req::CancelChecks{});
      ImGui::TextDisabled("%s (%s) · %s", p.phase.c_str(), info(c.check_options().kind).title, time_left_text(p).c_str());
      return;
    }
    const int n = c.n_ops();
    const std::vector<char> needed = c.session().visit([](const auto& s) {
      std::vector<char> v;
      for (const auto& op : s.tape->ops()) v.push_back(op.needs_backward());
      return v;
    });
    int have = 0, want = 0;
    for (int k = 0; k < n; ++k) {
      want += needed[k];
      have += needed[k] && c.check(k);
    }
    if (have == 0) {
      ImGui::TextUnformatted("Checks have not run on this state of the model.");
      if (ImGui::Button("check every op")) ctx.requests.push(req::RunChecks{-1, false, true});
      return;
    }
    if (have < want) {
      colored_text(ctx.palette.warn, "only %d of %d ops are checked on this state of the model", have, want);
      ImGui::SameLine();
      if (ImGui::SmallButton("check every op")) ctx.requests.push(req::RunChecks{-1, false, true});
    }
    const bool hide = c.settings().hide_mistakes;
    const int first = hide ? -1 : first_failure_from_loss(n, [&](int k) { return c.check(k); });
    const OpCheck* fc = first >= 0 ? c.check(first) : nullptr;
    const CheckKind kind = c.check_options().kind;
    ImGui::TextDisabled("checks: %s", info(kind).title);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", info(kind).what);
    if (hide) {
      int failing = 0;
      for (int k = 0; k < n; ++k)
        if (const OpCheck* o = c.check(k); o && o->checked > 0 && !o->pass) ++failing;
      ImGui::PushTextWrapPos(0);
      ImGui::Text("%d checked op%s fail. The ops after the broken one pass (the gradient reaches it intact); the ops "
                  "before it fail too (its wrong gradient reaches them).",
                  failing, failing == 1 ? "" : "s");
      ImGui::PopTextWrapPos();
      walk(c, ctx, -1);
      return;
    }
    ImGui::PushFont(ctx.fonts.big);
    if (!fc) {
      ImGui::PushTextWrapPos(0);
      colored_text(ctx.palette.ok, "✓ analytic and numeric gradients agree at every checked op");
      ImGui::PopTextWrapPos();
      ImGui::PopFont();
    } else {
      ImGui::PushTextWrapPos(0);
      colored_text(ctx.palette.bad, "✗ first disagreement from the loss: %s", fc->name.c_str());
      ImGui::PopTextWrapPos();
      ImGui::PopFont();
      ImGui::PushFont(ctx.fonts.mono);
      ImGui::Text("max |analytic − numeric| %.3e   noise floor %.3e   err/floor %.3g", fc->max_abs_err, fc->noise_floor,
                  fc->max_ratio);
      for (const TensorCheck& t : fc->tensors)
        colored_text(t.pass ? ctx.palette.ok : ctx.palette.bad, "  %s %s: max abs err %.3e, noise floor %.3e",
                     t.pass ? "✓" : "✗", t.label.c_str(), t.max_abs_err, t.noise_floor);
      for (const SumCheck& s : fc->sums)
        if (!s.pass)
          colored_text(ctx.palette.bad, "  ✗ Σ of shares: %s is not their sum%s", s.label.c_str(),
                       s.culprit == first ? ": this op overwrote it instead of adding its share" : "");
      ImGui::PopFont();
      if (ImGui::Button("go there")) ctx.requests.push(req::FocusOp{first, Half::backward});
      ImGui::SameLine();
      ImGui::PushTextWrapPos(0);
      if (kind == CheckKind::local)
        ImGui::TextDisabled("Ops after it pass: the gradient reaches it intact. Ops before it receive its wrong gradient, "
                            "but each op-local check judges an op's own backward given what reaches it, so they pass.");
      else
        ImGui::TextDisabled("Ops after it pass: the gradient reaches it intact. Ops before it receive its wrong gradient "
                            "and fail as well, though their own backward is right.");
      ImGui::PopTextWrapPos();
    }
    walk(c, ctx, first);
  }

  // Every checked op from the loss back to the first failure and beyond, as the gradient travels.
  void walk(const Controller& c, PanelContext& ctx, int first) {
    std::vector<int> rows;
    for (int k = c.n_ops() - 1; k >= 0; --k)
      if (const OpCheck* o = c.check(k); o && o->checked > 0) rows.push_back(k);
    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY |
                                  ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_NoSavedSettings;
    if (!ImGui::BeginTable("walk", 5, flags, ImVec2(0, std::max(ImGui::GetContentRegionAvail().y, 6 * ImGui::GetFrameHeight()))))
      return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("#", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("op (backward order, from the loss)", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableSetupColumn("max abs err", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("err / noise floor", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableHeadersRow();
    const bool scroll = first != scrolled_to_ || c.version() != scrolled_version_;
    int first_row = -1;
    for (size_t i = 0; i < rows.size(); ++i)
      if (rows[i] == first) first_row = static_cast<int>(i);
    ImGuiListClipper clip;
    clip.Begin(static_cast<int>(rows.size()));
    if (scroll && first_row >= 0) clip.ForceDisplayRangeByIndices(first_row, first_row + 1);
    while (clip.Step()) {
      for (int i = clip.DisplayStart; i < clip.DisplayEnd; ++i) {
        const OpCheck& o = *c.check(rows[i]);
        const bool is_first = rows[i] == first;
        const bool upstream = first >= 0 && rows[i] < first;
        ImGui::TableNextRow();
        if (is_first) ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, (ctx.palette.bad & 0x00FFFFFF) | 0x60000000);
        ImGui::TableNextColumn();
        colored_text(o.pass ? ctx.palette.ok : upstream ? ctx.palette.dim : ctx.palette.bad, "%s", o.pass ? "✓" : "✗");
        ImGui::TableNextColumn();
        ImGui::PushFont(ctx.fonts.mono);
        ImGui::Text("%3d", rows[i]);
        ImGui::PopFont();
        ImGui::TableNextColumn();
        ImGui::PushID(rows[i]);
        std::string label = o.name;
        if (is_first) label += "   ← here";
        else if (upstream && !o.pass) label += "   (receives the wrong gradient)";
        if (ImGui::Selectable(label.c_str(), is_first, ImGuiSelectableFlags_SpanAllColumns))
          ctx.requests.push(req::FocusOp{rows[i], Half::backward});
        if (is_first && scroll) ImGui::SetScrollHereY(0.3f);
        ImGui::PopID();
        ImGui::PushFont(ctx.fonts.mono);
        ImGui::TableNextColumn();
        ImGui::Text("%.2e", o.max_abs_err);
        ImGui::TableNextColumn();
        bool sums = true;
        for (const SumCheck& sc : o.sums) sums = sums && sc.pass;
        if (sums)
          ImGui::Text("%.3g", o.max_ratio);
        else
          colored_text(ctx.palette.bad, "Σ of shares");
        ImGui::PopFont();
      }
    }
    ImGui::EndTable();
    if (scroll) {
      scrolled_to_ = first;
      scrolled_version_ = c.version();
    }
  }

  uint64_t gen_ = ~uint64_t{0};
  int guess_ = 0;
  std::string verdict_;
  bool verdict_ok_ = false;
  std::mt19937 rng_{std::random_device{}()};
  int op_ = -1;  // −1: the cursor's op
  Mistake kind_ = Mistake::none;
  int scrolled_to_ = -2;
  uint64_t scrolled_version_ = ~uint64_t{0};
};

}  // namespace

std::unique_ptr<Panel> make_mistakes_panel() { return std::make_unique<MistakesPanel>(); }

}  // namespace gs::app
