// Lesson files: TOML through toml++, checked key by key with the line and column of what is wrong.
#include "gradscope/lesson.h"

#include <algorithm>
#include <filesystem>
#include <toml++/toml.h>

#include "gradscope/datadir.h"
#include "gradscope/error.h"
#include "gradscope/fileio.h"
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

  [[noreturn]] void fail(const toml::source_region& at, const std::string& what) const {
    throw Error(where(at) + ": " + what);
  }
  std::string where(const toml::source_region& at) const {
    return path_ + ":" + std::to_string(at.begin.line) + ":" + std::to_string(at.begin.column);
  }
  void warn(const toml::source_region& at, const std::string& what) { warnings.push_back(where(at) + ": " + what); }

  // Every key of `t` must be one of `known`; the others warn.
  void keys(const toml::table& t, std::initializer_list<const char*> known, const std::string& in) {
    for (const auto& entry : t) {
      const toml::key& k = entry.first;  // not a structured binding: clang 14 cannot capture one
      const bool ok = std::any_of(known.begin(), known.end(), [&](const char* x) { return k.str() == x; });
      if (!ok) warn(k.source(), "unknown key '" + std::string(k.str()) + "'" + in + " (ignored)");
    }
  }

  std::string str(const toml::table& t, const char* key, bool required, const toml::source_region& owner,
                  const std::string& what) const {
    const toml::node* n = t.get(key);
    if (!n) {
      if (required) fail(owner, what + " needs '" + key + "'");
      return "";
    }
    if (!n->is_string()) fail(n->source(), "'" + std::string(key) + "' must be a string (text in quotes)");
    return n->as_string()->get();
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
    if (n->is_string()) return {n->as_string()->get()};
    if (!n->is_array()) fail(n->source(), "'" + std::string(key) + "' must be a list of strings, [\"a\", \"b\"]");
    for (const toml::node& e : *n->as_array()) {
      if (!e.is_string()) fail(e.source(), "'" + std::string(key) + "' must hold strings only");
      out.push_back(e.as_string()->get());
    }
    return out;
  }

  std::string path_;
  std::vector<std::string> warnings;
};

// "%.17g" without trailing noise: the values of [values] as --set items.
std::string number_text(double v) {
  char b[40];
  snprintf(b, sizeof b, "%.17g", v);
  return b;
}

