// Lesson: the step on screen — the lesson's title and where it is, the teacher's text (large),
// the question with its answer hidden until Reveal, Back and Next (Page Up, Page Down), and
// "leave to explore" / "back to the lesson". The Lessons window is the start screen: the path, a
// line each, a Start button each.
#include <imgui.h>

#include "format.h"
#include "gradscope/error.h"
#include "gradscope/lesson.h"
#include "panel.h"
#include "widgets.h"

namespace gs::app {

namespace {

class LessonPanel final : public Panel {
 public:
  LessonPanel() { open = false; }
  const char* title() const override { return "Lesson"; }
  bool needs_model() const override { return false; }
  // A column at the left edge, full height, beside everything else (layout.h).
  Role role() const override { return Role::lesson; }

  void contents(const Controller& c, PanelContext& ctx) override {
    const Lesson* L = c.current_lesson();
    if (!L) {
      ImGui::TextWrapped("No lesson is open. Lessons ▸ Lessons … lists them.");
      return;
    }
    const LessonState& st = c.lesson();
    const int n = static_cast<int>(L->steps.size());
    ImGui::PushFont(ctx.fonts.big);
    ImGui::TextWrapped("%s", L->title.c_str());
    ImGui::PopFont();
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetColorU32(ImGuiCol_TextDisabled));
    ImGui::TextWrapped("lesson %d of %zu · step %d of %d · %s", st.lesson + 1, st.path.size(), st.step + 1, n,
                       L->spec.program.c_str());
    ImGui::PopStyleColor();
    // Where in the lesson: one dot per step.
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float r = 4.0f * ctx.scale, gap = 13.0f * ctx.scale;
    const ImVec2 p = ImGui::GetCursorScreenPos();
    for (int i = 0; i < n; ++i) {
      const ImVec2 at(p.x + r + i * gap, p.y + r + 2);
      if (i == st.step)
        dl->AddCircleFilled(at, r * 1.3f, ctx.palette.backward);
      else
        dl->AddCircle(at, r, i < st.step ? ctx.palette.forward : ctx.palette.dim, 0, std::max(1.0f, ctx.scale));
    }
    ImGui::Dummy(ImVec2(n * gap, 2 * r + 6));
    ImGui::Separator();
    if (!st.active) {
      ImGui::TextWrapped("You left the lesson to explore; the model on screen is yours. The lesson waits at step %d.",
                         st.step + 1);
      if (ImGui::Button("back to the lesson")) ctx.requests.push(req::ResumeLesson{});
      return;
    }
    const LessonStep& s = L->steps[st.step];
    ImGui::BeginChild("text", ImVec2(0, -ImGui::GetFrameHeightWithSpacing() * 2.6f), false);
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(trimmed(s.text).c_str());
    ImGui::PopTextWrapPos();
    if (!s.question.empty()) {
      ImGui::Spacing();
      ImGui::Separator();
      colored_text(ctx.palette.warn, "Question");
      ImGui::PushTextWrapPos(0);
      ImGui::TextUnformatted(trimmed(s.question).c_str());
      ImGui::PopTextWrapPos();
      if (c.revealed()) {
        colored_text(ctx.palette.ok, "Answer");
        ImGui::PushTextWrapPos(0);
        ImGui::TextUnformatted(trimmed(s.answer).c_str());
        ImGui::PopTextWrapPos();
      } else if (ImGui::Button("Reveal the answer  (R)")) {
        ctx.requests.push(req::RevealAnswer{});
      }
    }
    ImGui::EndChild();
    ImGui::Separator();
    const bool first = st.step == 0 && st.lesson == 0;
    const bool last = st.step + 1 == n && st.lesson + 1 == static_cast<int>(st.path.size());
    ImGui::BeginDisabled(first);
    if (ImGui::Button("◀ Back")) ctx.requests.push(req::LessonBack{});
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Page Up");
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::BeginDisabled(last);
    const bool next_lesson = st.step + 1 == n;
    if (ImGui::Button(next_lesson ? "Next lesson ▶" : "Next ▶")) ctx.requests.push(req::LessonNext{});
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Page Down");
    ImGui::EndDisabled();
    // The keys beside the buttons where they fit (the buttons' tooltips say them anyway).
    ImGui::SameLine();
    if (ImGui::GetContentRegionAvail().x >= ImGui::CalcTextSize("PgUp PgDn").x)
      ImGui::TextDisabled("PgUp PgDn");
    else
      ImGui::NewLine();
    if (ImGui::SmallButton("leave to explore")) ctx.requests.push(req::LeaveLesson{});
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("every view and control, on this lesson's model; Lessons ▸ Back to the lesson returns here");
  }

