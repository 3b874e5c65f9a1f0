// Lesson files: TOML through toml++, checked key by key with the line and column of what is wrong.
#include "gradscope/lesson.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <toml++/toml.h>

#include "gradscope/datadir.h"
#include "gradscope/error.h"
#include "gradscope/fileio.h"
#include "gradscope/model_text.h"
#include "gradscope/program.h"
#include "gradscope/tokenizer.h"
#include "gradscope/train.h"

namespace gs {

const std::vector<std::string>& lesson_views() {
  static const std::vector<std::string> v = {"inspector", "tape",      "graph",  "flops",  "checks",      "mistakes",
                                             "training",  "attention", "wiggle", "update", "predictions", "model"};
  return v;
}

namespace {

namespace fs = std::filesystem;

// Reads a lesson's tables; every error and warning names the file, line and column.
class Reader {
 public:
  Reader(std::string path) : path_(std::move(path)) {}

  // Every message is one line of printable text, whatever the file holds (printable()).
  [[noreturn]] void fail(const toml::source_region& at, const std::string& what) const {
    throw Error(where(at) + ": " + printable(what, 1000));
  }
  std::string where(const toml::source_region& at) const {
    return printable(path_, 1000) + ":" + std::to_string(at.begin.line) + ":" + std::to_string(at.begin.column);
  }
  void warn(const toml::source_region& at, const std::string& what) { warnings.push_back(where(at) + ": " + what); }

  // Where the model text of [custom] starts in the file: after its opening quotes, or on the next
  // line when a """ is followed by a line break (TOML drops that one).
  void locate_model(const toml::node& n, const std::string& file_text) {
    model_line_ = static_cast<int>(n.source().begin.line);
    model_col_ = static_cast<int>(n.source().begin.column);
    size_t off = 0;
    for (int l = 1; l < model_line_ && off < file_text.size(); ++l) off = file_text.find('\n', off) + 1;
    for (int c = 1; c < model_col_ && off < file_text.size(); ++c) {
      ++off;
      while (off < file_text.size() && (static_cast<unsigned char>(file_text[off]) & 0xC0) == 0x80) ++off;
    }
    const bool triple = file_text.compare(off, 3, "\"\"\"") == 0 || file_text.compare(off, 3, "'''") == 0;
    const size_t after = off + (triple ? 3 : 1);
    if (triple && (file_text.compare(after, 1, "\n") == 0 || file_text.compare(after, 2, "\r\n") == 0)) {
      ++model_line_;
      model_col_ = 1;
    } else {
      model_col_ += triple ? 3 : 1;
    }
  }
  // A model-text error at its place in the file.
  [[noreturn]] void fail_in_model(const ModelTextError& e) const {
    const int line = model_line_ + e.line() - 1, col = e.line() == 1 ? model_col_ + e.col() - 1 : e.col();
    throw Error(path_ + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + e.message());
  }

  // Every key of `t` must be one of `known`; the others warn.
  void keys(const toml::table& t, std::initializer_list<const char*> known, const std::string& in) {
    for (const auto& entry : t) {
      const toml::key& k = entry.first;  // not a structured binding: clang 14 cannot capture one
      const bool ok = std::any_of(known.begin(), known.end(), [&](const char* x) { return k.str() == x; });
      if (!ok) warn(k.source(), "unknown key '" + printable(k.str()) + "'" + in + " (ignored)");
    }
  }

  // A string's limits: at most `max` bytes; no control characters (a text may hold line breaks
  // and tabs), so nothing from a file can move a terminal's cursor or cut a line short.
  void text_ok(const toml::node& n, const std::string& key, const std::string& v, size_t max, bool multiline) const {
    if (v.size() > max)
      fail(n.source(), "'" + key + "' is " + std::to_string(v.size()) + " bytes long; a lesson allows " +
                           std::to_string(max));
    for (size_t i = 0; i < v.size(); ++i) {
      const unsigned char ch = static_cast<unsigned char>(v[i]);
      const bool c1 = ch == 0xC2 && i + 1 < v.size() && static_cast<unsigned char>(v[i + 1]) <= 0x9F;
      if ((ch < 0x20 && !(multiline && (ch == '\n' || ch == '\t'))) || ch == 0x7F || c1)
        fail(n.source(), "'" + key + "' holds a control character (" + printable(v.substr(i, c1 ? 2 : 1)) + ")" +
                             (multiline ? "; text may hold line breaks and tabs only" : ""));
    }
  }

  std::string str(const toml::table& t, const char* key, bool required, const toml::source_region& owner,
                  const std::string& what, size_t max = LessonLimits::kLine, bool multiline = false) const {
    const toml::node* n = t.get(key);
    if (!n) {
      if (required) fail(owner, what + " needs '" + key + "'");
      return "";
    }
    if (!n->is_string()) fail(n->source(), "'" + std::string(key) + "' must be a string (text in quotes)");
    const std::string v = n->as_string()->get();
    text_ok(*n, key, v, max, multiline);
    return v;
  }
  std::optional<int64_t> integer(const toml::table& t, const char* key) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) fail(n->source(), "'" + std::string(key) + "' must be a whole number");
    return n->as_integer()->get();
  }
  std::optional<double> number(const toml::table& t, const char* key) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (n->is_integer()) return static_cast<double>(n->as_integer()->get());
    if (!n->is_floating_point()) fail(n->source(), "'" + std::string(key) + "' must be a number");
    return n->as_floating_point()->get();
  }
  std::vector<std::string> strings(const toml::table& t, const char* key) const {
    std::vector<std::string> out;
    const toml::node* n = t.get(key);
    if (!n) return out;
    if (n->is_string()) {
      text_ok(*n, key, n->as_string()->get(), LessonLimits::kLine, false);
      return {n->as_string()->get()};
    }
    if (!n->is_array()) fail(n->source(), "'" + std::string(key) + "' must be a list of strings, [\"a\", \"b\"]");
    for (const toml::node& e : *n->as_array()) {
      if (!e.is_string()) fail(e.source(), "'" + std::string(key) + "' must hold strings only");
      out.push_back(e.as_string()->get());
      text_ok(e, key, out.back(), LessonLimits::kLine, false);
    }
    return out;
  }

  std::string path_;
  int model_line_ = 1, model_col_ = 1;  // where [custom]'s model text starts
  std::vector<std::string> warnings;
};

