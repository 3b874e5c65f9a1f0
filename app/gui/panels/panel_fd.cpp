// Finite differences for the cursor's op, of the kind chosen (gradcheck.h: entries replayed
// to the loss, a direction replayed to the loss, or an op-local direction; the model's
// default is named): per operand, the analytic value beside the numeric one, their
// difference, the noise floor it is judged against and the pass mark; an ε slider on a log
// scale; the model's dtype with a rebuild in the other one; the error of one entry against ε
// on log-log axes (truncation error on the right, round-off on the left: the V); and "check
// every op" with progress, the time left and cancel.
// Every number comes from gs::check_op / error_vs_eps / check_all, run off the UI thread by
// the controller's Analysis (analysis.h) on a copy of the model.
#include <algorithm>
#include <cmath>

#include "analysis.h"
#include "format.h"
#include "panel.h"
#include "plot.h"
#include "widgets.h"

namespace gs::app {

namespace {

struct Picked {
  int tensor = -1;    // index into OpCheck::tensors
  int64_t index = -1; // entry (flat index into the operand)
};

class FdPanel final : public Panel {
 public:
  FdPanel() { open = false; }
  const char* title() const override { return "Finite differences"; }
  Rect home(const WorkArea& a) const override {
    const float l = layout::left_width(a), t = layout::top_height(a);
    // Over the op inspector, nearly as wide: the table and the curve side by side.
    return {a.x + l + a.line, a.y + t + a.line, std::max(a.w - l - 2 * a.line, 20.0f * a.line), a.h - t - a.line};
  }

  void contents(const Controller& c, PanelContext& ctx) override {
    sync(c);
    const int k = std::clamp(c.selection().op, 0, c.n_ops() - 1);
    if (k != op_) {
      op_ = k;
      picked_ = {};
    }
    header(c, ctx, k);
    ImGui::Separator();
    every_op(c, ctx);
    ImGui::Separator();
    const OpCheckResult* r = current_result(c, ctx, k);
    body(c, ctx, k, r);
  }

 private:
  CheckOptions options(const Controller& c) const {
    CheckOptions o = c.check_options();
    o.eps = eps_;
    o.max_entries = max_entries_;
    if (kind_ >= 0) o.kind = static_cast<CheckKind>(kind_);
    return o;
  }

  void sync(const Controller& c) {
    if (c.spec_generation() == gen_) return;
    gen_ = c.spec_generation();
    eps_ = c.check_options().eps;
    kind_ = -1;
    picked_ = {};
    // Re-checking on every cursor move is cheap for small models only (a check replays the
    // tape to the loss twice per entry).
    const Config& cfg = c.session().config();
    auto_ = cfg.estimated_bytes() < 64.0 * (1 << 20);
  }

