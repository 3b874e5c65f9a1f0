// Model & input: preset, text (shown as token chips with their next-token targets), seed,
// full or LoRA fine-tuning, dtype, checkpoints. Every change asks for a rebuild; bad input
// leaves the current model in place and the status bar says what is wrong.
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>

#include "format.h"
#include "gradscope/config.h"
#include "panel.h"
#include "widgets.h"

namespace gs::app {

namespace {

constexpr LoraTarget kTargets[] = {LoraTarget::attn_c_attn, LoraTarget::attn_c_proj, LoraTarget::mlp_c_fc,
                                   LoraTarget::mlp_c_proj};

class ModelPanel final : public Panel {
 public:
  const char* title() const override { return "Model & input"; }
  bool left_column() const override { return true; }
  Rect home(const WorkArea& a) const override { return {a.x, a.y, layout::left_width(a), layout::model_height(a)}; }

  void draw(const Controller& c, PanelContext& ctx) override {
    if (!ImGui::Begin(title(), &open)) {
      ImGui::End();
      return;
    }
    sync(c);
    if (c.has_session()) tokens(c, ctx);
    ImGui::Separator();
    model(c, ctx);
    ImGui::Separator();
    training(c, ctx);
    checkpoint(ctx);
    if (c.has_session()) summary(c, ctx);
    ImGui::End();
  }

 private:
  // Take the controller's spec after every successful rebuild (bad input keeps the user's edit).
  void sync(const Controller& c) {
    if (c.spec_generation() == gen_) return;
    gen_ = c.spec_generation();
    edit_ = c.spec();
    text_ = edit_.text.value_or("");
    if (!edit_.checkpoint.empty()) path_ = edit_.checkpoint;
    if (c.has_session()) {
      const Config& cfg = c.session().config();
      if (cfg.lora()) {
        rank_ = cfg.lora_rank;
        alpha_ = cfg.lora_alpha;
        for (int i = 0; i < 4; ++i) targets_[i] = cfg.lora_on(kTargets[i]);
      }
    }
  }

  void rebuild(PanelContext& ctx) { ctx.requests.push(req::Rebuild{edit_}); }

  // [SECTION] tokens: x (inputs) over y (next-token targets)
  void tokens(const Controller& c, PanelContext& ctx) {
    const Batch& b = c.session().batch();
    const auto& tok = c.session().tokenizer();
    ImGui::TextUnformatted("input text");
    ImGui::SameLine();
    help_marker("The model reads x and must predict y, the next character, at every position. "
                "Enter applies; T positions use the first T+1 characters.");
    ImGui::SetNextItemWidth(-1);
    ImGui::BeginDisabled(!tok);
    const bool enter = ImGui::InputText("##text", &text_, ImGuiInputTextFlags_EnterReturnsTrue);
    if (enter || ImGui::IsItemDeactivatedAfterEdit()) {
      if (text_.empty())
        edit_.text.reset();
      else
        edit_.text = text_;
      edit_.tokens.reset();
      rebuild(ctx);
    }
    ImGui::EndDisabled();
    if (!tok) ImGui::TextDisabled("no character vocabulary (V=%d): seeded random tokens", c.session().config().vocab_size);

    const int rows = std::min(b.B, 2);
    for (int r = 0; r < rows; ++r) {
      ImGui::PushID(r);
      chip_row(ctx, "x", b, r, true, tok);
      chip_row(ctx, "y", b, r, false, tok);
      ImGui::PopID();
    }
    if (b.B > rows) ImGui::TextDisabled("… %d more batch rows", b.B - rows);
  }

