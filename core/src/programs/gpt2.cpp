// GPT-2 as a program: its parameters (Hugging Face names, Conv1D layout, GPT-2's seeded
// initialisation), its forward pass op by op (docs/model.md), and the closed form of its
// backward FLOPs from "Backpropagating through GPT-2".
#include <cmath>

#include "program_base.h"

namespace gs::prog {

namespace {

class Gpt2 final : public ProgramOf<Gpt2> {
 public:
  const char* name() const override { return "gpt2"; }
  const char* description() const override {
    return "GPT-2: the presets tiny, small and the 124M shape, any shape, or a checkpoint; LoRA on any linear";
  }
  bool is_gpt2() const override { return true; }
  // The LoRA flags are GPT-2's (its shape flags are resolved apart, session.cpp).
  std::vector<std::string> own_flags() const override { return {"--lora-rank", "--lora-alpha"}; }
  std::vector<Slot> slots(const Config&) const override { return {}; }
  void validate(const Config& cfg) const override { cfg.validate(); }
  double estimated_bytes(const Config& cfg) const override { return cfg.estimated_bytes(); }

  template <class T>
  void declare_t(Model<T>& model) const {
    const Config& cfg = model.config();
    const int64_t C = cfg.n_embd, V = cfg.vocab_size, L = cfg.n_layer;
    const bool base = !cfg.lora();  // LoRA freezes every base parameter
    Rng rng(cfg.seed);
    std::string group;
    auto add = [&](const std::string& name, const Shape& s, std::string label, std::vector<std::string> axes) -> Param<T>& {
      Param<T>& p = model.add(name, s, base);
      p.group = group;
      p.label = std::move(label);
      p.axes = std::move(axes);
      return p;
    };
    auto normal = [&](const std::string& name, const Shape& s, double std, std::string label,
                      std::vector<std::string> axes) {
      for (auto& x : add(name, s, std::move(label), std::move(axes)).data) x = static_cast<T>(rng.normal(0.0, std));
    };
    auto constant = [&](const std::string& name, const Shape& s, double v, std::string label,
                        std::vector<std::string> axes) { add(name, s, std::move(label), std::move(axes)).data.fill(static_cast<T>(v)); };
    // GPT-2: N(0, 0.02) everywhere, residual projections scaled by 1/√(2L); LN γ = 1, β = 0.
    const double std_resid = 0.02 / std::sqrt(2.0 * L);
    group = "embeddings";
    normal("wte.weight", {V, C}, 0.02, "wte", {"V", "C"});
    normal("wpe.weight", {cfg.n_ctx, C}, 0.02, "wpe", {"n_ctx", "C"});
    for (int l = 0; l < L; ++l) {
      const std::string p = "h." + std::to_string(l) + ".";
      group = "block " + std::to_string(l);
      constant(p + "ln_1.weight", {C}, 1.0, "γ", {"C"});
      constant(p + "ln_1.bias", {C}, 0.0, "β", {"C"});
      normal(p + "attn.c_attn.weight", {C, 3 * C}, 0.02, "W", {"C", "3C"});
      constant(p + "attn.c_attn.bias", {3 * C}, 0.0, "b", {"3C"});
      normal(p + "attn.c_proj.weight", {C, C}, std_resid, "W", {"C", "C"});
      constant(p + "attn.c_proj.bias", {C}, 0.0, "b", {"C"});
      constant(p + "ln_2.weight", {C}, 1.0, "γ", {"C"});
      constant(p + "ln_2.bias", {C}, 0.0, "β", {"C"});
      normal(p + "mlp.c_fc.weight", {C, 4 * C}, 0.02, "W", {"C", "4C"});
      constant(p + "mlp.c_fc.bias", {4 * C}, 0.0, "b", {"4C"});
      normal(p + "mlp.c_proj.weight", {4 * C, C}, std_resid, "W", {"4C", "C"});
      constant(p + "mlp.c_proj.bias", {C}, 0.0, "b", {"C"});
    }
    group = "head and loss";
    constant("ln_f.weight", {C}, 1.0, "γ", {"C"});
    constant("ln_f.bias", {C}, 0.0, "β", {"C"});

    if (!cfg.lora()) return;
    // A ~ N(0, 1/in) so X·A keeps X's scale; B = 0 so the adapted model starts as the base one.
    // From a stream of their own, so turning LoRA on never changes a base weight.
    Rng lrng(cfg.seed ^ 0x4c6f5241ULL);  // "LoRA"
    const int64_t r = cfg.lora_rank;
    for (int l = 0; l < L; ++l)
      for (LoraTarget t : {LoraTarget::attn_c_attn, LoraTarget::attn_c_proj, LoraTarget::mlp_c_fc, LoraTarget::mlp_c_proj}) {
        if (!cfg.lora_on(t)) continue;
        const int64_t in = t == LoraTarget::mlp_c_proj ? 4 * C : C;
        const int64_t out = t == LoraTarget::attn_c_attn ? 3 * C : t == LoraTarget::mlp_c_fc ? 4 * C : C;
        const std::string in_ax = in == C ? "C" : "4C", out_ax = out == C ? "C" : out == 3 * C ? "3C" : "4C";
        const std::string p = "h." + std::to_string(l) + "." + lora_target_name(t);
        Param<T>& A = model.add(p + ".lora_A", {in, r}, true);
        for (auto& x : A.data) x = static_cast<T>(lrng.normal(0.0, 1.0 / std::sqrt(double(in))));
        A.group = "block " + std::to_string(l);
        A.label = "A";
        A.axes = {in_ax, "r"};
        Param<T>& B = model.add(p + ".lora_B", {r, out}, true);
        B.group = A.group;
        B.label = "B";
        B.axes = {"r", out_ax};
      }
  }