  // [SECTION] header: op, dtype, ε
  void header(const Controller& c, PanelContext& ctx, int k) {
    ImGui::PushFont(ctx.fonts.big);
    ImGui::TextUnformatted(c.session().op_name(k).c_str());
    ImGui::PopFont();
    ImGui::SameLine();
    ImGui::AlignTextToFramePadding();
    ImGui::TextDisabled("  %s · op %d", info(c.session().op_type(k)).name, k);
    if (!c.in_backward() && !c.at_end())
      ImGui::TextDisabled("(the check compares with this op's backward, computed already though the cursor is not there yet)");

    const DType dt = c.session().dtype();
    const CheckOptions def = c.check_options();
    kind_row(c, ctx);
    ImGui::AlignTextToFramePadding();
    ImGui::Text("scalar type:");
    ImGui::SameLine();
    colored_text(dt == DType::f64 ? ctx.palette.ok : ctx.palette.warn, "%s", dt == DType::f64 ? "f64 (double)" : "f32 (float)");
    ImGui::SameLine();
    const char* other = dt == DType::f64 ? "rebuild in f32" : "rebuild in f64";
    if (ImGui::SmallButton(other)) {
      ModelSpec s = c.spec();
      s.dtype = dt == DType::f64 ? "f32" : "f64";
      ctx.requests.push(req::Rebuild{s});
    }
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("the same model in the other scalar type (from its settings: optimiser steps are not kept).\n"
                        "float carries ~7 significant digits, double ~16: watch the error curve move.");
    ImGui::PushFont(ctx.fonts.mono);
    const CheckOptions now = options(c);
    if (now.kind == CheckKind::entries)
      ImGui::TextDisabled("pass: |a − n| ≤ %.0e + %.0e·|n|%s", now.atol, now.rtol,
                          dt == DType::f32 ? " + 64·u·|a|   (u = 2⁻²⁴: float's round-off in a)" : "");
    else
      ImGui::TextDisabled("pass: |a − n| ≤ noise floor = %g·u·Σ|gᵢvᵢ| + the numeric side's round-off   (u = %s)",
                          now.kind == CheckKind::local ? kLocalK : kChainK, dt == DType::f32 ? "2⁻²⁴" : "2⁻⁵³");
    ImGui::PopFont();
    if (dt == DType::f32 && ImGui::IsItemHovered())
      ImGui::SetTooltip("the numeric side runs in double on a mirror of this float model (its float values,\n"
                        "converted exactly), so the difference left is float's round-off in the analytic value");

    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted("step ε");
    ImGui::SameLine();
    const double lo = 1e-12, hi = 1e-1;
    ImGui::SetNextItemWidth(std::min(ImGui::GetContentRegionAvail().x * 0.4f, 260.0f * ctx.scale));
    log_slider("##eps", &eps_, lo, hi);
    ImGui::SameLine();
    if (ImGui::SmallButton("default")) eps_ = def.eps;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("ε = %.0e, the default step for %s", def.eps, dtype_name(dt));
    ImGui::SameLine();
    ImGui::BeginDisabled(now.kind != CheckKind::entries);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5.5f);
    const char* counts[] = {"8", "24", "96", "all"};
    const int values[] = {8, 24, 96, 0};
    int sel = 1;
    for (int i = 0; i < 4; ++i)
      if (values[i] == max_entries_) sel = i;
    if (ImGui::Combo("entries", &sel, counts, 4)) max_entries_ = values[sel];
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("entries checked per tensor (the largest gradient always among them)");
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::Checkbox("auto", &auto_);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("check again whenever the op or ε changes");
    if (!auto_) {
      ImGui::SameLine();
      if (ImGui::SmallButton("check")) ctx.requests.push(req::CheckOp{k, options(c)});
    }
  }

  // [SECTION] which kind of check
  void kind_row(const Controller& c, PanelContext& ctx) {
    const CheckKind def = c.check_options().kind;
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted("check:");
    ImGui::SameLine();
    for (int i = -1; i < 3; ++i) {
      char label[96];
      if (i < 0)
        snprintf(label, sizeof label, "this model's default (%s)", info(def).title);
      else
        snprintf(label, sizeof label, "%s", info(static_cast<CheckKind>(i)).title);
      // On the line where it fits, else on the next (a narrow side column, large text).
      if (i >= 0) {
        const ImGuiStyle& st = ImGui::GetStyle();
        const float w = ImGui::GetFrameHeight() + st.ItemInnerSpacing.x + ImGui::CalcTextSize(label).x;
        ImGui::SameLine();
        if (ImGui::GetContentRegionAvail().x < w) ImGui::NewLine();
      }
      if (ImGui::RadioButton(label, kind_ == i)) kind_ = i;
      if (ImGui::IsItemHovered()) {
        const CheckKind k = i < 0 ? def : static_cast<CheckKind>(i);
        ImGui::SetTooltip("%s\n%s", info(k).what,
                          i < 0 ? "(entries where replaying every checked entry to the loss is cheap, op-local "
                                  "directions for large models)"
                                : "");
      }
    }
    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled("%s", info(options(c).kind).what);
    ImGui::PopTextWrapPos();
    (void)ctx;
  }

