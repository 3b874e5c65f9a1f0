#include "gl_objects.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <stb_image_write.h>

#include "gradscope/datadir.h"
#include "gradscope/error.h"
#include "gradscope/fileio.h"

namespace gs::gl {

void delete_texture(GLuint id) { DeleteTextures(1, &id); }
void delete_framebuffer(GLuint id) { DeleteFramebuffers(1, &id); }
void delete_vertex_array(GLuint id) { DeleteVertexArrays(1, &id); }
void delete_program(GLuint id) { DeleteProgram(id); }

// [SECTION] textures, framebuffers, vertex arrays

Texture Texture::make(int w, int h, GLint min_filter) {
  GLuint id = 0;
  GenTextures(1, &id);
  Texture t;
  t.h_ = Handle<delete_texture>(id);
  t.w_ = w;
  t.hgt_ = h;
  BindTexture(GL_TEXTURE_2D, id);
  TexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, min_filter);
  TexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
  TexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  TexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  return t;
}

Texture Texture::r32f(int w, int h, const float* data) {
  Texture t = make(w, h, GL_NEAREST);
  PixelStorei(GL_UNPACK_ALIGNMENT, 4);
  PixelStorei(GL_UNPACK_ROW_LENGTH, 0);
  TexImage2D(GL_TEXTURE_2D, 0, GL_R32F, w, h, 0, GL_RED, GL_FLOAT, data);
  BindTexture(GL_TEXTURE_2D, 0);
  return t;
}

Texture Texture::rgba8(int w, int h) {
  Texture t = make(w, h, GL_LINEAR);
  TexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, w, h, 0, GL_RGBA, GL_UNSIGNED_BYTE, nullptr);
  BindTexture(GL_TEXTURE_2D, 0);
  return t;
}

Framebuffer Framebuffer::onto(const Texture& colour, std::string& error) {
  GLuint id = 0;
  GenFramebuffers(1, &id);
  Framebuffer f;
  f.h_ = Handle<delete_framebuffer>(id);
  BindFramebuffer(GL_FRAMEBUFFER, id);
  FramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, colour.id(), 0);
  const GLenum status = CheckFramebufferStatus(GL_FRAMEBUFFER);
  BindFramebuffer(GL_FRAMEBUFFER, 0);
  if (status != GL_FRAMEBUFFER_COMPLETE) {
    error = "heatmap framebuffer incomplete (status 0x" + [&] {
      char b[16];
      snprintf(b, sizeof b, "%x", status);
      return std::string(b);
    }() + ")";
    return {};
  }
  return f;
}

VertexArray VertexArray::create() {
  GLuint id = 0;
  GenVertexArrays(1, &id);
  VertexArray v;
  v.h_ = Handle<delete_vertex_array>(id);
  return v;
}

// [SECTION] shaders

std::string shaders_dir() { return gs::shaders_dir(); }

namespace {

bool read_file(const std::string& path, std::string& out, std::string& error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    error = "shader " + path + " is missing (" + std::strerror(errno) +
            "); set GRADSCOPE_SHADERS to gradscope's shaders/ folder";
    return false;
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return true;
}

std::string first_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0' || s.back() == ' ')) s.pop_back();
  const size_t nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

GLuint compile(GLenum kind, const std::string& path, std::string& error) {
  std::string src;
  if (!read_file(path, src, error)) return 0;
  const GLuint sh = CreateShader(kind);
  const char* p = src.c_str();
  ShaderSource(sh, 1, &p, nullptr);
  CompileShader(sh);
  GLint ok = 0;
  GetShaderiv(sh, GL_COMPILE_STATUS, &ok);
  if (!ok) {
    GLint len = 0;
    GetShaderiv(sh, GL_INFO_LOG_LENGTH, &len);
    std::string log(static_cast<size_t>(std::max(len, 1)), '\0');
    GetShaderInfoLog(sh, len, nullptr, log.data());
    error = "shader " + path + " failed to compile: " + first_line(log);
    DeleteShader(sh);
    return 0;
  }
  return sh;
}

}  // namespace

