#pragma once
// The heatmap renderer: uploads a tensor (pooled to ≤ 512×512) as a GL_R32F texture once per
// change, colours it with shaders/heatmap.{vert,frag} into a framebuffer texture, and keeps the
// result until the tensor changes or it goes unused for a while. GL corner only.
#include <map>
#include <memory>
#include <tuple>

#include "gl_objects.h"
#include "heatmap.h"

namespace gs::gl {

class HeatmapRenderer final : public app::HeatmapProvider {
 public:
  // Needs a current GL 3.3 context. On a missing or broken shader, error() says so and get()
  // returns heatmaps without a texture (the views still show shapes and numbers).
  explicit HeatmapRenderer(const std::string& shader_dir);
  ~HeatmapRenderer() override;

  const app::Heatmap& get(const app::TensorRef& t, app::ColorMode mode, uint64_t version, double range) override;
  using app::HeatmapProvider::get;
  const app::Heatmap& legend(app::ColorMode mode) override;
  const std::string& error() const override { return error_; }
  ImDrawCallback font_filter() const override;
  void set_boost(bool on) override { boost_ = on; }

  // Call once per frame after drawing: forgets heatmaps not shown for a few seconds.
  void end_frame();
  size_t cached() const { return cache_.size(); }
  int64_t uploads() const { return uploads_; }  // total texture uploads (stays flat when idle)

 private:
  using Key = std::tuple<const void*, std::vector<int64_t>, uint64_t, bool, int, bool, double>;
  struct Entry {
    app::Heatmap map;
    Texture data, colour;
    Framebuffer fbo;
    uint64_t last_used = 0;
  };
  void draw(Entry& e, const app::DisplayGrid& g, int cell_px, bool boost);

  Program program_;
  VertexArray vao_;
  GLint u_data_ = -1, u_grid_ = -1, u_mode_ = -1, u_lo_ = -1, u_hi_ = -1, u_cell_ = -1, u_boost_ = -1;
  std::string error_;
  std::map<Key, Entry> cache_;
  Entry legends_[4];  // [mode][boost]
  bool legends_ready_[4] = {false, false, false, false};
  bool boost_ = false;
  uint64_t frame_ = 0;
  int64_t uploads_ = 0;
};

}  // namespace gs::gl