  // [SECTION] every op
  void every_op(const Controller& c, PanelContext& ctx) {
    const Analysis& a = c.analysis();
    if (a.all_busy()) {
      const AllProgress p = a.all_progress_info();
      char over[96];
      snprintf(over, sizeof over, "%d / %d   %.0f%%", p.done, p.total, 100.0 * p.fraction);
      const float w = std::min(ImGui::GetContentRegionAvail().x * 0.5f, 320.0f * ctx.scale);
      ImGui::ProgressBar(static_cast<float>(p.fraction), ImVec2(w, 0), over);
      ImGui::SameLine();
      if (ImGui::Button("cancel")) ctx.requests.push(req::CancelChecks{});
      ImGui::SameLine();
      ImGui::TextDisabled("%s%s (%s) · %s", p.phase.c_str(), with_params_ ? ", parameters too" : "",
                          info(c.check_options().kind).title, time_left_text(p).c_str());
      return;
    }
    if (ImGui::Button("check every op")) ctx.requests.push(req::RunChecks{-1, with_params_, true});
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("every op's inputs and parameters with this model's default check (%s) at its default ε,\n"
                        "in the background on a copy of the model; the tape view shows ✓/✗",
                        info(c.check_options().kind).title);
    ImGui::SameLine();
    ImGui::Checkbox("and every parameter", &with_params_);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("%s", c.check_options().kind == CheckKind::local
                                  ? "also each trainable parameter's gradient: every op's share of it checked op-locally, "
                                    "and the gradient the sum of the shares (e.g. wte's two)"
                                  : "also perturb each trainable parameter everywhere it is used and replay from its first "
                                    "use (checks the summed gradient, e.g. wte's two shares)");
    // The tape's marks, however the checks were run; parameters from the background run.
    int pass = 0, fail = 0, none = 0;
    for (int k = 0; k < c.n_ops(); ++k) {
      const CheckMark m = c.check_mark(k);
      if (m == CheckMark::pass) ++pass;
      else if (m == CheckMark::fail) ++fail;
      else if (m == CheckMark::nothing_to_check) ++none;
    }
    const auto& all = a.all();
    const bool have_all = all && all->version == c.version();
    if (have_all && !all->error.empty()) colored_text(ctx.palette.bad, "✗ %s", all->error.c_str());
    if (pass + fail + none == 0) return;
    colored_text(ctx.palette.ok, "✓ %d", pass);
    ImGui::SameLine();
    colored_text(fail ? ctx.palette.bad : ctx.palette.dim, "✗ %d", fail);
    ImGui::SameLine();
    ImGui::TextDisabled("ops checked%s", none ? (" (" + std::to_string(none) + " with nothing to check)").c_str() : "");
    if (have_all && all->with_params) {
      int ppass = 0, pfail = 0;
      for (const TensorCheck& t : all->report.params) (t.pass ? ppass : pfail)++;
      ImGui::SameLine();
      ImGui::TextUnformatted("  parameters:");
      ImGui::SameLine();
      colored_text(ctx.palette.ok, "✓ %d", ppass);
      ImGui::SameLine();
      colored_text(pfail ? ctx.palette.bad : ctx.palette.dim, "✗ %d", pfail);
      for (const TensorCheck& t : all->report.params)
        if (!t.pass)
          colored_text(ctx.palette.bad, "✗ %s: max abs err %.2e, noise floor %.2e", t.label.c_str(), t.max_abs_err,
                       t.noise_floor);
    }
    if (have_all && all->report.cancelled) {
      ImGui::SameLine();
      colored_text(ctx.palette.warn, "(cancelled part-way)");
    }
    if (fail) {
      ImGui::TextUnformatted("failing:");
      for (int k = 0; k < c.n_ops(); ++k) {
        if (c.check_mark(k) != CheckMark::fail) continue;
        const OpCheck& o = *c.check(k);
        ImGui::SameLine();
        ImGui::PushID(k);
        if (ImGui::SmallButton(o.name.c_str())) ctx.requests.push(req::FocusOp{k, Half::backward});
        if (ImGui::IsItemHovered())
          ImGui::SetTooltip("%s: max abs err %.2e, noise floor %.2e (err/floor %.3g)", info(o.kind).title, o.max_abs_err,
                            o.noise_floor, o.max_ratio);
        ImGui::PopID();
      }
    }
  }

