// The program `custom`: a model of one's own, typed as text (gradscope/model_text.h,
// docs/custom.md). Its leaves take their shapes from their values (--set or a lesson's [values]);
// those listed as inputs are data, the others parameters; every leaf gets a gradient. Each
// operator and call is one op, named by its line (the line's last op) or NAME.1, NAME.2 … in the
// order they run.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "gradscope/fileio.h"
#include "gradscope/model_text.h"
#include "gradscope/session.h"
#include "program_base.h"

namespace gs::prog {

namespace {

// CS231n's circuit: what `--program custom` shows before a teacher types anything.
constexpr const char* kExample = "q = x + y\nf = q * z";

// The leaves that are data, from "x,t" (each a name).
std::vector<std::string> input_names(const Config& c) {
  std::vector<std::string> v;
  auto it = c.settings.find("inputs");
  if (it == c.settings.end() || it->second.empty()) return v;
  for (const std::string& n : split_comma_list(it->second)) v.push_back(n);
  return v;
}

// Where the text came from, for messages: "model" (--model), a file's path, or a lesson's.
std::string source_of(const Config& c) {
  auto it = c.settings.find("model_source");
  return it == c.settings.end() || it->second.empty() ? "model" : it->second;
}

const std::string& text_of(const Config& c) {
  static const std::string example = kExample;
  auto it = c.settings.find("model");
  return it == c.settings.end() ? example : it->second;
}

// A ModelTextError with where the text came from in front: "model:2:7: …".
[[noreturn]] void rethrow(const Config& c, const ModelTextError& e) {
  throw ModelTextError(e.line(), e.col(), e.message(), source_of(c));
}

class Custom final : public ProgramOf<Custom> {
 public:
  Custom() : m_(parse_model_text(kExample)) {}
  explicit Custom(ModelText m) : m_(std::move(m)) {}

  const char* name() const override { return "custom"; }
  const char* description() const override {
    return "a model of one's own, typed as text (--model 'q = x + y; f = q * z'): CS231n's circuit, a neuron, an MLP";
  }
  bool input_grads_in_dump() const override { return true; }

  std::vector<std::string> own_flags() const override { return {"--model", "--model-file", "--inputs"}; }

  void configure(const ModelSpec& spec, Config& c) const override {
    if (spec.model_text && spec.model_file) throw Error("--model and --model-file both give the model; give one");
    if (spec.model_file) {
      if (spec.model_file->empty()) throw Error("--model-file: an empty path names no file");
      c.settings["model"] = io::read_text(*spec.model_file, ModelTextLimits::kMaxChars, "model file");
      c.settings["model_source"] = *spec.model_file;
    } else if (spec.model_text) {
      // ';' and newlines both end a line; the command line usually has ';'.
      c.settings["model"] = *spec.model_text;
      c.settings["model_source"] = "model";
    } else if (!c.settings.count("model")) {
      throw Error("program custom needs its model: --model 'q = x + y; f = q * z' or --model-file FILE");
    }
    if (spec.inputs) {
      for (const std::string& n : split_comma_list(*spec.inputs)) {
        const bool name_like = !n.empty() && std::isalpha(static_cast<unsigned char>(n[0])) &&
                               std::all_of(n.begin(), n.end(), [](char ch) {
                                 return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
                               });
        if (!name_like) throw Error("--inputs: '" + n.substr(0, 40) + "' is not a name (a letter, then letters, digits or _)");
      }
      c.settings["inputs"] = *spec.inputs;
    }
  }

  std::vector<std::string> value_names(const Config&) const override { return m_.leaves; }

  std::vector<std::pair<std::string, std::string>> settings_record(const Config& c) const override {
    return {{"model", nlohmann::json(text_of(c)).dump()}, {"inputs", nlohmann::json(input_names(c)).dump()}};
  }

  std::shared_ptr<const Program> make(const Config& c) const override {
    try {
      return std::make_shared<Custom>(parse_model_text(text_of(c)));
    } catch (const ModelTextError& e) {
      rethrow(c, e);
    }
  }

