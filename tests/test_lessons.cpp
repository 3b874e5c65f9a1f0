// Lesson files: every shipped lesson loads and is checked against its program's tape; what each
// shipped planted-mistake step plants is found where it was planted; malformed files (a table of
// cases) each give file:line:col and the problem; unknown keys warn; a lesson written from the
// teachers' guide (docs/lessons.md) alone loads.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "gradscope/error.h"
#include "gradscope/gradcheck.h"
#include "gradscope/lesson.h"
#include "gradscope/tokenizer.h"
#include "test_util.h"

namespace gs {
namespace {

TEST(lessons, every_shipped_lesson_loads_in_order) {
  const std::vector<Lesson> all = load_lessons(default_lessons_dir());
  ASSERT_GE(all.size(), 12u);
  EXPECT_EQ(all.front().id, "01-one-weight");
  EXPECT_EQ(all.front().spec.program, "line");
  EXPECT_EQ(all.back().spec.program, "gpt2");
  EXPECT_TRUE(all.back().spec.lora_rank.value_or(0) > 0);  // the path ends at GPT-2 with LoRA
  for (const Lesson& l : all) {
    EXPECT_TRUE(l.warnings.empty()) << l.path << ": " << (l.warnings.empty() ? "" : l.warnings[0]);
    EXPECT_EQ(std::filesystem::path(l.path).stem().string(), l.id) << "a shipped lesson's id is its file name";
    EXPECT_FALSE(l.title.empty());
    int questions = 0, mistakes = 0;
    for (const LessonStep& s : l.steps) {
      EXPECT_FALSE(s.text.empty()) << l.id;
      questions += !s.question.empty();
      mistakes += s.action == LessonStep::Action::plant;
    }
    EXPECT_GT(questions, 0) << l.id << " asks nothing";
    (void)mistakes;
  }
}

// Where a shipped lesson plants a mistake and then checks, the first failure walking back from the
// loss is where the lesson says it is: the planted op (for a forgotten accumulation, named by the
// Σ-of-shares check; the value's producer, whose incoming residual lost a share, fails too).
TEST(lessons, shipped_mistakes_are_found_where_planted) {
  int seen = 0;
  for (const Lesson& l : load_lessons(default_lessons_dir())) {
    for (const LessonStep& st : l.steps) {
      if (st.action != LessonStep::Action::plant) continue;
      ++seen;
      Session<double> s(l.spec);
      const std::string op = st.plant.substr(0, st.plant.find('='));
      s.plant(st.plant);
      s.tape->forward();
      s.tape->backward();
      CheckOptions opt;
      opt.max_entries = 0;
      const CheckReport r = check_all(*s.tape, opt, false);
      int first = -1;
      for (const OpCheck& c : r.ops)
        if (c.checked > 0 && !c.pass) first = std::max(first, c.op);
      const int k = s.tape->find_op(op);
      EXPECT_EQ(first, k) << l.id << ": " << st.plant;
      if (s.tape->op(k).mistake == Mistake::forgotten_accumulation) {
        const int producer = s.tape->value(s.tape->op(k).in[0]).producer;
        for (const OpCheck& c : r.ops)
          if (c.op == producer) EXPECT_FALSE(c.pass) << l.id << ": " << c.name;
      }
    }
  }
  EXPECT_GE(seen, 8);
}

// [SECTION] bad files: one line, file:line:col

struct Bad {
  const char* name;
  const char* text;
  int line, column;
  const char* says;
};

const char* kHead = "title = \"t\"\nprogram = \"line\"\n";

std::string with_head(const char* rest) { return std::string(kHead) + rest; }

TEST(lessons, bad_files_say_file_line_column) {
  const Bad cases[] = {
      {"bad toml", "title = \"t\"\nprogram = \"line\"\n[[step]\ntext = \"x\"\n", 3, 8, "expected ']'"},
      {"no title", "program = \"line\"\n[[step]]\ntext = \"x\"\n", 1, 1, "needs 'title'"},
      {"unknown program", "title = \"t\"\nprogram = \"lines\"\n[[step]]\ntext = \"x\"\n", 2, 11, "unknown program 'lines'"},
      {"program not a string", "title = \"t\"\nprogram = 3\n[[step]]\ntext = \"x\"\n", 2, 11, "must be a string"},
      {"no steps", kHead, 1, 1, "at least one [[step]]"},
      {"step without text", "title = \"t\"\nprogram = \"line\"\n[[step]]\nat = \"start\"\n", 3, 1, "needs 'text'"},
      {"text not a string", "title = \"t\"\nprogram = \"line\"\n[[step]]\ntext = 5\n", 4, 8, "must be a string"},
      {"unknown op in at", "title = \"t\"\nprogram = \"line\"\n[[step]]\ntext = \"x\"\nat = \"forward y9\"\n", 5, 6,
       "no op 'y9'"},
      {"bad at", "title = \"t\"\nprogram = \"line\"\n[[step]]\ntext = \"x\"\nat = \"sideways\"\n", 5, 6, "'at' must be"},
      {"unknown parameter in values", "title = \"t\"\nprogram = \"line\"\n[values]\nq = 1\n[[step]]\ntext = \"x\"\n", 4,
       1, "no parameter, input or size 'q'"},
      {"value of the wrong type", "title = \"t\"\nprogram = \"line\"\n[values]\na = \"big\"\n[[step]]\ntext = \"x\"\n", 4,
       5, "must be a number"},
      {"list of the wrong length", "title = \"t\"\nprogram = \"line\"\n[values]\na = [1, 2]\n[[step]]\ntext = \"x\"\n", 4,
       1, "'a': 2 values"},
      {"unknown highlight", "title = \"t\"\nprogram = \"line\"\n[[step]]\ntext = \"x\"\nhighlight = [\"zz\"]\n", 5, 13,
       "no op, parameter or input"},
      {"unknown view", "title = \"t\"\nprogram = \"line\"\n[[step]]\ntext = \"x\"\nshow = [\"radar\"]\n", 5, 8,
       "no view 'radar'"},
      {"mistake the op lacks", "title = \"t\"\nprogram = \"line\"\n[[step]]\ntext = \"x\"\nplant = \"y2=dropped_term\"\n", 5,
       9, "has no 'dropped_term' mistake"},
      {"unknown mistake", "title = \"t\"\nprogram = \"line\"\n[[step]]\ntext = \"x\"\nplant = \"y2=oops\"\n", 5, 9,
       "unknown mistake 'oops'"},
      {"two actions", "title = \"t\"\nprogram = \"line\"\n[[step]]\ntext = \"x\"\nrepair = true\ncheck = \"all\"\n", 6, 9,
       "a step does one thing"},
      {"question without answer", "title = \"t\"\nprogram = \"line\"\n[[step]]\ntext = \"x\"\nquestion = \"?\"\n", 5, 12,
       "needs its 'answer'"},
      {"wiggle a frozen parameter", "title = \"t\"\nprogram = \"lora_linear\"\n[[step]]\ntext = \"x\"\nwiggle = \"W\"\n",
       5, 10, "frozen"},
      {"wiggle past the entries", "title = \"t\"\nprogram = \"line\"\n[[step]]\ntext = \"x\"\nwiggle = \"a[3]\"\n", 5, 10,
       "past them"},
      {"bad update", "title = \"t\"\nprogram = \"line\"\n[[step]]\ntext = \"x\"\nupdate = { lr = -1 }\n", 5, 17,
       "'lr' must be a positive finite number"},
      {"gpt2 setting on a lesson model", "title = \"t\"\nprogram = \"line\"\n[model]\nseed = 1\nlayers = 3\n[[step]]\ntext = \"x\"\n",
       5, 1, "[model] sets layers, a GPT-2 setting"},
      {"values on gpt2", "title = \"t\"\nprogram = \"gpt2\"\n[values]\na = 1\n[[step]]\ntext = \"x\"\n", 3, 1,
       "[values] is for the lesson programs"},
      {"bad id", "id = \"a b\"\ntitle = \"t\"\nprogram = \"line\"\n[[step]]\ntext = \"x\"\n", 1, 6, "letters, digits"},
  };
  for (const Bad& c : cases) {
    try {
      parse_lesson(c.text, "lesson.toml");
      ADD_FAILURE() << c.name << ": no error";
    } catch (const Error& e) {
      const std::string msg = e.what();
      const std::string where = "lesson.toml:" + std::to_string(c.line) + ":" + std::to_string(c.column) + ": ";
      EXPECT_EQ(msg.rfind(where, 0), 0u) << c.name << ": " << msg;
      EXPECT_NE(msg.find(c.says), std::string::npos) << c.name << ": " << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << c.name << ": " << msg;
    }
  }
}

TEST(lessons, unknown_keys_warn) {
  const Lesson l = parse_lesson(with_head("colour = \"red\"\n[[step]]\ntext = \"x\"\nsound = \"beep\"\n"), "w.toml");
  ASSERT_EQ(l.warnings.size(), 2u);
  EXPECT_EQ(l.warnings[0], "w.toml:3:1: unknown key 'colour' (ignored)");
  EXPECT_EQ(l.warnings[1], "w.toml:6:1: unknown key 'sound' in step 1 (ignored)");
}

TEST(lessons, files_that_are_not_lessons) {
  EXPECT_THROW(load_lesson("/nonexistent/lesson.toml"), Error);
  EXPECT_THROW(load_lesson(default_lessons_dir()), Error);  // a directory
  EXPECT_THROW(find_lesson("99-nothing"), Error);
  try {
    find_lesson("99-nothing");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("01-one-weight"), std::string::npos) << "lists the lessons there are";
  }
}

// The teachers' guide (docs/lessons.md): its complete example, written out as a teacher would,
// loads and runs.
TEST(lessons, the_guide_example_loads) {
  const std::string readme = read_text_file(asset_path("../docs/lessons.md"));
  const std::string begin = "```toml\n";
  const size_t a = readme.find(begin, readme.find("Write your own lesson"));
  ASSERT_NE(a, std::string::npos) << "docs/lessons.md has a lesson example";
  const size_t b = readme.find("```", a + begin.size());
  const std::string example = readme.substr(a + begin.size(), b - a - begin.size());
  const Lesson l = parse_lesson(example, "example.toml");
  EXPECT_TRUE(l.warnings.empty()) << l.warnings[0];
  EXPECT_GE(l.steps.size(), 3u);
  Session<double> s(l.spec);  // and its model builds
  EXPECT_GT(s.tape->size(), 0);
}

// A lesson a teacher wrote from the guide, with every kind of step.
TEST(lessons, a_teachers_own_lesson) {
  const char* text = R"(
title = "My own: two points on a line"
program = "line"

[values]
x = [1, 3]
t = [2, 4]
a = 1
b = 0.5

[[step]]
text = "Two points this time."
at = "start"
show = ["inspector", "wiggle"]
highlight = ["x", "t", "view:wiggle"]

[[step]]
text = "Which way should b move?"
at = "backward y2"
question = "Up or down?"
answer = "Up: the line is below both points."
wiggle = "b"

[[step]]
text = "Break it."
plant = "y1=wrong_derivative"

[[step]]
text = "Check."
check = "y1"

[[step]]
text = "Fix it and step."
repair = true

[[step]]
text = "Step."
update = { optimizer = "adamw", lr = 0.1, steps = 3 }
)";
  const Lesson l = parse_lesson(text, "mine.toml");
  EXPECT_EQ(l.id, "mine");
  EXPECT_EQ(l.steps.size(), 6u);
  EXPECT_EQ(l.steps[1].at, LessonStep::At::backward);
  EXPECT_EQ(l.steps[1].at_op, "y2");
  EXPECT_EQ(l.steps[1].action, LessonStep::Action::wiggle);
  EXPECT_EQ(l.steps[5].update_steps, 3);
  Session<double> s(l.spec);
  EXPECT_EQ(s.model->config().dim("P"), 2);
}