  // [SECTION] this op's check
  const OpCheckResult* current_result(const Controller& c, PanelContext& ctx, int k) {
    const Analysis& a = c.analysis();
    const CheckOptions o = options(c);
    const OpCheckKey want{c.version(), k, eps_, max_entries_, o.kind};
    if (a.op() && a.op()->key == want) return &*a.op();
    // The tape's mark for this op, from "check every op" with these very options.
    if (const OpCheck* mark = c.check(k); mark && same_check(o, c.check_options())) {
      if (!(from_marks_.key == want) || from_marks_.check.op != mark->op) from_marks_ = OpCheckResult{want, o, *mark, ""};
      return &from_marks_;
    }
    // Not while a job runs: the request would wait behind it and then name an op of the model it
    // leaves (a rebuild's new tape); asked again once it is done.
    if (auto_ && !c.busy() && (!a.op_requested() || !(*a.op_requested() == want)))
      ctx.requests.push(req::CheckOp{k, options(c)});
    // Meanwhile: the last result for this op (at another ε), marked as such.
    if (a.op() && a.op()->key.op == k && a.op()->key.version == c.version()) return &*a.op();
    return nullptr;
  }

  void body(const Controller& c, PanelContext& ctx, int k, const OpCheckResult* r) {
    const Analysis& a = c.analysis();
    if (!r) {
      if (a.op_busy())
        ImGui::TextDisabled("checking %s …", c.session().op_name(k).c_str());
      else
        ImGui::TextDisabled("not checked yet%s", auto_ ? "" : ": press check");
      return;
    }
    if (!r->error.empty()) {
      colored_text(ctx.palette.bad, "✗ %s", r->error.c_str());
      return;
    }
    const bool stale = r->key.eps != eps_ || r->key.max_entries != max_entries_ || r->key.kind != options(c).kind;
    const OpCheck& oc = r->check;
    if (oc.checked == 0) {
      ImGui::TextWrapped("Nothing to check: no gradient flows back through this op's inputs or parameters "
                         "(token ids are integers, frozen weights get no gradient, and nothing trainable lies upstream "
                         "of some values).");
      return;
    }
    // Verdict.
    ImGui::PushFont(ctx.fonts.big);
    colored_text(oc.pass ? ctx.palette.ok : ctx.palette.bad, "%s %s", oc.pass ? "✓ pass" : "✗ FAIL",
                 stale ? "(previous settings)" : "");
    ImGui::PopFont();
    ImGui::SameLine();
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted(oc.pass ? "  agrees within what this precision can tell" : "  a real disagreement");
    ImGui::PushFont(ctx.fonts.mono);
    ImGui::Text("%s: %lld %s at ε %.0e", info(oc.kind).title, static_cast<long long>(oc.checked),
                oc.kind == CheckKind::entries ? "entries" : "directions", r->opt.eps);
    ImGui::TextWrapped("max abs err %.2e   %s %.2e   err/%s %.3g   (max rel err %.2e)", oc.max_abs_err,
                       oc.kind == CheckKind::entries ? "allowed" : "noise floor", oc.noise_floor,
                       oc.kind == CheckKind::entries ? "allowed" : "floor", oc.max_ratio, oc.max_rel_err);
    for (const SumCheck& sc : oc.sums)
      colored_text(sc.pass ? ctx.palette.dim : ctx.palette.bad, "%s Σ of shares: %s %s (max |Δ| %.1e, allowed %.1e)%s",
                   sc.pass ? "✓" : "✗", sc.label.c_str(), sc.max_abs_err <= sc.tol ? "holds" : "is broken",
                   sc.max_abs_err, sc.tol,
                   sc.culprit == oc.op ? ": this op overwrote the sum instead of adding to it"
                   : sc.culprit >= 0   ? (": op " + c.session().op_name(sc.culprit) + " overwrote it").c_str()
                                       : "");
    ImGui::PopFont();
    if (stale || a.op_busy()) {
      ImGui::SameLine();
      ImGui::TextDisabled(" checking …");
    }
    if (picked_.tensor < 0 || picked_.tensor >= static_cast<int>(oc.tensors.size())) pick_default(oc);

    const float W = ImGui::GetContentRegionAvail().x;
    // Directions have no per-entry curve: their tables take the whole width.
    const bool side = W > 50.0f * ImGui::GetFontSize() && oc.kind == CheckKind::entries;
    if (oc.kind != CheckKind::entries) {
      ImGui::BeginChild("tables", ImVec2(0, ImGui::GetContentRegionAvail().y));
      tables(c, ctx, k, r);
      curve(c, ctx, k, r);
      ImGui::EndChild();
    } else if (side) {
      if (!ImGui::BeginTable("fdsplit", 2, ImGuiTableFlags_Resizable | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_NoSavedSettings))
        return;
      ImGui::TableSetupColumn("entries", ImGuiTableColumnFlags_WidthStretch, 0.6f);
      ImGui::TableSetupColumn("curve", ImGuiTableColumnFlags_WidthStretch, 0.4f);
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::BeginChild("tables", ImVec2(0, ImGui::GetContentRegionAvail().y));
      tables(c, ctx, k, r);
      ImGui::EndChild();
      ImGui::TableNextColumn();
      curve(c, ctx, k, r);
      ImGui::EndTable();
    } else {
      curve(c, ctx, k, r);
      tables(c, ctx, k, r);
    }
  }