  std::vector<Slot> slots(const Config& c) const override {
    const std::vector<std::string> inputs = input_names(c);
    for (const std::string& n : inputs)
      if (std::find(m_.leaves.begin(), m_.leaves.end(), n) == m_.leaves.end())
        throw Error("--inputs names '" + n + "', which is not a leaf of the model (its leaves: " + leaf_list() + ")");
    std::vector<Slot> s;
    for (const std::string& leaf : m_.leaves) {
      auto v = c.values.find(leaf);
      if (v == c.values.end()) {
        const auto [line, col] = m_.leaf_pos.at(leaf);
        throw ModelTextError(line, col,
                             "the leaf `" + leaf + "` has no value: give it one with --set " + leaf +
                                 "=… (a number, a list, or rows separated by ';'), or in a lesson's [values]",
                             source_of(c));
      }
      // (--set and [values] refuse an empty list; this holds for values given any other way too:
      // an empty tensor has no rows for the views to show.)
      if (v->second.empty()) throw Error("the leaf '" + leaf + "' has no values: give it at least one number");
      Slot x;
      x.name = leaf;
      x.values = v->second;
      x.shape = shape_of(c, leaf, v->second.size());
      x.label = leaf;
      x.input = std::find(inputs.begin(), inputs.end(), leaf) != inputs.end();
      x.trainable = !x.input;
      x.grad = x.input;  // every leaf gets a gradient; inputs' are shown, never trained
      x.what = x.input ? "an input (data: never trained)" : "a parameter";
      s.push_back(std::move(x));
    }
    return s;
  }

  void validate(const Config& c) const override {
    for (const auto& [name, v] : c.dims) throw Error("program custom has no size '" + name + "'");
    shapes(c);
  }

  double estimated_bytes(const Config& c) const override {
    double n = 0;
    for (const std::string& leaf : m_.leaves)
      if (auto v = c.values.find(leaf); v != c.values.end()) n += double(v->second.size());
    try {
      for (const Shape& s : shapes(c)) n += double(numel(s));
    } catch (const Error&) {
      // validate() says what is wrong
    }
    // Each value, its gradient and its shares, a few times over.
    return 8.0 * n * (c.dtype == DType::f64 ? 8 : 4) + 65536;
  }

  template <class T>
  void declare_t(Model<T>& m) const {
    for (const Slot& s : resolved_slots(*this, m.config())) {
      if (s.input) continue;
      Param<T>& p = m.add(s.name, s.shape, true);
      for (int64_t i = 0; i < p.data.size(); ++i) p.data[i] = static_cast<T>(s.values[i]);
      p.label = s.name;
    }
  }

  template <class T>
  void record_t(Recorder<T>& r, const Config& c) const {
    const std::vector<Shape> shape = shapes(c);
    std::map<std::string, int> line_value;  // a line's name → its value id
    const std::vector<std::string> inputs = input_names(c);
    for (size_t li = 0; li < m_.lines.size(); ++li) {
      const ModelLine& line = m_.lines[li];
      r.scope(li + 1 == m_.lines.size() ? "loss" : "model");
      int counter = 0;
      Walk<T> w{*this, r, shape, line_value, inputs, line, counter};
      line_value[line.name] = w.value_of(line.root, true);
    }
  }

 private:
  // An operand on the tape: a value, a parameter, or a number written in the text.
  struct Operand {
    enum class Kind { value, param, number } kind;
    int id = -1;
    double number = 0;
  };

  template <class T>
  struct Walk {
    const Custom& self;
    Recorder<T>& r;
    const std::vector<Shape>& shape;
    const std::map<std::string, int>& line_value;
    const std::vector<std::string>& inputs;
    const ModelLine& line;
    int& counter;

