// Model & input: the program (GPT-2 or a lesson model). For GPT-2: preset, text (shown as token
// chips with their next-token targets), the tokenizer (char or GPT-2's BPE), seed, full or LoRA
// fine-tuning, dtype, checkpoints (a path box and a browser). For a lesson model: its sizes and
// every parameter and input as numbers to edit (each edit is a --set). For a model of one's own
// (a program that takes --model): its text in a box, applied with a button (not at every
// keystroke: a half-typed line is no model), worked examples to start from, and every leaf's
// value and whether it is data. Every change asks for a rebuild, which runs off the UI thread
// with its progress on screen; bad input leaves the current model in place and says what is
// wrong (a model's text: under the box, with its line and column).
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <functional>

#include "file_browser.h"
#include "format.h"
#include "gradscope/config.h"
#include "gradscope/error.h"
#include "gradscope/model_text.h"
#include "gradscope/program.h"
#include "gradscope/tokenizer.h"
#include "panel.h"
#include "typed_model.h"
#include "widgets.h"

namespace gs::app {

namespace {

constexpr LoraTarget kTargets[] = {LoraTarget::attn_c_attn, LoraTarget::attn_c_proj, LoraTarget::mlp_c_fc,
                                   LoraTarget::mlp_c_proj};

// A program's own flags say what it takes: the model as text, LoRA's rank (no name is tested).
bool takes_flag(const Program& p, const char* flag) {
  const std::vector<std::string> f = p.own_flags();
  return std::find(f.begin(), f.end(), flag) != f.end();
}
bool takes_text(const std::string& name) {
  for (const Program* p : programs())
    if (name == p->name()) return takes_flag(*p, "--model");
  return false;
}
bool is_gpt2(const std::string& name) {
  for (const Program* p : programs())
    if (name == p->name()) return p->is_gpt2();
  return false;
}

// Models of one's own to start from, each with a value for every leaf so that it builds as is.
struct Example {
  const char* title;
  const char* text;
  std::vector<const char*> sets;
  const char* inputs;  // "" : none
  const char* why;     // one line: what it shows
};

const std::vector<Example>& examples() {
  static const std::vector<Example> e = {
      {"circuit: f = (x + y)·z", "q = x + y\nf = q * z", {"x=-2", "y=5", "z=-4"}, "",
       "CS231n's circuit: add hands its gradient to both inputs unchanged, multiply swaps its inputs "
       "(∂f/∂x = ∂f/∂y = −4, ∂f/∂z = 3)"},
      {"sigmoid neuron", "f = sigmoid(w0*x0 + w1*x1 + w2)", {"w0=2", "w1=-3", "w2=-3", "x0=-1", "x1=-2"}, "x0,x1",
       "CS231n's neuron: f ≈ 0.73, ∂f/∂w = [−0.20, −0.39, 0.20], ∂f/∂x = [0.39, −0.59]"},
      {"sigmoid neuron, staged", "z = w0*x0 + w1*x1 + w2\nf = 1 / (1 + exp(-z))",
       {"w0=2", "w1=-3", "w2=-3", "x0=-1", "x1=-2"}, "x0,x1",
       "the same neuron with the sigmoid written out: more ops, the same gradients"},
      {"ReLU neuron", "h = relu(w0*x0 + w1*x1 + b)\nL = (h - t) ** 2",
       {"w0=0.5", "w1=-1", "b=0.5", "x0=2", "x1=0.5", "t=2"}, "x0,x1,t",
       "a ReLU neuron and its squared error; make w0·x0 + w1·x1 + b negative and it passes no gradient (a dead ReLU)"},
      {"tanh neuron", "n = x1*w1 + x2*w2 + b\no = tanh(n)",
       {"x1=2", "x2=0", "w1=-3", "w2=1", "b=6.8813735870195432"}, "x1,x2",
       "micrograd's neuron: o = tanh(n) ≈ 0.7071, and ∂o/∂n = 1 − o² = 0.5"},
      {"small MLP", "h = tanh(X @ W1 + b1)\ny = h @ W2 + b2\nL = mean((y - t) ** 2)",
       {"X=0,0;0,1;1,0;1,1", "W1=0.5,-0.4,0.3;-0.6,0.7,0.2", "b1=0.1,-0.1,0", "W2=0.8;-0.5;0.4", "b2=0.05",
        "t=0;1;1;0"},
       "X,t", "two layers on the four points of XOR: X and t are data, W1 b1 W2 b2 train"},
  };
  return e;
}

class ModelPanel final : public Panel {
 public:
  const char* title() const override { return "Model & input"; }
  bool left_column() const override { return true; }