// A lesson's shape, before the TOML parser sees it. toml++ bounds the nesting of arrays and inline
// tables but builds the tables of a dotted key or a [header] recursively: 30,000 parts overflow
// the stack. So the dotted parts of every key and the nesting of tables, arrays and inline tables
// are counted here, outside strings and comments, and bounded (LessonLimits). Over-counting is
// harmless (the limits are far above what a lesson needs); the parser checks the syntax itself.
void check_shape(const std::string& t, const std::string& path) {
  int line = 1;
  size_t line_start = 0;
  auto fail = [&](size_t i, const std::string& what) {
    size_t col = 1;  // in characters, as the parser counts
    for (size_t j = line_start; j < i; ++j) col += (static_cast<unsigned char>(t[j]) & 0xC0) != 0x80;
    throw Error(printable(path, 1000) + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + what);
  };
  const std::string parts_limit = std::to_string(LessonLimits::kKeyParts);
  const std::string depth_limit = std::to_string(LessonLimits::kNesting);
  bool in_key = true;                   // reading a key (or a header), else a value
  int parts = 1;                        // dotted parts of the key being read
  int pending = 0;                      // the parts of the key whose value is being read
  std::vector<std::pair<char, int>> open;  // the value's open '[' and '{', and the depth each adds
  int depth = 0;
  const size_t n = t.size();
  for (size_t i = 0; i < n; ++i) {
    const char c = t[i];
    if (c == '\n') {
      ++line;
      line_start = i + 1;
      if (open.empty()) in_key = true, parts = 1, pending = 0;
    } else if (c == '#') {
      while (i + 1 < n && t[i + 1] != '\n') ++i;
    } else if (c == '"' || c == '\'') {  // a string or a quoted key: skipped whole
      const bool multi = i + 2 < n && t[i + 1] == c && t[i + 2] == c;
      for (i += multi ? 3 : 1; i < n; ++i) {
        if (t[i] == '\n') {
          if (!multi) break;  // unterminated: the parser says so
          ++line;
          line_start = i + 1;
        } else if (c == '"' && t[i] == '\\') {
          if (i + 1 < n && t[i + 1] == '\n') ++line, line_start = i + 2;
          ++i;
        } else if (t[i] == c && (!multi || (i + 2 < n && t[i + 1] == c && t[i + 2] == c))) {
          if (multi) i += 2;
          while (multi && i + 1 < n && t[i + 1] == c) ++i;  // up to two quotes end the text
          break;
        }
      }
      if (i < n && t[i] == '\n') --i;  // the line break is counted by the loop
    } else if (in_key) {
      if (c == '.' && ++parts > LessonLimits::kKeyParts)
        fail(i, "a key or table header has more than " + parts_limit + " dotted parts (a lesson file allows " +
                    parts_limit + ")");
      if (c == '=') {
        if (depth + parts > LessonLimits::kNesting)
          fail(i, "tables nested more than " + depth_limit + " deep (a lesson file allows " + depth_limit + ")");
        in_key = false;
        pending = parts;
        parts = 1;
      } else if (c == '}' && !open.empty() && open.back().first == '{') {  // {} or a trailing comma
        depth -= open.back().second;
        open.pop_back();
        in_key = false;
      }
    } else if (c == '[' || c == '{') {
      const int d = std::max(pending, 1);
      pending = 0;
      open.emplace_back(c, d);
      depth += d;
      if (depth > LessonLimits::kNesting)
        fail(i, "values nested more than " + depth_limit + " deep (a lesson file allows " + depth_limit + ")");
      if (c == '{') in_key = true, parts = 1;
    } else if ((c == ']' || c == '}') && !open.empty()) {
      depth -= open.back().second;
      open.pop_back();
    } else if (c == ',' && !open.empty() && open.back().first == '{') {
      in_key = true, parts = 1;
    }
  }
}

// "%.17g" without trailing noise: the values of [values] as --set items.
std::string number_text(double v) {
  char b[40];
  snprintf(b, sizeof b, "%.17g", v);
  return b;
}

// A checkpoint in [model]: a file beside the lesson file, else under assets/. A lesson file
// travels between teachers, so it names nothing else: no absolute path, no "..", nothing that
// is not a regular file (the checkpoint reader says which of these it is).
std::string checkpoint_path(Reader& r, const toml::node& n, const std::string& given, const std::string& lesson_path) {
  if (given.empty()) r.fail(n.source(), "'checkpoint' is empty: name a file beside the lesson file or under assets/");
  const fs::path g(given);
  if (g.is_absolute())
    r.fail(n.source(), "'checkpoint' must name a file beside the lesson file or under assets/, not an absolute path "
                       "(a teacher's own file can be given with --checkpoint)");
  for (const fs::path& part : g)
    if (part == "..")
      r.fail(n.source(), "'checkpoint' must name a file beside the lesson file or under assets/; \"..\" leaves them");
  std::error_code ec;
  const fs::path beside = fs::path(lesson_path).parent_path() / g;
  if (fs::exists(beside, ec)) return beside.string();
  const std::string assets = asset_path(given);
  if (fs::exists(assets, ec)) return assets;
  r.fail(n.source(), "'checkpoint': no file " + printable(given) + " beside the lesson file (" + printable(beside.string(), 200) +
                         ") or under the assets (" + printable(assets, 200) + ")");
}