    Operand operand(int id) {
      const ExprNode& n = self.m_.nodes[id];
      if (n.kind == ExprNode::Kind::number) return {Operand::Kind::number, -1, n.value};
      if (n.kind == ExprNode::Kind::name) {
        if (auto it = line_value.find(n.name); it != line_value.end()) return {Operand::Kind::value, it->second, 0};
        if (std::find(inputs.begin(), inputs.end(), n.name) != inputs.end())
          return {Operand::Kind::value, r.input(n.name), 0};
        return {Operand::Kind::param, r.param(n.name), 0};
      }
      return {Operand::Kind::value, value_of(id, false), 0};
    }

    // Records node `id` (its operands first); returns its output's value id.
    int value_of(int id, bool root) {
      const ExprNode& n = self.m_.nodes[id];
      std::vector<Operand> ops;
      for (int a : n.args) ops.push_back(operand(a));
      typename Recorder<T>::OpSpec spec;
      spec.type = type_of(n);
      spec.name = root ? line.name : line.name + "." + std::to_string(++counter);
      spec.out = shape[id];
      if (n.kind == ExprNode::Kind::binary && n.op == "**") {
        spec.attrs.constant = ops[1].number;
        ops.pop_back();
      } else {
        for (size_t s = 0; s < ops.size(); ++s)
          if (ops[s].kind == Operand::Kind::number) {  // at most one: two numbers were folded
            spec.attrs.constant = ops[s].number;
            spec.attrs.const_side = static_cast<int>(s);
          }
        ops.erase(std::remove_if(ops.begin(), ops.end(), [](const Operand& o) { return o.kind == Operand::Kind::number; }),
                  ops.end());
      }
      for (const Operand& o : ops) {
        if (o.kind == Operand::Kind::param) {
          spec.args.push_back({true, static_cast<int>(spec.par.size())});
          spec.par.push_back(o.id);
        } else {
          spec.args.push_back({false, static_cast<int>(spec.in.size())});
          spec.in.push_back(o.id);
        }
      }
      return r.op(std::move(spec));
    }

    static OpType type_of(const ExprNode& n) {
      if (n.kind == ExprNode::Kind::neg) return OpType::neg;
      if (n.kind == ExprNode::Kind::binary) {
        if (n.op == "+") return OpType::add;
        if (n.op == "-") return OpType::sub;
        if (n.op == "*") return OpType::mul;
        if (n.op == "/") return OpType::div;
        if (n.op == "@") return OpType::matprod;
        return OpType::pow;
      }
      static const std::map<std::string, OpType> kCalls = {
          {"relu", OpType::relu}, {"tanh", OpType::tanh}, {"sigmoid", OpType::sigmoid}, {"exp", OpType::exp},
          {"log", OpType::log},   {"gelu", OpType::gelu}, {"abs", OpType::abs},         {"max", OpType::max},
          {"sum", OpType::sum},   {"mean", OpType::mean}, {"softmax", OpType::softmax}, {"log_softmax", OpType::log_softmax}};
      return kCalls.at(n.name);
    }
  };

  std::string leaf_list() const {
    std::string s;
    for (const std::string& l : m_.leaves) s += (s.empty() ? "" : ", ") + l;
    return s;
  }

  // A leaf's shape: as its value was written (rows: a matrix), else one number or a vector.
  static Shape shape_of(const Config& c, const std::string& leaf, size_t n) {
    if (auto it = c.value_shapes.find(leaf); it != c.value_shapes.end() && numel(it->second) == int64_t(n)) return it->second;
    if (n == 1) return {};
    return {static_cast<int64_t>(n)};
  }

  std::vector<Shape> shapes(const Config& c) const {
    std::map<std::string, Shape> leaves;
    for (const std::string& leaf : m_.leaves)
      if (auto v = c.values.find(leaf); v != c.values.end()) leaves[leaf] = shape_of(c, leaf, v->second.size());
    try {
      return model_text_shapes(m_, leaves);
    } catch (const ModelTextError& e) {
      rethrow(c, e);
    }
  }

  ModelText m_;
};

}  // namespace

const Program& custom() {
  static const Custom p;
  return p;
}

}  // namespace gs::prog
