// The controller's side of lessons (lesson.h): opening one, moving between its steps, revealing
// answers, leaving to explore and coming back — and the Wiggle view's hand edits.
//
// A step's model is the lesson's program and values with the actions of every step up to it done
// in order (planted mistakes, repairs, optimiser steps). Moving forward from the step the model is
// at only does the new steps' actions; any other move, or a model changed since by hand, rebuilds
// and replays from the start — so a step always shows the same model, whichever way it is reached.
// Lesson models are small: all of this runs here, synchronously, in the apply step.
#include <algorithm>
#include <cmath>

#include "controller.h"
#include "gradscope/error.h"
#include "gradscope/program.h"

namespace gs::app {

const LessonStep* Controller::lesson_step() const {
  if (!in_lesson()) return nullptr;
  const Lesson& l = lesson_.path[lesson_.lesson];
  if (lesson_.step < 0 || lesson_.step >= static_cast<int>(l.steps.size())) return nullptr;
  return &l.steps[lesson_.step];
}

bool Controller::revealed() const {
  return in_lesson() && lesson_.step < static_cast<int>(lesson_.revealed.size()) && lesson_.revealed[lesson_.step];
}

bool Controller::highlighted(const std::string& name) const {
  const LessonStep* s = lesson_step();
  return s && std::find(s->highlight.begin(), s->highlight.end(), name) != s->highlight.end();
}

bool Controller::view_highlighted(const std::string& view) const { return highlighted("view:" + view); }

void Controller::apply_one(const req::OpenLesson& r) {
  // Loaded and checked in full before anything changes: a bad file leaves the lesson on screen.
  std::vector<Lesson> path;
  int index = 0;
  const std::string dir = r.dir.empty() ? default_lessons_dir() : r.dir;
  Lesson one = find_lesson(r.id_or_path, r.dir);  // "" = the shipped lessons, then the teacher's own
  // A lesson of the shipped path walks on into the next ones; a file of one's own stands alone.
  std::vector<Lesson> shipped;
  try {
    shipped = load_lessons(dir);
  } catch (const Error&) {
  }
  const auto at = std::find_if(shipped.begin(), shipped.end(), [&](const Lesson& l) { return l.path == one.path; });
  if (at != shipped.end()) {
    index = static_cast<int>(at - shipped.begin());
    path = std::move(shipped);
  } else {
    path.push_back(std::move(one));
  }
  const int n = static_cast<int>(path[index].steps.size());
  if (r.step < 1 || r.step > n)
    throw Error("lesson " + path[index].id + " has " + std::to_string(n) + " steps; step " + std::to_string(r.step) +
                " is not one of them");
  lesson_.path = std::move(path);
  lesson_.applied = -1;
  lesson_.version = ~uint64_t{0};
  go_lesson_step(index, r.step - 1);
}

void Controller::apply_one(const req::LessonGo& r) {
  if (!lesson_.open()) throw Error("no lesson is open (Lessons ▸ choose one)");
  const int n = static_cast<int>(lesson_.path[lesson_.lesson].steps.size());
  go_lesson_step(lesson_.lesson, std::clamp(r.step, 1, n) - 1);
}

void Controller::apply_one(const req::LessonNext&) {
  if (!lesson_.open()) throw Error("no lesson is open (Lessons ▸ choose one)");
  const int n = static_cast<int>(lesson_.path[lesson_.lesson].steps.size());
  if (!lesson_.active) return apply_one(req::ResumeLesson{});
  if (lesson_.step + 1 < n) return go_lesson_step(lesson_.lesson, lesson_.step + 1);
  if (lesson_.lesson + 1 < static_cast<int>(lesson_.path.size())) {
    lesson_.applied = -1;
    return go_lesson_step(lesson_.lesson + 1, 0);
  }
  status_ = "the end of the path: that was the last lesson";
}

void Controller::apply_one(const req::LessonBack&) {
  if (!lesson_.open()) throw Error("no lesson is open (Lessons ▸ choose one)");
  if (!lesson_.active) return apply_one(req::ResumeLesson{});
  if (lesson_.step > 0) return go_lesson_step(lesson_.lesson, lesson_.step - 1);
  if (lesson_.lesson > 0) {
    lesson_.applied = -1;
    const int prev = lesson_.lesson - 1;
    return go_lesson_step(prev, static_cast<int>(lesson_.path[prev].steps.size()) - 1);
  }
  status_ = "the first step of the first lesson";
}

void Controller::apply_one(const req::RevealAnswer&) {
  if (!in_lesson() || !lesson_step() || lesson_step()->question.empty()) return;
  lesson_.revealed.resize(lesson_.path[lesson_.lesson].steps.size(), 0);
  lesson_.revealed[lesson_.step] = 1;
}

void Controller::apply_one(const req::LeaveLesson&) {
  if (!lesson_.open()) return;
  lesson_.active = false;
  status_ = "left the lesson to explore; Lessons ▸ Back to the lesson returns to step " + std::to_string(lesson_.step + 1);
}

void Controller::apply_one(const req::ResumeLesson&) {
  if (!lesson_.open()) throw Error("no lesson to go back to");
  go_lesson_step(lesson_.lesson, lesson_.step);
}

void Controller::go_lesson_step(int li, int step) {
  if (jobs_->running()) throw Error("a job is running (" + job_.title + "): cancel it or wait, then move on");
  const Lesson& L = lesson_.path[li];
  const bool same_lesson = li == lesson_.lesson;
  auto mutates = [](const LessonStep& s) {
    return s.action == LessonStep::Action::plant || s.action == LessonStep::Action::repair ||
           s.action == LessonStep::Action::update;
  };
  // Can the model go on from where the lesson left it?
  bool replay = !same_lesson || lesson_.version != version_ || !session_ || lesson_.applied > step;
  if (!replay)
    for (int j = step + 1; j <= lesson_.applied; ++j) replay = replay || mutates(L.steps[j]);
  // Requests queued behind this one wait until the step is in place.
  std::deque<Request> later = std::move(waiting_);
  waiting_.clear();
  struct Restore {
    Controller& c;
    std::deque<Request>& later;
    ~Restore() {
      for (auto& r : c.waiting_) later.push_back(std::move(r));
      c.waiting_ = std::move(later);
    }
  } restore{*this, later};
  int from = lesson_.applied + 1;
  if (replay) {
    if (!rebuild(L.spec)) throw Error("lesson " + L.id + ": " + error_);
    from = 0;
  }
  int j = 0;  // the step whose action runs: a failure names it
  auto run = [&](const Request& r) {
    apply(r);
    wait_jobs();
    if (!error_.empty()) throw Error("lesson " + L.id + ", step " + std::to_string(j + 1) + ": " + error_);
  };
  for (j = std::max(from, 0); j <= step; ++j) {
    const LessonStep& s = L.steps[j];
    switch (s.action) {
      case LessonStep::Action::plant: {
        const size_t eq = s.plant.find('=');
        run(req::PlantMistake{session_.find_op(s.plant.substr(0, eq)), parse_mistake(s.plant.substr(eq + 1))});
        break;
      }
      case LessonStep::Action::repair:
        for (int k = 0; k < n_ops(); ++k)
          if (session_.visit([&](const auto& x) { return x.tape->op(k).mistake != Mistake::none; }))
            run(req::PlantMistake{k, Mistake::none});
        break;
      case LessonStep::Action::update: {
        OptimizerOptions o;
        o.kind = s.optimizer;
        o.lr = s.lr;
        run(req::Train{s.update_steps, o});
        break;
      }
      default: break;
    }
  }
  if (replay) weights_source_ = "the values of lesson " + L.id;
  lesson_.lesson = li;
  lesson_.step = step;
  lesson_.active = true;
  lesson_.applied = step;
  lesson_.version = version_;
  if (!same_lesson) lesson_.revealed.assign(L.steps.size(), 0);  // a new lesson: every answer hidden
  lesson_.revealed.resize(L.steps.size(), 0);
  // What the step shows: the cursor (where the latest step that says so put it, so a step looks the
  // same however it is reached), the checks, the wiggled entry.
  const LessonStep& s = L.steps[step];
  int placed = step;
  while (placed > 0 && L.steps[placed].at == LessonStep::At::stay) --placed;
  const LessonStep& where = L.steps[placed];
  switch (where.at) {
    case LessonStep::At::start: set_step(0); break;
    case LessonStep::At::end: set_step(total_steps()); break;
    case LessonStep::At::forward: set_step(forward_step_of(session_.find_op(where.at_op))); break;
    case LessonStep::At::backward: set_step(backward_step_of(session_.find_op(where.at_op), n_ops())); break;
    case LessonStep::At::stay: break;
  }
  if (s.action == LessonStep::Action::check) {
    // Small models at once (the marks are there when the step is); a big one in the background.
    const bool small = session_.config().estimated_bytes() < 64e6;
    apply_one(req::RunChecks{s.check_op.empty() ? -1 : session_.find_op(s.check_op), false, !small});
  }
  for (int j = step; j >= 0; --j)
    if (L.steps[j].action == LessonStep::Action::wiggle) {
      wiggle_ = {L.steps[j].wiggle_param, L.steps[j].wiggle_index};
      break;
    }
  status_ = "lesson " + L.id + ": step " + std::to_string(step + 1) + " of " + std::to_string(L.steps.size());
}

// [SECTION] the Wiggle view's edits

void Controller::apply_one(const req::WiggleAt& r) {
  if (!session_) return;
  wiggle_ = {r.param, std::max<int64_t>(0, r.index)};
}

void Controller::apply_one(const req::SetValue& r) {
  if (!session_) throw Error("no model");
  if (!std::isfinite(r.value)) throw Error("a value must be a finite number");
  if (!session_.is_gpt2()) {
    // A lesson model: the value is one of its --set values, and the tape is rebuilt from them.
    std::vector<double> values;
    session_.visit([&](const auto& s) {
      const int p = s.model->find(r.name);
      const int in = s.tape->find_input(r.name);
      if (p < 0 && in < 0) throw Error("no parameter or input '" + r.name + "'");
      const auto& t = p >= 0 ? s.model->params()[p].data : s.tape->value(in).data;
      values.assign(t.begin(), t.end());
    });
    if (r.index < 0 || r.index >= static_cast<int64_t>(values.size()))
      throw Error(r.name + " has no entry " + std::to_string(r.index));
    values[r.index] = r.value;
    std::string item = r.name + "=";
    for (size_t i = 0; i < values.size(); ++i) {
      char b[40];
      snprintf(b, sizeof b, "%s%.17g", i ? "," : "", values[i]);
      item += b;
    }
    ModelSpec s = spec_;
    std::erase_if(s.sets, [&](const std::string& x) { return x.rfind(r.name + "=", 0) == 0; });
    s.sets.push_back(item);
    return apply_one(req::Rebuild{s});
  }
  // GPT-2: one weight changed in place, the tape computed again (small models only).
  session_.visit([&](auto& s) {
    if (s.model->n_params() > kMaxEditParams)
      throw Error("weights are set by hand on models up to " + std::to_string(kMaxEditParams) + " parameters");
    auto& p = s.model->param(r.name);
    if (r.index < 0 || r.index >= p.data.size()) throw Error(r.name + " has no entry " + std::to_string(r.index));
    using T = std::decay_t<decltype(p.data[0])>;
    p.data[r.index] = static_cast<T>(r.value);
    s.tape->forward();
    s.tape->backward();
  });
  weights_source_ = "weights edited by hand";
  after_change("set " + r.name + "[" + std::to_string(r.index) + "] = " + std::to_string(r.value) + ": loss " +
               std::to_string(session_.loss()));
}

}  // namespace gs::app
