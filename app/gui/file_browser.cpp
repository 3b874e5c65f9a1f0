#include "file_browser.h"

#include <imgui.h>

#include <filesystem>

#include "widgets.h"

namespace gs::app {

void FileBrowser::go(const std::string& dir) { list_ = list_checkpoint_dir(dir); }

FileBrowser::Event FileBrowser::draw(PanelContext& ctx, std::string& path, float height) {
  Event ev = Event::none;
  ImGui::PushID(this);
  if (ImGui::SmallButton("↑ up")) go(parent_dir(list_.dir));
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("the folder above");
  ImGui::SameLine();
  if (ImGui::SmallButton("↻")) go(list_.dir);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("read the folder again");
  ImGui::SameLine();
  ImGui::PushFont(ctx.fonts.mono);
  // The end of a long path is the part that tells folders apart.
  std::string shown = list_.dir;
  const float room = ImGui::GetContentRegionAvail().x;
  for (size_t k = 1; k < list_.dir.size() && ImGui::CalcTextSize(shown.c_str()).x > room; ++k)
    shown = "…" + list_.dir.substr(k);
  ImGui::TextUnformatted(shown.c_str());
  ImGui::PopFont();
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", list_.dir.c_str());

  ImGui::BeginChild("files", ImVec2(0, height), true);
  if (!list_.error.empty()) colored_text(ctx.palette.bad, "%s", list_.error.c_str());
  const std::string chosen = std::filesystem::path(path).lexically_normal().string();
  std::string go_to;
  if (ImGui::Selectable("▸ ..", false, ImGuiSelectableFlags_AllowDoubleClick)) go_to = parent_dir(list_.dir);
  ImGuiListClipper clip;
  clip.Begin(static_cast<int>(list_.entries.size()));
  while (clip.Step()) {
    for (int i = clip.DisplayStart; i < clip.DisplayEnd; ++i) {
      const DirEntry& e = list_.entries[i];
      const std::string full = (std::filesystem::path(list_.dir) / e.name).string();
      ImGui::PushID(i);
      if (e.is_dir) {
        if (ImGui::Selectable(("▸ " + e.name + "/").c_str(), false, ImGuiSelectableFlags_AllowDoubleClick))
          go_to = full;
      } else {
        const bool sel = full == chosen;
        if (ImGui::Selectable(("  " + e.name).c_str(), sel, ImGuiSelectableFlags_AllowDoubleClick)) {
          path = full;
          ev = ImGui::IsMouseDoubleClicked(0) ? Event::confirmed : Event::chosen;
        }
        ImGui::SameLine(ImGui::GetWindowContentRegionMax().x - ImGui::CalcTextSize("000.0 MB").x);
        ImGui::TextDisabled("%s", size_str(e.size).c_str());
      }
      ImGui::PopID();
    }
  }
  if (list_.entries.empty() && list_.error.empty()) ImGui::TextDisabled("no folders or checkpoint files here");
  ImGui::EndChild();
  if (!go_to.empty()) go(go_to);
  ImGui::PopID();
  return ev;
}

}  // namespace gs::app