void read_model(Reader& r, const toml::table& m, ModelSpec& s, const std::string& lesson_path) {
  r.keys(m,
         {"preset", "text", "tokens", "seq", "batch", "seed", "dtype", "checkpoint", "lora_rank", "lora_alpha",
          "lora_targets", "tokenizer", "layers", "heads", "embd", "vocab", "ctx"},
         " in [model]");
  auto small_int = [&](const char* key) -> std::optional<int> {
    const auto v = r.integer(m, key);
    if (!v) return std::nullopt;
    if (*v < 0 || *v > (int64_t(1) << 30)) r.fail(m.get(key)->source(), "'" + std::string(key) + "' is out of range");
    return static_cast<int>(*v);
  };
  if (m.contains("preset")) s.preset = r.str(m, "preset", false, m.source(), "");
  if (m.contains("text")) s.text = r.str(m, "text", false, m.source(), "", 1u << 16, true);
  if (const toml::node* n = m.get("tokens")) {
    if (!n->is_array()) r.fail(n->source(), "'tokens' must be a list of token ids, [1, 2, 3]");
    std::string list;
    for (const toml::node& e : *n->as_array()) {
      if (!e.is_integer()) r.fail(e.source(), "'tokens' must hold whole numbers only");
      if (!list.empty()) list += ',';  // appended piece by piece: GCC 12 mis-warns (-Wrestrict) on "" + string
      list += std::to_string(e.as_integer()->get());
    }
    s.tokens = list;
  }
  s.seq = small_int("seq");
  s.batch = small_int("batch");
  if (const auto v = r.integer(m, "seed")) {
    if (*v < 0) r.fail(m.get("seed")->source(), "'seed' must be 0 or more");
    s.seed = static_cast<uint64_t>(*v);
  }
  if (m.contains("dtype")) {
    s.dtype = r.str(m, "dtype", false, m.source(), "");
    if (*s.dtype != "f32" && *s.dtype != "f64") r.fail(m.get("dtype")->source(), "'dtype' must be \"f32\" or \"f64\"");
  }
  if (m.contains("checkpoint"))
    s.checkpoint = checkpoint_path(r, *m.get("checkpoint"), r.str(m, "checkpoint", false, m.source(), "", 4096), lesson_path);
  s.lora_rank = small_int("lora_rank");
  s.lora_alpha = r.number(m, "lora_alpha");
  if (s.lora_alpha && !(*s.lora_alpha > 0 && std::isfinite(*s.lora_alpha)))
    r.fail(m.get("lora_alpha")->source(), "'lora_alpha' must be a positive finite number");
  if (m.contains("lora_targets")) {
    std::string t;
    for (const std::string& x : r.strings(m, "lora_targets")) t += (t.empty() ? "" : ",") + x;
    s.lora_targets = t;
  }
  if (m.contains("tokenizer")) s.tokenizer = r.str(m, "tokenizer", false, m.source(), "");
  s.layers = small_int("layers");
  s.heads = small_int("heads");
  s.embd = small_int("embd");
  s.vocab = small_int("vocab");
  s.ctx = small_int("ctx");
}

// [values]: a lesson program's parameters, inputs and sizes by name, as --set items.
void read_values(Reader& r, const toml::table& v, ModelSpec& s) {
  const Program& p = program(s.program);
  Config probe;
  probe.program = s.program;
  std::vector<std::string> names;
  try {
    p.configure(s, probe);
    names = program_for(probe)->value_names(probe);
  } catch (const ModelTextError& e) {
    r.fail_in_model(e);
  } catch (const Error& e) {
    r.fail(v.source(), e.what());
  }
  for (auto&& [k, n] : v) {
    const std::string name(k.str());
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      std::string list;
      for (const std::string& x : names) list += (list.empty() ? "" : ", ") + x;
      r.fail(k.source(), "program " + s.program + " has no parameter, input or size '" + printable(name) + "' (it has " + list + ")");
    }
    std::string item = name + "=";
    auto add = [&](const toml::node& e) {
      double x = 0;
      if (e.is_integer())
        x = static_cast<double>(e.as_integer()->get());
      else if (e.is_floating_point())
        x = e.as_floating_point()->get();
      else
        r.fail(e.source(), "'" + name + "' must be a number or a list of numbers, [1, 2.5]");
      if (!std::isfinite(x)) r.fail(e.source(), "'" + name + "' must be a finite number");
      item += (item.back() == '=' ? "" : ",") + number_text(x);
    };
    // One entry of a row: the caller writes the separators.
    auto add_bare = [&](const toml::node& e) {
      const size_t at = item.size();
      item += '=';  // so that add() writes no separator
      add(e);
      item.erase(at, 1);
    };
    if (n.is_array()) {
      const toml::array& a = *n.as_array();
      if (a.empty()) r.fail(n.source(), "'" + name + "' is an empty list");
      int rows = 0;
      for (const toml::node& e : a) rows += e.is_array();
      if (rows > 0 && rows != static_cast<int>(a.size()))
        r.fail(n.source(), "'" + name + "' mixes numbers and rows: a matrix is a list of rows, [[1, 2], [3, 4]]");
      for (const toml::node& e : a) {
        if (e.is_array()) {  // rows of a matrix, [[1, 2], [3, 4]]: row-major, rows apart by ';'
          if (item.back() != '=') item += ';';
          const size_t before = item.size();
          for (const toml::node& x : *e.as_array()) {
            if (item.size() > before) item += ',';
            add_bare(x);
          }
          if (item.size() == before) r.fail(e.source(), "'" + name + "' has an empty row");
          continue;
        }
        add(e);
      }
      if (rows == 1) item += ";";  // one row is still a matrix: a closing ';' says so
    } else {
      add(n);
    }
    s.sets.push_back(item);
  }
}

