// Tape view: every op in execution order, grouped as the program recorded it (GPT-2: by block), with its output shape, forward and
// backward FLOPs and its finite-difference mark; the cursor's op highlighted; click to go there.
#include <algorithm>

#include "analysis.h"
#include "format.h"
#include "panel.h"
#include "widgets.h"

namespace gs::app {

namespace {

struct Row {
  std::string name, short_name, type, shape;
  std::string fwd, bwd;
  std::string group;  // as the program recorded it
  bool mistake = false;
};

struct Group {
  std::string title;
  int first = 0, last = 0;  // ops first … last−1
};

class TapePanel final : public Panel {
 public:
  const char* title() const override { return "Tape"; }
  bool left_column() const override { return true; }
  Rect home(const WorkArea& a) const override {
    const float m = layout::model_height(a);
    return {a.x, a.y + m, layout::left_width(a), a.h - m};
  }

  void contents(const Controller& c, PanelContext& ctx) override {
    refresh(c);
    toolbar(c, ctx);
    const int cur = c.at_start() ? -1 : c.info().op;
    const bool moved = cur != last_cursor_op_ || c.step() != last_step_;
    ImGui::BeginChild("ops");
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      const Group& g = groups_[gi];
      const bool here = cur >= g.first && cur < g.last;
      if (here && moved) ImGui::SetNextItemOpen(true);
      char header[96];
      snprintf(header, sizeof header, "%s  (%d ops)###group%zu", g.title.c_str(), g.last - g.first, gi);
      if (!ImGui::CollapsingHeader(header, ImGuiTreeNodeFlags_DefaultOpen)) continue;
      group_table(c, ctx, g, cur, here && moved);
    }
    ImGui::EndChild();
    last_cursor_op_ = cur;
    last_step_ = c.step();
  }

 private:
  void refresh(const Controller& c) {
    if (c.version() == version_ && !rows_.empty()) return;
    version_ = c.version();
    rows_.clear();
    groups_.clear();
    c.session().visit([&](const auto& s) {
      const auto& tape = *s.tape;
      for (int k = 0; k < tape.size(); ++k) {
        const auto& op = tape.op(k);
        Row r;
        r.name = op.name;
        r.short_name = op.short_name.empty() ? op.name : op.short_name;  // the group's title says the rest
        r.group = op.group;
        r.type = info(op.type).name;
        r.shape = shape_str(tape.value(op.out).data.shape);
        r.fwd = human(static_cast<double>(op.flops.fwd));
        r.bwd = human(static_cast<double>(op.flops.bwd()));
        r.mistake = op.mistake != Mistake::none;
        rows_.push_back(std::move(r));
      }
    });
    // Groups, as the program recorded them (GPT-2: embeddings, each block, the head and loss).
    for (int k = 0; k < static_cast<int>(rows_.size()); ++k) {
      if (k == 0 || rows_[k].group != rows_[k - 1].group) groups_.push_back({rows_[k].group, k, k});
      groups_.back().last = k + 1;
    }
    for (Group& g : groups_) {
      // A block's title says which names its ops start with ("block 0  (h.0.)").
      const std::string& full = rows_[g.first].name;
      const std::string& part = rows_[g.first].short_name;
      if (full.size() > part.size() && full.compare(full.size() - part.size(), part.size(), part) == 0)
        g.title += "  (" + full.substr(0, full.size() - part.size()) + ")";
      if (g.title.empty()) g.title = "ops";
    }
  }

  void toolbar(const Controller& c, PanelContext& ctx) {
    const Analysis& a = c.analysis();
    if (a.all_busy()) {
      // Off the UI thread (analysis.h): the marks fill in when it is done.
      const AllProgress p = a.all_progress_info();
      char over[48];
      snprintf(over, sizeof over, "%d / %d", p.done, p.total);
      ImGui::ProgressBar(static_cast<float>(p.fraction), ImVec2(ImGui::GetFontSize() * 7, 0), over);
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("%s (%s): %s", p.phase.c_str(), info(c.check_options().kind).title, time_left_text(p).c_str());
      ImGui::SameLine();
      if (ImGui::SmallButton("cancel")) ctx.requests.push(req::CancelChecks{});
    } else {
      if (ImGui::Button("check every op")) ctx.requests.push(req::RunChecks{-1, false, true});
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("finite differences for every op's inputs and parameters (%s), in the background on a "
                          "copy of the model",
                          info(c.check_options().kind).title);
    }
    ImGui::SameLine();
    const CheckMark marks[] = {CheckMark::pass, CheckMark::fail, CheckMark::not_run};
    const char* words[] = {"pass", "fail", "not run"};
    for (int i = 0; i < 3; ++i) {
      ImGui::SameLine();
      colored_text(mark_colour(ctx, marks[i]), "%s", check_glyph(marks[i]).c_str());
      ImGui::SameLine(0, 3);
      ImGui::TextDisabled("%s", words[i]);
    }
    ImGui::SameLine();
    ImGui::TextDisabled("· %s", info(c.check_options().kind).title);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("the kind of check the marks come from: %s", info(c.check_options().kind).what);
  }

