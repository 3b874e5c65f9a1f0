#include "gradscope/datadir.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace gs {

namespace fs = std::filesystem;

namespace {

// Two folder names for the same folder? Compared after resolving symlinks and "..", so a build
// tree reached through a symlink still counts as the build tree.
bool same_dir(const fs::path& a, const fs::path& b) {
  std::error_code ec1, ec2;
  const fs::path ca = fs::weakly_canonical(a, ec1), cb = fs::weakly_canonical(b, ec2);
  if (ec1 || ec2) return a.lexically_normal() == b.lexically_normal();
  return ca == cb;
}

std::string exe_path() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

std::string resolve_data_dir(const DataDirFacts& f) {
  if (!f.env.empty()) return f.env;
  if (f.exe.empty()) return f.source_dir;
  const fs::path bin = fs::path(f.exe).parent_path();
  if (same_dir(bin, f.build_bin)) return f.source_dir;
  return (bin.parent_path() / f.installed).lexically_normal().string();
}

// The environment is read on every call (tests and the app may set it while running); the
// executable's place is looked up once.
std::string data_dir() {
  static const std::string found =
      resolve_data_dir({"", exe_path(), GRADSCOPE_BUILD_BIN, GRADSCOPE_SOURCE_ASSETS, "share/gradscope"});
  const std::string e = env("GRADSCOPE_ASSETS");
  return e.empty() ? found : e;
}

std::string shaders_dir() {
  static const std::string found =
      resolve_data_dir({"", exe_path(), GRADSCOPE_BUILD_BIN, GRADSCOPE_SOURCE_SHADERS, "share/gradscope/shaders"});
  const std::string e = env("GRADSCOPE_SHADERS");
  return e.empty() ? found : e;
}

std::string user_lessons_dir(const char* xdg_data_home, const char* home) {
  if (xdg_data_home && fs::path(xdg_data_home).is_absolute())
    return (fs::path(xdg_data_home) / "gradscope" / "lessons").string();
  if (home && *home) return (fs::path(home) / ".local" / "share" / "gradscope" / "lessons").string();
  return "";
}

std::string user_lessons_dir() { return user_lessons_dir(std::getenv("XDG_DATA_HOME"), std::getenv("HOME")); }

std::string user_config_file(const std::string& name) {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  const char* home = std::getenv("HOME");
  fs::path dir;
  if (xdg && fs::path(xdg).is_absolute()) dir = fs::path(xdg) / "gradscope";
  else if (home && *home) dir = fs::path(home) / ".config" / "gradscope";
  else return "";
  std::error_code ec;
  fs::create_directories(dir, ec);
  return ec ? std::string() : (dir / name).string();
}

}  // namespace gs
