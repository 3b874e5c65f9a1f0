#include "fonts.h"

#include <imgui.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gradscope/gradcheck.h"
#include "gradscope/ops.h"

namespace gs::app {

namespace {

std::string font_dir() {
  const char* env = std::getenv("GRADSCOPE_FONTS");
  return env && *env ? env : "/usr/share/fonts/truetype/dejavu";
}

// Built once: ImGui keeps a pointer to the ranges for the atlas' lifetime.
const ImWchar* glyph_ranges() {
  static ImVector<ImWchar> ranges;
  if (ranges.empty()) {
    ImFontGlyphRangesBuilder b;
    b.AddRanges(ImGui::GetIO().Fonts->GetGlyphRangesDefault());  // Basic Latin + Latin-1
    static const ImWchar extra[] = {
        0x0300, 0x036F,  // combining marks: x̂
        0x0370, 0x03FF,  // Greek: α β γ ε μ σ Σ π δ
        0x1D00, 0x1DBF,  // phonetic extensions: ᵀ
        0x2000, 0x206F,  // general punctuation: – — … ‖
        0x2070, 0x209F,  // super- and subscripts
        0x2100, 0x214F,  // letterlike: ℓ
        0x2190, 0x21FF,  // arrows: → ← ↵
        0x2200, 0x22FF,  // mathematical operators: ∂ Σ √ ∞ − ≤ ⊙
        0x2300, 0x23FF,  // misc technical: ⏮ ⏭
        0x2400, 0x243F,  // control pictures: ␣
        0x25A0, 0x25FF,  // geometric shapes: ▶ ◀ ■ ●
        0x2600, 0x269C,  // misc symbols: ⚑
        0x2700, 0x27BF,  // dingbats: ✓ ✗
        0x0100, 0x024F,  // Latin Extended-A and -B: GPT-2 tokens of European text
        0xFFFD, 0xFFFD,  // replacement character: a GPT-2 token holding half a UTF-8 sequence
        0,
    };
    b.AddRanges(extra);
    for (int t = 0; t < kNumOpTypes; ++t) {
      b.AddText(kOpTypeInfo[t].forward);
      b.AddText(kOpTypeInfo[t].local);
      b.AddText(kOpTypeInfo[t].backward);
    }
    for (int m = 0; m < kNumMistakes; ++m) {
      b.AddText(kMistakeInfo[m].name);
      b.AddText(kMistakeInfo[m].description);
    }
    for (CheckKind k : {CheckKind::entries, CheckKind::direction, CheckKind::local}) b.AddText(info(k).what);
    b.AddText(glyph_text());
    b.BuildRanges(&ranges);
  }
  return ranges.Data;
}

ImFont* add(ImFontAtlas* atlas, const std::string& file, float px, std::string& error, bool merge = false) {
  const std::string path = font_dir() + "/" + file;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (error.empty()) error = "font " + path + " not found (install fonts-dejavu-core); using ImGui's built-in font";
    return nullptr;
  }
  ImFontConfig cfg;
  // Glyphs snapped to whole pixels and rasterised at the size they are drawn at: the atlas maps
  // one texel to one pixel, so it can be sampled nearest (gl::set_filter), which a software
  // renderer does in a quarter of the texel reads. Oversampling would buy nothing here.
  cfg.OversampleH = 1;
  cfg.OversampleV = 1;
  cfg.PixelSnapH = true;
  cfg.MergeMode = merge;  // merged: only the glyphs the previous font lacks are taken
  return atlas->AddFontFromFileTTF(path.c_str(), px, &cfg, glyph_ranges());
}

}  // namespace

const char* glyph_text() {
  return "∂ᵀ⊙Σ√εσμγβαℓ−×≤≥→←↵␣·…✓✗▶◀■●∞δπ′″ʹ⁻¹²³ᵢⱼ‖x̂ŷ⚠↻↑▸⟨⟩⁴";
}

void build_fonts(Fonts& f, float scale) {
  ImFontAtlas* atlas = ImGui::GetIO().Fonts;
  atlas->Clear();
  atlas->Flags |= ImFontAtlasFlags_NoBakedLines;  // anti-aliased lines as geometry: nearest sampling stays exact
  f.error.clear();
  const float px = Fonts::kBasePx * scale;
  f.ui = add(atlas, "DejaVuSans.ttf", px, f.error);
  f.mono = add(atlas, "DejaVuSansMono.ttf", px, f.error);
  // The mono face lacks a few maths glyphs (ℓ …): take those from DejaVu Sans.
  if (f.mono) add(atlas, "DejaVuSans.ttf", px, f.error, true);
  f.big = add(atlas, "DejaVuSans-Bold.ttf", px * 1.45f, f.error);
  if (!f.ui) {
    ImFontConfig cfg;
    cfg.SizePixels = 13.0f * scale;
    f.ui = atlas->AddFontDefault(&cfg);
  }
  if (!f.mono) f.mono = f.ui;
  if (!f.big) f.big = f.ui;
  atlas->Build();
  ImGui::GetIO().FontDefault = f.ui;
  f.scale = scale;
}

}  // namespace gs::app
