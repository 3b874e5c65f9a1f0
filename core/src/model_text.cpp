// The language of a model of one's own (docs/custom.md): a tokenizer that counts lines and
// columns in characters, a recursive-descent parser with one function per precedence level, and
// the shape rules. Numbers written in the text are folded where they meet only other numbers
// (`2 * 3`, `exp(0)`), so every node that reaches the tape depends on a leaf.
#include "gradscope/model_text.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

namespace gs {

const std::vector<std::string>& model_functions() {
  static const std::vector<std::string> f = {"relu", "tanh",    "sigmoid", "exp",  "log",    "gelu",
                                             "abs",  "max",     "sum",     "mean", "softmax", "log_softmax"};
  return f;
}

namespace {

using Limits = ModelTextLimits;

struct Token {
  enum class Kind { name, number, op, newline, end };
  Kind kind = Kind::end;
  std::string text;  // the name, the operator ("+", "**", "(", "=", ",", ";") or the number as written
  double value = 0;
  int line = 1, col = 1;
};

std::string quoted(const std::string& s) { return "`" + s + "`"; }

std::string function_list() {
  std::string s;
  for (const std::string& f : model_functions()) s += (s.empty() ? "" : ", ") + f;
  return s;
}

// [SECTION] tokens

class Lexer {
 public:
  explicit Lexer(const std::string& text) : s_(text) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    while (true) {
      skip_blanks();
      Token t;
      t.line = line_;
      t.col = col_;
      if (i_ >= s_.size()) {
        t.kind = Token::Kind::end;
        out.push_back(t);
        return out;
      }
      const unsigned char ch = static_cast<unsigned char>(s_[i_]);
      if (ch == '\n' || ch == ';') {
        t.kind = Token::Kind::newline;
        t.text = ch == ';' ? ";" : "end of line";
        advance(1);
        if (ch == '\n') newline();
      } else if (std::isalpha(ch)) {
        t.kind = Token::Kind::name;
        size_t j = i_;
        while (j < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[j])) || s_[j] == '_')) ++j;
        t.text = s_.substr(i_, j - i_);
        if (t.text.size() > 64) throw ModelTextError(t.line, t.col, "the name " + quoted(t.text.substr(0, 20) + "…") + " is longer than 64 characters");
        advance(j - i_);
      } else if (std::isdigit(ch) || (ch == '.' && i_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_ + 1])))) {
        t.kind = Token::Kind::number;
        size_t j = i_;
        while (j < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[j])) || s_[j] == '.')) ++j;
        if (j < s_.size() && (s_[j] == 'e' || s_[j] == 'E')) {
          size_t k = j + 1;
          if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) ++k;
          if (k < s_.size() && std::isdigit(static_cast<unsigned char>(s_[k]))) {
            j = k;
            while (j < s_.size() && std::isdigit(static_cast<unsigned char>(s_[j]))) ++j;
          }
        }
        t.text = s_.substr(i_, j - i_);
        const char* end = t.text.data() + t.text.size();
        auto [p, ec] = std::from_chars(t.text.data(), end, t.value);
        if (ec != std::errc() || p != end || !std::isfinite(t.value))
          throw ModelTextError(t.line, t.col, quoted(t.text) + " is not a number (numbers look like 2, 0.5 or 1e-3)");
        advance(j - i_);
        if (i_ < s_.size() && (std::isalpha(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_'))
          throw ModelTextError(line_, col_, "a number is followed by a letter: write " + quoted(t.text + " * …") +
                                                " to multiply");
      } else {
        t.kind = Token::Kind::op;
        operator_token(t);
      }
      out.push_back(t);
    }
  }

 private:
  void skip_blanks() {
    while (i_ < s_.size()) {
      const char ch = s_[i_];
      if (ch == ' ' || ch == '\t' || ch == '\r') {
        advance(1);
      } else if (ch == '#') {
        while (i_ < s_.size() && s_[i_] != '\n') advance(1);
      } else {
        return;
      }
    }
  }
  // Moves n bytes on, counting characters (UTF-8 continuation bytes do not start one).
  void advance(size_t n) {
    for (size_t k = 0; k < n && i_ < s_.size(); ++k, ++i_)
      if ((static_cast<unsigned char>(s_[i_]) & 0xC0) != 0x80) ++col_;
  }
  void newline() {
    ++line_;
    col_ = 1;
  }
  bool at(const char* w) const { return s_.compare(i_, std::char_traits<char>::length(w), w) == 0; }

  void operator_token(Token& t) {
    // Two-character and non-ASCII spellings first: ** , ^ , · (U+00B7), × (U+00D7), − (U+2212).
    struct Spelling {
      const char* in;
      const char* op;
    };
    static const Spelling kSpell[] = {{"**", "**"}, {"^", "**"}, {"\xC2\xB7", "*"}, {"\xC3\x97", "*"},
                                      {"\xE2\x88\x92", "-"}, {"+", "+"}, {"-", "-"}, {"*", "*"}, {"/", "/"},
                                      {"@", "@"}, {"(", "("}, {")", ")"}, {",", ","}, {"=", "="}};
    for (const Spelling& sp : kSpell)
      if (at(sp.in)) {
        t.text = sp.op;
        advance(std::char_traits<char>::length(sp.in));
        return;
      }
    // One character, whole (a UTF-8 sequence), for the message.
    size_t n = 1;
    while (i_ + n < s_.size() && (static_cast<unsigned char>(s_[i_ + n]) & 0xC0) == 0x80 && n < 4) ++n;
    const unsigned char ch = static_cast<unsigned char>(s_[i_]);
    std::string shown = ch < 0x20 || ch == 0x7F ? "character " + std::to_string(ch) : quoted(s_.substr(i_, n));
    if (ch == '[' || ch == ']')
      throw ModelTextError(line_, col_, shown + ": values are not written in the model; give a leaf's values with "
                                             "--set NAME=… (or in the lesson's [values])");
    throw ModelTextError(line_, col_, shown + " has no meaning here (the operators are + - * / @ ** and parentheses)");
  }

  const std::string& s_;
  size_t i_ = 0;
  int line_ = 1, col_ = 1;
};

