#pragma once
// Where gradscope's data lives: the lessons, the default model, the corpus, the shaders.
//
// Installed (cmake --install, the Debian package), the binaries sit in PREFIX/bin and their data in
// PREFIX/share/gradscope, found from the binary's own path, so an installed tree can be moved or
// unpacked anywhere. Run from the build tree's bin/, they read the source tree's assets/ and
// shaders/, as they always have. GRADSCOPE_ASSETS and GRADSCOPE_SHADERS override both.
#include <string>

namespace gs {

// What the choice is made from, so that the rule can be tested without moving binaries around.
struct DataDirFacts {
  std::string env;          // $GRADSCOPE_ASSETS (or $GRADSCOPE_SHADERS); "" = unset
  std::string exe;          // this executable's path (/proc/self/exe); "" = unknown
  std::string build_bin;    // the build tree's bin/ this binary was linked into
  std::string source_dir;   // the source tree's assets/ (or shaders/)
  std::string installed;    // the folder under PREFIX: "share/gradscope" (or "share/gradscope/shaders")
};

// The rule: the environment variable if set; the source tree if the executable is in the build
// tree's bin/ (or its path is unknown); else PREFIX/<installed>, PREFIX being the folder above
// the executable's bin/. An installed binary never looks at the source tree, whether or not it
// still exists, so a package that works here works on a machine that never built it.
std::string resolve_data_dir(const DataDirFacts& f);

// The answers for this process.
std::string data_dir();     // the assets: lessons/, tiny.safetensors, corpus.txt
std::string shaders_dir();  // the GLSL files of the heatmaps

// A teacher's own lessons: $XDG_DATA_HOME/gradscope/lessons, else ~/.local/share/gradscope/lessons
// (XDG Base Directory rules: an unset, empty or relative XDG_DATA_HOME is ignored). "" when
// neither XDG_DATA_HOME nor HOME says where. The folder may not exist.
std::string user_lessons_dir(const char* xdg_data_home, const char* home);
std::string user_lessons_dir();

// A file of the user's settings: $XDG_CONFIG_HOME/gradscope/NAME, else ~/.config/gradscope/NAME
// (the folder is made if missing). "" when there is nowhere to keep it.
std::string user_config_file(const std::string& name);

}  // namespace gs
