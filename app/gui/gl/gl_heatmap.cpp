#include "gl_heatmap.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace gs::gl {

namespace {

constexpr int kMaxSide = 512;        // cells per side after pooling
constexpr int kTargetPixels = 1024;  // framebuffer texture side we aim for
constexpr uint64_t kKeepFrames = 240;

// Pixels per cell in the colour texture: enough for the −∞ hatching and cell borders to read.
int cell_pixels(int rows, int cols) {
  return std::clamp(kTargetPixels / std::max({rows, cols, 1}), 1, 16);
}

// The colour scale of a grid: sequential min … max, diverging ±max|x| (finite entries).
void scale_of(const app::TensorStats& s, app::ColorMode mode, double& lo, double& hi) {
  if (mode == app::ColorMode::diverging) {
    hi = s.absmax;
    lo = -hi;
  } else {
    lo = s.min;
    hi = s.max;
  }
}

}  // namespace

HeatmapRenderer::HeatmapRenderer(const std::string& shader_dir) {
  program_ = Program::from_files(shader_dir, "heatmap", error_);
  if (!program_) return;
  vao_ = VertexArray::create();
  u_data_ = program_.uniform("u_data");
  u_grid_ = program_.uniform("u_grid");
  u_mode_ = program_.uniform("u_mode");
  u_lo_ = program_.uniform("u_lo");
  u_hi_ = program_.uniform("u_hi");
  u_cell_ = program_.uniform("u_cell");
  u_boost_ = program_.uniform("u_boost");
}

HeatmapRenderer::~HeatmapRenderer() = default;

void HeatmapRenderer::draw(Entry& e, const app::DisplayGrid& g, int cell_px, bool boost) {
  if (!program_ || g.rows == 0 || g.cols == 0) return;
  e.data = Texture::r32f(g.cols, g.rows, g.values.data());
  ++uploads_;
  const int w = g.cols * cell_px, h = g.rows * cell_px;
  e.colour = Texture::rgba8(w, h);
  std::string err;
  e.fbo = Framebuffer::onto(e.colour, err);
  if (!e.fbo) {
    error_ = err;
    return;
  }
  GLint prev_fbo = 0, prev_vp[4] = {0, 0, 0, 0}, prev_prog = 0, prev_vao = 0, prev_tex = 0, prev_active = 0;
  GetIntegerv(GL_FRAMEBUFFER_BINDING, &prev_fbo);
  GetIntegerv(GL_VIEWPORT, prev_vp);
  GetIntegerv(GL_CURRENT_PROGRAM, &prev_prog);
  GetIntegerv(GL_VERTEX_ARRAY_BINDING, &prev_vao);
  GetIntegerv(GL_ACTIVE_TEXTURE, &prev_active);
  ActiveTexture(GL_TEXTURE0);
  GetIntegerv(GL_TEXTURE_BINDING_2D, &prev_tex);

  BindFramebuffer(GL_FRAMEBUFFER, e.fbo.id());
  Viewport(0, 0, w, h);
  Disable(GL_SCISSOR_TEST);
  Disable(GL_BLEND);
  Disable(GL_DEPTH_TEST);
  UseProgram(program_.id());
  BindTexture(GL_TEXTURE_2D, e.data.id());
  Uniform1i(u_data_, 0);
  Uniform2i(u_grid_, g.cols, g.rows);
  Uniform1i(u_mode_, e.map.mode == app::ColorMode::diverging ? 1 : 0);
  Uniform1f(u_lo_, static_cast<float>(e.map.lo));
  Uniform1f(u_hi_, static_cast<float>(e.map.hi));
  Uniform1f(u_cell_, static_cast<float>(cell_px));
  Uniform1i(u_boost_, boost ? 1 : 0);
  BindVertexArray(vao_.id());
  DrawArrays(GL_TRIANGLES, 0, 3);

  BindVertexArray(static_cast<GLuint>(prev_vao));
  BindTexture(GL_TEXTURE_2D, static_cast<GLuint>(prev_tex));
  ActiveTexture(static_cast<GLenum>(prev_active));
  UseProgram(static_cast<GLuint>(prev_prog));
  BindFramebuffer(GL_FRAMEBUFFER, static_cast<GLuint>(prev_fbo));
  Viewport(prev_vp[0], prev_vp[1], prev_vp[2], prev_vp[3]);
  e.data = Texture();  // the colour texture is all the views need
  e.fbo = Framebuffer();
  e.map.texture = e.colour.imgui_id();
}

const app::Heatmap& HeatmapRenderer::get(const app::TensorRef& t, app::ColorMode mode, uint64_t version, double range) {
  const bool boost = boost_ && mode == app::ColorMode::diverging;
  if (mode != app::ColorMode::diverging || !(range > 0) || !std::isfinite(range)) range = 0;
  Key key{t.data, t.shape, version, t.transposed, static_cast<int>(mode), boost, range};
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    it->second.last_used = frame_;
    return it->second.map;
  }
  Entry& e = cache_[key];
  e.last_used = frame_;
  e.map.mode = mode;
  e.map.stats = app::compute_stats(t);
  scale_of(e.map.stats, mode, e.map.lo, e.map.hi);
  if (range > 0) {
    e.map.lo = -range;
    e.map.hi = range;
    e.map.shared = true;
  }
  app::DisplayGrid g = app::reduce_for_display(t, kMaxSide);
  draw(e, g, cell_pixels(g.rows, g.cols), boost);
  g.values.clear();
  g.values.shrink_to_fit();
  e.map.grid = std::move(g);
  return e.map;
}

const app::Heatmap& HeatmapRenderer::legend(app::ColorMode mode) {
  const bool boost = boost_ && mode == app::ColorMode::diverging;
  const int i = (mode == app::ColorMode::diverging ? 1 : 0) * 2 + (boost ? 1 : 0);
  Entry& e = legends_[i];
  if (!legends_ready_[i]) {
    legends_ready_[i] = true;
    app::DisplayGrid g;
    g.rows = 1;
    g.cols = 256;
    g.src_rows = 1;
    g.src_cols = 256;
    g.values.resize(256);
    for (int c = 0; c < 256; ++c) g.values[c] = mode == app::ColorMode::diverging ? -1.0f + 2.0f * c / 255.0f : c / 255.0f;
    e.map.mode = mode;
    e.map.lo = mode == app::ColorMode::diverging ? -1 : 0;
    e.map.hi = 1;
    draw(e, g, 1, boost);
    --uploads_;  // legends are drawn once and do not count as tensor uploads
    g.values.clear();
    e.map.grid = std::move(g);
  }
  return e.map;
}

namespace {
// ImGui's backend binds each command's texture again after a callback.
void set_font_filter(const ImDrawList*, const ImDrawCmd* cmd) {
  set_filter(static_cast<GLuint>(reinterpret_cast<intptr_t>(ImGui::GetIO().Fonts->TexID)), cmd->UserCallbackData);
}
}  // namespace

ImDrawCallback HeatmapRenderer::font_filter() const { return set_font_filter; }

void HeatmapRenderer::end_frame() {
  ++frame_;
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (frame_ - it->second.last_used > kKeepFrames)
      it = cache_.erase(it);
    else
      ++it;
  }
}

}  // namespace gs::gl