  bool needs_model() const override { return false; }
  void contents(const Controller& c, PanelContext& ctx) override {
    sync(c);
    if (c.busy() && c.job().kind != JobKind::train) {
      // Where the rebuild was asked for: its progress (the model below stays until it is done).
      job_progress(c, ctx, std::min(ImGui::GetContentRegionAvail().x * 0.6f, ImGui::GetFontSize() * 12), true, true);
      ImGui::Separator();
    }
    program_choice(c, ctx);
    if (!is_gpt2(edit_.program)) {
      if (takes_text(edit_.program)) model_text(c, ctx);
      // The leaves of the model on screen, when it is the program chosen (a failed switch leaves
      // another program's model on screen).
      if (c.has_session() && !c.session().is_gpt2() && c.session().program() == edit_.program) lesson(c, ctx);
      return;
    }
    if (c.has_session()) tokens(c, ctx);
    ImGui::Separator();
    model(c, ctx);
    tokenizer(c, ctx);
    ImGui::Separator();
    training(c, ctx);
    checkpoint(ctx);
    if (c.has_session()) summary(c, ctx);
  }

 private:
  // Take the controller's spec after every successful rebuild (bad input keeps the user's edit).
  void sync(const Controller& c) {
    if (c.spec_generation() == gen_) return;
    gen_ = c.spec_generation();
    edit_ = c.spec();
    text_ = edit_.text.value_or("");
    if (c.has_session()) {
      // A model's text as built (from --model, a file, a lesson or the box): the box shows it. The
      // same text rebuilt (a leaf's value edited) leaves what is being typed in the box alone.
      const auto& st = c.session().config().settings;
      if (auto it = st.find("model"); it != st.end() && it->second != built_text_) {
        built_text_ = it->second;
        set_buffer(it->second);
      }
    }
    vocab_dir_ = edit_.vocab_dir;
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

  // [SECTION] the program: GPT-2 or a lesson model
  void program_choice(const Controller&, PanelContext& ctx) {
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted("program");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(-1);
    if (ImGui::BeginCombo("##program", edit_.program.c_str())) {
      for (const Program* p : programs()) {
        const bool here = edit_.program == p->name();
        if (ImGui::Selectable(p->name(), here) && !here) {
          const uint64_t seed = edit_.seed.value_or(ModelSpec{}.seed.value_or(1337));
          if (p->is_gpt2()) {
            // Back to the app's default: the tiny preset on its trained checkpoint.
            edit_ = Controller::default_spec();
            if (const std::string ck = asset_path(Controller::kDefaultCheckpoint); std::filesystem::exists(ck))
              edit_.checkpoint = ck;
          } else {
            edit_ = ModelSpec{};
            edit_.program = p->name();
            if (seed != 1337) edit_.seed = seed;
            if (takes_flag(*p, "--model")) use_example(examples()[0]);  // a model to start from
          }
          rebuild(ctx);
        }
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", p->description());
      }
      ImGui::EndCombo();
    }
    if (!is_gpt2(edit_.program)) {
      ImGui::PushTextWrapPos(0);
      ImGui::TextDisabled("%s", program(edit_.program).description());
      ImGui::PopTextWrapPos();
    }
    ImGui::Separator();
  }

  // [SECTION] a lesson model: sizes, then every parameter and input as numbers
  struct SlotView {
    std::string name, what, kind;  // kind: "parameter", "frozen", "input", "class ids"
    Shape shape;
    std::vector<double> values;
    bool integer = false;
    std::string text;  // a typed model's leaf: its values as a line of text, being edited
    uint64_t text_version = ~uint64_t{0};
  };

  void lesson(const Controller& c, PanelContext& ctx) {
    lit_ = [&c](const std::string& n) { return c.highlighted(n); };
    if (view_version_ != c.version()) {
      view_version_ = c.version();
      slots_.clear();
      const Config& cfg = c.session().config();
      std::vector<Slot> defs;
      try {
        defs = program_for(cfg)->slots(cfg);  // a model of one's own: the one made from its text
      } catch (const Error&) {
      }
      auto what = [&](const std::string& n) {
        for (const Slot& d : defs)
          if (d.name == n) return d.what;
        return std::string();
      };
      c.session().visit([&](const auto& s) {
        for (const auto& p : s.model->params())
          slots_.push_back({p.name, what(p.name), p.trainable ? "parameter" : "frozen", p.data.shape,
                            std::vector<double>(p.data.begin(), p.data.end()), false, "", ~uint64_t{0}});
        for (int id : s.tape->inputs()) {
          const auto& v = s.tape->value(id);
          slots_.push_back({v.name, what(v.name), v.integer ? "class ids" : "input", v.data.shape,
                            std::vector<double>(v.data.begin(), v.data.end()), v.integer, "", ~uint64_t{0}});
        }
      });
    }
    const Config& cfg = c.session().config();
    const Program& prog = program(cfg.program);
    // Sizes (a row of them, where the program has any).
    bool sized = false;
    const bool size_row = !prog.dims().empty() || takes_flag(prog, "--lora-rank");
    for (const DimInfo& d : prog.dims()) {
      ImGui::PushID(d.name.c_str());
      int v = static_cast<int>(cfg.dim(d.name));
      ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5.5f);
      if (ImGui::InputInt(d.name.c_str(), &v, 1, 1) && v >= 1 && v <= 16) {
        set_size(d.name, v);
        sized = true;
      }
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s (1 … 16 here; --set %s=N for more)", d.what.c_str(), d.name.c_str());
      ImGui::PopID();
      ImGui::SameLine();
    }
    if (takes_flag(prog, "--lora-rank")) {
      ImGui::NewLine();
      int r = cfg.lora_rank;
      ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5.5f);
      if (ImGui::InputInt("r", &r, 1, 1) && r >= 1 && r <= 8) {
        edit_.lora_rank = r;
        if (!edit_.lora_alpha) edit_.lora_alpha = cfg.lora_alpha;
        sized = true;
        drop_lists();
      }
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("LoRA's rank: A is m×r, B is r×p");
      ImGui::SameLine();
      double a = cfg.lora_alpha;
      ImGui::SetNextItemWidth(ImGui::GetFontSize() * 5.5f);
      ImGui::InputDouble("α", &a, 0, 0, "%.3g");
      if (ImGui::IsItemDeactivatedAfterEdit() && a > 0 && std::isfinite(a)) {
        edit_.lora_alpha = a;
        sized = true;
      }
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("the adapter's scale is α/r");
      ImGui::SameLine();
    }
    if (size_row) ImGui::NewLine();
    if (sized) {
      rebuild(ctx);
      return;
    }
    // A model of one's own has no default values to go back to, nor a seed: every value is typed.
    const bool typed = takes_flag(prog, "--model");
    if (typed)
      dtype_choice(c, ctx);
    else
      seed_and_dtype(c, ctx);
    ImGui::Separator();
    for (SlotView& sv : slots_) slot_editor(ctx, sv, typed);
    ImGui::Spacing();
    if (!typed) {
      if (ImGui::Button("reset values")) {
        edit_.sets.clear();
        rebuild(ctx);
      }
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("back to the program's default values (sizes too)");
      ImGui::SameLine();
    }
    ImGui::PushFont(ctx.fonts.mono);
    ImGui::TextDisabled("%d ops · loss %s", c.n_ops(), num(c.session().loss()).c_str());
    ImGui::PopFont();
  }

