#pragma once
// A checkpoint browser inside a panel (Dear ImGui has no native file dialog): the folder's path
// with an "up" button, then its folders and checkpoint files (*.safetensors, *.bin) in a list.
// A click on a folder goes into it, a click on a file chooses it (fills the path box), a double
// click chooses it and confirms (load or save). The listing itself is dir_listing.h.
#include <string>

#include "dir_listing.h"
#include "panel.h"

namespace gs::app {

class FileBrowser {
 public:
  enum class Event { none, chosen, confirmed };
  // Draws the browser, the list `height` pixels tall; `path` is the path box it fills in.
  Event draw(PanelContext& ctx, std::string& path, float height);
  void go(const std::string& dir);  // into that folder (read again)
  bool started() const { return !list_.dir.empty(); }

 private:
  DirListing list_;
};

}  // namespace gs::app
