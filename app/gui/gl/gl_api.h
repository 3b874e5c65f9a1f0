#pragma once
// The OpenGL 3.3 core entry points gradscope's own drawing uses, loaded at run time through
// GLFW (ImGui's backend loads its own). Only the gl_*.cpp files include this: all GL lives
// in that corner.
#include <GL/glcorearb.h>

#include <string>

namespace gs::gl {

// X(name, PFN type): gl::name is the function glname.
#define GS_GL_FUNCTIONS(X)                                           \
  X(GetError, PFNGLGETERRORPROC)                                     \
  X(GetIntegerv, PFNGLGETINTEGERVPROC)                               \
  X(GetString, PFNGLGETSTRINGPROC)                                   \
  X(Viewport, PFNGLVIEWPORTPROC)                                     \
  X(ClearColor, PFNGLCLEARCOLORPROC)                                 \
  X(Clear, PFNGLCLEARPROC)                                           \
  X(Disable, PFNGLDISABLEPROC)                                       \
  X(Enable, PFNGLENABLEPROC)                                         \
  X(PixelStorei, PFNGLPIXELSTOREIPROC)                               \
  X(ReadBuffer, PFNGLREADBUFFERPROC)                                 \
  X(ReadPixels, PFNGLREADPIXELSPROC)                                 \
  X(Finish, PFNGLFINISHPROC)                                         \
  X(GenTextures, PFNGLGENTEXTURESPROC)                               \
  X(DeleteTextures, PFNGLDELETETEXTURESPROC)                         \
  X(BindTexture, PFNGLBINDTEXTUREPROC)                               \
  X(ActiveTexture, PFNGLACTIVETEXTUREPROC)                           \
  X(TexImage2D, PFNGLTEXIMAGE2DPROC)                                 \
  X(TexParameteri, PFNGLTEXPARAMETERIPROC)                           \
  X(CreateShader, PFNGLCREATESHADERPROC)                             \
  X(DeleteShader, PFNGLDELETESHADERPROC)                             \
  X(ShaderSource, PFNGLSHADERSOURCEPROC)                             \
  X(CompileShader, PFNGLCOMPILESHADERPROC)                           \
  X(GetShaderiv, PFNGLGETSHADERIVPROC)                               \
  X(GetShaderInfoLog, PFNGLGETSHADERINFOLOGPROC)                     \
  X(CreateProgram, PFNGLCREATEPROGRAMPROC)                           \
  X(DeleteProgram, PFNGLDELETEPROGRAMPROC)                           \
  X(AttachShader, PFNGLATTACHSHADERPROC)                             \
  X(LinkProgram, PFNGLLINKPROGRAMPROC)                               \
  X(GetProgramiv, PFNGLGETPROGRAMIVPROC)                             \
  X(GetProgramInfoLog, PFNGLGETPROGRAMINFOLOGPROC)                   \
  X(UseProgram, PFNGLUSEPROGRAMPROC)                                 \
  X(GetUniformLocation, PFNGLGETUNIFORMLOCATIONPROC)                 \
  X(Uniform1i, PFNGLUNIFORM1IPROC)                                   \
  X(Uniform1f, PFNGLUNIFORM1FPROC)                                   \
  X(Uniform2i, PFNGLUNIFORM2IPROC)                                   \
  X(Uniform4f, PFNGLUNIFORM4FPROC)                                   \
  X(GenVertexArrays, PFNGLGENVERTEXARRAYSPROC)                       \
  X(DeleteVertexArrays, PFNGLDELETEVERTEXARRAYSPROC)                 \
  X(BindVertexArray, PFNGLBINDVERTEXARRAYPROC)                       \
  X(DrawArrays, PFNGLDRAWARRAYSPROC)                                 \
  X(GenFramebuffers, PFNGLGENFRAMEBUFFERSPROC)                       \
  X(DeleteFramebuffers, PFNGLDELETEFRAMEBUFFERSPROC)                 \
  X(BindFramebuffer, PFNGLBINDFRAMEBUFFERPROC)                       \
  X(FramebufferTexture2D, PFNGLFRAMEBUFFERTEXTURE2DPROC)             \
  X(CheckFramebufferStatus, PFNGLCHECKFRAMEBUFFERSTATUSPROC)

#define GS_GL_DECLARE(name, type) extern type name;
GS_GL_FUNCTIONS(GS_GL_DECLARE)
#undef GS_GL_DECLARE

// Loads every entry point of the current context; on failure returns false and names the
// first missing function in `error`.
bool load(std::string& error);

}  // namespace gs::gl