// [SECTION] what a lesson file may ask for (LessonLimits)

// The error of parsing `text`, "" when it loads.
std::string error_of(const std::string& text, const std::string& path = "lesson.toml") {
  try {
    parse_lesson(text, path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// toml++ builds a dotted key's tables recursively: 30,000 parts overflowed the stack (exit 139).
// Refused before the parser sees them, wherever the key is.
TEST(lesson_limits, deep_keys_and_headers_are_refused_before_parsing) {
  const std::string deep = "a" + repeat(".a", 30700);
  const struct {
    const char* name;
    std::string text;
    int line;
    const char* says;
  } cases[] = {
      {"dotted key", with_head((deep + " = 1\n").c_str()), 3, "dotted parts"},
      {"table header", with_head(("[" + deep + "]\n").c_str()), 3, "dotted parts"},
      {"array of tables header", with_head(("[[" + deep + "]]\n").c_str()), 3, "dotted parts"},
      {"key in an inline table", with_head(("x = { " + deep + " = 1 }\n").c_str()), 3, "dotted parts"},
      {"key in a step", with_head(("[[step]]\ntext = \"x\"\n" + deep + " = 1\n").c_str()), 5, "dotted parts"},
      {"nested inline tables", with_head(("x = { " + repeat("a.a.a.a.a.a.a.a = { ", 8) + "\n").c_str()), 3,
       "nested more than"},
      {"nested arrays", with_head(("x = " + repeat("[", 5000) + "\n").c_str()), 3, "nested more than"},
      {"quoted parts", with_head(("\"a\"" + repeat(".'a'", 100) + " = 1\n").c_str()), 3, "dotted parts"},
  };
  for (const auto& c : cases) {
    const std::string e = error_of(c.text);
    EXPECT_EQ(e.rfind("lesson.toml:" + std::to_string(c.line) + ":", 0), 0u) << c.name << ": " << e.substr(0, 200);
    EXPECT_NE(e.find(c.says), std::string::npos) << c.name << ": " << e.substr(0, 200);
    EXPECT_LT(e.size(), 200u) << c.name;
  }
  // Dots in strings, comments and numbers are no key's parts; a key of 16 parts is allowed (and
  // unknown, so it only warns).
  const std::string ok = with_head(("# " + repeat("a.", 100) + "\na" + repeat(".a", 15) + " = 1.5\n[[step]]\ntext = \"" +
                                    repeat("x.", 500) + "\"\nquestion = '''" + repeat("q.", 300) +
                                    "\n'''\nanswer = \"\"\"" + repeat("\\\".", 300) + "\"\"\"\n")
                                       .c_str());
  const Lesson l = parse_lesson(ok, "lesson.toml");
  EXPECT_EQ(l.warnings.size(), 1u);
  EXPECT_EQ(l.steps[0].text, repeat("x.", 500));
}

TEST(lesson_limits, texts_are_bounded_and_hold_no_control_characters) {
  const std::string step = "[[step]]\ntext = ";
  const struct {
    const char* name;
    std::string text;
    const char* says;
  } cases[] = {
      {"a long step text", with_head((step + "\"" + std::string(20300, 'x') + "\"\n").c_str()), "a lesson allows 4000"},
      {"a long question",
       with_head((step + "\"x\"\nquestion = \"" + std::string(5000, 'q') + "\"\nanswer = \"a\"\n").c_str()),
       "a lesson allows 4000"},
      {"a long title", "title = \"" + std::string(300, 't') + "\"\nprogram = \"line\"\n" + step + "\"x\"\n",
       "a lesson allows 200"},
      {"ESC in the title", "title = \"\\u001b[2J\"\nprogram = \"line\"\n" + step + "\"x\"\n", "control character (\\x1B)"},
      {"OSC in a text", with_head((step + "\"\\u001b]0;owned\\u0007\"\n").c_str()), "control character (\\x1B)"},
      {"NUL in the title", "title = \"ab\\u0000cd\"\nprogram = \"line\"\n" + step + "\"x\"\n", "control character (\\x00)"},
      {"newline in the id", "id = \"a\\nb\"\ntitle = \"t\"\nprogram = \"line\"\n" + step + "\"x\"\n",
       "control character (\\x0A)"},
      {"C1 CSI in a name", with_head((step + "\"x\"\nhighlight = [\"\\u009b2J\"]\n").c_str()),
       "control character (\\u009B)"},
  };
  for (const auto& c : cases) {
    const std::string e = error_of(c.text);
    EXPECT_EQ(e.rfind("lesson.toml:", 0), 0u) << c.name << ": " << e;
    EXPECT_NE(e.find(c.says), std::string::npos) << c.name << ": " << e;
    for (char ch : e) EXPECT_FALSE(static_cast<unsigned char>(ch) < 0x20) << c.name << ": a raw control byte";
  }
  // Line breaks and tabs are text; a key's control characters are shown escaped in its warning.
  const Lesson l = parse_lesson(with_head("\"k\\u001b[2J\" = 1\n[[step]]\ntext = \"one\\n\\ttwo\"\n"), "lesson.toml");
  ASSERT_EQ(l.warnings.size(), 1u);
  EXPECT_NE(l.warnings[0].find("k\\x1B[2J"), std::string::npos) << l.warnings[0];
  EXPECT_EQ(l.steps[0].text, "one\n\ttwo");
}

// The app replays every action from the first step each time Back is pressed: a lesson may ask
// for only so much training, and the check says where it asks for more.
TEST(lesson_limits, the_work_a_lesson_asks_for_is_bounded) {
  const std::string update = "[[step]]\ntext = \"x\"\nupdate = { lr = 0.01, steps = 1000 }\n";
  EXPECT_EQ(error_of(with_head(update.c_str())), "") << "1000 steps on a line: allowed";
  const std::string e = error_of(with_head(repeat(update, 12).c_str()));
  EXPECT_EQ(e.rfind("lesson.toml:8:10: step 2: ", 0), 0u) << e;
  EXPECT_NE(e.find("1000 in all"), std::string::npos) << e;
  EXPECT_NE(error_of(with_head(repeat("[[step]]\ntext = \"x\"\n", 201).c_str())).find("at most 200 steps"),
            std::string::npos);
  // A bigger model: the floating-point work counts, not only the steps.
  const std::string big = "title = \"t\"\nprogram = \"matrix\"\n[values]\nn = 256\nm = 256\np = 256\n" + update;
  const std::string w = error_of(big);
  EXPECT_NE(w.find("floating-point operations"), std::string::npos) << w;
  // GPT-2's 124M shape: said before its seconds of allocation, at the preset's key.
  const std::string g = error_of("title = \"t\"\nprogram = \"gpt2\"\n[model]\npreset = \"gpt2\"\n[[step]]\ntext = \"x\"\n");
  EXPECT_EQ(g.rfind("lesson.toml:4:1: one backward pass of this model takes", 0), 0u) << g;
  // The small preset may plant and train a few steps.
  EXPECT_EQ(error_of("title = \"t\"\nprogram = \"gpt2\"\n[model]\npreset = \"small\"\n[[step]]\ntext = \"x\"\n"
                     "plant = \"h.0.attn.softmax=dropped_term\"\n[[step]]\ntext = \"y\"\nupdate = { steps = 3 }\n"),
            "");
}

// What the app refuses to open, the check refuses too, at the step that does it.
TEST(lesson_limits, a_diverging_update_fails_the_check_at_its_step) {
  const std::string e = error_of(with_head(
      "[[step]]\ntext = \"fine\"\n[[step]]\ntext = \"boom\"\nupdate = { optimizer = \"sgd\", lr = 0.5, steps = 1000 }\n"));
  EXPECT_EQ(e.rfind("lesson.toml:7:10: step 2: training stops at optimiser step ", 0), 0u) << e;
  EXPECT_NE(e.find("/1000: the loss is infinite"), std::string::npos) << e;
}

TEST(lesson_limits, loose_fields_are_refused) {
  const std::string step = "[[step]]\ntext = \"x\"\n";
  for (const char* w : {"a[0]junk", "a[ 0]", "a[+0]", "a[-1]", "a[0x1]", "a[]", "[0]", "a[0"}) {
    const std::string e = error_of(with_head((step + "wiggle = \"" + w + "\"\n").c_str()));
    EXPECT_NE(e.find("'wiggle' takes NAME or NAME[i]"), std::string::npos) << w << ": " << e;
  }
  EXPECT_EQ(error_of(with_head((step + "wiggle = \"a[0]\"\n").c_str())), "");
  const std::string huge = error_of(with_head((step + "wiggle = \"a[99999999999999999999999]\"\n").c_str()));
  EXPECT_NE(huge.find("entry 99999999999999999999999 is past them"), std::string::npos) << huge;
  const std::string none = error_of(with_head((step + "plant = \"y1=none\"\n").c_str()));
  EXPECT_NE(none.find("unknown mistake 'none'"), std::string::npos) << none;
}

TEST(lesson_limits, errors_speak_of_the_files_keys_not_of_flags) {
  const struct {
    const char* name;
    std::string text;
    const char* where;
    const char* says;
  } cases[] = {
      {"lora_alpha nan", "title = \"t\"\nprogram = \"lora_linear\"\n[model]\nlora_alpha = nan\n[[step]]\ntext = \"x\"\n",
       "lesson.toml:4:14: ", "'lora_alpha' must be a positive finite number"},
      {"lora_alpha -5", "title = \"t\"\nprogram = \"lora_linear\"\n[model]\nlora_alpha = -5\n[[step]]\ntext = \"x\"\n",
       "lesson.toml:4:14: ", "'lora_alpha' must be a positive finite number"},
      {"lora_rank 0", "title = \"t\"\nprogram = \"lora_linear\"\n[model]\nseed = 1\nlora_rank = 0\n[[step]]\ntext = \"x\"\n",
       "lesson.toml:5:1: ", "'lora_rank' must be 1 or more"},
      {"a value's length", "title = \"t\"\nprogram = \"line\"\n[values]\nb = 1\na = [1, 2]\n[[step]]\ntext = \"x\"\n",
       "lesson.toml:5:1: ", "'a': 2 values"},
      {"a token id", "title = \"t\"\nprogram = \"gpt2\"\n[model]\nseed = 1\ntokens = [1, 99999]\n[[step]]\ntext = \"x\"\n",
       "lesson.toml:5:1: ", "token id 99999"},
      {"a text", "title = \"t\"\nprogram = \"gpt2\"\n[model]\nseed = 1\ntext = \"ABC\"\n[[step]]\ntext = \"x\"\n",
       "lesson.toml:5:1: ", "is not in the vocabulary"},
      {"a sequence length", "title = \"t\"\nprogram = \"gpt2\"\n[model]\nseed = 1\nseq = 999\n[[step]]\ntext = \"x\"\n",
       "lesson.toml:5:1: ", "exceeds n_ctx"},
  };
  for (const auto& c : cases) {
    const std::string e = error_of(c.text);
    EXPECT_EQ(e.rfind(c.where, 0), 0u) << c.name << ": " << e;
    EXPECT_NE(e.find(c.says), std::string::npos) << c.name << ": " << e;
    EXPECT_EQ(e.find("--"), std::string::npos) << c.name << ": " << e;
  }
}

// A lesson file is traded between teachers: its checkpoint is a file beside it or under assets/.
TEST(lesson_limits, a_checkpoint_stays_beside_the_lesson_or_under_assets) {
  test::Scratch dir;
  const std::string path = dir.at("l.toml");
  const std::string head = "title = \"t\"\nprogram = \"gpt2\"\n[model]\ncheckpoint = ";
  const std::string tail = "\n[[step]]\ntext = \"x\"\n";
  const struct {
    const char* given;
    const char* says;
  } cases[] = {
      {"\"/etc/passwd\"", "not an absolute path"},
      {"\"../../../etc/passwd\"", "\"..\" leaves them"},
      {"\"a/../../x.safetensors\"", "\"..\" leaves them"},
      {"\"\"", "'checkpoint' is empty"},
      {"\"nothing.safetensors\"", "no file nothing.safetensors beside the lesson file ("},
  };
  for (const auto& c : cases) {
    const std::string e = error_of(head + c.given + tail, path);
    EXPECT_EQ(e.rfind(path + ":4:14: ", 0), 0u) << c.given << ": " << e;
    EXPECT_NE(e.find(c.says), std::string::npos) << c.given << ": " << e;
  }
  // The shipped checkpoint, under assets/, is found from a lesson anywhere.
  const Lesson l = parse_lesson(head + "\"tiny.safetensors\"" + tail, path);
  EXPECT_EQ(l.spec.checkpoint, asset_path("tiny.safetensors"));
}

}  // namespace
}  // namespace gs