// [custom]: a model of one's own, `model = """…"""` and the optional `inputs = ["x", …]`. Errors
// in the text point at their line and column inside the file.
void read_custom(Reader& r, const toml::node& n, ModelSpec& s, const std::string& file_text) {
  if (!n.is_table()) r.fail(n.source(), "'custom' must be a table: [custom]");
  const toml::table& t = *n.as_table();
  r.keys(t, {"model", "inputs"}, " in [custom]");
  const auto own = program(s.program).own_flags();
  if (std::find(own.begin(), own.end(), "--model") == own.end())
    r.fail(n.source(), "[custom] holds the model of program \"custom\"; this lesson's program is " + s.program);
  s.model_text = r.str(t, "model", true, n.source(), "[custom]", ModelTextLimits::kMaxChars, true);
  r.locate_model(*t.get("model"), file_text);
  const std::vector<std::string> inputs = r.strings(t, "inputs");
  std::string list;
  for (const std::string& x : inputs) list += (list.empty() ? "" : ",") + x;
  if (!inputs.empty()) s.inputs = list;
  ModelText m;
  try {
    m = parse_model_text(*s.model_text);
  } catch (const ModelTextError& e) {
    r.fail_in_model(e);
  }
  for (const std::string& x : inputs)
    if (std::find(m.leaves.begin(), m.leaves.end(), x) == m.leaves.end()) {
      std::string leaves;
      for (const std::string& l : m.leaves) leaves += (leaves.empty() ? "" : ", ") + l;
      r.fail(t.get("inputs")->source(), "'" + x + "' is not a leaf of the model (its leaves: " + leaves + ")");
    }
}

LessonStep::At parse_at(Reader& r, const toml::node& n, std::string& op) {
  const std::string v = n.as_string()->get();
  if (v == "start") return LessonStep::At::start;
  if (v == "end") return LessonStep::At::end;
  for (auto [word, at] : {std::pair{"forward ", LessonStep::At::forward}, {"backward ", LessonStep::At::backward}})
    if (v.rfind(word, 0) == 0 && v.size() > std::string(word).size()) {
      op = v.substr(std::string(word).size());
      return at;
    }
  r.fail(n.source(), "'at' must be \"start\", \"end\", \"forward OP\" or \"backward OP\", not \"" + printable(v) + "\"");
}

