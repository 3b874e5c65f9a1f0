#pragma once
// The one exception type the engine throws for bad input (flags, configs, token ids, files).
// Its message is a single line that names what is wrong; callers print it and exit non-zero.
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

namespace gs {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Text from a file or a flag, as a message may quote it: control characters (ESC, NUL, a newline, C1's CSI …)
// written as \xNN or \uNNNN so they never reach a terminal raw, and cut after `max` bytes (at a character's
// start) with "…", so a name of 100,000 characters gives a short line.
inline std::string printable(std::string_view s, size_t max = 80) {
  std::string out;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    const unsigned char ch = static_cast<unsigned char>(s[i]);
    if (out.size() >= max && (ch & 0xC0) != 0x80) break;
    if (ch < 0x20 || ch == 0x7F) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02X", ch);
      out += b;
    } else if (ch == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9F) {  // U+0080 … U+009F: C1 controls (CSI …)
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04X", static_cast<unsigned char>(s[++i]));
      out += b;
    } else {
      out += static_cast<char>(ch);
    }
  }
  if (i < s.size()) out += "…";
  return out;
}

}  // namespace gs