  void pick_default(const OpCheck& oc) {
    picked_ = {};
    double best = -1;
    for (size_t t = 0; t < oc.tensors.size() && picked_.tensor < 0; ++t)
      for (const EntryCheck& e : oc.tensors[t].entries)
        if (std::abs(e.analytic) > best) {
          best = std::abs(e.analytic);
          picked_ = {static_cast<int>(t), e.index};
        }
  }

  Shape operand_shape(const Controller& c, int k, const TensorCheck& t) const {
    return c.session().visit([&](const auto& s) -> Shape {
      const auto& op = s.tape->op(k);
      if (t.is_param) return s.tape->model().params()[op.par[t.slot]].data.shape;
      return s.tape->value(op.in[t.slot]).data.shape;
    });
  }

  void tables(const Controller& c, PanelContext& ctx, int k, const OpCheckResult* r) {
    const OpCheck& oc = r->check;
    for (size_t ti = 0; ti < oc.tensors.size(); ++ti) {
      const TensorCheck& t = oc.tensors[ti];
      ImGui::PushID(static_cast<int>(ti));
      char head[256];
      if (t.kind == CheckKind::entries)
        snprintf(head, sizeof head, "%s %s   (%lld entries, max abs %.1e, rel %.1e, err/allowed %.2g)###t",
                 t.pass ? "✓" : "✗", t.label.c_str(), static_cast<long long>(t.checked), t.max_abs_err, t.max_rel_err,
                 t.max_ratio);
      else
        snprintf(head, sizeof head, "%s %s   (%s: err %.1e, noise floor %.1e, err/floor %.2g)###t", t.pass ? "✓" : "✗",
                 t.label.c_str(), info(t.kind).title, t.max_abs_err, t.noise_floor, t.max_ratio);
      ImGui::PushStyleColor(ImGuiCol_Text, t.pass ? ImGui::GetColorU32(ImGuiCol_Text) : ctx.palette.bad);
      const bool shown = ImGui::CollapsingHeader(head, ImGuiTreeNodeFlags_DefaultOpen);
      ImGui::PopStyleColor();
      if (shown && !t.directions.empty()) direction_table(ctx, t, r->opt);
      if (shown && !t.entries.empty()) entry_table(c, ctx, k, r, static_cast<int>(ti));
      ImGui::PopID();
    }
  }