LessonStep read_step(Reader& r, const toml::table& t, int index) {
  const std::string in = " in step " + std::to_string(index);
  r.keys(t, {"text", "question", "answer", "at", "show", "highlight", "plant", "repair", "check", "wiggle", "update"}, in);
  LessonStep s;
  s.line = static_cast<int>(t.source().begin.line);
  s.column = static_cast<int>(t.source().begin.column);
  s.text = r.str(t, "text", true, t.source(), "step " + std::to_string(index), LessonLimits::kText, true);
  s.question = r.str(t, "question", false, t.source(), "", LessonLimits::kText, true);
  s.answer = r.str(t, "answer", false, t.source(), "", LessonLimits::kText, true);
  if (!s.question.empty() && s.answer.empty()) r.fail(t.get("question")->source(), "a question needs its 'answer'");
  if (s.question.empty() && !s.answer.empty()) r.fail(t.get("answer")->source(), "an 'answer' needs its 'question'");
  if (const toml::node* at = t.get("at")) {
    if (!at->is_string()) r.fail(at->source(), "'at' must be a string: \"start\", \"end\", \"forward OP\" or \"backward OP\"");
    r.text_ok(*at, "at", at->as_string()->get(), LessonLimits::kLine, false);
    s.at = parse_at(r, *at, s.at_op);
  }
  s.show = r.strings(t, "show");
  for (std::string& v : s.show) {
    const auto& views = lesson_views();
    if (std::find(views.begin(), views.end(), v) == views.end()) {
      std::string all;
      for (const auto& x : views) all += (all.empty() ? "" : ", ") + x;
      r.fail(t.get("show")->source(), "no view '" + printable(v) + "' to show (views: " + all + ")");
    }
  }
  s.highlight = r.strings(t, "highlight");
  // The one action.
  int actions = 0;
  auto one = [&](const char* key) {
    const toml::node* n = t.get(key);
    if (n && ++actions > 1) r.fail(n->source(), "a step does one thing: '" + std::string(key) + "' comes after another action" + in);
    return n;
  };
  if (const toml::node* n = one("plant")) {
    if (!n->is_string() || n->as_string()->get().find('=') == std::string::npos)
      r.fail(n->source(), "'plant' must be \"OP=KIND\", e.g. \"y3=flipped_sign\"");
    r.text_ok(*n, "plant", n->as_string()->get(), LessonLimits::kLine, false);
    s.action = LessonStep::Action::plant;
    s.plant = n->as_string()->get();
    try {
      parse_mistake(s.plant.substr(s.plant.find('=') + 1));  // "none" too: a repair restores the backward
    } catch (const Error& e) {
      r.fail(n->source(), "'plant': " + std::string(e.what()));
    }
  }
  if (const toml::node* n = one("repair")) {
    if (!n->is_boolean()) r.fail(n->source(), "'repair' must be true or false");
    if (n->as_boolean()->get()) s.action = LessonStep::Action::repair;
  }
  if (const toml::node* n = one("check")) {
    if (!n->is_string()) r.fail(n->source(), "'check' must be \"all\" or an op's name");
    r.text_ok(*n, "check", n->as_string()->get(), LessonLimits::kLine, false);
    s.action = LessonStep::Action::check;
    s.check_op = n->as_string()->get();
    if (s.check_op == "all") s.check_op.clear();
  }
  if (const toml::node* n = one("wiggle")) {
    if (!n->is_string()) r.fail(n->source(), "'wiggle' must be a parameter's name, e.g. \"a\" or \"W\"");
    r.text_ok(*n, "wiggle", n->as_string()->get(), LessonLimits::kLine, false);
    s.action = LessonStep::Action::wiggle;
    s.wiggle_param = n->as_string()->get();
    // "W[3]": an entry (row-major), the index in plain digits and nothing after the bracket.
    if (const size_t b = s.wiggle_param.find('['); b != std::string::npos) {
      const std::string given = s.wiggle_param;
      const size_t e = given.find(']', b);
      const std::string idx = given.substr(b + 1, e == std::string::npos ? std::string::npos : e - b - 1);
      const bool digits = !idx.empty() && idx.find_first_not_of("0123456789") == std::string::npos;
      if (b == 0 || e == std::string::npos || e + 1 != given.size() || !digits)
        r.fail(n->source(), "'wiggle' takes NAME or NAME[i] with i an entry's row-major index (0, 1, …), not \"" +
                                printable(given) + "\"");
      s.wiggle_param = given.substr(0, b);
      // Past any parameter's size (which check_names reports with the index as given): kept as −1.
      s.wiggle_index = idx.size() > 15 ? -1 : std::stoll(idx);
    }
  }
  if (const toml::node* n = one("update")) {
    if (!n->is_table()) r.fail(n->source(), "'update' must be a table: { optimizer = \"sgd\", lr = 0.1, steps = 1 }");
    const toml::table& u = *n->as_table();
    r.keys(u, {"optimizer", "lr", "steps"}, " in 'update'" + in);
    s.action = LessonStep::Action::update;
    if (u.contains("optimizer")) s.optimizer = r.str(u, "optimizer", false, u.source(), "");
    if (const auto lr = r.number(u, "lr")) s.lr = *lr;
    if (const auto st = r.integer(u, "steps")) {
      if (*st < 1 || *st > 1000) r.fail(u.get("steps")->source(), "'steps' must lie in 1 … 1000");
      s.update_steps = static_cast<int>(*st);
    }
    if (s.optimizer != "sgd" && s.optimizer != "adamw")
      r.fail(u.get("optimizer")->source(), "'optimizer' must be \"sgd\" or \"adamw\", not \"" + printable(s.optimizer) + "\"");
    if (!(s.lr > 0) || !std::isfinite(s.lr)) r.fail(u.get("lr")->source(), "'lr' must be a positive finite number");
  }
  return s;
}

// Every name a step uses must exist on the program's tape.
template <class T>
void check_names(Reader& r, const toml::array& steps, const std::vector<LessonStep>& out, const Session<T>& s) {
  const Tape<T>& tape = *s.tape;
  auto op_named = [&](const std::string& n) { return tape.find_op(n); };
  auto ops_list = [&] {
    std::string all;
    for (int k = 0; k < tape.size() && k < 12; ++k) all += (k ? ", " : "") + tape.op(k).name;
    if (tape.size() > 12) all += ", …";
    return all;
  };
  for (size_t i = 0; i < out.size(); ++i) {
    const LessonStep& st = out[i];
    const toml::table& t = *steps[i].as_table();
    auto at = [&](const char* key) { return t.get(key)->source(); };
    if (!st.at_op.empty() && op_named(st.at_op) < 0)
      r.fail(at("at"), "no op '" + printable(st.at_op) + "' on the tape of " + s.model->config().program + " (ops: " + ops_list() + ")");
    for (const std::string& h : st.highlight) {
      if (h.rfind("view:", 0) == 0) {
        const auto& views = lesson_views();
        if (std::find(views.begin(), views.end(), h.substr(5)) == views.end())
          r.fail(at("highlight"), "no view '" + printable(h.substr(5)) + "' to point at");
        continue;
      }
      if (op_named(h) < 0 && s.model->find(h) < 0 && tape.find_input(h) < 0)
        r.fail(at("highlight"), "'" + printable(h) + "' is no op, parameter or input of " + s.model->config().program);
    }
    switch (st.action) {
      case LessonStep::Action::plant: {
        const std::string op = st.plant.substr(0, st.plant.find('='));
        const int k = op_named(op);
        if (k < 0) r.fail(at("plant"), "no op '" + printable(op) + "' to plant a mistake in (ops: " + ops_list() + ")");
        try {
          const Mistake m = parse_mistake(st.plant.substr(st.plant.find('=') + 1));
          if (!tape.supports(k, m))
            r.fail(at("plant"), "op " + op + " (" + info(tape.op(k).type).name + ") has no '" + info(m).id + "' mistake");
        } catch (const Error& e) {
          if (std::string(e.what()).find(':') != std::string::npos && std::string(e.what()).rfind(printable(r.path_, 1000), 0) == 0) throw;
          r.fail(at("plant"), e.what());
        }
        break;
      }
      case LessonStep::Action::check:
        if (!st.check_op.empty() && op_named(st.check_op) < 0)
          r.fail(at("check"), "no op '" + printable(st.check_op) + "' to check");
        break;
      case LessonStep::Action::wiggle: {
        const int p = s.model->find(st.wiggle_param);
        if (p < 0) r.fail(at("wiggle"), "no parameter '" + printable(st.wiggle_param) + "' to wiggle");
        if (!s.model->params()[p].trainable) r.fail(at("wiggle"), "parameter '" + st.wiggle_param + "' is frozen");
        if (st.wiggle_index < 0 || st.wiggle_index >= s.model->params()[p].data.size()) {
          const std::string given = t.get("wiggle")->as_string()->get();
          const std::string idx = given.substr(given.find('[') + 1, given.size() - given.find('[') - 2);
          r.fail(at("wiggle"), "'" + st.wiggle_param + "' has " + std::to_string(s.model->params()[p].data.size()) +
                                   " entries (0 … " + std::to_string(s.model->params()[p].data.size() - 1) +
                                   "); entry " + printable(idx) + " is past them");
        }
        break;
      }
      default: break;
    }
  }
}

