#include "app.h"

#include <imgui.h>
#include <imgui_internal.h>  // BeginViewportSideBar, BringWindowToDisplayFront (1.86 has no public status bar)
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>  // key codes: ImGui 1.86 indexes keys by the backend's codes

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>

#include "format.h"
#include "widgets.h"

namespace gs::app {

App::App(const Controller& c, HeatmapProvider& heatmaps) : c_(c), heatmaps_(heatmaps), panels_(make_panels()) {
  if (!heatmaps_.error().empty()) add_warning(heatmaps_.error());
  detached_.assign(panels_.size(), 0);
  was_open_.assign(panels_.size(), 0);
  applied_.assign(panels_.size(), Rect{});
}

const char* App::view_title(const std::string& v) {
  static const std::pair<const char*, const char*> map[] = {
      {"inspector", "Op inspector"}, {"tape", "Tape"},       {"graph", "Graph"},         {"flops", "FLOPs"},
      {"checks", "Finite differences"}, {"mistakes", "Planted mistakes"}, {"training", "Training"},
      {"attention", "Attention"},  {"wiggle", "Wiggle"},     {"update", "Update"},       {"predictions", "Predictions"},
      {"model", "Model & input"}};
  for (const auto& [view, title] : map)
    if (v == view) return title;
  return "";
}

Panel* App::panel(const char* title) {
  for (auto& p : panels_)
    if (std::string(p->title()) == title) return p.get();
  return nullptr;
}

void App::show_lessons() {
  if (Panel* p = panel("Lessons")) p->open = true;
}

void App::lesson_layout() {
  const LessonStep* s = c_.lesson_step();
  const std::string key = s ? std::to_string(c_.lesson().lesson) + "/" + std::to_string(c_.lesson().step) : "";
  if (key == lesson_key_) return;
  const bool entering = lesson_key_.empty();
  lesson_key_ = key;
  if (!s) {
    // Left the lesson: the windows stay as they are, the lesson's own column too (it says how to
    // come back); View ▸ Reset layout puts the inspector back in the middle.
    return;
  }
  if (entering) focus_ = -1;
  // The step shows what it needs (a step that names nothing keeps the views of the one before).
  if (!s->show.empty() || entering) {
    for (auto& p : panels_) {
      const std::string t = p->title();
      if (t == "Transport" || t == "Lesson") {
        p->open = true;
        continue;
      }
      p->open = false;
      for (const std::string& v : s->show) p->open = p->open || t == view_title(v);
    }
    if (s->show.empty())
      if (Panel* p = panel("Op inspector")) p->open = true;
  }
  if (Panel* p = panel("Lessons")) p->open = false;
  // The step's first view takes the middle (the Wiggle view, say, with the inspector beside it).
  if (!s->show.empty()) focus_ = panel_index(view_title(s->show.front()));
  reset_layout_ = true;
}

void App::add_warning(const std::string& w) {
  if (std::find(warnings_.begin(), warnings_.end(), w) == warnings_.end()) warnings_.push_back(w);
}

bool App::update_style() {
  const Settings& s = c_.settings();
  bool fonts_changed = false;
  if (fonts_.scale != s.font_scale) {
    // Text of another size needs other window sizes: lay the open windows out again.
    if (fonts_.scale != 0) reset_layout_ = true;
    build_fonts(fonts_, s.font_scale);
    if (!fonts_.error.empty()) add_warning(fonts_.error);
    fonts_changed = true;
  }
  if (!styled_ || fonts_changed || theme_ != s.theme) {
    palette_ = &apply_theme(s.theme, s.font_scale);
    theme_ = s.theme;
    styled_ = true;
  }
  return fonts_changed;
}

void App::presenter_layout() {
  // Transport and inspector only, across the whole width: the largest maps for a projector.
  reset_layout_ = true;
  for (auto& p : panels_) p->open = p->role() == Role::top || p->role() == Role::main;
}

int App::panel_index(const std::string& title) const {
  auto lower = [](std::string x) {
    for (char& ch : x) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return x;
  };
  // Spaces around a title do not count ("graph, FLOPs").
  const size_t a = title.find_first_not_of(' '), b = title.find_last_not_of(' ');
  const std::string t = a == std::string::npos ? std::string() : lower(title.substr(a, b - a + 1));
  for (size_t i = 0; i < panels_.size(); ++i)
    if (lower(panels_[i]->title()) == t) return static_cast<int>(i);
  return -1;
}

bool App::show_panels(const std::vector<std::string>& titles, std::string& err) {
  std::vector<int> found;
  for (const std::string& t : titles) {
    const int i = panel_index(t);
    if (i < 0) {
      err = "--show: no panel '" + t + "' (panels:";
      for (size_t k = 0; k < panels_.size(); ++k) err += std::string(k ? ", " : " ") + panels_[k]->title();
      err += ")";
      return false;
    }
    found.push_back(i);
  }
  for (int i : found) panels_[i]->open = true;
  return true;
}

bool App::show_only(const std::vector<std::string>& titles, std::string& err) {
  std::vector<char> keep(panels_.size(), 0);
  for (const std::string& t : titles) {
    const int i = panel_index(t);
    if (i < 0) {
      err = "no panel '" + t + "' (panels:";
      for (size_t k = 0; k < panels_.size(); ++k) err += std::string(k ? ", " : " ") + panels_[k]->title();
      err += ")";
      return false;
    }
    keep[i] = 1;
  }
  for (size_t i = 0; i < panels_.size(); ++i) {
    const Role r = panels_[i]->role();
    panels_[i]->open = keep[i] || r == Role::top || r == Role::main;
  }
  reset_layout_ = true;
  return true;
}

void App::take_panels_wanted() {
  const PanelsWanted& w = c_.panels_wanted();
  if (w.serial == panels_serial_) return;
  panels_serial_ = w.serial;
  std::string err;
  const bool ok = w.only ? show_only(w.titles, err) : show_panels(w.titles, err);
  if (!ok) add_warning(err);
  reset_layout_ = true;
}

// [SECTION] keys

void App::keys(RequestQueue& q) {
  ImGuiIO& io = ImGui::GetIO();
  if (io.WantTextInput) return;  // typing in a text box
  const bool ctrl = io.KeyCtrl;
  Settings s = c_.settings();
  if (ctrl) {
    bool changed = false;
    if (ImGui::IsKeyPressed(GLFW_KEY_EQUAL) || ImGui::IsKeyPressed(GLFW_KEY_KP_ADD)) {
      s.font_scale = std::round((s.font_scale + 0.1f) * 10.0f) / 10.0f;
      changed = true;
    }
    if (ImGui::IsKeyPressed(GLFW_KEY_MINUS) || ImGui::IsKeyPressed(GLFW_KEY_KP_SUBTRACT)) {
      s.font_scale = std::round((s.font_scale - 0.1f) * 10.0f) / 10.0f;
      changed = true;
    }
    if (ImGui::IsKeyPressed(GLFW_KEY_0, false) || ImGui::IsKeyPressed(GLFW_KEY_KP_0, false)) {
      s.font_scale = 1.0f;
      changed = true;
    }
    if (changed) q.push(req::SetSettings{s});
    if (ImGui::IsKeyPressed(GLFW_KEY_Q, false)) quit_ = true;
    return;
  }
  // Lessons: Page Down / Page Up (what a presenter's clicker sends), R reveals the answer.
  if (c_.lesson().open()) {
    if (ImGui::IsKeyPressed(GLFW_KEY_PAGE_DOWN, false)) q.push(req::LessonNext{});
    if (ImGui::IsKeyPressed(GLFW_KEY_PAGE_UP, false)) q.push(req::LessonBack{});
    if (ImGui::IsKeyPressed(GLFW_KEY_R, false)) q.push(req::RevealAnswer{});
  }
  if (ImGui::IsKeyPressed(GLFW_KEY_RIGHT)) q.push(req::Step{+1});
  if (ImGui::IsKeyPressed(GLFW_KEY_LEFT)) q.push(req::Step{-1});
  if (ImGui::IsKeyPressed(GLFW_KEY_HOME, false)) q.push(req::JumpTo{0});
  if (ImGui::IsKeyPressed(GLFW_KEY_END, false)) q.push(req::JumpTo{c_.total_steps()});
  if (ImGui::IsKeyPressed(GLFW_KEY_SPACE, false)) q.push(req::TogglePlaying{});
}

// [SECTION] menu bar

void App::menu(RequestQueue& q) {
  if (!ImGui::BeginMainMenuBar()) return;
  if (ImGui::BeginMenu("Lessons")) {
    if (ImGui::MenuItem("Lessons …")) show_lessons();
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("the path from y = a·x + b to GPT-2 with LoRA, a lesson a line");
    const LessonState& st = c_.lesson();
    if (st.open()) {
      ImGui::Separator();
      if (st.active) {
        if (ImGui::MenuItem("Next step", "PgDn")) q.push(req::LessonNext{});
        if (ImGui::MenuItem("Step back", "PgUp")) q.push(req::LessonBack{});
        if (ImGui::MenuItem("Reveal the answer", "R", false, c_.lesson_step() && !c_.lesson_step()->question.empty()))
          q.push(req::RevealAnswer{});
        if (ImGui::MenuItem("Leave lesson")) q.push(req::LeaveLesson{});
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("explore freely; the lesson waits where it is");
      } else if (ImGui::MenuItem("Back to the lesson")) {
        q.push(req::ResumeLesson{});
      }
    }
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("View")) {
    Settings s = c_.settings();
    for (auto& p : panels_) ImGui::MenuItem(p->title(), nullptr, &p->open);
    ImGui::Separator();
    const bool presenter = s.arrangement == Arrangement::presenter;
    if (ImGui::MenuItem("Standard layout", nullptr, !presenter)) {
      s.arrangement = Arrangement::standard;
      q.push(req::SetSettings{s});
      reset_layout_ = true;
      for (auto& p : panels_) p->open = p->open || p->role() == Role::left || p->role() == Role::top || p->role() == Role::main;
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("model & input and the tape on the left, the transport on top, the op inspector in the middle");
    if (ImGui::MenuItem("Presenter layout", nullptr, presenter)) {
      s.arrangement = Arrangement::presenter;
      s.formulas_open = false;  // one line: the maps get the height
      q.push(req::SetSettings{s});
      presenter_layout();
    }
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("for a projector: a compact transport and the op inspector across the width; panels you open go beside it");
    ImGui::Separator();
    ImGui::TextDisabled("panels beside the inspector");
    if (ImGui::RadioButton("in a column", s.side == SideMode::column)) {
      s.side = SideMode::column;
      q.push(req::SetSettings{s});
      reset_layout_ = true;
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("each open panel in the column at the right, one above the other");
    if (ImGui::RadioButton("as tabs", s.side == SideMode::tabs)) {
      s.side = SideMode::tabs;
      q.push(req::SetSettings{s});
      reset_layout_ = true;
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("the open panels share one place at the right, one tab each");
    ImGui::Separator();
    if (ImGui::MenuItem("Reset layout")) {
      reset_layout_ = true;
      focus_ = -1;  // the inspector back in the middle
      for (auto& p : panels_)
        p->open = p->open || (!presenter && p->role() == Role::left) || p->role() == Role::top || p->role() == Role::main;
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("every panel back in its place (a panel dragged out rejoins the layout)");
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("Settings")) {
    Settings s = c_.settings();
    bool changed = false;
    ImGui::TextUnformatted("theme");
    if (ImGui::RadioButton("dark", s.theme == Theme::dark)) {
      s.theme = Theme::dark;
      changed = true;
    }
    if (ImGui::RadioButton("light, high contrast", s.theme == Theme::light_high_contrast)) {
      s.theme = Theme::light_high_contrast;
      changed = true;
    }
    ImGui::Separator();
    float fs = s.font_scale;
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 10);
    ImGui::SliderFloat("text size", &fs, Settings::kMinFontScale, Settings::kMaxFontScale, "%.1f×");
    if (ImGui::IsItemDeactivatedAfterEdit()) {
      s.font_scale = std::round(fs * 10.0f) / 10.0f;
      changed = true;
    }
    ImGui::TextDisabled("Ctrl +  Ctrl −  Ctrl 0");
    ImGui::Separator();
    if (ImGui::Checkbox("boost small gradients (√ colour scale)", &s.boost_small)) changed = true;
    if (ImGui::Checkbox("one colour scale for gradients of one shape", &s.shared_scale)) changed = true;
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("the inspector's gradient maps of one shape share ±max|x| (also its 'one colour scale' box)");
    if (changed) q.push(req::SetSettings{s});
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("Help")) {
    ImGui::MenuItem("Keys", nullptr, &show_keys_);
    ImGui::EndMenu();
  }
  // The cursor, always in view.
  const std::string t = c_.step_title();
  const float w = ImGui::CalcTextSize(t.c_str()).x;
  ImGui::SameLine(std::max(ImGui::GetCursorPosX() + 20.0f, ImGui::GetWindowWidth() - w - 20.0f));
  ImGui::TextDisabled("%s", t.c_str());
  ImGui::EndMainMenuBar();
}

// [SECTION] layout

WorkArea App::work_area() const {
  const ImGuiViewport* vp = ImGui::GetMainViewport();
  // The work area: below the menu bar, above the status bar. Computed here rather than read
  // from the viewport's WorkPos/WorkSize, which take the bars in only from the next frame (and
  // the first frame is when windows are placed).
  const float top = ImGui::GetFrameHeight(), bottom = status_height();
  WorkArea a;
  a.x = vp->Pos.x;
  a.y = vp->Pos.y + top;
  a.w = vp->Size.x;
  a.h = std::max(100.0f, vp->Size.y - top - bottom);
  a.line = ImGui::GetFrameHeightWithSpacing();
  return a;
}

// Every window's rectangle for this frame (layout.h), from the panels open now. A panel the
// user moved or resized since the last frame leaves the layout (until Reset layout).
void App::lay_out() {
  ImGuiContext& g = *ImGui::GetCurrentContext();
  std::vector<LayoutPanel> in(panels_.size());
  for (size_t i = 0; i < panels_.size(); ++i) {
    Panel& p = *panels_[i];
    if (reset_layout_ || !p.open) detached_[i] = 0;
    const Role role = p.role();
    const bool fixed = role == Role::main || role == Role::top;
    if (!fixed && p.open && !detached_[i] && !applied_[i].empty()) {
      if (ImGuiWindow* w = ImGui::FindWindowByName(p.title())) {
        const bool moving = g.MovingWindow && g.MovingWindow->RootWindow == w;
        const bool resized =
            std::fabs(w->SizeFull.x - applied_[i].w) > 1.0f || std::fabs(w->SizeFull.y - applied_[i].h) > 1.0f;
        if (moving || resized) detached_[i] = 1;
      }
    }
    in[i] = {p.title(), role, p.open, detached_[i] != 0};
  }
  LayoutOptions o;
  o.arrangement = c_.settings().arrangement;
  o.side = c_.settings().side;
  o.focus = focus_;
  layout_ = compute_layout(work_area(), o, in);
}

void App::place(size_t i) {
  const Panel& p = *panels_[i];
  const Rect& r = layout_.rects[i];
  if (!r.empty() && !detached_[i]) {
    ImGui::SetNextWindowPos(ImVec2(r.x, r.y), ImGuiCond_Always);
    ImGui::SetNextWindowSize(ImVec2(r.w, r.h), ImGuiCond_Always);
    applied_[i] = r;
    return;
  }
  applied_[i] = Rect{};
  if (detached_[i]) return;  // where the user left it
  // Floating, or out of the tab strip: its home the first time.
  const Rect h = p.home(work_area());
  ImGui::SetNextWindowPos(ImVec2(h.x, h.y), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(h.w, h.h), ImGuiCond_FirstUseEver);
}

// The side panels as tabs of one window beside the inspector.
void App::draw_tabs(PanelContext& ctx) {
  if (!layout_.tabs || layout_.tab_panels.empty()) return;
  const Rect& r = layout_.side;
  ImGui::SetNextWindowPos(ImVec2(r.x, r.y), ImGuiCond_Always);
  ImGui::SetNextWindowSize(ImVec2(r.w, r.h), ImGuiCond_Always);
  const ImGuiWindowFlags host = ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize |
                                ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings |
                                ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse;
  if (ImGui::Begin("##side panels", nullptr, host) &&
      ImGui::BeginTabBar("side", ImGuiTabBarFlags_FittingPolicyScroll | ImGuiTabBarFlags_Reorderable)) {
    for (int i : layout_.tab_panels) {
      Panel& p = *panels_[i];
      // A panel just opened comes to the front.
      const ImGuiTabItemFlags f = !was_open_[i] ? ImGuiTabItemFlags_SetSelected : 0;
      const bool shown = ImGui::BeginTabItem(p.title(), &p.open, f);
      if (ImGui::BeginPopupContextItem()) {
        if (ImGui::MenuItem("Take out of the tabs")) detached_[i] = 1;
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("a window of its own, to move anywhere (View ▸ Reset layout puts it back)");
        ImGui::EndPopup();
      }
      if (shown) {
        ImGui::BeginChild(p.title(), ImVec2(0, 0), false, p.window_flags());
        p.draw_body(c_, ctx);
        ImGui::EndChild();
        ImGui::EndTabItem();
      }
    }
    ImGui::EndTabBar();
  }
  ImGui::End();
}

// [SECTION] status bar

float App::status_height() const { return ImGui::GetFrameHeight() + 6.0f; }  // a row and its 3 px padding

void App::status_bar(PanelContext& ctx) {
  const float h = status_height();
  // A side bar along the bottom, like the main menu bar along the top: it takes its height off
  // the viewport's work area, which the default layout fills.
  const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                 ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoFocusOnAppearing |
                                 ImGuiWindowFlags_NoNav;
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(ImGui::GetStyle().WindowPadding.x, 3.0f));
  ImGui::PushStyleVar(ImGuiStyleVar_WindowRounding, 0.0f);
  if (ImGui::BeginViewportSideBar("##status", ImGui::GetMainViewport(), ImGuiDir_Down, h, flags)) {
    ImGui::BringWindowToDisplayFront(ImGui::GetCurrentWindow());  // never under a panel
    // NaN or ±∞ in the model: the whole bar in the error colour, until a finite model is back.
    const bool alarm = !c_.health().empty();
    if (alarm) {
      ImVec4 bg = ImGui::ColorConvertU32ToFloat4(palette_->bad);
      bg.w = 0.28f;
      const ImVec2 p = ImGui::GetWindowPos(), sz = ImGui::GetWindowSize();
      ImGui::GetWindowDrawList()->AddRectFilled(p, ImVec2(p.x + sz.x, p.y + sz.y), ImGui::ColorConvertFloat4ToU32(bg));
    }
    const float avail = ImGui::GetContentRegionAvail().x;
    ImGui::AlignTextToFramePadding();
    std::string left;
    ImU32 col = ImGui::GetColorU32(ImGuiCol_Text);
    if (alarm) {
      left = "⚠ " + (c_.error().empty() ? c_.health() : c_.error()) + " — rebuild the model or load a checkpoint";
      col = palette_->bad;
    } else if (!c_.error().empty()) {
      left = "✗ " + c_.error();
      col = palette_->bad;
    } else if (!warnings_.empty()) {
      left = "⚑ " + warnings_.front();
      col = palette_->warn;
    } else if (!c_.busy()) {
      left = c_.status();
    }
    const float job_w = c_.busy() ? ImGui::GetFontSize() * 20 : 0.0f;
    // The right side: what the model is. Where the message needs the room, the least needed
    // parts go first (the model and its loss stay).
    std::string right;
    if (c_.has_session()) {
      const Config& cfg = c_.session().config();
      std::vector<std::string> parts = {c_.model_label(), "loss " + num_short(c_.session().loss()), c_.weights_source(),
                                        dtype_name(cfg.dtype),
                                        cfg.lora() ? "LoRA r" + std::to_string(cfg.lora_rank) : std::string("full")};
      const float need = ImGui::CalcTextSize(left.c_str()).x + job_w + 40.0f;
      auto join = [&] {
        std::string r = parts[0];
        for (size_t i = 1; i < parts.size(); ++i) r += " · " + parts[i];
        return r;
      };
      while (parts.size() > 2 && ImGui::CalcTextSize(join().c_str()).x + need > avail) parts.pop_back();
      right = join();
    }
    const float rw = ImGui::CalcTextSize(right.c_str()).x;
    // A message longer than its room is cut at a word, with an ellipsis (all of it in the tooltip).
    const float room = std::max(0.0f, avail - rw - 20.0f - job_w);
    const bool cut = !left.empty() && ImGui::CalcTextSize(left.c_str()).x > room;
    if (cut) {
      while (!left.empty() && ImGui::CalcTextSize((left + " …").c_str()).x > room) {
        const size_t sp = left.find_last_of(' ');
        left.resize(sp == std::string::npos ? 0 : sp);
      }
      left += " …";
    }
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    ImGui::PushClipRect(p0, ImVec2(p0.x + std::max(0.0f, avail - rw - 20.0f), p0.y + h), true);
    // A running job first: bar, what it does, cancel.
    if (c_.busy()) {
      job_progress(c_, ctx, ImGui::GetFontSize() * 8, left.empty());
      if (!left.empty()) ImGui::SameLine();
    }
    if (!left.empty()) colored_text(col, "%s", left.c_str());
    ImGui::PopClipRect();
    if (ImGui::IsItemHovered() && (alarm || cut || !c_.error().empty() || !warnings_.empty())) {
      ImGui::BeginTooltip();
      if (cut && c_.error().empty() && warnings_.empty() && !alarm) ImGui::TextUnformatted(c_.status().c_str());
      if (alarm) ImGui::TextUnformatted(c_.health().c_str());
      if (!c_.error().empty()) ImGui::TextUnformatted(c_.error().c_str());
      for (const auto& w : warnings_) ImGui::TextUnformatted(w.c_str());
      ImGui::EndTooltip();
    }
    ImGui::SameLine(std::max(0.0f, ImGui::GetWindowContentRegionMax().x - rw));
    if (alarm)
      colored_text(palette_->bad, "%s", right.c_str());
    else
      ImGui::TextDisabled("%s", right.c_str());
  }
  ImGui::End();
  ImGui::PopStyleVar(2);
}

// [SECTION] frame

void App::draw(RequestQueue& q) {
  heatmaps_.set_boost(c_.settings().boost_small);
  maps_frame_begin();
  keys(q);
  menu(q);
  PanelContext ctx{q, heatmaps_, fonts_, *palette_, c_.settings().font_scale};
  status_bar(ctx);
  lesson_layout();
  take_panels_wanted();
  lay_out();
  const bool presenter = c_.settings().arrangement == Arrangement::presenter;
  for (size_t i = 0; i < panels_.size(); ++i) {
    Panel& p = *panels_[i];
    if (!p.open) continue;
    if (layout_.tabs && !detached_[i] &&
        std::find(layout_.tab_panels.begin(), layout_.tab_panels.end(), static_cast<int>(i)) != layout_.tab_panels.end())
      continue;  // drawn in the tab strip
    place(i);
    // The inspector and the transport hold the middle: they neither move nor resize (the
    // others make room), and in the presenter layout they give up their title bars too.
    int extra = 0;
    if (p.role() == Role::main || p.role() == Role::top) {
      extra = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse;
      if (presenter) extra |= ImGuiWindowFlags_NoTitleBar;
    }
    // A view the lesson step points at: its window framed in the highlight colour.
    bool lit = false;
    for (const std::string& v : lesson_views()) lit = lit || (view_title(v) == std::string(p.title()) && c_.view_highlighted(v));
    if (lit) {
      ImGui::PushStyleColor(ImGuiCol_Border, palette_->warn);
      ImGui::PushStyleVar(ImGuiStyleVar_WindowBorderSize, 3.0f * ctx.scale);
    }
    p.draw(c_, ctx, extra);
    if (lit) {
      ImGui::PopStyleVar();
      ImGui::PopStyleColor();
    }
  }
  draw_tabs(ctx);
  for (size_t i = 0; i < panels_.size(); ++i) was_open_[i] = panels_[i]->open;
  // The pointer left every map: nothing is hovered any more (the linked highlights go out).
  if (!map_hovered_this_frame() && c_.selection().hover_index >= 0) q.push(req::Hover{"", -1});
  reset_layout_ = false;
  if (show_keys_) {
    ImGui::SetNextWindowSize(ImVec2(ImGui::GetFontSize() * 24, 0), ImGuiCond_FirstUseEver);
    if (ImGui::Begin("Keys", &show_keys_)) {
      const char* keys[][2] = {{"→  ←", "one step on / back"},
                               {"Home  End", "first / last step"},
                               {"Space", "play / pause"},
                               {"Ctrl +  Ctrl −", "larger / smaller text"},
                               {"Ctrl 0", "text size back to 1×"},
                               {"Ctrl Q", "quit"}};
      if (ImGui::BeginTable("keys", 2, ImGuiTableFlags_SizingFixedFit)) {
        for (auto& k : keys) {
          ImGui::TableNextRow();
          ImGui::TableNextColumn();
          ImGui::PushFont(fonts_.mono);
          ImGui::TextUnformatted(k[0]);
          ImGui::PopFont();
          ImGui::TableNextColumn();
          ImGui::TextUnformatted(k[1]);
        }
        ImGui::EndTable();
      }
    }
    ImGui::End();
  }
}

}  // namespace gs::app
