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
      {"list of the wrong length", "title = \"t\"\nprogram = \"line\"\n[values]\na = [1, 2]\n[[step]]\ntext = \"x\"\n", 3,
       1, "--set a: 2 values"},
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
      {"bad update", "title = \"t\"\nprogram = \"line\"\n[[step]]\ntext = \"x\"\nupdate = { lr = -1 }\n", 5, 10, "--lr"},
      {"gpt2 setting on a lesson model", "title = \"t\"\nprogram = \"line\"\n[model]\nlayers = 3\n[[step]]\ntext = \"x\"\n",
       3, 1, "GPT-2 setting"},
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

}  // namespace
}  // namespace gs