// What the app does when it opens the lesson's last step, done here so that a lesson that loads
// is one the app opens: each step's action in order on the model (train.cpp's optimiser, the
// tape's passes), with the app's rules — training stops at a NaN or ±∞ and refuses to start on
// a model that holds one. First the work is bounded (LessonLimits): the app replays every step
// from the first one each time it goes back.
template <class T>
void replay(Reader& r, const toml::array& steps, const std::vector<LessonStep>& out, Session<T>& s) {
  Tape<T>& tape = *s.tape;
  double pass = 0;  // one forward and backward pass: its floating-point operations
  for (int k = 0; k < tape.size(); ++k) pass += double(tape.op(k).flops.fwd) + double(tape.op(k).flops.bwd());
  pass += 10.0 * double(s.model->n_params());  // an optimiser step's own work
  int64_t train_steps = 0;
  double work = pass;  // the build's passes
  for (size_t i = 0; i < out.size(); ++i) {
    const LessonStep& st = out[i];
    const toml::table& t = *steps[i].as_table();
    if (st.action == LessonStep::Action::plant || st.action == LessonStep::Action::repair) work += pass;
    if (st.action != LessonStep::Action::update) continue;
    train_steps += st.update_steps;
    work += pass * st.update_steps;
    const std::string where = "step " + std::to_string(i + 1) + ": ";
    if (train_steps > LessonLimits::kTrainSteps)
      r.fail(t.get("update")->source(), where + "the lesson's updates add up to " + std::to_string(train_steps) +
                                            " optimiser steps; a lesson may take " +
                                            std::to_string(LessonLimits::kTrainSteps) + " in all");
    if (work > LessonLimits::kWork) {
      char b[160];
      snprintf(b, sizeof b, "the lesson's work adds up to %.3g floating-point operations; a lesson may ask for %.3g in all",
               work, LessonLimits::kWork);
      r.fail(t.get("update")->source(), where + b);
    }
  }
  if (work > LessonLimits::kWork) {
    char b[160];
    snprintf(b, sizeof b, "building the model and planting its mistakes take %.3g floating-point operations; a lesson "
             "may ask for %.3g in all", work, LessonLimits::kWork);
    r.fail(steps.source(), b);
  }
  auto nonfinite = [&]() -> std::string {
    const double loss = tape.loss();
    if (!std::isfinite(loss)) return std::string("the loss is ") + (std::isnan(loss) ? "NaN" : "infinite");
    for (const auto& p : s.model->params())
      for (int64_t j = 0; j < p.data.size(); ++j)
        if (!std::isfinite(static_cast<double>(p.data[j]))) return "parameter " + p.name + " holds NaN or ±∞";
    return "";
  };
  tape.forward();
  tape.backward();
  std::string health = nonfinite();
  int opt_steps = 0;  // AdamW's step count, as the app keeps it from the build on
  for (size_t i = 0; i < out.size(); ++i) {
    const LessonStep& st = out[i];
    const toml::table& t = *steps[i].as_table();
    const std::string where = "step " + std::to_string(i + 1) + ": ";
    switch (st.action) {
      case LessonStep::Action::plant: {
        const size_t eq = st.plant.find('=');
        tape.set_mistake(tape.find_op(st.plant.substr(0, eq)), parse_mistake(st.plant.substr(eq + 1)));
        break;
      }
      case LessonStep::Action::repair:
        for (int k = 0; k < tape.size(); ++k) tape.set_mistake(k, Mistake::none);
        break;
      case LessonStep::Action::update: {
        if (!health.empty())
          r.fail(t.get("update")->source(), where + "the app does not train on a model where " + health);
        OptimizerOptions o;
        o.kind = st.optimizer;
        o.lr = st.lr;
        for (int j = 0; j < st.update_steps; ++j) {
          optimizer_step(*s.model, o, ++opt_steps);
          tape.forward();
          tape.backward();
          health = nonfinite();
          if (!health.empty())
            r.fail(t.get("update")->source(), where + "training stops at optimiser step " + std::to_string(j + 1) + "/" +
                                                  std::to_string(st.update_steps) + ": " + health);
        }
        continue;
      }
      default: continue;
    }
    tape.forward();
    tape.backward();
    health = nonfinite();
  }
}

