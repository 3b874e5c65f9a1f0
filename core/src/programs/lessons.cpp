// The lesson models: the backprop tutorial's path (docs/sources.md) from one weight to one causal
// attention head and a LoRA linear, each a handful of named parameters and inputs and a few ops.
// Names, shapes, op order and defaults are the table of docs/programs.md; every op is named by
// the left-hand side of its equation (y1, y2 …, L).
#include <cmath>
#include <nlohmann/json.hpp>

#include "gradscope/session.h"

#include "program_base.h"

namespace gs::prog {

namespace {

using Strs = std::vector<std::string>;

Slot param(std::string name, Shape shape, std::vector<double> values, Strs axes, std::string what,
           std::string label = "", bool trainable = true) {
  Slot s;
  s.name = std::move(name);
  s.shape = std::move(shape);
  s.values = std::move(values);
  s.values.resize(static_cast<size_t>(numel(s.shape)), s.values.empty() ? 0.0 : s.values.back());
  s.axes = std::move(axes);
  s.what = std::move(what);
  s.label = std::move(label);
  s.trainable = trainable;
  return s;
}

// An input. `grad`: the tape computes ∂L/∂input as well (the tutorial's outgoing residual of the
// first layer); targets and lora_linear's X (so its frozen layer needs no backward) go without.
Slot input(std::string name, Shape shape, std::vector<double> values, Strs axes, std::string what, bool grad = false) {
  Slot s = param(std::move(name), std::move(shape), std::move(values), std::move(axes), std::move(what));
  s.input = true;
  s.trainable = false;
  s.grad = grad;
  return s;
}

// Each program's seeded values come from a stream of its own (FNV-1a of its name mixed with the seed).
Rng stream(const Config& c, const char* name) {
  uint64_t h = 1469598103934665603ULL;
  for (const char* p = name; *p; ++p) h = (h ^ static_cast<unsigned char>(*p)) * 1099511628211ULL;
  return Rng(c.seed ^ h);
}

template <class T>
using OpSpec = typename Recorder<T>::OpSpec;

// [SECTION] the scalar models: x and t hold P points, every parameter is one number

// P is the number of (x, t) points: the length of the lists given for x or t (default 1).
template <class Derived>
class Scalar : public Lesson<Derived> {
 public:
  std::vector<DimInfo> dims() const override { return {{"P", 1, "the number of (x, t) points"}}; }
  void infer_dims(Config& c) const override {
    if (c.dims.count("P")) return;
    size_t P = 1;
    const char* from = nullptr;
    for (const char* n : {"x", "t"}) {
      auto it = c.values.find(n);
      if (it == c.values.end() || it->second.size() <= 1) continue;
      if (from && it->second.size() != P)
        throw Error(std::string("--set ") + from + " gives " + std::to_string(P) + " points but --set " + n + " gives " +
                    std::to_string(it->second.size()) + "; give both the same number of values (or one value)");
      P = it->second.size();
      from = n;
    }
    c.dims["P"] = static_cast<int64_t>(P);
  }

 protected:
  static Shape points(const Config& c) { return {c.dim("P")}; }
  static Slot x_slot(const Config& c, double v) { return input("x", points(c), {v}, {"P"}, "the input of each point", true); }
  static Slot t_slot(const Config& c, double v) { return input("t", points(c), {v}, {"P"}, "the target of each point"); }
  // Two scalar layers' weights (a1, a2) and biases (0), then x = 1 and t = 2.
  static std::vector<Slot> two_layer_slots(const Config& c, double a1, double a2) {
    return {param("a1", {}, {a1}, {}, "layer 1's weight"), param("b1", {}, {0.0}, {}, "layer 1's bias"),
            param("a2", {}, {a2}, {}, "layer 2's weight"), param("b2", {}, {0.0}, {}, "layer 2's bias"),
            x_slot(c, 1.0), t_slot(c, 2.0)};
  }