  static ImU32 mark_colour(const PanelContext& ctx, CheckMark m) {
    switch (m) {
      case CheckMark::pass: return ctx.palette.ok;
      case CheckMark::fail: return ctx.palette.bad;
      default: return ctx.palette.dim;
    }
  }

  void group_table(const Controller& c, PanelContext& ctx, const Group& g, int cur, bool scroll_to_cur) {
    const ImGuiTableFlags flags = ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit |
                                  ImGuiTableFlags_NoSavedSettings;
    ImGui::PushID(g.first);
    if (!ImGui::BeginTable("ops", 6, flags)) {
      ImGui::PopID();
      return;
    }
    ImGui::TableSetupColumn("fd", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("#", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("op", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableSetupColumn("output", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("fwd", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("bwd", ImGuiTableColumnFlags_WidthFixed);
    ImGuiListClipper clipper;
    clipper.Begin(g.last - g.first);
    if (scroll_to_cur && cur >= g.first) clipper.ForceDisplayRangeByIndices(cur - g.first, cur - g.first + 1);
    while (clipper.Step()) {
      for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
        const int k = g.first + i;
        const Row& r = rows_[k];
        ImGui::TableNextRow();
        const bool is_cur = k == cur;
        if (is_cur) ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, ctx.palette.current_row);
        if (c.highlighted(r.name))  // what the lesson step points at
          ImGui::TableSetBgColor(is_cur ? ImGuiTableBgTarget_RowBg1 : ImGuiTableBgTarget_RowBg0,
                                 (ctx.palette.warn & 0x00FFFFFF) | 0x50000000);
        // finite-difference mark
        ImGui::TableNextColumn();
        const CheckMark m = c.check_mark(k);
        colored_text(mark_colour(ctx, m), "%s", check_glyph(m).c_str());
        if (ImGui::IsItemHovered()) {
          if (const OpCheck* oc = c.check(k))
            ImGui::SetTooltip("%s: %s\n%lld compared, max abs err %.2e, noise floor %.2e (err/floor %.3g)",
                              info(oc->kind).title,
                              oc->checked == 0 ? "nothing to check"
                              : oc->pass       ? "pass: agrees within what this precision can tell"
                                               : "FAIL: a real disagreement",
                              static_cast<long long>(oc->checked), oc->max_abs_err, oc->noise_floor, oc->max_ratio);
          else
            ImGui::SetTooltip("finite-difference check not run");
        }
        // index, coloured by how far the cursor has got
        ImGui::TableNextColumn();
        const ImU32 idx_col = c.backward_done(k) ? ctx.palette.backward
                              : c.forward_done(k) ? ctx.palette.forward
                                                  : ctx.palette.dim;
        ImGui::PushFont(ctx.fonts.mono);
        colored_text(idx_col, "%3d", k);
        ImGui::PopFont();
        // name: a selectable spanning the row
        ImGui::TableNextColumn();
        if (!c.forward_done(k)) ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetColorU32(ImGuiCol_TextDisabled));
        std::string label = r.short_name + (r.mistake ? "  ⚑ mistake" : "");
        if (ImGui::Selectable(label.c_str(), is_cur, ImGuiSelectableFlags_SpanAllColumns))
          ctx.requests.push(req::FocusOp{k, Half::current});
        if (!c.forward_done(k)) ImGui::PopStyleColor();
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s (%s): click to go there", r.name.c_str(), r.type.c_str());
        if (is_cur && scroll_to_cur) ImGui::SetScrollHereY(0.4f);
        ImGui::PushFont(ctx.fonts.mono);
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(r.shape.c_str());
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(r.fwd.c_str());
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(r.bwd.c_str());
        ImGui::PopFont();
      }
    }
    ImGui::EndTable();
    ImGui::PopID();
  }

  uint64_t version_ = ~uint64_t{0};
  std::vector<Row> rows_;
  std::vector<Group> groups_;
  int last_cursor_op_ = -2, last_step_ = -1;
};

}  // namespace

std::unique_ptr<Panel> make_tape_panel() { return std::make_unique<TapePanel>(); }

}  // namespace gs::app