 private:
  // Lesson text without the blank lines TOML's """ leaves at its ends. One text call must stay
  // far below ImGui's 16-bit vertex indices (four per character): a lesson's texts are bounded
  // when it is loaded (LessonLimits::kText), and cut here too, so nothing unbounded is drawn.
  static std::string trimmed(const std::string& whole) {
    std::string s = whole;
    if (s.size() > LessonLimits::kText) {
      size_t cut = LessonLimits::kText;
      while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
      s = s.substr(0, cut) + "…";
    }
    const size_t a = s.find_first_not_of("\n ");
    const size_t b = s.find_last_not_of("\n ");
    if (a == std::string::npos) return "";
    // One line break inside a paragraph reads as a space; a blank line stays a paragraph break.
    std::string out;
    const std::string t = s.substr(a, b - a + 1);
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] == '\n' && i + 1 < t.size() && t[i + 1] != '\n' && (i == 0 || t[i - 1] != '\n')) {
        out += ' ';
        continue;
      }
      out += t[i];
    }
    return out;
  }
};

class LessonsPanel final : public Panel {
 public:
  LessonsPanel() { open = false; }
  const char* title() const override { return "Lessons"; }
  bool needs_model() const override { return false; }
  // The start screen: over the middle, where its home() puts it; it closes when a lesson opens.
  Role role() const override { return Role::floating; }
  Rect home(const WorkArea& a) const override {
    const float w = std::min(a.w * 0.7f, 46.0f * a.line), h = std::min(a.h * 0.85f, 24.0f * a.line);
    return {a.x + (a.w - w) * 0.5f, a.y + (a.h - h) * 0.3f, w, h};
  }

  void contents(const Controller& c, PanelContext& ctx) override {
    if (!loaded_) {
      loaded_ = true;
      try {
        list_ = list_lessons();
      } catch (const Error& e) {
        error_ = e.what();
      }
    }
    ImGui::PushFont(ctx.fonts.big);
    ImGui::TextUnformatted("From y = a·x + b to GPT-2 with LoRA");
    ImGui::PopFont();
    ImGui::TextWrapped("Each lesson is a short walk through one model: read, predict, reveal, step. Next (Page Down) goes "
                       "on to the next lesson at the end of one.");
    if (!error_.empty()) colored_text(ctx.palette.bad, "%s", error_.c_str());
    ImGui::Separator();
    table("lessons", list_.shipped, c, ctx);
    // A teacher's own lessons, from their folder, below the shipped path.
    if (!list_.own_dir.empty()) {
      ImGui::Separator();
      if (list_.own.empty())
        ImGui::TextDisabled("Your own lessons: put lesson files (.toml) in %s", list_.own_dir.c_str());
      else
        ImGui::TextDisabled("Your own lessons, from %s", list_.own_dir.c_str());
      table("own", list_.own, c, ctx);
      for (const std::string& p : list_.problems) colored_text(ctx.palette.bad, "%s", p.c_str());
    }
    ImGui::Separator();
    if (ImGui::Button("explore freely")) open = false;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("close this list; Lessons ▸ Lessons … opens it again");
  }

 private:
  // One row per lesson: its number, title and summary, and a Start button.
  void table(const char* id, const std::vector<Lesson>& lessons, const Controller& c, PanelContext& ctx) {
    if (lessons.empty() || !ImGui::BeginTable(id, 3, ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp)) return;
    ImGui::TableSetupColumn("", ImGuiTableColumnFlags_WidthFixed);
    ImGui::TableSetupColumn("lesson", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableSetupColumn("", ImGuiTableColumnFlags_WidthFixed);
    for (size_t i = 0; i < lessons.size(); ++i) {
      const Lesson& l = lessons[i];
      ImGui::PushID(static_cast<int>(i));
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      const bool here = c.current_lesson() && c.current_lesson()->path == l.path;
      colored_text(here ? ctx.palette.backward : ctx.palette.dim, "%2zu", i + 1);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(l.title.c_str());
      ImGui::TextDisabled("%s · %s · %zu steps", l.summary.c_str(), l.spec.program.c_str(), l.steps.size());
      ImGui::TableNextColumn();
      if (ImGui::Button("Start")) {
        ctx.requests.push(req::OpenLesson{l.path, 1, ""});
        open = false;
      }
      ImGui::PopID();
    }
    ImGui::EndTable();
  }

 private:
  bool loaded_ = false;
  LessonList list_;
  std::string error_;
};

}  // namespace

std::unique_ptr<Panel> make_lesson_panel() { return std::make_unique<LessonPanel>(); }
std::unique_ptr<Panel> make_lessons_panel() { return std::make_unique<LessonsPanel>(); }

}  // namespace gs::app
