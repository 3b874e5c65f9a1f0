#pragma once
// What the checkpoint browser lists (no ImGui): a directory's folders and the checkpoint files
// gradscope reads (*.safetensors, llm.c's *.bin), folders first, each sorted by name. Dear ImGui
// has no native file dialog; the Model & input panel draws this one (file_browser.h).
#include <cstdint>
#include <string>
#include <vector>

namespace gs::app {

struct DirEntry {
  std::string name;    // file or folder name, no path
  bool is_dir = false;
  uintmax_t size = 0;  // bytes (files)
};

struct DirListing {
  std::string dir;     // absolute, normalised
  std::vector<DirEntry> entries;
  std::string error;   // one line ("" when the directory could be read)
};

// Hidden entries (".name") are left out; so are files of other types. Never throws.
DirListing list_checkpoint_dir(const std::string& dir);
bool is_checkpoint_file(const std::string& name);
// The folder above `dir` ("/" stays "/").
std::string parent_dir(const std::string& dir);
// Where the browser starts for a path box holding `path`: its folder when that exists, else
// `fallback` when it exists, else the working directory.
std::string browse_start(const std::string& path, const std::string& fallback);
// "12.3 MB"
std::string size_str(uintmax_t bytes);

}  // namespace gs::app