// [SECTION] the parser

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

  ModelText run() {
    while (true) {
      while (peek().kind == Token::Kind::newline) ++p_;
      if (peek().kind == Token::Kind::end) break;
      line();
    }
    if (m_.lines.empty()) {
      if (!constants_.empty())
        throw ModelTextError(last_line_, last_col_, "the model only names numbers: its last line must compute the loss from leaves");
      throw ModelTextError(1, 1, "the model is empty: write one assignment per line, e.g. `f = (x + y) * z`");
    }
    if (!last_was_op_)
      throw ModelTextError(last_line_, last_col_, "the last line, " + quoted(last_name_) +
                                                      ", is a number written in the text; the last line must compute the loss");
    return std::move(m_);
  }

 private:
  const Token& peek(int k = 0) const { return t_[std::min(p_ + k, t_.size() - 1)]; }
  const Token& take() { return t_[std::min(p_++, t_.size() - 1)]; }
  bool is_op(const char* s, int k = 0) const { return peek(k).kind == Token::Kind::op && peek(k).text == s; }

  [[noreturn]] void fail(const Token& t, const std::string& msg) const { throw ModelTextError(t.line, t.col, msg); }
  std::string shown(const Token& t) const {
    switch (t.kind) {
      case Token::Kind::end: return "the end of the text";
      case Token::Kind::newline: return t.text == ";" ? "`;`" : "the end of the line";
      default: return quoted(t.text);
    }
  }

  int node(ExprNode n) {
    if (static_cast<int>(m_.nodes.size()) >= 8 * Limits::kMaxOps)
      throw ModelTextError(n.line, n.col, "the model is too large: at most " + std::to_string(Limits::kMaxOps) + " ops");
    m_.nodes.push_back(std::move(n));
    return static_cast<int>(m_.nodes.size()) - 1;
  }
  int number(double v, int line, int col) {
    ExprNode n;
    n.kind = ExprNode::Kind::number;
    n.value = v + 0.0;
    n.line = line;
    n.col = col;
    return node(n);
  }
  bool is_number(int id) const { return m_.nodes[id].kind == ExprNode::Kind::number; }

  // NAME = EXPRESSION, then the end of the line.
  void line() {
    const Token& lhs = take();
    if (lhs.kind != Token::Kind::name)
      fail(lhs, "a line starts with the name it assigns, as in `f = q * z`; found " + shown(lhs));
    if (static_cast<int>(m_.lines.size() + constants_.size()) >= Limits::kMaxLines)
      fail(lhs, "the model is too large: at most " + std::to_string(Limits::kMaxLines) + " lines");
    if (!is_op("="))
      fail(peek(), "expected `=` after " + quoted(lhs.text) + " (each line is NAME = EXPRESSION); found " + shown(peek()));
    ++p_;
    if (is_function(lhs.text)) fail(lhs, quoted(lhs.text) + " is the name of a function; choose another name");
    if (assigned_.count(lhs.text)) {
      const auto [l, c] = assigned_.at(lhs.text);
      fail(lhs, quoted(lhs.text) + " is assigned twice (first on line " + std::to_string(l) + ", column " +
                    std::to_string(c) + "); give each value its own name");
    }
    if (auto it = m_.leaf_pos.find(lhs.text); it != m_.leaf_pos.end())
      fail(lhs, quoted(lhs.text) + " is used on line " + std::to_string(it->second.first) +
                    " before this line assigns it; a name is either a leaf (never assigned) or assigned before its use");
    current_ = lhs.text;
    current_pos_ = {lhs.line, lhs.col};
    depth_ = 0;
    const int root = expr();
    const Token& end = peek();
    if (end.kind != Token::Kind::newline && end.kind != Token::Kind::end) {
      if (is_op(")")) fail(end, "a `)` without its `(`");
      fail(end, "expected the end of the line after the expression; found " + shown(end) +
                    (end.kind == Token::Kind::name || end.kind == Token::Kind::number ? " (a missing operator?)" : ""));
    }
    assigned_[lhs.text] = {lhs.line, lhs.col};
    last_line_ = lhs.line;
    last_col_ = lhs.col;
    last_name_ = lhs.text;
    const ExprNode& r = m_.nodes[root];
    if (r.kind == ExprNode::Kind::number) {  // a name for a number: used as that number from here on
      constants_[lhs.text] = r.value;
      last_was_op_ = false;
      return;
    }
    if (r.kind == ExprNode::Kind::name)
      fail(lhs, quoted(lhs.text + " = " + r.name) + " computes nothing (it only copies " + quoted(r.name) + "); use " +
                    quoted(r.name) + " itself where you need it");
    m_.lines.push_back({lhs.text, root, lhs.line, lhs.col});
    last_was_op_ = true;
  }

  // Each level of the grammar a nesting passes through counts one: a parenthesis costs five.
  void enter(const Token& t) {
    if (++depth_ > Limits::kMaxDepth) fail(t, "the expression is nested too deeply for the parser");
  }

  // + and −, loosest.
  int expr() {
    enter(peek());
    int a = term();
    while (is_op("+") || is_op("-")) {
      const Token op = take();
      a = binary(op, a, term());
    }
    --depth_;
    return a;
  }
  // *, / and @.
  int term() {
    enter(peek());
    int a = unary();
    while (is_op("*") || is_op("/") || is_op("@")) {
      const Token op = take();
      a = binary(op, a, unary());
    }
    --depth_;
    return a;
  }
  // Unary minus: −x ** 2 is −(x ** 2), as in Python.
  int unary() {
    enter(peek());
    int r;
    if (is_op("-")) {
      const Token op = take();
      const int x = unary();
      if (is_number(x)) {
        r = number(-m_.nodes[x].value, op.line, op.col);
      } else {
        ExprNode n;
        n.kind = ExprNode::Kind::neg;
        n.args = {x};
        n.line = op.line;
        n.col = op.col;
        r = node(n);
      }
    } else if (is_op("+")) {
      fail(peek(), "a `+` with nothing before it");
    } else {
      r = power();
    }
    --depth_;
    return r;
  }
  // x ** c, right-associative; c must be a number.
  int power() {
    enter(peek());
    int base = primary();
    if (is_op("**")) {
      const Token op = take();
      const int e = unary();
      if (!is_number(e))
        fail(op, "the exponent of `**` must be a number written in the text (as in micrograd), such as `x ** 2`");
      base = binary(op, base, e);
    }
    --depth_;
    return base;
  }

  int primary() {
    enter(peek());
    const Token t = take();
    int r = -1;
    if (t.kind == Token::Kind::number) {
      r = number(t.value, t.line, t.col);
    } else if (t.kind == Token::Kind::name) {
      if (is_op("(")) {
        r = call(t);
      } else if (is_function(t.text)) {
        fail(t, quoted(t.text) + " is a function: call it with parentheses, as in " + quoted(t.text + "(x)"));
      } else if (auto c = constants_.find(t.text); c != constants_.end()) {
        r = number(c->second, t.line, t.col);
      } else {
        if (t.text == current_)
          fail(t, quoted(t.text) + " is used in the line that assigns it; give the new value its own name");
        if (!assigned_.count(t.text) && !m_.leaf_pos.count(t.text)) {
          m_.leaves.push_back(t.text);
          m_.leaf_pos[t.text] = {t.line, t.col};
        }
        ExprNode n;
        n.kind = ExprNode::Kind::name;
        n.name = t.text;
        n.line = t.line;
        n.col = t.col;
        r = node(n);
      }
    } else if (t.kind == Token::Kind::op && t.text == "(") {
      r = expr();
      if (!is_op(")")) fail(t, "this `(` is never closed (found " + shown(peek()) + " where `)` belongs)");
      ++p_;
    } else if (t.kind == Token::Kind::op && t.text == ")") {
      fail(t, "a `)` where a value belongs");
    } else if (t.kind == Token::Kind::op) {
      fail(t, "expected a value (a number, a name or a parenthesis) before " + quoted(t.text));
    } else {
      const Token& prev = t_[p_ >= 2 ? p_ - 2 : 0];
      fail(t, "expected a value after " + shown(prev) + "; found " + shown(t));
    }
    --depth_;
    return r;
  }

  int call(const Token& fn) {
    if (!is_function(fn.text)) {
      if (assigned_.count(fn.text) || m_.leaf_pos.count(fn.text) || constants_.count(fn.text))
        fail(fn, quoted(fn.text) + " is a value, not a function (write " + quoted(fn.text + " * (…)") + " to multiply)");
      fail(fn, quoted(fn.text) + " is not a function; the functions are " + function_list());
    }
    const Token& open = take();  // "("
    std::vector<int> args;
    if (!is_op(")")) {
      while (true) {
        args.push_back(expr());
        if (is_op(",")) {
          ++p_;
          continue;
        }
        break;
      }
    }
    if (!is_op(")")) fail(open, "the `(` of " + quoted(fn.text) + " is never closed (found " + shown(peek()) + ")");
    ++p_;
    const size_t want = fn.text == "max" ? 2 : 1;
    if (args.size() != want)
      fail(fn, quoted(fn.text) + " takes " + (want == 2 ? "two values, as in `max(a, b)`" : "one value, as in `" + fn.text + "(x)`") +
                   "; it was given " + std::to_string(args.size()));
    bool all_numbers = true;
    for (int a : args) all_numbers = all_numbers && is_number(a);
    if (all_numbers) return number(fold_call(fn.text, args), fn.line, fn.col);
    ExprNode n;
    n.kind = ExprNode::Kind::call;
    n.name = fn.text;
    n.args = std::move(args);
    n.line = fn.line;
    n.col = fn.col;
    return node(n);
  }

  double fold_call(const std::string& f, const std::vector<int>& a) const {
    const double x = m_.nodes[a[0]].value;
    if (f == "relu") return x > 0 ? x : 0;
    if (f == "tanh") return std::tanh(x);
    if (f == "sigmoid") return 1 / (1 + std::exp(-x));
    if (f == "exp") return std::exp(x);
    if (f == "log") return std::log(x);
    if (f == "gelu") return 0.5 * x * (1 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
    if (f == "abs") return std::fabs(x);
    if (f == "max") return std::max(x, m_.nodes[a[1]].value);
    if (f == "softmax") return 1;
    if (f == "log_softmax") return 0;
    return x;  // sum and mean of one number
  }

  int binary(const Token& op, int a, int b) {
    if (is_number(a) && is_number(b)) {
      const double x = m_.nodes[a].value, y = m_.nodes[b].value;
      double v = 0;
      if (op.text == "+") v = x + y;
      else if (op.text == "-") v = x - y;
      else if (op.text == "*" || op.text == "@") v = x * y;
      else if (op.text == "/") v = x / y;
      else v = std::pow(x, y);
      if (!std::isfinite(v)) fail(op, "this arithmetic of numbers gives " + std::string(std::isnan(v) ? "nan" : "infinity"));
      return number(v, m_.nodes[a].line, m_.nodes[a].col);
    }
    ExprNode n;
    n.kind = ExprNode::Kind::binary;
    n.op = op.text;
    n.args = {a, b};
    n.line = op.line;
    n.col = op.col;
    return node(n);
  }

  static bool is_function(const std::string& s) {
    const auto& f = model_functions();
    return std::find(f.begin(), f.end(), s) != f.end();
  }

  std::vector<Token> t_;
  size_t p_ = 0;
  ModelText m_;
  std::map<std::string, std::pair<int, int>> assigned_;
  std::map<std::string, double> constants_;
  std::string current_;
  std::pair<int, int> current_pos_;
  int depth_ = 0;
  int last_line_ = 1, last_col_ = 1;
  std::string last_name_;
  bool last_was_op_ = false;
};

}  // namespace

