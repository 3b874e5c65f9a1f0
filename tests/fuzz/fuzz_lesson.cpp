// libFuzzer: lesson files (TOML, checked key by key, the model built and every step's action
// run within a lesson's limits). Any input either loads or throws gs::Error with one line that
// starts with the file's name and holds no raw control character; nothing crashes or hangs.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "gradscope/error.h"
#include "gradscope/lesson.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const gs::Lesson l = gs::parse_lesson(text, "fuzz.toml");
    if (l.steps.empty() || l.steps.size() > gs::LessonLimits::kSteps) std::abort();
    for (const gs::LessonStep& s : l.steps)
      if (s.text.size() > gs::LessonLimits::kText) std::abort();
  } catch (const gs::Error& e) {
    const std::string msg = e.what();
    if (msg.rfind("fuzz.toml", 0) != 0) std::abort();
    for (char ch : msg)
      if (static_cast<unsigned char>(ch) < 0x20) std::abort();
  }
  return 0;
}