  void chip_row(PanelContext& ctx, const char* what, const Batch& b, int r, bool inputs,
                const std::optional<CharTokenizer>& tok) {
    ImGui::PushID(what);
    ImGui::AlignTextToFramePadding();
    ImGui::PushFont(ctx.fonts.mono);
    colored_text(inputs ? ctx.palette.forward : ctx.palette.backward, "%s", what);
    ImGui::PopFont();
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip(inputs ? "x: the tokens the model reads" : "y: the next token it must predict (x shifted by one)");
    const float x0 = ImGui::GetCursorScreenPos().x;
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    if (!tok) {
      // BPE ids without a vocabulary to show: a compact list.
      std::string ids;
      const int shown = std::min(b.T, 24);
      for (int t = 0; t < shown; ++t) {
        if (t) ids += ' ';
        ids += std::to_string(inputs ? b.x[r * b.T + t] : b.y[r * b.T + t]);
      }
      if (b.T > shown) ids += " … (" + std::to_string(b.T - shown) + " more)";
      ImGui::SameLine();
      ImGui::PushFont(ctx.fonts.mono);
      ImGui::PushTextWrapPos(0);
      ImGui::TextUnformatted(ids.c_str());
      ImGui::PopTextWrapPos();
      ImGui::PopFont();
      ImGui::PopID();
      return;
    }
    const int shown = std::min(b.T, 32);
    for (int t = 0; t < shown; ++t) {
      const int id = inputs ? b.x[r * b.T + t] : b.y[r * b.T + t];
      const std::string glyph = token_glyph(tok->token(id));
      ImGui::SameLine(0, 4.0f * ctx.scale);
      // Wrap when the next chip would not fit.
      const float chip_w = ctx.fonts.ui->FontSize * 1.2f + 8.0f * ctx.scale;
      if (ImGui::GetCursorScreenPos().x + chip_w > right) {
        ImGui::NewLine();
        ImGui::SetCursorScreenPos(ImVec2(x0 + ImGui::GetFontSize() * 1.2f, ImGui::GetCursorScreenPos().y));
      }
      char id_s[16];
      snprintf(id_s, sizeof id_s, "##%d", t);
      token_chip(ctx, id_s, glyph, id);
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("%s[%d,%d] = %d  '%s'", what, r, t, id, glyph.c_str());
    }
    if (b.T > shown) {
      ImGui::SameLine();
      ImGui::TextDisabled("… %d more", b.T - shown);
    }
    ImGui::PopID();
  }

  // [SECTION] shape, seed, dtype
  void model(const Controller& c, PanelContext& ctx) {
    const char* presets[] = {"tiny", "small", "gpt2"};
    int p = edit_.preset == "small" ? 1 : edit_.preset == "gpt2" ? 2 : 0;
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
    if (ImGui::Combo("preset", &p, presets, 3)) {
      const Config pc = preset_config(presets[p]);
      edit_.preset = presets[p];
      edit_.checkpoint.clear();  // a checkpoint fixes the shape; a new preset starts from random init
      edit_.dtype = dtype_name(pc.dtype);
      edit_.seq = pc.seq_len;
      if (edit_.preset == "gpt2") {
        edit_.text.reset();  // 50257 BPE ids: no character vocabulary, seeded random tokens
      } else if (!edit_.text) {
        edit_.text = text_.empty() ? std::string(Controller::kDefaultText) : text_;
      }
      rebuild(ctx);
    }
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("tiny: L2 H2 C16, char vocab, T 8\nsmall: L4 H4 C128, T 64\ngpt2: the 124M shape (L12 H12 C768 V50257)");
    ImGui::SameLine();
    int T = edit_.seq.value_or(c.has_session() ? c.session().batch().T : 8);
    const int max_t = c.has_session() ? c.session().config().n_ctx : 1024;
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5);
    if (ImGui::InputInt("T", &T, 1, 4)) {
      edit_.seq = std::clamp(T, 1, max_t);
      rebuild(ctx);
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("sequence length: positions per row (1 … n_ctx = %d)", max_t);

    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
    uint64_t seed = edit_.seed.value_or(c.has_session() ? c.session().config().seed : 1337);
    if (ImGui::InputScalar("seed", ImGuiDataType_U64, &seed)) edit_.seed = seed;
    if (ImGui::IsItemDeactivatedAfterEdit()) rebuild(ctx);
    ImGui::SameLine();
    ImGui::TextUnformatted("  ");
    ImGui::SameLine();
    const bool f64 = edit_.dtype.value_or("f64") == "f64";
    if (ImGui::RadioButton("f32", !f64) && f64) {
      edit_.dtype = "f32";
      rebuild(ctx);
    }
    ImGui::SameLine();
    if (ImGui::RadioButton("f64", f64) && !f64) {
      edit_.dtype = "f64";
      rebuild(ctx);
    }
  }