  // One row per direction: both sides, their difference, and the floor it is judged against in
  // its two parts (how far round-off can move the analytic value; the numeric side's own error).
  void direction_table(PanelContext& ctx, const TensorCheck& t, const CheckOptions& opt) {
    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit |
                                  ImGuiTableFlags_NoSavedSettings;
    if (!ImGui::BeginTable("directions", 7, flags)) return;
    ImGui::TableSetupColumn(t.kind == CheckKind::local ? "analytic ⟨g, v⟩" : "analytic ⟨∂L/∂x, v⟩");
    ImGui::TableSetupColumn(t.kind == CheckKind::local ? "numeric ⟨r, Δy⟩/2ε" : "numeric ΔL/2ε");
    ImGui::TableSetupColumn("|a − n|");
    ImGui::TableSetupColumn("noise floor");
    ImGui::TableSetupColumn("= analytic round-off");
    ImGui::TableSetupColumn("+ numeric");
    ImGui::TableSetupColumn("");
    ImGui::TableHeadersRow();
    ImGui::PushFont(ctx.fonts.mono);
    for (const DirectionCheck& d : t.directions) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::Text("% .9e", d.analytic);
      ImGui::TableNextColumn();
      ImGui::Text("% .9e", d.numeric);
      ImGui::TableNextColumn();
      ImGui::Text("%.2e", d.abs_err());
      ImGui::TableNextColumn();
      ImGui::Text("%.2e", d.noise_floor());
      ImGui::TableNextColumn();
      if (std::isnan(d.roundoff_measured)) {
        ImGui::Text("%.2e", d.floor_analytic);
      } else {
        ImGui::Text("%.2e (measured)", d.floor_analytic + 2 * d.roundoff_measured);
        if (ImGui::IsItemHovered())
          ImGui::SetTooltip("the a-priori bound %.2e did not cover it, so float's round-off was measured: the same\n"
                            "backward run in double on the same float values gives a value %.2e away (taken twice)",
                            d.floor_analytic, d.roundoff_measured);
      }
      ImGui::TableNextColumn();
      ImGui::Text("%.2e%s", d.floor_numeric, std::isnan(d.numeric_2eps) ? "" : " (2ε)");
      if (!std::isnan(d.numeric_2eps) && ImGui::IsItemHovered())
        ImGui::SetTooltip("evaluated again at 2ε = %.0e: % .9e; the change is in this floor", 2 * d.eps, d.numeric_2eps);
      ImGui::TableNextColumn();
      colored_text(d.pass() ? ctx.palette.ok : ctx.palette.bad, "%s", d.pass() ? "✓" : "✗");
    }
    ImGui::PopFont();
    ImGui::EndTable();
    if (!t.directions.empty()) {
      const DirectionCheck& d = t.directions.front();
      ImGui::PushTextWrapPos(0);
      ImGui::TextDisabled("v moves %lld entries by ε = %.0e times entries of order 1: a multiple of the analytic "
                          "gradient g plus a random ±1 vector, weighing the same in the floor (cos(v, g) = %.2f), so a "
                          "wrong sign or scale cannot hide and neither can an error at right angles to g.",
                          static_cast<long long>(d.entries), opt.eps, d.along_gradient);
      ImGui::PopTextWrapPos();
    }
    for (const SumCheck& sc : t.sums)
      colored_text(sc.pass ? ctx.palette.dim : ctx.palette.bad, "%s Σ of shares: %s (max |Δ| %.1e, allowed %.1e)",
                   sc.pass ? "✓" : "✗", sc.label.c_str(), sc.max_abs_err, sc.tol);
  }

