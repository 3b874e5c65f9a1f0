#pragma once
// Lessons: files a teacher reads and writes (TOML), each a program with its values and an ordered
// list of steps. A step says something, may ask a question whose answer stays hidden until it is
// revealed, may point at things (ops, parameters, inputs, views) and may do one thing: move the
// cursor, plant or repair a mistake, run the checks, wiggle a parameter, take an optimiser step.
// The schema is in docs/lessons.md ("Write your own lesson"); the project's path from y = a·x + b to
// GPT-2 with LoRA is in assets/lessons/.
//
// Loading checks a file completely — its TOML, every key's type, the program and its values (as
// the MODEL flags are resolved), and every op, parameter, input, view and mistake a step names,
// against the program's own tape — and says what is wrong in one line, "file:line:col: …".
// Unknown keys are not errors: each gives a warning of the same form.
//
// Loading also runs what the app runs when the lesson is opened — the model is built and every
// step's action (plant, repair, update) is done in order on it, a diverging update included — so
// a file that loads is a lesson the app opens, and one that fails names the step, "file:line:col".
// A lesson file is traded between teachers: it may ask for only so much (LessonLimits), and its
// checkpoint may only be a file beside it or under assets/ (no absolute path, no "..").
#include <cstdint>
#include <string>
#include <vector>

#include "gradscope/session.h"

namespace gs {

// What one lesson file may ask for. Past a limit loading fails with "file:line:col: …".
struct LessonLimits {
  static constexpr int kKeyParts = 16;        // dotted parts of one key or [table.header]
  static constexpr int kNesting = 32;         // tables, arrays and inline tables inside each other
  static constexpr size_t kText = 4000;       // bytes of a step's text, question or answer
  static constexpr size_t kLine = 200;        // bytes of the title, the id or a name (ops, views …)
  static constexpr size_t kSummary = 1000;    // bytes of the summary
  static constexpr int kSteps = 200;          // [[step]] tables
  static constexpr int64_t kTrainSteps = 1000;  // optimiser steps over all the steps' updates
  static constexpr double kWork = 2e9;        // floating-point operations of building, planting and training
};

// The views a step may show or point at, by the names lesson files use (the app maps them to
// its windows): inspector, tape, graph, flops, checks, mistakes, training, attention, wiggle,
// update, predictions, model.
const std::vector<std::string>& lesson_views();

struct LessonStep {
  int line = 0, column = 0;  // where the step starts in its file
  std::string text;          // what the teacher says
  std::string question;      // "" = none
  std::string answer;        // hidden until revealed; required with a question

  // Where the cursor goes when the step opens.
  enum class At { stay, start, end, forward, backward };
  At at = At::stay;
  std::string at_op;  // forward / backward: the op

  std::vector<std::string> show;       // views this step needs (lesson_views()); empty = as before
  std::vector<std::string> highlight;  // ops, parameters and inputs by name; views as "view:NAME"

  // The one thing it does.
  enum class Action { none, plant, repair, check, wiggle, update };
  Action action = Action::none;
  std::string plant;            // plant: "OP=KIND"
  std::string check_op;         // check: one op ("" every op)
  std::string wiggle_param;     // wiggle: a parameter …
  int64_t wiggle_index = 0;     // … and one of its entries (row-major)
  std::string optimizer = "sgd";  // update
  double lr = 0.1;
  int update_steps = 1;
};

struct Lesson {
  std::string path;  // the file
  std::string id;    // stable: the file's `id`, else its name without ".toml"
  std::string title, summary;
  ModelSpec spec;    // the program and its values
  std::vector<LessonStep> steps;
  std::vector<std::string> warnings;  // "file:line:col: unknown key 'foo' (ignored)"
};

// Reads and checks one lesson file. Throws gs::Error with one line, "file:line:col: what is wrong"
// (for a file that cannot be read: "file: why").
Lesson load_lesson(const std::string& path);
// The same from text; `path` names it in messages and anchors a relative checkpoint path.
Lesson parse_lesson(const std::string& text, const std::string& path);

// assets/lessons (GRADSCOPE_ASSETS moves it with the other assets).
std::string default_lessons_dir();
// The *.toml files of `dir` in name order (the path's order: 01-…, 02-…).
std::vector<std::string> lesson_files(const std::string& dir);
// Every lesson of `dir`, loaded and checked, in order; throws on the first bad file.
std::vector<Lesson> load_lessons(const std::string& dir);
// A lesson by its id or by the path of a file. An id is looked up in `dir`; "" = the shipped
// lessons, then the teacher's own folder (user_lessons_dir() in datadir.h).
Lesson find_lesson(const std::string& id_or_path, const std::string& dir = "");

// Every lesson a teacher can open: the shipped ones in order, then those in the teacher's own
// folder (if it exists). A shipped lesson that does not load throws; a teacher's file that does
// not load, or reuses an id already listed, is left out and named in `problems` (one line each),
// so one bad file of one's own never hides the others.
struct LessonList {
  std::vector<Lesson> shipped, own;
  std::string own_dir;                 // where the teacher's lessons are looked for ("" = nowhere)
  std::vector<std::string> problems;
};
LessonList list_lessons();

}  // namespace gs