// A message of resolve(), which speaks of flags, in a lesson's words: "--set b: …" → "'b': …",
// "--lora-alpha" → "'lora_alpha'"; `key` is set to where the first key it names is in the file.
std::string in_lesson_words(std::string msg, const toml::node* model, const toml::node* values,
                            std::optional<toml::source_region>& key) {
  key.reset();
  size_t first = std::string::npos;
  auto note = [&](size_t at, const toml::node* table, const std::string& name) {
    if (!table || !table->is_table() || at >= first) return;
    for (const auto& entry : *table->as_table())
      if (entry.first.str() == name) {
        first = at;
        key = entry.first.source();
      }
  };
  for (size_t at = msg.find("--set "); at != std::string::npos; at = msg.find("--set ", at)) {
    const size_t e = msg.find_first_of(" :=", at + 6);
    const std::string name = msg.substr(at + 6, e == std::string::npos ? std::string::npos : e - at - 6);
    note(at, values, name);
    msg.replace(at, 6 + name.size(), "'" + name + "'");
  }
  for (size_t at = msg.find("--"); at != std::string::npos; at = msg.find("--", at + 1)) {
    size_t e = at + 2;
    while (e < msg.size() && (std::isalnum(static_cast<unsigned char>(msg[e])) || msg[e] == '-')) ++e;
    std::string name = msg.substr(at + 2, e - at - 2);
    if (name.empty()) continue;
    std::replace(name.begin(), name.end(), '-', '_');
    note(at, model, name);
    msg.replace(at, e - at, "'" + name + "'");
  }
  // Messages about a setting that name no flag: the key they are about.
  static const std::pair<const char*, const char*> about[] = {
      {"token id", "tokens"},     {"is not in the vocabulary", "text"}, {"preset", "preset"},
      {"sequence length", "seq"}, {"LoRA target", "lora_targets"},      {"tokenizer", "tokenizer"},
      {"batch", "batch"},         {"n_ctx", "ctx"},                     {"n_head", "heads"}};
  for (const auto& [phrase, name] : about)
    if (!key && msg.find(phrase) != std::string::npos) note(0, model, name);
  return msg;
}

}  // namespace

Lesson parse_lesson(const std::string& text, const std::string& path) {
  Reader r(path);
  check_shape(text, path);
  toml::table doc;
  try {
    doc = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    throw Error(r.where(e.source()) + ": " + printable(e.description(), 300));
  }
  r.keys(doc, {"id", "title", "summary", "program", "model", "custom", "values", "step"}, "");
  Lesson L;
  L.path = path;
  const toml::source_region top = doc.source();
  L.title = r.str(doc, "title", true, top, "a lesson");
  L.summary = r.str(doc, "summary", false, top, "", LessonLimits::kSummary, true);
  L.id = r.str(doc, "id", false, top, "");
  if (L.id.empty()) L.id = fs::path(path).stem().string();
  for (char ch : L.id)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_'))
      r.fail(doc.get("id") ? doc.get("id")->source() : top, "the id '" + printable(L.id) + "' may hold letters, digits, - and _ only");
  const std::string prog = r.str(doc, "program", true, top, "a lesson");
  try {
    program(prog);
  } catch (const Error& e) {
    r.fail(doc.get("program")->source(), e.what());
  }
  L.spec.program = prog;
  if (const toml::node* m = doc.get("model")) {
    if (!m->is_table()) r.fail(m->source(), "'model' must be a table: [model]");
    read_model(r, *m->as_table(), L.spec, path);
    if (!is_gpt2_program(prog)) {
      // A lesson model takes only the flags that apply to it.
      for (const std::string& f : gpt2_flags_set(L.spec)) {
        std::string key = f.substr(2);
        std::replace(key.begin(), key.end(), '-', '_');
        toml::source_region at = m->source();
        for (const auto& entry : *m->as_table())
          if (entry.first.str() == key) at = entry.first.source();
        r.fail(at, "[model] sets " + key + ", a GPT-2 setting; program " + prog + " takes [values]");
      }
    }
  }
  if (const toml::node* c = doc.get("custom")) read_custom(r, *c, L.spec, text);
  if (const auto own = program(prog).own_flags(); std::find(own.begin(), own.end(), "--model") != own.end() && !L.spec.model_text)
    r.fail(doc.get("program")->source(), "program \"" + prog + "\" needs its model: a table [custom] with model = \"\"\"…\"\"\"");
  if (const toml::node* v = doc.get("values")) {
    if (!v->is_table()) r.fail(v->source(), "'values' must be a table: [values]");
    if (is_gpt2_program(prog)) r.fail(v->source(), "[values] is for the lesson programs; gpt2 takes [model]");
    read_values(r, *v->as_table(), L.spec);
  }
  // The model must build as the flags would.
  const toml::source_region model_at =
      doc.get("values") ? doc.get("values")->source() : doc.get("model") ? doc.get("model")->source() : doc.get("program")->source();
  ResolvedSpec res;
  try {
    res = resolve(L.spec);
  } catch (const ModelTextError& e) {
    r.fail_in_model(e);  // at its place in the file's model text
  } catch (const Error& e) {
    // Said in the file's words, at the key it is about.
    std::optional<toml::source_region> key;
    const std::string msg = in_lesson_words(e.what(), doc.get("model"), doc.get("values"), key);
    r.fail(key ? *key : model_at, msg);
  }
  const toml::node* steps = doc.get("step");
  if (!steps) r.fail(top, "a lesson needs at least one [[step]]");
  if (!steps->is_array_of_tables()) r.fail(steps->source(), "'step' must be a list of tables: [[step]]");
  const toml::array& arr = *steps->as_array();
  if (arr.empty()) r.fail(steps->source(), "a lesson needs at least one [[step]]");
  if (arr.size() > LessonLimits::kSteps)
    r.fail(arr[LessonLimits::kSteps].source(), "a lesson has at most " + std::to_string(LessonLimits::kSteps) + " steps");
  for (size_t i = 0; i < arr.size(); ++i) L.steps.push_back(read_step(r, *arr[i].as_table(), static_cast<int>(i + 1)));
  // A model too big to replay is said before it is built (GPT-2's 124M shape takes seconds to
  // allocate): its backward pass alone, by the closed form, is a lower bound of its work.
  if (const int64_t bwd = program(prog).closed_form_bwd(res.config, res.config.batch, res.config.seq_len);
      double(bwd) > LessonLimits::kWork) {
    char b[200];
    snprintf(b, sizeof b, "one backward pass of this model takes %.3g floating-point operations; a lesson may ask for "
             "%.3g in all (open this model with the flags instead)", double(bwd), LessonLimits::kWork);
    toml::source_region at = model_at;  // the preset's key, when the file names one
    if (const toml::node* m = doc.get("model"))
      for (const auto& entry : *m->as_table())
        if (entry.first.str() == "preset") at = entry.first.source();
    r.fail(at, b);
  }
  // Names against the program's own tape, then every action done as the app does it, in the
  // precision the app builds the model in.
  try {
    if (res.config.dtype == DType::f64) {
      Session<double> s(res);
      check_names(r, arr, L.steps, s);
      replay(r, arr, L.steps, s);
    } else {
      Session<float> s(res);
      check_names(r, arr, L.steps, s);
      replay(r, arr, L.steps, s);
    }
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.rfind(printable(path, 1000) + ":", 0) == 0) throw;
    r.fail(model_at, msg);
  }
  L.warnings = std::move(r.warnings);
  return L;
}