  void seed_and_dtype(const Controller& c, PanelContext& ctx) {
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
    uint64_t seed = edit_.seed.value_or(c.session().config().seed);
    if (ImGui::InputScalar("seed", ImGuiDataType_U64, &seed)) edit_.seed = seed;
    if (ImGui::IsItemDeactivatedAfterEdit()) rebuild(ctx);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("the seed of the values not set by hand");
    // f32/f64 beside the seed where they fit, else under it.
    const ImGuiStyle& st = ImGui::GetStyle();
    const float radios = 2 * (ImGui::GetFrameHeight() + st.ItemInnerSpacing.x + ImGui::CalcTextSize("f64").x) + 2 * st.ItemSpacing.x;
    if (ImGui::GetContentRegionAvail().x - ImGui::GetItemRectMax().x + ImGui::GetCursorScreenPos().x > radios) ImGui::SameLine();
    dtype_choice(c, ctx);
  }

  void dtype_choice(const Controller& c, PanelContext& ctx) {
    const bool f64 = c.session().config().dtype == DType::f64;
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

  // One parameter or input: its name, shape and kind, then its numbers (one box each). `typed`: a
  // leaf of a model of one's own, which may be made data and take values of another shape.
  void slot_editor(PanelContext& ctx, SlotView& sv, bool typed) {
    ImGui::PushID(sv.name.c_str());
    ImGui::PushFont(ctx.fonts.mono);
    colored_text(lit_(sv.name) ? ctx.palette.warn : sv.kind == "parameter" ? ctx.palette.forward : ctx.palette.dim,
                 "%s%s", lit_(sv.name) ? "▶ " : "", sv.name.c_str());
    ImGui::PopFont();
    ImGui::SameLine();
    if (typed) {
      bool data = sv.kind != "parameter";
      if (ImGui::Checkbox("data", &data)) {
        edit_ = with_input(edit_, sv.name, data);
        rebuild(ctx);
      }
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("data (an input): its gradient is shown, training never changes it; otherwise a parameter");
      ImGui::SameLine();
    }
    ImGui::PushTextWrapPos(0);  // a narrow panel (large text): the words wrap, not cut
    ImGui::TextDisabled("%s %s", sv.kind.c_str(), sv.shape.empty() ? "(a number)" : shape_str(sv.shape).c_str());
    ImGui::PopTextWrapPos();
    if (!sv.what.empty() && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", sv.what.c_str());
    const int64_t n = static_cast<int64_t>(sv.values.size());
    if (n > 64) {
      ImGui::TextDisabled("%lld entries: set them with --set %s=…", static_cast<long long>(n), sv.name.c_str());
      ImGui::PopID();
      return;
    }
    const int64_t cols = sv.shape.empty() ? 1 : sv.shape.back();
    const float w = std::max(ImGui::GetFontSize() * 3.2f,
                             (ImGui::GetContentRegionAvail().x - (cols - 1) * ImGui::GetStyle().ItemSpacing.x) / cols);
    bool edited = false;
    for (int64_t i = 0; i < n; ++i) {
      if (i % cols) ImGui::SameLine();
      ImGui::PushID(static_cast<int>(i));
      ImGui::SetNextItemWidth(std::min(w, ImGui::GetFontSize() * (sv.shape.empty() ? 8.0f : 6.0f)));
      double v = sv.values[i];
      ImGui::InputDouble("##v", &v, 0, 0, sv.integer ? "%.0f" : "%.6g");
      if (ImGui::IsItemDeactivatedAfterEdit() && std::isfinite(v) && v != sv.values[i]) {
        sv.values[i] = v;
        edited = true;
      }
      ImGui::PopID();
    }
    if (edited) {
      set_item(sv.name, sv.name + "=" + values_text(sv.values, sv.shape, true));
      ctx.requests.push(req::Rebuild{edit_});
    }
    if (typed) value_text_box(ctx, sv);
    ImGui::PopID();
  }

  // The values as one line of text, to give a leaf another shape: "1,2;3,4" is a 2×2 matrix.
  void value_text_box(PanelContext& ctx, SlotView& sv) {
    if (sv.text_version != view_version_) {
      sv.text_version = view_version_;
      sv.text = values_text(sv.values, sv.shape, false);
    }
    ImGui::SetNextItemWidth(-1);
    ImGui::PushFont(ctx.fonts.mono);
    const bool enter = ImGui::InputTextWithHint("##text", "1,2;3,4", &sv.text, ImGuiInputTextFlags_EnterReturnsTrue);
    ImGui::PopFont();
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("all of %s at once, to give it another shape: a number, a list (a vector), or rows separated "
                        "by ';' (a matrix). Enter applies.", sv.name.c_str());
    if (enter || ImGui::IsItemDeactivatedAfterEdit()) {
      if (sv.text != values_text(sv.values, sv.shape, false)) {
        set_item(sv.name, sv.name + "=" + sv.text);
        rebuild(ctx);
      }
    }
  }

  // [SECTION] a model of one's own: its text, worked examples, Apply, and what is wrong with it

  void model_text(const Controller& c, PanelContext& ctx) {
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted("model");
    ImGui::SameLine();
    help_marker("One assignment per line, NAME = EXPRESSION, with + − * / @ (matrix product) ** and unary minus, "
                "numbers, parentheses and the functions relu tanh sigmoid exp log gelu abs max sum mean softmax "
                "log_softmax. A name used before a line assigns it is a leaf: its value is set below (a new leaf "
                "starts at 1). The last line is the loss and must be one number. Apply (or Ctrl+Enter) rebuilds "
                "the tape; while the text is wrong, the model on screen stays.");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(-1);
    if (ImGui::BeginCombo("##examples", "start from an example")) {
      for (const Example& e : examples()) {
        if (ImGui::Selectable(e.title)) {
          use_example(e);
          rebuild(ctx);
        }
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", e.why);
      }
      ImGui::EndCombo();
    }
    // As tall as the text (at least four lines, at most twelve), the whole width.
    int lines = 1;
    for (const char* p = buf_.data(); *p; ++p) lines += *p == '\n';
    const float h = ImGui::GetTextLineHeight() * static_cast<float>(std::clamp(lines + 1, 4, 12)) +
                    2 * ImGui::GetStyle().FramePadding.y;
    ImGui::PushFont(ctx.fonts.mono);
    const bool ctrl_enter = ImGui::InputTextMultiline("##model", buf_.data(), buf_.size(), ImVec2(-1, h),
                                                      ImGuiInputTextFlags_EnterReturnsTrue);
    ImGui::PopFont();
    const bool edited = std::string_view(buf_.data()) != applied_;
    if (ImGui::Button("Apply") || ctrl_enter) apply_text(ctx);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("read the text and rebuild the tape (Ctrl+Enter in the box)");
    ImGui::SameLine();
    if (c.busy() && c.job().kind == JobKind::build)
      ImGui::TextDisabled("building …");
    else if (edited)
      colored_text(ctx.palette.warn, "edited: Apply to rebuild");
    else
      ImGui::TextDisabled("%d leaves, %d ops", static_cast<int>(slots_.size()), c.n_ops());
    text_error(c, ctx);
    ImGui::Separator();
  }

  // What the last rebuild found wrong, under the box: where, the line with a mark under the place,
  // and what. The model on screen is still the one before.
  void text_error(const Controller& c, PanelContext& ctx) {
    const std::optional<BuildError>& e = c.build_error();
    if (!e || e->program != edit_.program) return;
    ImGui::PushTextWrapPos(0);
    if (e->line > 0) {
      colored_text(ctx.palette.bad, "line %d, column %d:", e->line, e->col);
      // The line as it was tried, with a mark under the column (characters, from 1).
      const std::string src = line_of(e->text, e->line);
      if (!src.empty()) {
        ImGui::PushFont(ctx.fonts.mono);
        ImGui::TextUnformatted(src.c_str());
        std::string mark;
        int col = 1;
        for (size_t i = 0; i < src.size() && col < e->col; ++i)
          if ((static_cast<unsigned char>(src[i]) & 0xC0) != 0x80) {
            mark += src[i] == '\t' ? '\t' : ' ';
            ++col;
          }
        colored_text(ctx.palette.bad, "%s^", mark.c_str());
        ImGui::PopFont();
      }
    }
    colored_text(ctx.palette.bad, "%s", e->message.c_str());
    ImGui::TextDisabled("the model on screen is the one before");
    ImGui::PopTextWrapPos();
  }

  static std::string line_of(const std::string& text, int line) {
    size_t a = 0;
    for (int l = 1; l < line; ++l) {
      a = text.find('\n', a);
      if (a == std::string::npos) return "";
      ++a;
    }
    const size_t b = text.find('\n', a);
    std::string s = text.substr(a, b == std::string::npos ? std::string::npos : b - a);
    if (!s.empty() && s.back() == '\r') s.pop_back();
    return s.size() > 400 ? s.substr(0, 400) : s;
  }

  void use_example(const Example& e) {
    edit_.model_text = e.text;
    edit_.model_file.reset();
    edit_.sets.assign(e.sets.begin(), e.sets.end());
    if (*e.inputs)
      edit_.inputs = e.inputs;
    else
      edit_.inputs.reset();
    set_buffer(e.text);
  }

  // The text in the box as the model (typed_model.h): the rebuild says what is wrong, if anything.
  void apply_text(PanelContext& ctx) {
    edit_ = with_model_text(edit_, std::string(buf_.data()));
    rebuild(ctx);
  }

  void set_buffer(const std::string& text) {
    const std::string t = one_assignment_a_line(text);
    const size_t n = std::min(t.size(), buf_.size() - 1);
    std::copy_n(t.data(), n, buf_.data());
    buf_[n] = 0;
    applied_.assign(buf_.data(), n);
  }

  // The --set of `name`, replaced.
  void set_item(const std::string& name, const std::string& item) {
    std::erase_if(edit_.sets, [&](const std::string& x) { return set_name(x) == name; });
    edit_.sets.push_back(item);
  }
  // A new size: the lists of values set by hand no longer fit; single values still do.
  void set_size(const std::string& name, int v) {
    drop_lists();
    set_item(name, name + "=" + std::to_string(v));
  }
  void drop_lists() {
    std::erase_if(edit_.sets, [](const std::string& x) { return x.find(',') != std::string::npos; });
  }

  // [SECTION] tokens: x (inputs) over y (next-token targets)
  void tokens(const Controller& c, PanelContext& ctx) {
    const AnySession& s = c.session();
    const Batch& b = s.batch();
    const bool vocab = s.has_vocab(), bpe = s.has_bpe();
    ImGui::TextUnformatted("input text");
    ImGui::SameLine();
    help_marker(bpe ? "GPT-2's byte-level BPE cuts the text into tokens; a space belongs to the word after it (␣model). "
                      "The model reads x and must predict y, the next token, at every position. Enter applies; "
                      "T positions use the first T+1 tokens."
                    : "The model reads x and must predict y, the next character, at every position. "
                      "Enter applies; T positions use the first T+1 characters.");
    ImGui::SetNextItemWidth(-1);
    ImGui::BeginDisabled(!vocab);
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
    if (!vocab) {
      ImGui::PushTextWrapPos(0);
      ImGui::TextDisabled("no vocabulary for text (V=%d): seeded random tokens; the gpt2 tokenizer reads text",
                          c.session().config().vocab_size);
      ImGui::PopTextWrapPos();
    }

    const int rows = std::min(b.B, 2);
    for (int r = 0; r < rows; ++r) {
      ImGui::PushID(r);
      chip_row(ctx, s, "x", b, r, true);
      chip_row(ctx, s, "y", b, r, false);
      ImGui::PopID();
    }
    if (b.B > rows) ImGui::TextDisabled("… %d more batch rows", b.B - rows);
  }

  void chip_row(PanelContext& ctx, const AnySession& s, const char* what, const Batch& b, int r, bool inputs) {
    ImGui::PushID(what);
    ImGui::AlignTextToFramePadding();
    ImGui::PushFont(ctx.fonts.mono);
    colored_text(inputs ? ctx.palette.forward : ctx.palette.backward, "%s", what);
    ImGui::PopFont();
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip(inputs ? "x: the tokens the model reads" : "y: the next token it must predict (x shifted by one)");
    const float x0 = ImGui::GetCursorScreenPos().x;
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    if (!s.has_vocab()) {
      // Ids without a vocabulary to show: a compact list.
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
      const std::string glyph = token_glyph(s.token_text(id));
      ImGui::SameLine(0, 4.0f * ctx.scale);
      // Wrap when the next chip would not fit (a GPT-2 token is a whole word wide).
      const float chip_w = token_chip_size(ctx, glyph, id).x;
      const float at = ImGui::GetCursorScreenPos().x;
      if (at + chip_w > right && at > x0 + ImGui::GetFontSize() * 1.3f) {
        ImGui::NewLine();
        ImGui::SetCursorScreenPos(ImVec2(x0 + ImGui::GetFontSize() * 1.2f, ImGui::GetCursorScreenPos().y));
      }
      char id_s[16];
      snprintf(id_s, sizeof id_s, "##%d", t);
      token_chip(ctx, id_s, glyph, id);
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s[%d,%d] = %d  '%s'", what, r, t, id, glyph.c_str());
    }
    if (b.T > shown) {
      ImGui::SameLine();
      ImGui::TextDisabled("… %d more", b.T - shown);
    }
    ImGui::PopID();
  }

  // [SECTION] shape, seed, dtype
  void model(const Controller& c, PanelContext& ctx) {
    // A checkpoint other than the default fixes the shape: the combo says "checkpoint" then, and
    // picking a preset leaves the file for a random init of that preset.
    const char* presets[] = {"tiny", "small", "gpt2", "checkpoint"};
    const bool from_file = c.from_checkpoint();
    int p = from_file ? 3 : edit_.preset == "small" ? 1 : edit_.preset == "gpt2" ? 2 : 0;
    const int was = p;
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
    if (ImGui::Combo("preset", &p, presets, from_file ? 4 : 3) && p != was && p < 3) {
      const Config pc = preset_config(presets[p]);
      edit_.preset = presets[p];
      edit_.checkpoint.clear();  // a checkpoint fixes the shape; a new preset starts from random init
      edit_.dtype = dtype_name(pc.dtype);
      // tiny reads the first T+1 = 9 tokens of the text; the bigger presets all of it (their own
      // T would need a longer text).
      if (edit_.preset == "tiny") edit_.seq = pc.seq_len;
      else edit_.seq.reset();
      if (edit_.preset == "gpt2" && edit_.tokenizer.value_or("") != "gpt2") {
        edit_.text.reset();  // 50257 ids and no character vocabulary: seeded random tokens
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
    const bool f64 = edit_.dtype ? *edit_.dtype == "f64" : c.has_session() && c.session().config().dtype == DType::f64;
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

  // [SECTION] tokenizer: characters, or GPT-2's byte-level BPE
  void tokenizer(const Controller& c, PanelContext& ctx) {
    const bool gpt2 = edit_.tokenizer ? *edit_.tokenizer == "gpt2" : c.has_session() && c.session().has_bpe();
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted("tokenizer");
    ImGui::SameLine();
    if (ImGui::RadioButton("char", !gpt2) && gpt2) {
      if (edit_.preset == "gpt2" && edit_.checkpoint.empty()) {
        edit_.tokenizer.reset();  // the gpt2 shape has no character vocabulary: seeded random tokens
        edit_.text.reset();
      } else {
        edit_.tokenizer = "char";
      }
      rebuild(ctx);
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("one token per character of the corpus (tiny and small presets)");
    ImGui::SameLine();
    if (ImGui::RadioButton("gpt2", gpt2) && !gpt2) {
      edit_.tokenizer = "gpt2";
      edit_.vocab_dir = vocab_dir_;
      if (!edit_.text) edit_.text = text_.empty() ? std::string(Controller::kDefaultText) : text_;
      rebuild(ctx);
    }
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("GPT-2's byte-level BPE (50257 tokens): V becomes 50257, a token is often a whole word");
    if (!gpt2) return;
    // Where its vocabulary is read from, and whether it is there.
    const std::string def = default_gpt2_vocab_dir();
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##vocab", def.c_str(), &vocab_dir_);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("the folder with encoder.json and vocab.bpe (empty: %s)", def.c_str());
    if (ImGui::IsItemDeactivatedAfterEdit()) {
      edit_.vocab_dir = vocab_dir_;
      vocab_checked_.clear();
      rebuild(ctx);
    }
    const std::string dir = vocab_dir_.empty() ? def : vocab_dir_;
    if (dir != vocab_checked_ || ++vocab_age_ > 120) {  // a look at the disk every couple of seconds
      vocab_checked_ = dir;
      vocab_age_ = 0;
      vocab_here_ = gpt2_vocab_present(dir);
    }
    ImGui::PushTextWrapPos(0);
    if (vocab_here_)
      ImGui::TextDisabled("vocabulary: %s", dir.c_str());
    else
      colored_text(ctx.palette.bad, "GPT-2's vocabulary is not in %s — run scripts/fetch-gpt2-vocab to fetch it",
                   dir.c_str());
    ImGui::PopTextWrapPos();
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

  // [SECTION] checkpoints: a path box and a browser; loading and saving run off the UI thread
  void checkpoint(PanelContext& ctx) {
    if (!ImGui::CollapsingHeader("checkpoint")) return;
    ImGui::SetNextItemWidth(-1);
    if (ImGui::InputTextWithHint("##path", "file.safetensors or llm.c's .bin", &path_, ImGuiInputTextFlags_EnterReturnsTrue))
      load(ctx);
    if (ImGui::Button("load")) load(ctx);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("weights (and shape) from the file: gradscope's or Hugging Face's .safetensors, llm.c's .bin");
    ImGui::SameLine();
    if (ImGui::Button("save")) ctx.requests.push(req::SaveCheckpoint{path_});
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("every parameter to this file (.safetensors), written whole or not at all");
    ImGui::SameLine();
    if (ImGui::Button("random init")) {
      edit_.checkpoint.clear();
      rebuild(ctx);
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("GPT-2 initialisation from the seed (no checkpoint)");
    ImGui::SameLine();
    ImGui::Checkbox("browse", &browse_);
    if (!browse_) return;
    if (!browser_.started()) browser_.go(browse_start(path_, asset_path("")));
    const FileBrowser::Event ev = browser_.draw(ctx, path_, ImGui::GetTextLineHeightWithSpacing() * 7.5f);
    if (ev == FileBrowser::Event::confirmed) load(ctx);
    ImGui::TextDisabled("click a file to choose it, double-click to load it");
  }

  void load(PanelContext& ctx) {
    edit_.checkpoint = path_;
    edit_.dtype.reset();  // the file's own precision (F64: f64, else f32) until f32/f64 is picked
    rebuild(ctx);
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
    // Where the weights come from, plainly: only the tiny preset ships trained ones.
    ImGui::PushTextWrapPos(0);
    if (c.session().is_gpt2() && c.spec().checkpoint.empty() && c.optimizer_steps() == 0)
      colored_text(ctx.palette.warn, "random weights (seed %llu): untrained, so its predictions are near chance. Only "
                                     "the tiny preset comes trained (assets/tiny.safetensors); train this one in the "
                                     "Training panel or load a checkpoint.",
                   static_cast<unsigned long long>(cfg.seed));
    else
      ImGui::TextDisabled("weights: %s", c.weights_source().c_str());
    ImGui::PopTextWrapPos();
  }

  uint64_t gen_ = ~uint64_t{0};
  uint64_t view_version_ = ~uint64_t{0};
  std::function<bool(const std::string&)> lit_ = [](const std::string&) { return false; };
  std::vector<SlotView> slots_;
  ModelSpec edit_;
  // A model's text: the box (bounded as the parser is), the text of the model on screen as the box
  // shows it, and as it was built.
  std::array<char, ModelTextLimits::kMaxChars + 1> buf_{};
  std::string applied_, built_text_;
  std::string text_, path_ = "checkpoint.safetensors", vocab_dir_;
  std::string vocab_checked_;
  int vocab_age_ = 0;
  bool vocab_here_ = false;
  bool browse_ = false;
  FileBrowser browser_;
  int rank_ = 4;
  double alpha_ = 4;
  bool targets_[4] = {true, false, false, false};
};

}  // namespace

std::unique_ptr<Panel> make_model_panel() { return std::make_unique<ModelPanel>(); }

}  // namespace gs::app
