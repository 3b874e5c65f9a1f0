#include "dir_listing.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace gs::app {

namespace fs = std::filesystem;

namespace {

std::string normal(const fs::path& p) {
  std::error_code ec;
  fs::path a = fs::absolute(p, ec);
  if (ec) a = p;
  std::string s = a.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

bool ends_with(const std::string& s, const char* e) {
  const std::string x(e);
  return s.size() > x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}

}  // namespace

bool is_checkpoint_file(const std::string& name) { return ends_with(name, ".safetensors") || ends_with(name, ".bin"); }

DirListing list_checkpoint_dir(const std::string& dir) {
  DirListing l;
  l.dir = normal(dir.empty() ? fs::path(".") : fs::path(dir));
  std::error_code ec;
  fs::directory_iterator it(l.dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    l.error = l.dir + ": " + ec.message();
    return l;
  }
  for (const fs::directory_entry& e : it) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    std::error_code ec2;
    if (e.is_directory(ec2)) {
      l.entries.push_back({name, true, 0});
    } else if (e.is_regular_file(ec2) && is_checkpoint_file(name)) {
      const uintmax_t sz = e.file_size(ec2);
      l.entries.push_back({name, false, ec2 ? 0 : sz});
    }
  }
  std::sort(l.entries.begin(), l.entries.end(), [](const DirEntry& a, const DirEntry& b) {
    if (a.is_dir != b.is_dir) return a.is_dir;
    return a.name < b.name;
  });
  return l;
}

std::string parent_dir(const std::string& dir) {
  const fs::path p(normal(dir));
  return p.has_parent_path() ? normal(p.parent_path()) : p.string();
}

std::string browse_start(const std::string& path, const std::string& fallback) {
  std::error_code ec;
  if (!path.empty()) {
    const fs::path p(path);
    if (fs::is_directory(p, ec)) return normal(p);
    const fs::path up = p.has_parent_path() ? p.parent_path() : fs::path(".");
    if (fs::is_directory(up, ec)) return normal(up);
  }
  if (!fallback.empty() && fs::is_directory(fallback, ec)) return normal(fallback);
  return normal(".");
}

std::string size_str(uintmax_t bytes) {
  char b[32];
  const double v = static_cast<double>(bytes);
  if (v >= 1e9) snprintf(b, sizeof b, "%.1f GB", v / 1e9);
  else if (v >= 1e6) snprintf(b, sizeof b, "%.1f MB", v / 1e6);
  else if (v >= 1e3) snprintf(b, sizeof b, "%.1f kB", v / 1e3);
  else snprintf(b, sizeof b, "%.0f B", v);
  return b;
}

}  // namespace gs::app