ModelText parse_model_text(const std::string& text) {
  if (text.size() > Limits::kMaxChars)
    throw ModelTextError(1, 1, "the model is too large to read: " + std::to_string(text.size()) + " bytes, at most " +
                                   std::to_string(Limits::kMaxChars));
  if (text.find('\0') != std::string::npos) {
    int line = 1, col = 1;
    for (size_t i = 0; text[i]; ++i) {
      if (text[i] == '\n') ++line, col = 1;
      else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++col;
    }
    throw ModelTextError(line, col, "a NUL character has no meaning in a model");
  }
  ModelText m = Parser(Lexer(text).run()).run();
  // Ops the tape will hold: every operator and call.
  int ops = 0;
  for (const ExprNode& n : m.nodes) ops += n.kind == ExprNode::Kind::neg || n.kind == ExprNode::Kind::binary || n.kind == ExprNode::Kind::call;
  if (ops > Limits::kMaxOps)
    throw ModelTextError(m.lines.back().line, 1, "the model is too large: " + std::to_string(ops) + " ops, at most " +
                                                     std::to_string(Limits::kMaxOps));
  return m;
}

// [SECTION] shapes

namespace {

std::string shape_words(const Shape& s) {
  if (s.empty()) return "one number";
  if (s.size() == 1) return "a vector [" + std::to_string(s[0]) + "]";
  return "a matrix [" + std::to_string(s[0]) + "," + std::to_string(s[1]) + "]";
}

}  // namespace

