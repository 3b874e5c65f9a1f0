#pragma once
// A gs::Session of either scalar type, chosen at run time by the dtype setting. Code that
// needs the tensors visits it with a generic lambda; the questions every view asks (sizes,
// names, loss) have plain accessors.
#include <memory>
#include <utility>
#include <variant>

#include "gradscope/session.h"

namespace gs::app {

class AnySession {
 public:
  AnySession() = default;
  explicit AnySession(std::unique_ptr<Session<float>> s) : s_(std::move(s)) {}
  explicit AnySession(std::unique_ptr<Session<double>> s) : s_(std::move(s)) {}

  // Builds a session of the spec's dtype. Throws gs::Error (bad input) or std::bad_alloc.
  static AnySession build(const ModelSpec& spec) {
    const ResolvedSpec r = resolve(spec);
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