  void entry_table(const Controller& c, PanelContext& ctx, int k, const OpCheckResult* r, int ti) {
    const TensorCheck& t = r->check.tensors[ti];
    const Shape shape = operand_shape(c, k, t);
    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit |
                                  ImGuiTableFlags_ScrollY | ImGuiTableFlags_NoSavedSettings;
    const float row_h = ImGui::GetTextLineHeightWithSpacing();
    const float h = std::min(static_cast<float>(t.entries.size() + 1) * row_h + row_h * 0.5f, 14.0f * row_h);
    if (!ImGui::BeginTable("entries", 7, flags, ImVec2(0, h))) return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("entry");
    ImGui::TableSetupColumn("analytic");
    ImGui::TableSetupColumn("numeric");
    ImGui::TableSetupColumn("|a − n|");
    ImGui::TableSetupColumn("allowed");
    ImGui::TableSetupColumn("rel err");
    ImGui::TableSetupColumn("");
    ImGui::TableHeadersRow();
    ImGui::PushFont(ctx.fonts.mono);
    ImGuiListClipper clip;
    clip.Begin(static_cast<int>(t.entries.size()));
    while (clip.Step()) {
      for (int i = clip.DisplayStart; i < clip.DisplayEnd; ++i) {
        const EntryCheck& e = t.entries[i];
        const bool ok = e.abs_err() <= e.allowed(r->opt);
        const bool sel = picked_.tensor == ti && picked_.index == e.index;
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::PushID(i);
        if (ImGui::Selectable(multi_index_str(shape, e.index).c_str(), sel, ImGuiSelectableFlags_SpanAllColumns))
          picked_ = {ti, e.index};
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("flat index %lld: click to plot its error against ε",
                                                      static_cast<long long>(e.index));
        ImGui::PopID();
        ImGui::TableNextColumn();
        ImGui::Text("% .6e", e.analytic);
        ImGui::TableNextColumn();
        ImGui::Text("% .6e", e.numeric);
        ImGui::TableNextColumn();
        ImGui::Text("%.1e", e.abs_err());
        ImGui::TableNextColumn();
        ImGui::Text("%.1e", e.allowed(r->opt));
        ImGui::TableNextColumn();
        ImGui::Text("%.1e", e.rel_err());
        ImGui::TableNextColumn();
        colored_text(ok ? ctx.palette.ok : ctx.palette.bad, "%s", ok ? "✓" : "✗");
      }
    }
    ImGui::PopFont();
    ImGui::EndTable();
  }