  // [SECTION] full fine-tuning or LoRA
  void training(const Controller& c, PanelContext& ctx) {
    const bool lora = edit_.lora_rank.value_or(c.has_session() ? c.session().config().lora_rank : 0) > 0;
    if (ImGui::RadioButton("full fine-tuning", !lora) && lora) {
      edit_.lora_rank = 0;
      rebuild(ctx);
    }
    ImGui::SameLine();
    if (ImGui::RadioButton("LoRA", lora) && !lora) {
      set_lora();
      rebuild(ctx);
    }
    ImGui::SameLine();
    help_marker("LoRA: Y = X·W + b + (α/r)·(X·A)·B. Every base weight is frozen (no gradient computed or "
                "applied); only A and B train. B starts at 0, so dA = 0 at the first step.");
    if (!lora) return;
    ImGui::Indent();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
    ImGui::SliderInt("rank r", &rank_, 1, 16);
    bool changed = ImGui::IsItemDeactivatedAfterEdit();
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5);
    ImGui::InputDouble("α", &alpha_, 0, 0, "%.3g");
    changed |= ImGui::IsItemDeactivatedAfterEdit();
    for (int i = 0; i < 4; ++i) {
      if (i % 2) ImGui::SameLine(ImGui::GetFontSize() * 9);
      bool on = targets_[i];
      if (ImGui::Checkbox(lora_target_name(kTargets[i]), &on)) {
        targets_[i] = on;
        if (std::none_of(std::begin(targets_), std::end(targets_), [](bool b) { return b; })) targets_[i] = true;
        changed = true;
      }
    }
    ImGui::Unindent();
    if (changed) {
      set_lora();
      rebuild(ctx);
    }
  }

  void set_lora() {
    rank_ = std::clamp(rank_, 1, 64);
    if (!(alpha_ > 0)) alpha_ = rank_;
    edit_.lora_rank = rank_;
    edit_.lora_alpha = alpha_;
    std::string t;
    for (int i = 0; i < 4; ++i)
      if (targets_[i]) {
        if (!t.empty()) t += ',';
        t += lora_target_name(kTargets[i]);
      }
    edit_.lora_targets = t;
  }

  // [SECTION] checkpoints
  void checkpoint(PanelContext& ctx) {
    if (!ImGui::CollapsingHeader("checkpoint")) return;
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##path", "file.safetensors", &path_);
    if (ImGui::Button("load")) {
      edit_.checkpoint = path_;
      rebuild(ctx);
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("load weights (and shape) from the file");
    ImGui::SameLine();
    if (ImGui::Button("save")) ctx.requests.push(req::SaveCheckpoint{path_});
    ImGui::SameLine();
    if (ImGui::Button("random init")) {
      edit_.checkpoint.clear();
      rebuild(ctx);
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("GPT-2 initialisation from the seed (no checkpoint)");
  }

  void summary(const Controller& c, PanelContext& ctx) {
    const Config& cfg = c.session().config();
    const Batch& b = c.session().batch();
    const auto counts = c.session().visit([](const auto& s) {
      return std::pair<int64_t, int64_t>{s.model->n_params(), s.model->n_trainable()};
    });
    ImGui::PushFont(ctx.fonts.mono);
    ImGui::TextDisabled("L%d H%d C%d d%d V%d  B%d T%d  %s", cfg.n_layer, cfg.n_head, cfg.n_embd, cfg.head_size(),
                        cfg.vocab_size, b.B, b.T, dtype_name(cfg.dtype));
    ImGui::TextDisabled("params %s, trainable %s, %d ops", human(double(counts.first)).c_str(),
                        human(double(counts.second)).c_str(), c.n_ops());
    ImGui::PopFont();
  }

  uint64_t gen_ = ~uint64_t{0};
  ModelSpec edit_;
  std::string text_, path_ = "checkpoint.safetensors";
  int rank_ = 4;
  double alpha_ = 4;
  bool targets_[4] = {true, false, false, false};
};

}  // namespace

std::unique_ptr<Panel> make_model_panel() { return std::make_unique<ModelPanel>(); }

}  // namespace gs::app
