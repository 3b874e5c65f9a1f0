// libFuzzer: a model of one's own, typed as text (the program `custom`). The first byte picks the
// leaves' shapes, the second their values, the rest is the model's text. The text goes through
// the parser; when it parses, its shapes are worked out for the shapes picked (a number, a vector,
// a matrix, a mix, empty vectors among them); when they fit, the whole path a teacher takes runs:
// a Session from --model/--set (in f64, or f32 when the second byte says so), forward, backward,
// every op's local derivative, and on small tapes every planted mistake and a finite-difference
// check of the loss's op. Values include 0, huge and tiny numbers, so infinities and NaNs flow
// through every op. Bad input must end in a gs::Error; anything else (a crash, a sanitizer
// report, a hang, a large allocation) is a failure.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gradscope/error.h"
#include "gradscope/gradcheck.h"
#include "gradscope/model_text.h"
#include "gradscope/session.h"

namespace {

// A small shape for leaf number `i`, chosen by `pick`: every leaf a number, a vector [n], a matrix
// [n,m], or each leaf its own kind (so that broadcasting and @ meet every pair). Sizes are 1 to 3,
// and 0 in the last kind, so that empty values are tried too.
gs::Shape shape_for(uint8_t pick, size_t i) {
  const int64_t n = 1 + (pick / 6) % 3, m = 1 + (pick / 18) % 3;
  switch (pick % 6) {
    case 0: return {};
    case 1: return {n};
    case 2: return {n, m};
    case 3: return i % 3 == 0 ? gs::Shape{} : i % 3 == 1 ? gs::Shape{m} : gs::Shape{n, m};
    case 4: return i % 2 == 0 ? gs::Shape{n, m} : gs::Shape{m, n};
    default: return i % 4 == 0 ? gs::Shape{0} : i % 4 == 1 ? gs::Shape{n, 0} : gs::Shape{n};
  }
}

// One entry's value as --set writes it. With the top bit of `pick` clear, ordinary numbers; with
// it set, also 0, numbers whose products overflow or underflow, and words that are no numbers.
std::string value_for(uint8_t pick, size_t leaf, int64_t entry) {
  static const char* const kPlain[] = {"0.5", "-1.25", "2", "0.75", "-0.3", "1.5", "-2", "3"};
  static const char* const kWild[] = {"0", "-0", "1e308", "-1e308", "1e-308", "4.9e-324", "700", "-745", "nan", "inf"};
  const size_t k = static_cast<size_t>(pick) + 7 * leaf + 3 * static_cast<size_t>(entry);
  if (pick & 0x80) return kWild[k % (sizeof kWild / sizeof *kWild)];
  return kPlain[k % (sizeof kPlain / sizeof *kPlain)];
}

// NAME=V,V;V,V for a leaf of shape s.
std::string set_for(const std::string& name, const gs::Shape& s, uint8_t pick, size_t leaf) {
  std::string v = name + "=";
  const int64_t rows = s.size() == 2 ? s[0] : 1, cols = s.empty() ? 1 : s.back();
  for (int64_t r = 0; r < rows; ++r) {
    if (r) v += ";";
    for (int64_t c = 0; c < cols; ++c) v += (c ? "," : "") + value_for(pick, leaf, r * cols + c);
  }
  return v;
}

template <class T>
void run_session(const gs::ModelSpec& spec) {
  gs::Session<T> s(spec);
  gs::Tape<T>& tape = *s.tape;
  tape.forward();
  tape.backward();
  for (int k = 0; k < tape.size(); ++k) (void)tape.local_derivative(k, 0);
  if (tape.size() > 8) return;
  for (int k = 0; k < tape.size(); ++k)
    for (int mk = 1; mk < gs::kNumMistakes; ++mk) {
      const auto m = static_cast<gs::Mistake>(mk);
      if (!tape.supports(k, m)) continue;
      tape.set_mistake(k, m);
      tape.forward();
      tape.backward();
      tape.set_mistake(k, gs::Mistake::none);
    }
  gs::CheckOptions opt = gs::CheckOptions::defaults(spec.dtype == std::string("f32") ? gs::DType::f32 : gs::DType::f64);
  opt.max_entries = 4;
  (void)gs::check_op(tape, tape.size() - 1, opt);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t shape_pick = data[0], value_pick = data[1];
  const std::string text(reinterpret_cast<const char*>(data) + 2, size - 2);
  gs::ModelText m;
  try {
    m = gs::parse_model_text(text);
  } catch (const gs::ModelTextError& e) {
    if (e.line() < 1 || e.col() < 1) __builtin_trap();  // every error points into the text
    return 0;
  }
  if (m.lines.empty() || m.leaves.empty()) __builtin_trap();  // a model computes its loss from leaves
  std::map<std::string, gs::Shape> shapes;
  for (size_t i = 0; i < m.leaves.size(); ++i) shapes[m.leaves[i]] = shape_for(shape_pick, i);
  try {
    const std::vector<gs::Shape> s = gs::model_text_shapes(m, shapes);
    if (s.size() != m.nodes.size() || !s[m.lines.back().root].empty()) __builtin_trap();  // the loss is one number
  } catch (const gs::ModelTextError&) {
  }
  gs::ModelSpec spec;
  spec.program = "custom";
  spec.model_text = text;
  spec.dtype = (value_pick & 0x40) ? "f32" : "f64";
  for (size_t i = 0; i < m.leaves.size(); ++i) spec.sets.push_back(set_for(m.leaves[i], shapes[m.leaves[i]], value_pick, i));
  if (value_pick & 0x20) spec.inputs = m.leaves.front();
  try {
    if (value_pick & 0x40)
      run_session<float>(spec);
    else
      run_session<double>(spec);
  } catch (const gs::Error&) {
  }
  return 0;
}
