#pragma once
// A gs::Session of either scalar type, chosen at run time by the dtype setting. Code that
// needs the tensors visits it with a generic lambda; the questions every view asks (sizes,
// names, loss) have plain accessors.
#include <memory>
#include <string>
#include <utility>
#include <variant>

#include "format.h"
#include "gradscope/program.h"
#include "gradscope/session.h"

namespace gs::app {

class AnySession {
 public:
  AnySession() = default;
  explicit AnySession(std::unique_ptr<Session<float>> s) : s_(std::move(s)) {}
  explicit AnySession(std::unique_ptr<Session<double>> s) : s_(std::move(s)) {}

  // Builds a session of the spec's dtype (its tape not computed yet). Throws gs::Error (bad
  // input) or std::bad_alloc.
  static AnySession build(const ModelSpec& spec) { return build(resolve(spec)); }
  static AnySession build(const ResolvedSpec& r) {
    if (r.config.dtype == DType::f64) return AnySession(std::make_unique<Session<double>>(r));
    return AnySession(std::make_unique<Session<float>>(r));
  }

  bool empty() const {
    return std::visit([](const auto& p) { return p == nullptr; }, s_);
  }
  explicit operator bool() const { return !empty(); }

  // f(Session<T>&) or f(const Session<T>&); the session must not be empty.
  template <class F>
  decltype(auto) visit(F&& f) {
    return std::visit([&](auto& p) -> decltype(auto) { return f(*p); }, s_);
  }
  template <class F>
  decltype(auto) visit(F&& f) const {
    return std::visit([&](const auto& p) -> decltype(auto) { return f(std::as_const(*p)); }, s_);
  }

  // The session itself, not this wrapper: stays valid when the AnySession is moved (for a worker
  // that reads it), until the session is replaced or destroyed.
  using Ptr = std::variant<const Session<float>*, const Session<double>*>;
  Ptr get() const {
    return std::visit([](const auto& p) -> Ptr { return p.get(); }, s_);
  }

  DType dtype() const { return std::holds_alternative<std::unique_ptr<Session<double>>>(s_) ? DType::f64 : DType::f32; }
  const Config& config() const {
    return visit([](const auto& s) -> const Config& { return s.model->config(); });
  }
  const Batch& batch() const {
    return visit([](const auto& s) -> const Batch& { return s.tape->batch(); });
  }
  const std::optional<CharTokenizer>& tokenizer() const {
    return visit([](const auto& s) -> const std::optional<CharTokenizer>& { return s.tokenizer; });
  }
  // GPT-2's byte-level BPE (Session::bpe) rather than the char tokenizer.
  bool has_bpe() const {
    return visit([](const auto& s) { return s.bpe.has_value(); });
  }
  // Whether token ids can be shown as text (either tokenizer).
  bool has_vocab() const { return has_bpe() || tokenizer().has_value(); }
  // One token as text, by whichever tokenizer the model has ("#id" if none).
  std::string token_text(int32_t id) const {
    return visit([&](const auto& s) { return s.token_text(id); });
  }
  // Op k's output as a value to take ∂L/∂ of (format.h's value_label).
  std::string value_label(int k) const {
    return visit([&](const auto& s) { return gs::app::value_label(s.tape->op(k).name, s.tape->op(k).symbol); });
  }
  // The program on the tape ("gpt2", "line" …); only GPT-2 has tokens, a closed form, attention heads.
  const std::string& program() const { return config().program; }
  bool is_gpt2() const { return config().is_gpt2(); }
  // The model is a line y = a·x + b fitted to points (x, t) (Program::line_fit): the views may draw
  // the fit and the loss over the plane of (a, b).
  bool line_fit() const {
    return visit([](const auto& s) { return s.model->program().line_fit(); });
  }
  // The op whose output is the attention weights of a head outside GPT-2 (a softmax after a causal
  // mask on the tape), or "" where there is none.
  std::string attention_weights_op() const {
    return visit([](const auto& s) -> std::string {
      const auto& t = *s.tape;
      for (int k = 0; k + 1 < t.size(); ++k)
        if (t.op(k).type == OpType::causal_mask && t.op(k + 1).type == OpType::softmax) return t.op(k + 1).name;
      return "";
    });
  }
  int n_ops() const {
    return visit([](const auto& s) { return s.tape->size(); });
  }
  double loss() const {
    return visit([](const auto& s) { return s.tape->loss(); });
  }
  const std::string& op_name(int k) const {
    return visit([&](const auto& s) -> const std::string& { return s.tape->op(k).name; });
  }
  OpType op_type(int k) const {
    return visit([&](const auto& s) { return s.tape->op(k).type; });
  }
  int op_layer(int k) const {
    return visit([&](const auto& s) { return s.tape->op(k).layer; });
  }
  int find_op(const std::string& name) const {
    return visit([&](const auto& s) { return s.tape->find_op(name); });
  }

 private:
  std::variant<std::unique_ptr<Session<float>>, std::unique_ptr<Session<double>>> s_;
};

}  // namespace gs::app