Program Program::from_files(const std::string& dir, const std::string& name, std::string& error) {
  const GLuint vs = compile(GL_VERTEX_SHADER, dir + "/" + name + ".vert", error);
  if (!vs) return {};
  const GLuint fs = compile(GL_FRAGMENT_SHADER, dir + "/" + name + ".frag", error);
  if (!fs) {
    DeleteShader(vs);
    return {};
  }
  Program p;
  p.h_ = Handle<delete_program>(CreateProgram());
  AttachShader(p.id(), vs);
  AttachShader(p.id(), fs);
  LinkProgram(p.id());
  DeleteShader(vs);
  DeleteShader(fs);
  GLint ok = 0;
  GetProgramiv(p.id(), GL_LINK_STATUS, &ok);
  if (!ok) {
    GLint len = 0;
    GetProgramiv(p.id(), GL_INFO_LOG_LENGTH, &len);
    std::string log(static_cast<size_t>(std::max(len, 1)), '\0');
    GetProgramInfoLog(p.id(), len, nullptr, log.data());
    error = "shader program " + dir + "/" + name + " failed to link: " + first_line(log);
    return {};
  }
  return p;
}

// [SECTION] frame

void begin_frame(int w, int h, float r, float g, float b) {
  BindFramebuffer(GL_FRAMEBUFFER, 0);
  Viewport(0, 0, w, h);
  ClearColor(r, g, b, 1.0f);
  Clear(GL_COLOR_BUFFER_BIT);
}

void set_filter(unsigned texture, bool smooth) {
  if (!texture) return;
  const GLint f = smooth ? GL_LINEAR : GL_NEAREST;
  BindTexture(GL_TEXTURE_2D, texture);
  TexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, f);
  TexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, f);
  BindTexture(GL_TEXTURE_2D, 0);
}

bool save_png(const std::string& path, int w, int h, std::string& error) {
  if (w <= 0 || h <= 0) {
    error = "the window has no pixels to capture";
    return false;
  }
  std::vector<unsigned char> px(static_cast<size_t>(w) * h * 3);
  Finish();
  BindFramebuffer(GL_FRAMEBUFFER, 0);
  ReadBuffer(GL_BACK);
  PixelStorei(GL_PACK_ALIGNMENT, 1);
  ReadPixels(0, 0, w, h, GL_RGB, GL_UNSIGNED_BYTE, px.data());
  if (GetError() != GL_NO_ERROR) {
    error = "glReadPixels failed";
    return false;
  }
  // GL's first row is the bottom one, PNG's the top one: flip. RGB only, so the PNG is opaque
  // whatever alpha ImGui's blending left in the back buffer.
  const size_t row = static_cast<size_t>(w) * 3;
  std::vector<unsigned char> flipped(px.size());
  for (int y = 0; y < h; ++y)
    std::memcpy(flipped.data() + static_cast<size_t>(y) * row, px.data() + static_cast<size_t>(h - 1 - y) * row, row);
  // Encoded in memory, then written whole or not at all (a regular file only, its mode kept).
  std::vector<unsigned char> png;
  auto append = [](void* ctx, void* data, int n) {
    auto* out = static_cast<std::vector<unsigned char>*>(ctx);
    out->insert(out->end(), static_cast<unsigned char*>(data), static_cast<unsigned char*>(data) + n);
  };
  if (!stbi_write_png_to_func(append, &png, w, h, 3, flipped.data(), static_cast<int>(row))) {
    error = "cannot encode the screenshot as PNG";
    return false;
  }
  try {
    gs::io::write_atomically(path, [&](gs::io::Sink& out) { out.write(png.data(), png.size()); });
  } catch (const gs::Error& e) {
    error = e.what();
    return false;
  }
  return true;
}

std::string renderer_name() {
  const GLubyte* s = GetString(GL_RENDERER);
  return s ? reinterpret_cast<const char*>(s) : "unknown renderer";
}

}  // namespace gs::gl
