#include "gradscope/memory.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include "gradscope/error.h"

namespace gs {

namespace {

// cgroup v2: the tightest memory.max from this process's group up to the root ("max": none).
double cgroup_limit() {
  std::ifstream self("/proc/self/cgroup");
  std::string line, group;
  while (std::getline(self, line))
    if (line.rfind("0::", 0) == 0) group = line.substr(3);
  if (group.empty()) return 0;
  double best = 0;
  for (;;) {
    std::ifstream f("/sys/fs/cgroup" + group + "/memory.max");
    std::string v;
    if (f >> v && v != "max") {
      char* end = nullptr;
      const double x = std::strtod(v.c_str(), &end);
      if (end && *end == 0 && x > 0) best = best > 0 ? std::min(best, x) : x;
    }
    if (group.empty() || group == "/") break;
    const size_t slash = group.find_last_of('/');
    group = slash == std::string::npos || slash == 0 ? std::string("/") : group.substr(0, slash);
  }
  return best;
}

}  // namespace

double memory_limit_bytes() {
  double limit = 0;
  auto take = [&](double x) {
    if (x > 0) limit = limit > 0 ? std::min(limit, x) : x;
  };
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) take(double(pages) * double(page));
  take(cgroup_limit());
  rlimit rl{};
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) take(double(rl.rlim_cur));
  return limit;
}

std::string human_bytes(double b) {
  char s[48];
  if (b >= 1024.0 * 1024 * 1024 * 1024 * 1024)
    snprintf(s, sizeof s, "%.3g PiB", b / (1024.0 * 1024 * 1024 * 1024 * 1024));
  else if (b >= 1024.0 * 1024 * 1024 * 1024)
    snprintf(s, sizeof s, "%.1f TiB", b / (1024.0 * 1024 * 1024 * 1024));
  else if (b >= 1024.0 * 1024 * 1024)
    snprintf(s, sizeof s, "%.1f GiB", b / (1024.0 * 1024 * 1024));
  else if (b >= 1024.0 * 1024)
    snprintf(s, sizeof s, "%.1f MiB", b / (1024.0 * 1024));
  else if (b >= 1024.0)
    snprintf(s, sizeof s, "%.1f KiB", b / 1024.0);
  else
    snprintf(s, sizeof s, "%.0f bytes", b);
  return s;
}

void check_memory(double need, const std::string& what) {
  const double limit = memory_limit_bytes();
  if (limit > 0 && !(need <= 0.8 * limit))
    throw Error(what + " needs about " + human_bytes(need) + ", more than the " + human_bytes(0.8 * limit) +
                " (80% of " + human_bytes(limit) + ") this machine allows");
}

}  // namespace gs
