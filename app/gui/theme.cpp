#include "theme.h"

namespace gs::app {

namespace {

ImU32 rgb(int r, int g, int b, int a = 255) { return IM_COL32(r, g, b, a); }

Palette dark_palette() {
  Palette p;
  p.ok = rgb(90, 220, 110);
  p.bad = rgb(255, 95, 85);
  p.warn = rgb(255, 190, 60);
  p.dim = rgb(150, 150, 160);
  p.forward = rgb(90, 160, 255);
  p.backward = rgb(255, 150, 60);
  p.current_row = rgb(70, 110, 200, 200);
  p.done_row = rgb(255, 255, 255, 18);
  p.chip_bg = rgb(48, 52, 64);
  p.chip_border = rgb(120, 130, 150);
  p.chip_text = rgb(245, 245, 250);
  p.hover = rgb(255, 255, 255);
  p.clear = ImVec4(0.07f, 0.07f, 0.09f, 1.0f);
  return p;
}

Palette light_palette() {
  Palette p;
  p.ok = rgb(0, 120, 30);
  p.bad = rgb(200, 0, 0);
  p.warn = rgb(160, 90, 0);
  p.dim = rgb(85, 85, 85);
  p.forward = rgb(0, 70, 200);
  p.backward = rgb(190, 80, 0);
  p.current_row = rgb(255, 215, 0, 255);
  p.done_row = rgb(0, 0, 0, 16);
  p.chip_bg = rgb(255, 255, 255);
  p.chip_border = rgb(0, 0, 0);
  p.chip_text = rgb(0, 0, 0);
  p.hover = rgb(0, 0, 0);
  p.clear = ImVec4(0.85f, 0.85f, 0.85f, 1.0f);
  return p;
}

void common_sizes(ImGuiStyle& s) {
  s.WindowPadding = ImVec2(10, 10);
  s.FramePadding = ImVec2(8, 5);
  s.ItemSpacing = ImVec2(10, 7);
  s.ItemInnerSpacing = ImVec2(7, 5);
  s.CellPadding = ImVec2(6, 3);
  s.IndentSpacing = 18;
  s.ScrollbarSize = 16;
  s.GrabMinSize = 14;
  s.WindowRounding = 4;
  s.FrameRounding = 3;
  s.GrabRounding = 3;
  s.TabRounding = 3;
  s.WindowTitleAlign = ImVec2(0.0f, 0.5f);
}

}  // namespace

const Palette& palette(Theme t) {
  static const Palette dark = dark_palette(), light = light_palette();
  return t == Theme::dark ? dark : light;
}

const Palette& apply_theme(Theme t, float scale) {
  ImGuiStyle s;
  if (t == Theme::dark) {
    ImGui::StyleColorsDark(&s);
    common_sizes(s);
    ImVec4* c = s.Colors;
    c[ImGuiCol_Text] = ImVec4(0.96f, 0.96f, 0.98f, 1.0f);
    c[ImGuiCol_TextDisabled] = ImVec4(0.60f, 0.60f, 0.64f, 1.0f);
    c[ImGuiCol_WindowBg] = ImVec4(0.11f, 0.11f, 0.13f, 1.0f);
    c[ImGuiCol_ChildBg] = ImVec4(0.0f, 0.0f, 0.0f, 0.0f);
    c[ImGuiCol_PopupBg] = ImVec4(0.14f, 0.14f, 0.17f, 0.98f);
    c[ImGuiCol_TitleBg] = ImVec4(0.16f, 0.17f, 0.21f, 1.0f);
    c[ImGuiCol_TitleBgActive] = ImVec4(0.20f, 0.26f, 0.40f, 1.0f);
    c[ImGuiCol_Border] = ImVec4(0.35f, 0.36f, 0.42f, 0.8f);
  } else {
    ImGui::StyleColorsLight(&s);
    common_sizes(s);
    s.WindowBorderSize = 1.5f;
    s.FrameBorderSize = 1.0f;
    s.PopupBorderSize = 1.5f;
    ImVec4* c = s.Colors;
    const ImVec4 black(0, 0, 0, 1), white(1, 1, 1, 1);
    c[ImGuiCol_Text] = black;
    c[ImGuiCol_TextDisabled] = ImVec4(0.30f, 0.30f, 0.30f, 1.0f);
    c[ImGuiCol_WindowBg] = white;
    c[ImGuiCol_ChildBg] = ImVec4(0, 0, 0, 0);
    c[ImGuiCol_PopupBg] = white;
    c[ImGuiCol_MenuBarBg] = ImVec4(0.90f, 0.90f, 0.90f, 1.0f);
    c[ImGuiCol_Border] = black;
    c[ImGuiCol_FrameBg] = ImVec4(0.94f, 0.94f, 0.94f, 1.0f);
    c[ImGuiCol_FrameBgHovered] = ImVec4(0.85f, 0.90f, 1.0f, 1.0f);
    c[ImGuiCol_FrameBgActive] = ImVec4(0.75f, 0.85f, 1.0f, 1.0f);
    c[ImGuiCol_TitleBg] = ImVec4(0.82f, 0.82f, 0.82f, 1.0f);
    c[ImGuiCol_TitleBgActive] = ImVec4(0.10f, 0.25f, 0.60f, 1.0f);
    c[ImGuiCol_Button] = ImVec4(0.88f, 0.88f, 0.88f, 1.0f);
    c[ImGuiCol_ButtonHovered] = ImVec4(0.75f, 0.85f, 1.0f, 1.0f);
    c[ImGuiCol_ButtonActive] = ImVec4(0.55f, 0.72f, 1.0f, 1.0f);
    c[ImGuiCol_Header] = ImVec4(0.80f, 0.87f, 1.0f, 1.0f);
    c[ImGuiCol_HeaderHovered] = ImVec4(0.70f, 0.80f, 1.0f, 1.0f);
    c[ImGuiCol_HeaderActive] = ImVec4(0.60f, 0.74f, 1.0f, 1.0f);
    c[ImGuiCol_CheckMark] = black;
    // A light grab: the slider's value is written over it in black.
    c[ImGuiCol_SliderGrab] = ImVec4(0.55f, 0.70f, 0.95f, 1.0f);
    c[ImGuiCol_SliderGrabActive] = ImVec4(0.40f, 0.58f, 0.92f, 1.0f);
    c[ImGuiCol_Separator] = ImVec4(0.25f, 0.25f, 0.25f, 1.0f);
    c[ImGuiCol_TableHeaderBg] = ImVec4(0.86f, 0.86f, 0.86f, 1.0f);
    c[ImGuiCol_TableBorderStrong] = black;
    c[ImGuiCol_TableBorderLight] = ImVec4(0.45f, 0.45f, 0.45f, 1.0f);
    c[ImGuiCol_ScrollbarBg] = ImVec4(0.92f, 0.92f, 0.92f, 1.0f);
    c[ImGuiCol_ScrollbarGrab] = ImVec4(0.45f, 0.45f, 0.45f, 1.0f);
    c[ImGuiCol_PlotHistogram] = ImVec4(0.10f, 0.25f, 0.60f, 1.0f);
    c[ImGuiCol_PlotLines] = ImVec4(0.10f, 0.25f, 0.60f, 1.0f);
  }
  s.ScaleAllSizes(scale);
  ImGui::GetStyle() = s;
  return palette(t);
}

}  // namespace gs::app