// A checkpoint path in [model]: absolute, else beside the lesson file, else under assets/.
std::string checkpoint_path(const std::string& given, const std::string& lesson_path) {
  if (fs::path(given).is_absolute()) return given;
  std::error_code ec;
  const fs::path beside = fs::path(lesson_path).parent_path() / given;
  if (fs::exists(beside, ec)) return beside.string();
  return asset_path(given);
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
  if (m.contains("text")) s.text = r.str(m, "text", false, m.source(), "");
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
  if (m.contains("checkpoint")) s.checkpoint = checkpoint_path(r.str(m, "checkpoint", false, m.source(), ""), lesson_path);
  s.lora_rank = small_int("lora_rank");
  s.lora_alpha = r.number(m, "lora_alpha");
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
  const std::vector<Slot> slots = p.slots(probe);
  const std::vector<DimInfo> dims = p.dims();
  for (auto&& [k, n] : v) {
    const std::string name(k.str());
    const bool known = std::any_of(slots.begin(), slots.end(), [&](const Slot& x) { return x.name == name; }) ||
                       std::any_of(dims.begin(), dims.end(), [&](const DimInfo& d) { return d.name == name; });
    if (!known) {
      std::string names;
      for (const Slot& x : slots) names += (names.empty() ? "" : ", ") + x.name;
      for (const DimInfo& d : dims) names += ", " + d.name;
      r.fail(k.source(), "program " + s.program + " has no parameter, input or size '" + name + "' (it has " + names + ")");
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
    if (n.is_array()) {
      const toml::array& a = *n.as_array();
      if (a.empty()) r.fail(n.source(), "'" + name + "' is an empty list");
      for (const toml::node& e : a) {
        if (e.is_array()) {  // rows of a matrix, [[1, 2], [3, 4]]: row-major
          for (const toml::node& x : *e.as_array()) add(x);
          continue;
        }
        add(e);
      }
    } else {
      add(n);
    }
    s.sets.push_back(item);
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
  r.fail(n.source(), "'at' must be \"start\", \"end\", \"forward OP\" or \"backward OP\", not \"" + v + "\"");
}

LessonStep read_step(Reader& r, const toml::table& t, int index) {
  const std::string in = " in step " + std::to_string(index);
  r.keys(t, {"text", "question", "answer", "at", "show", "highlight", "plant", "repair", "check", "wiggle", "update"}, in);
  LessonStep s;
  s.line = static_cast<int>(t.source().begin.line);
  s.column = static_cast<int>(t.source().begin.column);
  s.text = r.str(t, "text", true, t.source(), "step " + std::to_string(index));
  s.question = r.str(t, "question", false, t.source(), "");
  s.answer = r.str(t, "answer", false, t.source(), "");
  if (!s.question.empty() && s.answer.empty()) r.fail(t.get("question")->source(), "a question needs its 'answer'");
  if (s.question.empty() && !s.answer.empty()) r.fail(t.get("answer")->source(), "an 'answer' needs its 'question'");
  if (const toml::node* at = t.get("at")) {
    if (!at->is_string()) r.fail(at->source(), "'at' must be a string: \"start\", \"end\", \"forward OP\" or \"backward OP\"");
    s.at = parse_at(r, *at, s.at_op);
  }
  s.show = r.strings(t, "show");
  for (std::string& v : s.show) {
    const auto& views = lesson_views();
    if (std::find(views.begin(), views.end(), v) == views.end()) {
      std::string all;
      for (const auto& x : views) all += (all.empty() ? "" : ", ") + x;
      r.fail(t.get("show")->source(), "no view '" + v + "' to show (views: " + all + ")");
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
    s.action = LessonStep::Action::plant;
    s.plant = n->as_string()->get();
  }
  if (const toml::node* n = one("repair")) {
    if (!n->is_boolean()) r.fail(n->source(), "'repair' must be true or false");
    if (n->as_boolean()->get()) s.action = LessonStep::Action::repair;
  }
  if (const toml::node* n = one("check")) {
    if (!n->is_string()) r.fail(n->source(), "'check' must be \"all\" or an op's name");
    s.action = LessonStep::Action::check;
    s.check_op = n->as_string()->get();
    if (s.check_op == "all") s.check_op.clear();
  }
  if (const toml::node* n = one("wiggle")) {
    if (!n->is_string()) r.fail(n->source(), "'wiggle' must be a parameter's name, e.g. \"a\" or \"W\"");
    s.action = LessonStep::Action::wiggle;
    s.wiggle_param = n->as_string()->get();
    // "W[3]": an entry (row-major).
    if (const size_t b = s.wiggle_param.find('['); b != std::string::npos) {
      const size_t e = s.wiggle_param.find(']', b);
      const std::string idx = s.wiggle_param.substr(b + 1, e == std::string::npos ? std::string::npos : e - b - 1);
      char* end = nullptr;
      const long long v = std::strtoll(idx.c_str(), &end, 10);
      if (e == std::string::npos || idx.empty() || *end || v < 0)
        r.fail(n->source(), "'wiggle' takes NAME or NAME[i] with i an entry's row-major index, not \"" + s.wiggle_param + "\"");
      s.wiggle_index = v;
      s.wiggle_param = s.wiggle_param.substr(0, b);
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
    OptimizerOptions o;
    o.kind = s.optimizer;
    o.lr = s.lr;
    try {
      o.validate();
    } catch (const Error& e) {
      r.fail(u.source(), std::string("'update': ") + e.what());
    }
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
      r.fail(at("at"), "no op '" + st.at_op + "' on the tape of " + s.model->config().program + " (ops: " + ops_list() + ")");
    for (const std::string& h : st.highlight) {
      if (h.rfind("view:", 0) == 0) {
        const auto& views = lesson_views();
        if (std::find(views.begin(), views.end(), h.substr(5)) == views.end())
          r.fail(at("highlight"), "no view '" + h.substr(5) + "' to point at");
        continue;
      }
      if (op_named(h) < 0 && s.model->find(h) < 0 && tape.find_input(h) < 0)
        r.fail(at("highlight"), "'" + h + "' is no op, parameter or input of " + s.model->config().program);
    }
    switch (st.action) {
      case LessonStep::Action::plant: {
        const std::string op = st.plant.substr(0, st.plant.find('='));
        const int k = op_named(op);
        if (k < 0) r.fail(at("plant"), "no op '" + op + "' to plant a mistake in (ops: " + ops_list() + ")");
        try {
          const Mistake m = parse_mistake(st.plant.substr(st.plant.find('=') + 1));
          if (!tape.supports(k, m))
            r.fail(at("plant"), "op " + op + " (" + info(tape.op(k).type).name + ") has no '" + info(m).id + "' mistake");
        } catch (const Error& e) {
          if (std::string(e.what()).find(':') != std::string::npos && std::string(e.what()).rfind(r.path_, 0) == 0) throw;
          r.fail(at("plant"), e.what());
        }
        break;
      }
      case LessonStep::Action::check:
        if (!st.check_op.empty() && op_named(st.check_op) < 0) r.fail(at("check"), "no op '" + st.check_op + "' to check");
        break;
      case LessonStep::Action::wiggle: {
        const int p = s.model->find(st.wiggle_param);
        if (p < 0) r.fail(at("wiggle"), "no parameter '" + st.wiggle_param + "' to wiggle");
        if (!s.model->params()[p].trainable) r.fail(at("wiggle"), "parameter '" + st.wiggle_param + "' is frozen");
        if (st.wiggle_index >= s.model->params()[p].data.size())
          r.fail(at("wiggle"), "'" + st.wiggle_param + "' has " + std::to_string(s.model->params()[p].data.size()) +
                                   " entries; entry " + std::to_string(st.wiggle_index) + " is past them");
        break;
      }
      default: break;
    }
  }
}

}  // namespace

Lesson parse_lesson(const std::string& text, const std::string& path) {
  Reader r(path);
  toml::table doc;
  try {
    doc = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    throw Error(r.where(e.source()) + ": " + std::string(e.description()));
  }
  r.keys(doc, {"id", "title", "summary", "program", "model", "values", "step"}, "");
  Lesson L;
  L.path = path;
  const toml::source_region top = doc.source();
  L.title = r.str(doc, "title", true, top, "a lesson");
  L.summary = r.str(doc, "summary", false, top, "");
  L.id = r.str(doc, "id", false, top, "");
  if (L.id.empty()) L.id = fs::path(path).stem().string();
  for (char ch : L.id)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_'))
      r.fail(doc.get("id") ? doc.get("id")->source() : top, "the id '" + L.id + "' may hold letters, digits, - and _ only");
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
    if (prog != "gpt2") {
      // A lesson model takes only the flags that apply to it.
      for (const std::string& f : gpt2_flags_set(L.spec))
        r.fail(m->source(), "[model] sets " + f.substr(2) + ", a GPT-2 setting; program " + prog + " takes [values]");
    }
  }
  if (const toml::node* v = doc.get("values")) {
    if (!v->is_table()) r.fail(v->source(), "'values' must be a table: [values]");
    if (prog == "gpt2") r.fail(v->source(), "[values] is for the lesson programs; gpt2 takes [model]");
    read_values(r, *v->as_table(), L.spec);
  }
  // The model must build as the flags would.
  const toml::source_region model_at =
      doc.get("values") ? doc.get("values")->source() : doc.get("model") ? doc.get("model")->source() : doc.get("program")->source();
  ResolvedSpec res;
  try {
    res = resolve(L.spec);
  } catch (const Error& e) {
    r.fail(model_at, e.what());
  }
  const toml::node* steps = doc.get("step");
  if (!steps) r.fail(top, "a lesson needs at least one [[step]]");
  if (!steps->is_array_of_tables()) r.fail(steps->source(), "'step' must be a list of tables: [[step]]");
  const toml::array& arr = *steps->as_array();
  if (arr.empty()) r.fail(steps->source(), "a lesson needs at least one [[step]]");
  for (size_t i = 0; i < arr.size(); ++i) L.steps.push_back(read_step(r, *arr[i].as_table(), static_cast<int>(i + 1)));
  // Names against the program's own tape (in double: lesson models are tiny; GPT-2's tiny preset too).
  try {
    if (res.config.dtype == DType::f64 || res.config.estimated_bytes() < 64e6) {
      Session<double> s(res);
      check_names(r, arr, L.steps, s);
    } else {
      Session<float> s(res);
      check_names(r, arr, L.steps, s);
    }
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.rfind(path + ":", 0) == 0) throw;
    r.fail(model_at, msg);
  }
  L.warnings = std::move(r.warnings);
  return L;
}

Lesson load_lesson(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw Error(path + ": is a directory, not a lesson file");
  if (!fs::exists(fs::symlink_status(path, ec))) throw Error(path + ": no such lesson file");
  // Bounded, and by kind: a FIFO or a device is refused at once as what it is.
  return parse_lesson(io::read_text(path, 1u << 20, "a lesson file"), path);
}

std::string default_lessons_dir() { return asset_path("lessons"); }

std::vector<std::string> lesson_files(const std::string& dir) {
  std::error_code ec;
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
  throw Error("--lesson: no lesson '" + id + "' in " + where + " (lessons: " + ids + ")");
}

}  // namespace

Lesson find_lesson(const std::string& id_or_path, const std::string& dir) {
  std::error_code ec;
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