  // y = a·x, then y + b: one scalar layer.
  template <class T>
  static int layer(Recorder<T>& r, int x, const std::string& a, const std::string& b, const std::string& mul_name,
                   const std::string& add_name) {
    const Shape s = r.shape(x);
    const int y = r.op(OpSpec<T>{.type = OpType::mul_param, .name = mul_name, .in = {x}, .par = {r.param(a)}, .out = s, .axes = {"P"}});
    return r.op(OpSpec<T>{.type = OpType::add_param, .name = add_name, .in = {y}, .par = {r.param(b)}, .out = s, .axes = {"P"}});
  }
  // d = y − t, L = mean(d²).
  template <class T>
  static void loss(Recorder<T>& r, int y, const std::string& d_name) {
    r.scope("loss");
    const int d = r.op(OpSpec<T>{.type = OpType::subtract, .name = d_name, .in = {y, r.input("t")}, .out = r.shape(y), .axes = {"P"}});
    r.op(OpSpec<T>{.type = OpType::mean_square, .name = "L", .in = {d}, .out = {}});
  }
};

class Line final : public Scalar<Line> {
 public:
  const char* name() const override { return "line"; }
  bool line_fit() const override { return true; }
  const char* description() const override { return "y = a·x + b, one weight and one bias, squared error: where the tutorial starts"; }
  std::vector<Slot> slots(const Config& c) const override {
    return {param("a", {}, {0.5}, {}, "the slope"), param("b", {}, {0.0}, {}, "the intercept"), x_slot(c, 2.0),
            t_slot(c, 3.0)};
  }
  template <class T>
  void record_t(Recorder<T>& r, const Config&) const {
    r.scope("layer");
    loss(r, layer(r, r.input("x"), "a", "b", "y1", "y2"), "y3");
  }
};

class TwoLayers final : public Scalar<TwoLayers> {
 public:
  const char* name() const override { return "two_layers"; }
  const char* description() const override { return "two scalar layers a2·(a1·x + b1) + b2: the residual passed from one layer to the one before"; }
  std::vector<Slot> slots(const Config& c) const override {
    return two_layer_slots(c, 2.0, 0.5);
  }
  template <class T>
  void record_t(Recorder<T>& r, const Config&) const {
    r.scope("layer 1");
    const int y2 = layer(r, r.input("x"), "a1", "b1", "y1", "y2");
    r.scope("layer 2");
    loss(r, layer(r, y2, "a2", "b2", "y3", "y4"), "y5");
  }
};

class Activation final : public Scalar<Activation> {
 public:
  const char* name() const override { return "activation"; }
  const char* description() const override { return "two scalar layers with a GELU between them: the local derivative g'(u)"; }
  std::vector<Slot> slots(const Config& c) const override {
    return two_layer_slots(c, 1.0, 1.0);
  }
  template <class T>
  void record_t(Recorder<T>& r, const Config&) const {
    r.scope("layer 1");
    const int y2 = layer(r, r.input("x"), "a1", "b1", "y1", "y2");
    r.scope("activation");
    const int g = r.op(OpSpec<T>{.type = OpType::gelu, .name = "g", .in = {y2}, .out = r.shape(y2), .axes = {"P"}});
    r.scope("layer 2");
    loss(r, layer(r, g, "a2", "b2", "y3", "y4"), "y5");
  }
};

class Branch final : public Scalar<Branch> {
 public:
  const char* name() const override { return "branch"; }
  const char* description() const override { return "a value used twice (y2 feeds layer 2 and a skip): its gradients add up"; }
  std::vector<Slot> slots(const Config& c) const override {
    return two_layer_slots(c, 2.0, 0.5);
  }
  template <class T>
  void record_t(Recorder<T>& r, const Config&) const {
    r.scope("layer 1");
    const int y2 = layer(r, r.input("x"), "a1", "b1", "y1", "y2");
    r.scope("layer 2");
    const int y4 = layer(r, y2, "a2", "b2", "y3", "y4");
    r.scope("skip");
    const int y5 = r.op(OpSpec<T>{.type = OpType::residual_add, .name = "y5", .in = {y4, y2}, .out = r.shape(y4), .axes = {"P"}});
    loss(r, y5, "y6");
  }
};

// [SECTION] the matrix models

// D = Y − target, L = mean(D²) over every entry.
template <class T>
void mse(Recorder<T>& r, int y, const std::string& target, Strs axes) {
  r.scope("loss");
  const int d = r.op(OpSpec<T>{.type = OpType::subtract, .name = "D", .in = {y, r.input(target)}, .out = r.shape(y), .axes = axes});
  r.op(OpSpec<T>{.type = OpType::mean_square, .name = "L", .in = {d}, .out = {}});
}

class Matrix final : public Lesson<Matrix> {
 public:
  const char* name() const override { return "matrix"; }
  const char* description() const override { return "Y = X·W + b on n rows: why ∂L/∂W = Xᵀ·∂L/∂Y (the shapes say so)"; }
  std::vector<DimInfo> dims() const override {
    return {{"n", 4, "rows of X (examples)"}, {"m", 3, "inputs per row"}, {"p", 2, "outputs per row"}};
  }
  std::vector<Slot> slots(const Config& c) const override {
    const int64_t n = c.dim("n"), m = c.dim("m"), p = c.dim("p");
    Rng rng = stream(c, name());
    std::vector<Slot> s;
    s.push_back(param("W", {m, p}, seeded(rng, m * p, 0.5), {"m", "p"}, "the weights, in×out"));
    s.push_back(param("b", {p}, seeded(rng, p, 0.3), {"p"}, "the bias, one per output"));
    s.push_back(input("X", {n, m}, seeded(rng, n * m, 1.0), {"n", "m"}, "the inputs, one row per example", true));
    s.push_back(input("target", {n, p}, seeded(rng, n * p, 1.0), {"n", "p"}, "what each output should be"));
    return s;
  }
  template <class T>
  void record_t(Recorder<T>& r, const Config& c) const {
    r.scope("layer");
    const int y = r.op(OpSpec<T>{.type = OpType::linear, .name = "Y", .in = {r.input("X")}, .par = {r.param("W"), r.param("b")},
                                 .out = {c.dim("n"), c.dim("p")}, .axes = {"n", "p"}});
    mse(r, y, "target", {"n", "p"});
  }
};

class SoftmaxCe final : public Lesson<SoftmaxCe> {
 public:
  const char* name() const override { return "softmax_ce"; }
  const char* description() const override { return "a linear layer, log-softmax and cross-entropy: ∂L/∂z = P − onehot(y)"; }
  std::vector<DimInfo> dims() const override {
    return {{"n", 1, "examples"}, {"m", 2, "inputs per example"}, {"K", 3, "classes"}};
  }
  std::vector<Slot> slots(const Config& c) const override {
    const int64_t n = c.dim("n"), m = c.dim("m"), K = c.dim("K");
    Rng rng = stream(c, name());
    std::vector<Slot> s;
    s.push_back(param("W", {m, K}, seeded(rng, m * K, 0.8), {"m", "K"}, "the weights, inputs×classes"));
    s.push_back(param("b", {K}, seeded(rng, K, 0.3), {"K"}, "the bias, one per class"));
    s.push_back(input("x", {n, m}, seeded(rng, n * m, 1.0), {"n", "m"}, "the inputs, one row per example", true));
    std::vector<double> ids(static_cast<size_t>(n));
    for (auto& v : ids) v = rng.below(static_cast<uint32_t>(K));
    Slot y = input("y", {n}, ids, {"n"}, "the right class of each example");
    y.integer = true;
    y.id_limit = K;
    s.push_back(y);
    return s;
  }
  template <class T>
  void record_t(Recorder<T>& r, const Config& c) const {
    const int64_t n = c.dim("n"), K = c.dim("K");
    r.scope("layer");
    const int z = r.op(OpSpec<T>{.type = OpType::linear, .name = "z", .in = {r.input("x")}, .par = {r.param("W"), r.param("b")},
                                 .out = {n, K}, .axes = {"n", "K"}});
    r.scope("loss");
    const int lp = r.op(OpSpec<T>{.type = OpType::log_softmax, .name = "logp", .in = {z}, .out = {n, K}, .axes = {"n", "K"}});
    r.op(OpSpec<T>{.type = OpType::nll, .name = "L", .in = {lp, r.input("y")}, .out = {}});
  }
};

class LayerNormLesson final : public Lesson<LayerNormLesson> {
 public:
  const char* name() const override { return "layernorm"; }
  const char* description() const override { return "layer normalisation of each row: a Jacobian per row, and its gradients sum to 0"; }
  std::vector<DimInfo> dims() const override { return {{"n", 2, "rows"}, {"C", 4, "entries per row"}}; }
  std::vector<Slot> slots(const Config& c) const override {
    const int64_t n = c.dim("n"), C = c.dim("C");
    Rng rng = stream(c, name());
    std::vector<Slot> s;
    s.push_back(param("ln.weight", {C}, seeded(rng, C, 0.3, 1.0), {"C"}, "γ: the learned scale of each column", "γ"));
    s.push_back(param("ln.bias", {C}, seeded(rng, C, 0.3), {"C"}, "β: the learned shift of each column", "β"));
    s.push_back(input("x", {n, C}, seeded(rng, n * C, 1.0, 0.5), {"n", "C"}, "the rows to normalise", true));
    s.push_back(input("target", {n, C}, seeded(rng, n * C, 1.0), {"n", "C"}, "what each output should be"));
    return s;
  }
  template <class T>
  void record_t(Recorder<T>& r, const Config& c) const {
    r.scope("layer");
    const int y = r.op(OpSpec<T>{.type = OpType::layernorm, .name = "y", .in = {r.input("x")},
                                 .par = {r.param("ln.weight"), r.param("ln.bias")}, .out = {c.dim("n"), c.dim("C")},
                                 .axes = {"n", "C"}});
    mse(r, y, "target", {"n", "C"});
  }
};

class AttentionLesson final : public Lesson<AttentionLesson> {
 public:
  const char* name() const override { return "attention"; }
  const char* description() const override { return "one causal attention head over T positions: scores, mask, softmax, the mix of values"; }
  std::vector<DimInfo> dims() const override {
    return {{"T", 3, "positions"}, {"C", 2, "channels of each input row"}, {"d", 2, "head size"}};
  }
  std::vector<Slot> slots(const Config& c) const override {
    const int64_t T = c.dim("T"), C = c.dim("C"), d = c.dim("d");
    Rng rng = stream(c, name());
    std::vector<Slot> s;
    s.push_back(param("Wq", {C, d}, seeded(rng, C * d, 0.8), {"C", "d"}, "makes each row's query"));
    s.push_back(param("Wk", {C, d}, seeded(rng, C * d, 0.8), {"C", "d"}, "makes each row's key"));
    s.push_back(param("Wv", {C, d}, seeded(rng, C * d, 0.8), {"C", "d"}, "makes each row's value"));
    s.push_back(input("X", {T, C}, seeded(rng, T * C, 1.0), {"T", "C"}, "one row per position", true));
    s.push_back(input("target", {T, d}, seeded(rng, T * d, 1.0), {"T", "d"}, "what each output row should be"));
    return s;
  }
  template <class T>
  void record_t(Recorder<T>& r, const Config& c) const {
    const int64_t Tn = c.dim("T"), d = c.dim("d");
    const int X = r.input("X");
    const Strs Td{"T", "d"}, TT{"T", "T"};
    r.scope("projections");
    const int q = r.op(OpSpec<T>{.type = OpType::matmul, .name = "q", .in = {X}, .par = {r.param("Wq")}, .out = {Tn, d}, .axes = Td});
    const int k = r.op(OpSpec<T>{.type = OpType::matmul, .name = "k", .in = {X}, .par = {r.param("Wk")}, .out = {Tn, d}, .axes = Td});
    const int v = r.op(OpSpec<T>{.type = OpType::matmul, .name = "v", .in = {X}, .par = {r.param("Wv")}, .out = {Tn, d}, .axes = Td});
    r.scope("attention");
    int s = r.op(OpSpec<T>{.type = OpType::query_key, .name = "S", .in = {q, k}, .out = {Tn, Tn}, .axes = TT});
    s = r.op(OpSpec<T>{.type = OpType::scale, .name = "scale", .in = {s}, .out = {Tn, Tn}, .axes = TT,
                       .attrs = {.d = static_cast<int>(d)}});
    s = r.op(OpSpec<T>{.type = OpType::causal_mask, .name = "mask", .in = {s}, .out = {Tn, Tn}, .axes = TT});
    const int p = r.op(OpSpec<T>{.type = OpType::softmax, .name = "P", .in = {s}, .out = {Tn, Tn}, .axes = TT});
    const int o = r.op(OpSpec<T>{.type = OpType::attn_value, .name = "O", .in = {p, v}, .out = {Tn, d}, .axes = Td});
    mse(r, o, "target", Td);
  }
};

// r and α of lora_linear: --lora-rank and --lora-alpha (defaults 1 and r).
int lora_r(const Config& c) { return c.lora_rank > 0 ? c.lora_rank : 1; }
double lora_a(const Config& c) { return c.lora_alpha > 0 ? c.lora_alpha : lora_r(c); }

class LoraLinear final : public Lesson<LoraLinear> {
 public:
  const char* name() const override { return "lora_linear"; }
  const char* description() const override { return "a frozen linear layer with a LoRA adapter: W gets no gradient, and dA = 0 while B = 0"; }
  std::vector<DimInfo> dims() const override {
    return {{"n", 2, "rows of X"}, {"m", 4, "inputs per row"}, {"p", 4, "outputs per row"}};
  }
  std::vector<Slot> slots(const Config& c) const override {
    const int64_t n = c.dim("n"), m = c.dim("m"), p = c.dim("p"), r = lora_r(c);
    Rng rng = stream(c, name());
    std::vector<Slot> s;
    s.push_back(param("W", {m, p}, seeded(rng, m * p, 0.5), {"m", "p"}, "the pretrained weights (frozen)", "W", false));
    s.push_back(param("b", {p}, seeded(rng, p, 0.3), {"p"}, "the pretrained bias (frozen)", "b", false));
    // A ~ N(0, 1/m) so X·A keeps X's scale; B = 0 so the adapted layer starts as the frozen one.
    s.push_back(param("A", {m, r}, seeded(rng, m * r, 1.0 / std::sqrt(double(m))), {"m", "r"}, "LoRA's down-projection"));
    s.push_back(param("B", {r, p}, {0.0}, {"r", "p"}, "LoRA's up-projection (starts at 0)"));
    s.push_back(input("X", {n, m}, seeded(rng, n * m, 1.0), {"n", "m"}, "the inputs, one row per example"));
    s.push_back(input("target", {n, p}, seeded(rng, n * p, 1.0), {"n", "p"}, "what each output should be"));
    return s;
  }
  // Its r and α: --lora-rank and --lora-alpha (default 1 and r), checked as GPT-2 checks them.
  std::vector<std::string> own_flags() const override { return {"--lora-rank", "--lora-alpha"}; }
  void configure(const ModelSpec& spec, Config& c) const override {
    // Refused, never replaced: r = 0 is GPT-2's "no LoRA", not r = 1.
    c.lora_rank = spec.lora_rank.value_or(1);
    if (c.lora_rank < 1) throw Error("--lora-rank must be 1 or more for lora_linear, got " + std::to_string(c.lora_rank));
    if (c.lora_rank > kMaxDim)
      throw Error("--lora-rank must be at most " + std::to_string(kMaxDim) + " for lora_linear, got " +
                  std::to_string(c.lora_rank));
    c.lora_alpha = spec.lora_alpha.value_or(c.lora_rank);
    if (!(c.lora_alpha > 0) || !std::isfinite(c.lora_alpha)) {
      char b[40];
      std::snprintf(b, sizeof b, "%g", c.lora_alpha);
      throw Error(std::string("--lora-alpha must be a positive finite number, got ") + b);
    }
  }
  std::vector<std::pair<std::string, std::string>> settings_record(const Config& c) const override {
    return {{"lora_rank", std::to_string(lora_r(c))}, {"lora_alpha", nlohmann::json(lora_a(c)).dump()}};
  }
  void validate(const Config& c) const override {
    Lesson<LoraLinear>::validate(c);
    if (c.lora_rank < 0 || c.lora_rank > kMaxDim)
      throw Error("lora_linear: --lora-rank (r) must lie in 1 … " + std::to_string(kMaxDim) + ", got " +
                  std::to_string(c.lora_rank));
    if (!(lora_a(c) > 0) || !std::isfinite(lora_a(c)))
      throw Error("lora_linear: --lora-alpha must be a positive number");
  }
  template <class T>
  void record_t(Recorder<T>& r, const Config& c) const {
    const int64_t n = c.dim("n"), p = c.dim("p");
    const int X = r.input("X");
    r.scope("frozen layer");
    const int y = r.op(OpSpec<T>{.type = OpType::linear, .name = "Y", .in = {X}, .par = {r.param("W"), r.param("b")},
                                 .out = {n, p}, .axes = {"n", "p"}});
    r.scope("adapter");
    const int u = r.op(OpSpec<T>{.type = OpType::lora_down, .name = "U", .in = {X}, .par = {r.param("A")},
                                 .out = {n, lora_r(c)}, .axes = {"n", "r"}});
    const int y2 = r.op(OpSpec<T>{.type = OpType::lora_up, .name = "Y2", .in = {y, u}, .par = {r.param("B")}, .out = {n, p},
                                  .axes = {"n", "p"}, .attrs = {.scale = lora_a(c) / lora_r(c)}});
    mse(r, y2, "target", {"n", "p"});
  }
};

}  // namespace

std::vector<const Program*> lessons() {
  static const Line line;
  static const TwoLayers two_layers;
  static const Activation activation;
  static const Branch branch;
  static const Matrix matrix;
  static const SoftmaxCe softmax_ce;
  static const LayerNormLesson layernorm;
  static const AttentionLesson attention;
  static const LoraLinear lora_linear;
  return {&line, &two_layers, &activation, &branch, &matrix, &softmax_ce, &layernorm, &attention, &lora_linear};
}

}  // namespace gs::prog
