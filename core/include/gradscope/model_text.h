#pragma once
// A model of one's own, typed as text (the program `custom`, docs/custom.md): one assignment per
// line (or between ';'), `NAME = EXPRESSION`, with + − * / @ **, unary minus, numbers, parentheses
// and the functions relu tanh sigmoid exp log gelu abs max sum mean softmax log_softmax. A name used
// before any line assigns it is a leaf (a parameter, or an input when listed as one); the last line
// is the loss. CS231n's circuit is two lines: `q = x + y` and `f = q * z`.
//
// The parser is a small recursive descent over the text, bounded in size and depth so that no text
// can overflow the stack or take the machine: every error is a ModelTextError with the line and
// column (counted in characters, from 1) and one sentence a teacher understands.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gradscope/error.h"
#include "gradscope/tensor.h"

namespace gs {

// What is wrong with a model's text, and where. what() is "LINE:COL: message".
class ModelTextError : public Error {
 public:
  // `source` names where the text came from ("model" for --model, a file's path); what() is then
  // "SOURCE:LINE:COL: message".
  ModelTextError(int line, int col, const std::string& message, const std::string& source = "")
      : Error((source.empty() ? "" : source + ":") + std::to_string(line) + ":" + std::to_string(col) + ": " + message),
        line_(line), col_(col), message_(message), source_(source) {}
  int line() const { return line_; }
  int col() const { return col_; }
  const std::string& message() const { return message_; }  // without the position
  const std::string& source() const { return source_; }

 private:
  int line_, col_;
  std::string message_, source_;
};

// Limits on what a model's text may ask for (docs/custom.md says them).
struct ModelTextLimits {
  static constexpr size_t kMaxChars = 16384;       // the whole text
  static constexpr int kMaxLines = 200;            // assignments
  static constexpr int kMaxDepth = 400;            // parser levels (a parenthesis or call is about five)
  static constexpr int kMaxOps = 1000;             // ops on the tape
  static constexpr int64_t kMaxEntries = 65536;    // entries of any one tensor
  static constexpr int64_t kMaxTotal = 1 << 22;    // entries of every tensor of the model together
};

// One node of an expression.
struct ExprNode {
  enum class Kind { number, name, neg, binary, call };
  Kind kind = Kind::number;
  double value = 0;       // number: its value
  std::string name;       // name: the name; call: the function
  std::string op;         // binary: "+", "-", "*", "/", "@", "**"
  std::vector<int> args;  // operands (node ids)
  int line = 0, col = 0;  // where it starts (binary: where its operator is)
};

struct ModelLine {
  std::string name;  // the left-hand side
  int root = -1;     // node id of its expression
  int line = 0, col = 0;
};

struct ModelText {
  std::vector<ExprNode> nodes;
  std::vector<ModelLine> lines;
  std::vector<std::string> leaves;  // names used before any line assigns them, in order of first use
  std::map<std::string, std::pair<int, int>> leaf_pos;  // where each leaf is first used
  const std::string& loss() const { return lines.back().name; }
};

// The functions the language knows, in the order error messages list them.
const std::vector<std::string>& model_functions();

// Parses a model's text. Throws ModelTextError (line, column, what) for anything that is not a
// model: a character the language has no use for, a missing operand or parenthesis, an unknown
// function, `**` with an exponent that is not a number, a name assigned twice or used in its own
// line, a line that computes nothing, an empty model, a text over the limits.
ModelText parse_model_text(const std::string& text);

// The shape of every node, given each leaf's shape: `+ - * / max` take equal shapes, a single
// number beside anything, or a vector [m] beside a matrix [n,m]; `@` takes [n,k]@[k,m] (a vector
// on the left is one row, on the right one column); sum and mean give one number; the loss must
// be one number. Throws ModelTextError at the operator whose shapes do not fit, naming both.
std::vector<Shape> model_text_shapes(const ModelText& m, const std::map<std::string, Shape>& leaf_shapes);

}  // namespace gs