std::vector<Shape> model_text_shapes(const ModelText& m, const std::map<std::string, Shape>& leaf_shapes) {
  std::vector<Shape> shape(m.nodes.size());
  std::map<std::string, Shape> named = leaf_shapes;
  int64_t total = 0;
  for (const auto& [name, s] : leaf_shapes) total += numel(s);
  auto fits = [](const Shape& a, const Shape& b, Shape& out) {
    if (a == b) return out = a, true;
    if (a.empty()) return out = b, true;
    if (b.empty()) return out = a, true;
    if (a.size() == 1 && b.size() == 2 && b[1] == a[0]) return out = b, true;
    if (b.size() == 1 && a.size() == 2 && a[1] == b[0]) return out = a, true;
    return false;
  };
  std::map<int, std::string> line_of_root;
  for (const ModelLine& l : m.lines) line_of_root[l.root] = l.name;
  // Nodes are stored children first, and a line's nodes before the next line's, so one pass in
  // order sees every operand's shape.
  for (size_t i = 0; i < m.nodes.size(); ++i) {
    const ExprNode& n = m.nodes[i];
    auto fail = [&](const std::string& msg) { throw ModelTextError(n.line, n.col, msg); };
    auto arg = [&](int k) -> const Shape& { return shape[n.args[k]]; };
    switch (n.kind) {
      case ExprNode::Kind::number: shape[i] = {}; break;
      case ExprNode::Kind::name: {
        auto it = named.find(n.name);
        if (it == named.end())
          fail("the leaf " + quoted(n.name) + " has no value: give it one with --set " + n.name +
               "=… (a number, a list, or rows separated by ';'), or in a lesson's [values]");
        shape[i] = it->second;
        break;
      }
      case ExprNode::Kind::neg: shape[i] = arg(0); break;
      case ExprNode::Kind::binary:
        if (n.op == "@") {
          const Shape &a = arg(0), &b = arg(1);
          if (a.empty() || b.empty())
            fail("`@` multiplies matrices or vectors; " + std::string(a.empty() ? "its left side" : "its right side") +
                 " is one number (use `*` for that)");
          const int64_t k1 = a.back(), k2 = b[0];
          if (k1 != k2)
            fail("`@` needs the left side's columns to match the right side's rows: " + shape_words(a) + " @ " +
                 shape_words(b));
          Shape out;
          if (a.size() == 2) out.push_back(a[0]);
          if (b.size() == 2) out.push_back(b[1]);
          shape[i] = out;
        } else if (n.op == "**") {
          shape[i] = arg(0);
        } else if (!fits(arg(0), arg(1), shape[i])) {
          fail("`" + n.op + "` needs equal shapes, one number beside anything, or a vector [m] beside a matrix [n,m]; "
               "here " + shape_words(arg(0)) + " and " + shape_words(arg(1)));
        }
        break;
      case ExprNode::Kind::call:
        if (n.name == "max") {
          if (!fits(arg(0), arg(1), shape[i]))
            fail("`max` needs equal shapes, one number beside anything, or a vector [m] beside a matrix [n,m]; here " +
                 shape_words(arg(0)) + " and " + shape_words(arg(1)));
        } else if (n.name == "sum" || n.name == "mean") {
          shape[i] = {};
        } else if ((n.name == "softmax" || n.name == "log_softmax") && arg(0).empty()) {
          fail("`" + n.name + "` works along each row of a vector or matrix; here it was given one number");
        } else {
          shape[i] = arg(0);
        }
        break;
    }
    if (numel(shape[i]) > ModelTextLimits::kMaxEntries)
      fail("this value would have " + std::to_string(numel(shape[i])) + " entries, more than the " +
           std::to_string(ModelTextLimits::kMaxEntries) + " a model may hold in one value");
    if (auto l = line_of_root.find(static_cast<int>(i)); l != line_of_root.end()) named[l->second] = shape[i];
    if (n.kind != ExprNode::Kind::number && n.kind != ExprNode::Kind::name) {
      total += numel(shape[i]);
      if (total > ModelTextLimits::kMaxTotal)
        fail("the model would hold more than " + std::to_string(ModelTextLimits::kMaxTotal) + " entries in all");
    }
  }
  const ModelLine& loss = m.lines.back();
  if (!shape[loss.root].empty())
    throw ModelTextError(loss.line, loss.col, "the last line is the loss and must be one number; " + quoted(loss.name) +
                                                  " is " + shape_words(shape[loss.root]) +
                                                  " (wrap it in sum(…) or mean(…))");
  return shape;
}

}  // namespace gs
