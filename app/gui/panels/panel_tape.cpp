// Tape view: every op in execution order, grouped as the program recorded it (GPT-2: by block),
// in one table with headers: its finite-difference mark, its number (the one every view uses),
// name, output shape, forward and backward FLOPs; the cursor's op highlighted; click to go there.
// With a planted mistake, the op where the check first fails walking back from the loss is
// marked apart from the ops that fail only because they receive its wrong gradient (unless the
// class is finding the broken op, Settings::hide_mistakes).
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

  void contents(const Controller& c, PanelContext& ctx) override {
    refresh(c);
    toolbar(c, ctx);
    const int cur = c.at_start() ? -1 : c.info().op;
    const bool moved = cur != last_cursor_op_ || c.step() != last_step_;
    const bool hide = c.settings().hide_mistakes;
    first_ = hide ? -1 : first_failure_from_loss(c.n_ops(), [&](int k) { return c.check(k); });
    // The rows shown: a title per group, its ops when the group is open (the cursor's opens).
    struct Line {
      int group = -1, op = -1;
    };
    std::vector<Line> lines;
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      const Group& g = groups_[gi];
      if (moved && cur >= g.first && cur < g.last) closed_[gi] = false;
      lines.push_back({static_cast<int>(gi), -1});
      if (!closed_[gi])
        for (int k = g.first; k < g.last; ++k) lines.push_back({static_cast<int>(gi), k});
    }
    const ImGuiTableFlags flags = ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_ScrollY |
                                  ImGuiTableFlags_ScrollX | ImGuiTableFlags_RowBg | ImGuiTableFlags_NoSavedSettings;
    if (!ImGui::BeginTable("ops", 6, flags, ImVec2(0, ImGui::GetContentRegionAvail().y))) return;
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("fd", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("#", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("op", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("output", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("fwd", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("bwd", ImGuiTableColumnFlags_WidthFixed);
    header_row();
    int cur_line = -1;
    for (size_t i = 0; i < lines.size(); ++i)
      if (lines[i].op == cur) cur_line = static_cast<int>(i);
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(lines.size()));
    if (moved && cur_line >= 0) clipper.ForceDisplayRangeByIndices(cur_line, cur_line + 1);
    while (clipper.Step()) {
      for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
        const Line& l = lines[static_cast<size_t>(i)];
        if (l.op < 0)
          group_row(ctx, l.group);
        else
          op_row(c, ctx, l.op, cur, moved);
      }
    }
    ImGui::EndTable();
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
    closed_.assign(groups_.size(), false);
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
    // The marks, in words (wrapping when the column is narrow).
    const bool hide = c.settings().hide_mistakes;
    const bool failing = !hide && first_failure_from_loss(c.n_ops(), [&](int k) { return c.check(k); }) >= 0;
    struct Key {
      const char* glyph;
      ImU32 col;
      const char* words;
      const char* tip;
    };
    std::vector<Key> keys = {{"✓", ctx.palette.ok, "pass", "the op's backward agrees with finite differences"},
                             {"✗", ctx.palette.bad, "fail", "it does not"},
                             {"·", ctx.palette.dim, "not run", "not checked yet"}};
    if (failing) {
      keys[1] = {"✗!", ctx.palette.bad, "fails here",
                 "the first op whose check fails walking back from the loss: its own backward is wrong"};
      keys.insert(keys.begin() + 2, Key{"✗", ctx.palette.warn, "inherits",
                                        "fails only because a wrong gradient reaches it from the op that fails here"});
    }
    for (const Key& k : keys) {
      const float w = ImGui::CalcTextSize(k.glyph).x + ImGui::CalcTextSize(k.words).x + 3 + ImGui::GetStyle().ItemSpacing.x;
      ImGui::SameLine();
      if (ImGui::GetContentRegionAvail().x < w) ImGui::NewLine();
      colored_text(k.col, "%s", k.glyph);
      ImGui::SameLine(0, 3);
      ImGui::TextDisabled("%s", k.words);
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", k.tip);
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

  // Column headers, each with what it means.
  void header_row() {
    static const char* tips[] = {
        "finite-difference check: ✓ the op's backward agrees with the numbers, ✗ it does not, · not checked yet",
        "the op's number: its place on the tape, the number every view and gradscope-cli ops use",
        "the op, by its name inside its group",
        "the shape of its output",
        "forward FLOPs (floating-point operations)",
        "backward FLOPs: the gradients to its inputs and parameters"};
    ImGui::TableNextRow(ImGuiTableRowFlags_Headers);
    for (int i = 0; i < 6; ++i) {
      ImGui::TableSetColumnIndex(i);
      ImGui::TableHeader(ImGui::TableGetColumnName(i));
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tips[i]);
    }
  }

  // A group's title row: click to fold or unfold it.
  void group_row(PanelContext& ctx, int gi) {
    const Group& g = groups_[static_cast<size_t>(gi)];
    ImGui::TableNextRow();
    ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, ImGui::GetColorU32(ImGuiCol_Header));
    ImGui::TableSetColumnIndex(0);
    char label[128];
    snprintf(label, sizeof label, "%s %s  (%d ops)", closed_[gi] ? "▸" : "▾", g.title.c_str(), g.last - g.first);
    // The title drawn over the row, so that it sizes no column.
    const ImVec2 p = ImGui::GetCursorScreenPos();
    ImGui::PushID(gi);
    if (ImGui::Selectable("##group", false, ImGuiSelectableFlags_SpanAllColumns, ImVec2(1, 0))) closed_[gi] = !closed_[gi];
    ImGui::PopID();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowWidth();
    // Across the columns, but not above or below what the table shows (its frozen header, its
    // scroll bar): the column's own clip vertically.
    const ImVec2 cmin = dl->GetClipRectMin(), cmax = dl->GetClipRectMax();
    dl->PushClipRect(ImVec2(p.x, std::max(p.y, cmin.y)),
                     ImVec2(std::min(right, ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x),
                            std::min(p.y + ImGui::GetTextLineHeight() + 2, cmax.y)),
                     false);
    dl->AddText(p, ImGui::GetColorU32(ImGuiCol_Text), label);
    dl->PopClipRect();
    (void)ctx;
  }

  void op_row(const Controller& c, PanelContext& ctx, int k, int cur, bool scroll_to_cur) {
    const Row& r = rows_[static_cast<size_t>(k)];
    const bool hide = c.settings().hide_mistakes;
    ImGui::TableNextRow();
    const bool is_cur = k == cur;
    if (is_cur) ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, ctx.palette.current_row);
    if (c.highlighted(r.name))  // what the lesson step points at
      ImGui::TableSetBgColor(is_cur ? ImGuiTableBgTarget_RowBg1 : ImGuiTableBgTarget_RowBg0,
                             (ctx.palette.warn & 0x00FFFFFF) | 0x50000000);
    // finite-difference mark: the first failure from the loss apart from those it passes on to
    ImGui::TableNextColumn();
    const CheckMark m = c.check_mark(k);
    const bool first = k == first_;
    const bool inherited = m == CheckMark::fail && first_ >= 0 && k < first_;
    if (first) ImGui::TableSetBgColor(ImGuiTableBgTarget_CellBg, (ctx.palette.bad & 0x00FFFFFF) | 0x70000000);
    colored_text(inherited ? ctx.palette.warn : mark_colour(ctx, m), "%s", first ? "✗!" : check_glyph(m).c_str());
    if (ImGui::IsItemHovered()) {
      ImGui::BeginTooltip();
      if (const OpCheck* oc = c.check(k))
        ImGui::Text("%s: %s\n%lld compared, max abs err %.2e, noise floor %.2e (err/floor %.3g)", info(oc->kind).title,
                    oc->checked == 0 ? "nothing to check"
                    : oc->pass       ? "pass: agrees within what this precision can tell"
                                     : "FAIL: a real disagreement",
                    static_cast<long long>(oc->checked), oc->max_abs_err, oc->noise_floor, oc->max_ratio);
      else
        ImGui::TextUnformatted("finite-difference check not run");
      if (first)
        ImGui::TextUnformatted("the first op, walking back from the loss, whose check fails: its own backward is wrong");
      else if (inherited)
        ImGui::Text("fails only because it receives a wrong gradient from op %d (the first failure); its own backward "
                    "is right",
                    first_);
      ImGui::EndTooltip();
    }
    // index, coloured by how far the cursor has got
    ImGui::TableNextColumn();
    const ImU32 idx_col = c.backward_done(k) ? ctx.palette.backward : c.forward_done(k) ? ctx.palette.forward : ctx.palette.dim;
    ImGui::PushFont(ctx.fonts.mono);
    colored_text(idx_col, "%3d", k);
    ImGui::PopFont();
    // name: a selectable spanning the row
    ImGui::TableNextColumn();
    if (!c.forward_done(k)) ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetColorU32(ImGuiCol_TextDisabled));
    std::string label = r.short_name + (r.mistake && !hide ? "  ⚑" : "");
    ImGui::PushID(k);
    if (ImGui::Selectable(label.c_str(), is_cur, ImGuiSelectableFlags_SpanAllColumns))
      ctx.requests.push(req::FocusOp{k, Half::current});
    ImGui::PopID();
    if (!c.forward_done(k)) ImGui::PopStyleColor();
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("op %d, %s (%s): click to go there", k, r.name.c_str(), r.type.c_str());
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

  uint64_t version_ = ~uint64_t{0};
  std::vector<Row> rows_;
  std::vector<Group> groups_;
  std::vector<bool> closed_;  // per group: folded
  int first_ = -1;            // the first failing op walking back from the loss (-1: none, or hidden)
  int last_cursor_op_ = -2, last_step_ = -1;
};

}  // namespace

std::unique_ptr<Panel> make_tape_panel() { return std::make_unique<TapePanel>(); }

}  // namespace gs::app