  template <class T>
  void record_t(Recorder<T>& r, const Config& c) const {
    const Shape& xs = r.shape(r.input("tokens"));
    const int64_t B = xs[0], Tn = xs[1], C = c.n_embd, H = c.n_head, d = c.head_size();
    using Op = typename Recorder<T>::OpSpec;
    const std::vector<std::string> BTC{"B", "T", "C"}, BHTd{"B", "H", "T", "d"}, BHTT{"B", "H", "T", "T"};
    auto P = [&](const std::string& n) { return r.param(n); };
    // A linear layer, LoRA's two ops after it when it is adapted. `letter`: its output in the equations.
    auto linear = [&](const std::string& prefix, const std::string& name, int x, int64_t out, LoraTarget target,
                      const std::string& letter) {
      const std::string ax = out == C ? "C" : out == 3 * C ? "3C" : "4C";
      const std::string full = prefix + name;
      int y = r.op(Op{.type = OpType::linear, .name = name, .in = {x}, .par = {P(full + ".weight"), P(full + ".bias")},
                      .out = {B, Tn, out}, .axes = {"B", "T", ax}, .symbol = letter});
      if (!c.lora_on(target)) return y;
      int u = r.op(Op{.type = OpType::lora_down, .name = name + ".lora_A", .in = {x}, .par = {P(full + ".lora_A")},
                      .out = {B, Tn, c.lora_rank}, .axes = {"B", "T", "r"}, .symbol = "X·A"});
      return r.op(Op{.type = OpType::lora_up, .name = name + ".lora_B", .in = {y, u}, .par = {P(full + ".lora_B")},
                     .out = {B, Tn, out}, .axes = {"B", "T", ax}, .attrs = {.scale = c.lora_scale()}, .symbol = letter});
    };

    r.scope("embeddings");
    int h = r.op(Op{.type = OpType::embedding, .name = "wte", .in = {r.input("tokens")}, .par = {P("wte.weight")},
                    .out = {B, Tn, C}, .axes = BTC, .symbol = "wte[x]"});
    h = r.op(Op{.type = OpType::pos_embedding, .name = "wpe", .in = {h}, .par = {P("wpe.weight")}, .out = {B, Tn, C},
                .axes = BTC, .symbol = "h"});
    for (int l = 0; l < c.n_layer; ++l) {
      const std::string p = "h." + std::to_string(l) + ".";
      r.scope("block " + std::to_string(l), l, p);
      int a = r.op(Op{.type = OpType::layernorm, .name = "ln_1", .in = {h}, .par = {P(p + "ln_1.weight"), P(p + "ln_1.bias")},
                      .out = {B, Tn, C}, .axes = BTC});
      int qkv = linear(p, "attn.c_attn", a, 3 * C, LoraTarget::attn_c_attn, "qkv");
      int q = r.op(Op{.type = OpType::split_heads, .name = "attn.q", .in = {qkv}, .out = {B, H, Tn, d}, .axes = BHTd,
                      .attrs = {.part = 0}});
      int k = r.op(Op{.type = OpType::split_heads, .name = "attn.k", .in = {qkv}, .out = {B, H, Tn, d}, .axes = BHTd,
                      .attrs = {.part = 1}});
      int v = r.op(Op{.type = OpType::split_heads, .name = "attn.v", .in = {qkv}, .out = {B, H, Tn, d}, .axes = BHTd,
                      .attrs = {.part = 2}});
      int s = r.op(Op{.type = OpType::query_key, .name = "attn.qk", .in = {q, k}, .out = {B, H, Tn, Tn}, .axes = BHTT});
      s = r.op(Op{.type = OpType::scale, .name = "attn.scale", .in = {s}, .out = {B, H, Tn, Tn}, .axes = BHTT,
                  .attrs = {.d = static_cast<int>(d)}});
      s = r.op(Op{.type = OpType::causal_mask, .name = "attn.mask", .in = {s}, .out = {B, H, Tn, Tn}, .axes = BHTT});
      int pr = r.op(Op{.type = OpType::softmax, .name = "attn.softmax", .in = {s}, .out = {B, H, Tn, Tn}, .axes = BHTT});
      int o = r.op(Op{.type = OpType::attn_value, .name = "attn.pv", .in = {pr, v}, .out = {B, H, Tn, d}, .axes = BHTd});
      o = r.op(Op{.type = OpType::merge_heads, .name = "attn.merge", .in = {o}, .out = {B, Tn, C}, .axes = BTC});
      o = linear(p, "attn.c_proj", o, C, LoraTarget::attn_c_proj, "o");
      h = r.op(Op{.type = OpType::residual_add, .name = "res_1", .in = {h, o}, .out = {B, Tn, C}, .axes = BTC});
      int m = r.op(Op{.type = OpType::layernorm, .name = "ln_2", .in = {h}, .par = {P(p + "ln_2.weight"), P(p + "ln_2.bias")},
                      .out = {B, Tn, C}, .axes = BTC});
      int u = linear(p, "mlp.c_fc", m, 4 * C, LoraTarget::mlp_c_fc, "u");
      int g = r.op(Op{.type = OpType::gelu, .name = "mlp.gelu", .in = {u}, .out = {B, Tn, 4 * C}, .axes = {"B", "T", "4C"}});
      int z = linear(p, "mlp.c_proj", g, C, LoraTarget::mlp_c_proj, "z");
      h = r.op(Op{.type = OpType::residual_add, .name = "res_2", .in = {h, z}, .out = {B, Tn, C}, .axes = BTC});
    }
    r.scope("head and loss");
    int f = r.op(Op{.type = OpType::layernorm, .name = "ln_f", .in = {h}, .par = {P("ln_f.weight"), P("ln_f.bias")},
                    .out = {B, Tn, C}, .axes = BTC});
    int z = r.op(Op{.type = OpType::lm_head, .name = "lm_head", .in = {f}, .par = {P("wte.weight")},
                    .out = {B, Tn, c.vocab_size}, .axes = {"B", "T", "V"}, .symbol = "logits"});
    z = r.op(Op{.type = OpType::log_softmax, .name = "log_softmax", .in = {z}, .out = {B, Tn, c.vocab_size},
                .axes = {"B", "T", "V"}});
    r.op(Op{.type = OpType::nll, .name = "nll", .in = {z, r.input("targets")}, .out = {}, .axes = {}, .symbol = "loss"});
  }

  int64_t closed_form_bwd(const Config& c, int B_, int T_) const override {
    const int64_t L = c.n_layer, B = B_, Tn = T_, C = c.n_embd, H = c.n_head, d = c.head_size(), V = c.vocab_size;
    return L * (48 * B * Tn * C * C + 8 * B * H * Tn * Tn * d + 5 * B * H * Tn * Tn + 98 * B * Tn * C) +
           11 * B * Tn * C + 4 * B * Tn * C * V;
  }
  int64_t full_finetune_bwd(const Config& c, int B, int Tn) const override {
    const int64_t M = int64_t(B) * Tn, C = c.n_embd, V = c.vocab_size;
    const int64_t bias = c.n_layer * M * (3 * C + C + 4 * C + C);  // Σ_rows ∂L/∂Y per linear
    return closed_form_bwd(c, B, Tn) + bias + 4 * M * V + M * C + (int64_t(B) - 1) * Tn * C;
  }
};

}  // namespace

const Program& gpt2() {
  static const Gpt2 p;
  return p;
}

}  // namespace gs::prog
