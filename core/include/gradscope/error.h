#pragma once
// The one exception type the engine throws for bad input (flags, configs, token ids, files).
// Its message is a single line that names what is wrong; callers print it and exit non-zero.
#include <stdexcept>
#include <string>

namespace gs {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace gs
