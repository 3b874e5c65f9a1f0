#pragma once
// Move-only owners of GL objects (textures, framebuffers, vertex arrays, shader programs), the
// shader files, and the few frame-level GL calls the app makes. GL corner only.
#include <string>
#include <utility>

#include "gl_api.h"

namespace gs::gl {

// A GL name deleted by Del when its owner goes.
template <void (*Del)(GLuint)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(GLuint id) : id_(id) {}
  ~Handle() { reset(); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, 0)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, 0);
    }
    return *this;
  }
  GLuint id() const { return id_; }
  explicit operator bool() const { return id_ != 0; }
  void reset() {
    if (id_) Del(id_);
    id_ = 0;
  }

 private:
  GLuint id_ = 0;
};

void delete_texture(GLuint id);
void delete_framebuffer(GLuint id);
void delete_vertex_array(GLuint id);
void delete_program(GLuint id);

class Texture {
 public:
  Texture() = default;
  // One float channel (GL_R32F), read with texelFetch: the tensor values themselves.
  static Texture r32f(int w, int h, const float* data);
  // 8-bit colour, a render target.
  static Texture rgba8(int w, int h);
  GLuint id() const { return h_.id(); }
  int width() const { return w_; }
  int height() const { return hgt_; }
  explicit operator bool() const { return static_cast<bool>(h_); }
  void* imgui_id() const { return reinterpret_cast<void*>(static_cast<intptr_t>(h_.id())); }

 private:
  // A w×h texture clamped at its edges, bound to GL_TEXTURE_2D (the caller fills and unbinds it).
  static Texture make(int w, int h, GLint min_filter);
  Handle<delete_texture> h_;
  int w_ = 0, hgt_ = 0;
};

class Framebuffer {
 public:
  Framebuffer() = default;
  // A framebuffer drawing into `colour`; empty (and `error` set) if incomplete.
  static Framebuffer onto(const Texture& colour, std::string& error);
  GLuint id() const { return h_.id(); }
  explicit operator bool() const { return static_cast<bool>(h_); }

 private:
  Handle<delete_framebuffer> h_;
};

class VertexArray {
 public:
  static VertexArray create();
  GLuint id() const { return h_.id(); }

 private:
  Handle<delete_vertex_array> h_;
};

class Program {
 public:
  Program() = default;
  // Compiles and links <dir>/<name>.vert and <dir>/<name>.frag; on failure returns an empty
  // program and one line in `error` naming the file and the first compiler message.
  static Program from_files(const std::string& dir, const std::string& name, std::string& error);
  GLuint id() const { return h_.id(); }
  explicit operator bool() const { return static_cast<bool>(h_); }
  GLint uniform(const char* name) const { return GetUniformLocation(h_.id(), name); }

 private:
  Handle<delete_program> h_;
};

// Where shader sources are read from: $GRADSCOPE_SHADERS, else gs::shaders_dir() (datadir.h).
std::string shaders_dir();

// Frame-level calls of the main loop.
void begin_frame(int w, int h, float r, float g, float b);
// How `texture` is sampled: smooth (bilinear) or nearest. ImGui's font atlas is sampled nearest
// (rasterised at the size it is drawn at, its glyphs look the same, and a software renderer
// such as llvmpipe reads one texel per pixel instead of four); text drawn scaled wants smooth.
void set_filter(unsigned texture, bool smooth);
// Reads the back buffer (w×h) and writes it as a PNG, top row first. False + `error` on failure.
bool save_png(const std::string& path, int w, int h, std::string& error);
std::string renderer_name();  // "llvmpipe (LLVM 15.0.6, 256 bits)"

}  // namespace gs::gl
