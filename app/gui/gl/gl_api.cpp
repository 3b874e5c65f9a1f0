#include "gl_api.h"

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>

namespace gs::gl {

#define GS_GL_DEFINE(name, type) type name = nullptr;
GS_GL_FUNCTIONS(GS_GL_DEFINE)
#undef GS_GL_DEFINE

bool load(std::string& error) {
#define GS_GL_LOAD(name, type)                                                  \
  name = reinterpret_cast<type>(glfwGetProcAddress("gl" #name));                \
  if (!name) {                                                                  \
    error = "OpenGL function gl" #name " is not available (needs OpenGL 3.3)"; \
    return false;                                                               \
  }
  GS_GL_FUNCTIONS(GS_GL_LOAD)
#undef GS_GL_LOAD
  return true;
}

}  // namespace gs::gl