Lesson load_lesson(const std::string& path) {
  std::error_code ec;
  if (path.empty()) throw Error("an empty path names no lesson file");
  if (fs::is_directory(path, ec)) throw Error(path + ": is a directory, not a lesson file");
  if (!fs::exists(fs::symlink_status(path, ec))) throw Error(path + ": no such lesson file");
  // Bounded, and by kind: a FIFO or a device is refused at once as what it is.
  return parse_lesson(io::read_text(path, 1u << 20, "a lesson file"), path);
}

std::string default_lessons_dir() { return asset_path("lessons"); }

std::vector<std::string> lesson_files(const std::string& dir) {
  std::error_code ec;
  if (dir.empty()) throw Error("an empty path names no lesson directory");
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) throw Error(dir + ": is not a directory (lessons are read from a directory of .toml files)");
  if (!fs::is_directory(dir, ec)) throw Error(dir + ": no such lesson directory");
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".toml" && e.is_regular_file(ec)) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Lesson> load_lessons(const std::string& dir) {
  std::vector<Lesson> out;
  for (const std::string& f : lesson_files(dir)) out.push_back(load_lesson(f));
  for (size_t i = 0; i < out.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (out[i].id == out[j].id) throw Error(out[i].path + ": the id '" + out[i].id + "' is also " + out[j].path + "'s");
  return out;
}

namespace {

// The first lesson with that id in `dirs`, searched in order.
Lesson find_lesson_in(const std::string& id, const std::vector<std::string>& dirs) {
  std::string ids;
  for (const std::string& d : dirs)
    for (const std::string& f : lesson_files(d)) {
      // The id is the file's `id`, which the shipped files keep equal to their name.
      const std::string stem = fs::path(f).stem().string();
      if (stem == id) return load_lesson(f);
      ids += (ids.empty() ? "" : ", ") + stem;
    }
  for (const std::string& d : dirs)
    for (const std::string& f : lesson_files(d)) {
      // Files that do not load are passed over here: they are not the one asked for.
      try {
        Lesson l = load_lesson(f);
        if (l.id == id) return l;
      } catch (const Error&) {
        if (d == dirs.front()) throw;
      }
    }
  std::string where = dirs.front();
  for (size_t i = 1; i < dirs.size(); ++i) where += " or " + dirs[i];
  throw Error("--lesson: no lesson '" + printable(id) + "' in " + where + " (lessons: " + ids + ")");
}

}  // namespace

Lesson find_lesson(const std::string& id_or_path, const std::string& dir) {
  std::error_code ec;
  if (id_or_path.empty()) throw Error("--lesson: an empty value names no lesson (gradscope-cli lessons lists them)");
  if (id_or_path.find('/') != std::string::npos || fs::is_regular_file(id_or_path, ec) ||
      (id_or_path.size() > 5 && id_or_path.compare(id_or_path.size() - 5, 5, ".toml") == 0))
    return load_lesson(id_or_path);
  if (!dir.empty()) return find_lesson_in(id_or_path, {dir});
  std::vector<std::string> dirs = {default_lessons_dir()};
  // The teacher's own folder, when there is one; the shipped lessons are searched first.
  if (const std::string own = user_lessons_dir(); !own.empty() && fs::is_directory(own, ec)) dirs.push_back(own);
  return find_lesson_in(id_or_path, dirs);
}

LessonList list_lessons() {
  LessonList out;
  out.shipped = load_lessons(default_lessons_dir());
  out.own_dir = user_lessons_dir();
  std::error_code ec;
  if (out.own_dir.empty() || !fs::is_directory(out.own_dir, ec)) return out;
  std::vector<std::string> files;
  try {
    files = lesson_files(out.own_dir);
  } catch (const Error& e) {
    out.problems.push_back(e.what());
  }
  for (const std::string& f : files) {
    try {
      Lesson l = load_lesson(f);
      const auto same = [&](const Lesson& o) { return o.id == l.id; };
      const auto s = std::find_if(out.shipped.begin(), out.shipped.end(), same);
      const auto o = std::find_if(out.own.begin(), out.own.end(), same);
      if (s != out.shipped.end() || o != out.own.end())
        throw Error(f + ": the id '" + l.id + "' is also " + (s != out.shipped.end() ? s->path : o->path) +
                    "'s (left out: give it an id of its own)");
      out.own.push_back(std::move(l));
    } catch (const Error& e) {
      out.problems.push_back(e.what());
    }
  }
  return out;
}

}  // namespace gs