  // [SECTION] error against ε, log-log
  void curve(const Controller& c, PanelContext& ctx, int k, const OpCheckResult* r) {
    const Analysis& a = c.analysis();
    if (r->check.kind != CheckKind::entries) {
      ImGui::PushTextWrapPos(0);
      ImGui::TextDisabled("The error against ε is drawn for one entry: choose the entries check to pick one. A "
                          "direction's numeric side runs in double; its own error is in the noise floor (the change "
                          "from ε to 2ε, when the first comparison did not settle it).");
      ImGui::PopTextWrapPos();
      return;
    }
    if (picked_.tensor < 0 || picked_.tensor >= static_cast<int>(r->check.tensors.size())) {
      ImGui::TextDisabled("pick an entry to see its error against ε");
      return;
    }
    const TensorCheck& t = r->check.tensors[picked_.tensor];
    const SweepKey want{c.version(), k, t.is_param, t.slot, picked_.index};
    const SweepResult* sw = a.sweep() && a.sweep()->key == want ? &*a.sweep() : nullptr;
    const bool asked = a.sweep_requested() && *a.sweep_requested() == want;
    if (!sw && !asked && auto_ && !c.busy()) ctx.requests.push(req::SweepEps{k, t.is_param, t.slot, picked_.index});
    const Shape shape = operand_shape(c, k, t);
    ImGui::TextUnformatted("error of the numeric derivative against ε");
    ImGui::PushFont(ctx.fonts.mono);
    ImGui::TextDisabled("%s %s", t.label.c_str(), multi_index_str(shape, picked_.index).c_str());
    ImGui::PopFont();
    if (!sw) {
      if (asked || auto_)
        ImGui::TextDisabled("computing the curve …");
      else if (ImGui::Button("compute the curve"))
        ctx.requests.push(req::SweepEps{k, t.is_param, t.slot, picked_.index});
      return;
    }
    if (!sw->error.empty()) {
      colored_text(ctx.palette.bad, "✗ %s", sw->error.c_str());
      return;
    }
    std::vector<double> xs, ys, errs;
    for (const EpsPoint& p : sw->points) {
      xs.push_back(p.eps);
      errs.push_back(p.abs_err);
    }
    PlotSpec spec;
    spec.x_label = "step ε";
    spec.y_label = "|numeric − analytic|";
    spec.x = Axis{3e-13, 3e-1, true};
    double lo, hi;
    decade_range(errs, lo, hi);
    const double tol = r->opt.atol + r->opt.rtol * std::abs(sw->analytic);
    lo = std::min(lo, std::pow(10.0, std::floor(std::log10(tol))));
    hi = std::max(hi, std::pow(10.0, std::ceil(std::log10(tol))));
    if (hi / lo < 100) hi = lo * 100;
    spec.y = Axis{lo, hi, true};
    for (double e : errs) ys.push_back(e > 0 ? e : lo);  // exactly 0: drawn on the floor
    spec.height = std::max(200.0f * ctx.scale, std::min(ImGui::GetContentRegionAvail().y - 4 * ImGui::GetTextLineHeight(),
                                                        360.0f * ctx.scale));
    spec.lines.push_back({PlotLine::vertical, eps_, 0, 0, 0, 0, ctx.palette.forward, "ε now"});
    spec.lines.push_back({PlotLine::horizontal, tol, 0, 0, 0, 0, ctx.palette.ok, "pass below"});
    // The two arms of the ideal V: ∝ ε² through the largest step, ∝ 1/ε through the smallest,
    // meeting at the step where truncation and round-off balance.
    // (A step too small to change the loss at all gives numeric 0: not round-off, left out.)
    int left = -1, right = -1;
    for (size_t i = 0; i < errs.size(); ++i)
      if (errs[i] > 0 && sw->points[i].numeric != 0) {
        if (left < 0 || xs[i] < xs[left]) left = static_cast<int>(i);
        if (right < 0 || xs[i] > xs[right]) right = static_cast<int>(i);
      }
    if (left >= 0 && right >= 0 && xs[right] > xs[left]) {
      const double A = errs[right] / (xs[right] * xs[right]), Bc = errs[left] * xs[left];
      const double star = std::cbrt(Bc / A);
      if (star > xs[left] && star < xs[right]) {
        spec.lines.push_back({PlotLine::segment, 0, xs[right], errs[right], star, A * star * star, ctx.palette.dim, "∝ ε²"});
        spec.lines.push_back({PlotLine::segment, 0, xs[left], errs[left], star, Bc / star, ctx.palette.dim, "∝ 1/ε"});
      }
    }
    std::vector<PlotSeries> series(1);
    series[0].x = xs;
    series[0].y = ys;
    series[0].color = ctx.palette.backward;
    const PlotHit hit = plot("eps_curve", ctx, spec, series);
    const bool clicked = ImGui::IsItemClicked();
    if (hit.index >= 0) {
      const EpsPoint& p = sw->points[hit.index];
      ImGui::BeginTooltip();
      ImGui::PushFont(ctx.fonts.mono);
      ImGui::Text("ε         %.1e", p.eps);
      ImGui::Text("numeric   % .9e", p.numeric);
      ImGui::Text("analytic  % .9e", sw->analytic);
      if (p.abs_err > 0)
        ImGui::Text("|error|   %.2e", p.abs_err);
      else
        ImGui::Text("|error|   0 (exact)");
      ImGui::PopFont();
      ImGui::TextDisabled("click: check the op at this ε");
      ImGui::EndTooltip();
      if (clicked) eps_ = p.eps;
    }
    ImGui::TextWrapped("Large ε: the Taylor terms beyond the first (truncation, ∝ ε²). Small ε: L(x+ε) and L(x−ε) agree "
                       "in almost every digit and their difference is round-off (∝ 1/ε). %s",
                       c.session().dtype() == DType::f32 ? "In float the bottom of the V is high and far to the right."
                                                         : "In double the V bottoms out near ε ≈ 1e-5 … 1e-6.");
  }

  uint64_t gen_ = ~uint64_t{0};
  int op_ = -1;
  double eps_ = 1e-6;
  int max_entries_ = 24;
  bool auto_ = true;
  bool with_params_ = false;
  int kind_ = -1;  // −1: the model's default (Controller::check_options)
  OpCheckResult from_marks_;  // the cursor op's result out of "check every op", as a result to show
  Picked picked_;
};

}  // namespace

std::unique_ptr<Panel> make_fd_panel() { return std::make_unique<FdPanel>(); }

}  // namespace gs::app
